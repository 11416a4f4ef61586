/*
Package lmstore is an embedded, crash-safe store for versioned prompt templates and
conversation history. It is the Go face of liblmstore, a Rust core over LMDB with a C ABI,
called through cgo and linked statically by default, so a program that uses it is one
self-contained binary.

# Opening

	db, err := lmstore.Open("/var/lib/myapp/prompts", nil)
	if err != nil { ... }
	defer db.Close()

A store is a directory. Open creates it (files readable by the owner only) unless
Options.ReadOnly is set. The map grows by itself as data is added, up to
Options.MaxMapSize; writes are durable when they return unless Options.NoSync is set.

# Templates

Every (ID, Version) of a template is an immutable record. PutTemplate stores a version
(putting identical content again is a no-op, different content is ErrConflict);
GetTemplate returns the version put last, GetTemplateVersion an exact version and
GetTemplateByAlias the version an alias such as "production" points at.

# Conversations

AppendMessage and AppendMessages store messages in a session, in one transaction per call.
RangeMessages returns one page of a session in time order (or newest first) with a Cursor
for the next page; Messages does the same as an iterator that pages underneath:

	for m, err := range db.Messages("chat-42", lmstore.RangeOptions{}) {
		if err != nil { ... }
		fmt.Println(m.Role, m.Content)
	}

LatestMessages(session, 50) is "the last 50 messages", oldest first. A whole page crosses
from C to Go in one call, whatever its size.

# Errors

Every failed call returns an *Error with the operation, the library's status Code and its
message. Its Unwrap returns one of the sentinel errors (ErrNotFound, ErrConflict,
ErrInvalidArgument, ...), so errors.Is works:

	t, err := db.GetTemplate("greeting")
	if errors.Is(err, lmstore.ErrNotFound) { ... }

# Caveats

  - A DB is safe for concurrent use by any number of goroutines. No transaction outlives a
    call, so goroutines may move between OS threads freely (LMDB runs with MDB_NOTLS).
    Each OS thread reading at the same moment takes a reader slot: with many goroutines in
    calls at once, Go may run more threads than GOMAXPROCS, so raise Options.MaxReaders
    (default 126) for very wide read concurrency.
  - There are no multi-call transactions: each method is its own transaction. A batch of
    messages is atomic when it goes in one AppendMessages call.
  - Close waits for calls in progress, is idempotent, and every call after it returns
    ErrClosed. An iterator that outlives Close yields ErrClosed on its next page.
  - Opening the same path twice in one process shares one LMDB environment; the first
    open's map and sync options apply to both.
  - Values returned are copies in Go memory: nothing returned aliases C memory, and
    nothing passed in is kept by the library after the call.
  - Times have microsecond precision; sub-microsecond parts are dropped. Decoded times are
    in UTC. A zero time means "absent" (and, on append, "assign now").
  - Metadata maps are encoded with sorted keys, so equal maps give equal bytes (the store
    compares a re-put template byte for byte). Decoded metadata uses int64, uint64,
    float64, string, []byte, bool, []any and map[string]any.
  - cgo is required (CGO_ENABLED=1 and a C toolchain); see the README for linking against
    an installed liblmstore with the lmstore_pkgconfig build tag.
*/
package lmstore
