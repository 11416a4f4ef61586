package lmstore

import (
	"io/fs"
	"math"
	"sync"
	"time"
	"unsafe"
)

// Options configure Open. The zero value (or a nil *Options) gives the library defaults:
// a 64 MiB map that doubles when full up to 1 TiB, 126 reader slots, durable commits,
// files readable by their owner only.
type Options struct {
	// MapSize is the initial map size in bytes (0: 64 MiB). The map grows by itself.
	MapSize uint64
	// MaxMapSize caps the growth (0: 1 TiB); writes fail with ErrMapFull only at the cap.
	MaxMapSize uint64
	// MaxReaders is the number of reader slots (0: 126). Each OS thread that reads at the
	// same moment needs one; Go may run as many threads as GOMAXPROCS plus those in cgo calls.
	MaxReaders uint32
	// ReadOnly opens an existing store for reading; every write returns ErrReadOnly.
	ReadOnly bool
	// NoSync skips the flush at commit: faster, but a machine crash (not a process crash)
	// may lose recent commits. Call DB.Sync to flush.
	NoSync bool
	// FileMode is the permission of created files (0: 0600).
	FileMode fs.FileMode
	// Verify walks every page of every table before the file is mapped; a damaged file is
	// refused with ErrCorrupt naming the page and table. Costs one read of the whole file.
	Verify bool
	// CreateParents creates missing parent directories too. Without it a missing parent is
	// ErrNotFound, so a mistyped path never silently gives a new, empty store.
	CreateParents bool
	// RenderCacheSize is how many compiled templates Render keeps (0: 256).
	RenderCacheSize uint32
	// PoolSize is, for a postgres:// URL, how many connections are kept open (0: 4).
	PoolSize uint32
	// ConnectTimeout is, for a postgres:// URL, how long connecting may take (0: 5 s). It
	// is rounded down to milliseconds.
	ConnectTimeout time.Duration
}

// Stats are counts and sizes for a health check. The counts are kept by the write
// transactions, so reading them costs the same for a store of any size.
type Stats struct {
	TemplateIDs         uint64
	TemplateVersions    uint64
	TemplatesModifiedAt time.Time // zero if no template was ever written
	Sessions            uint64
	Messages            uint64
	MapSize             uint64 // current map size in bytes
	MapUsed             uint64 // bytes in use
	MaxMapSize          uint64 // growth cap
	MaxReaders          uint32
	NumReaders          uint32 // reader slots in use
	SchemaVersion       uint32
	LMDBVersion         uint32 // MAJOR*10000 + MINOR*100 + PATCH
}

// DB is an open store. It is safe for concurrent use by any number of goroutines. Close it
// when done; calls made after Close return ErrClosed.
type DB struct {
	// mu is held for reading by every call for its duration and for writing by Close, so
	// Close waits for calls in flight and no call can reach a freed handle.
	mu   sync.RWMutex
	h    unsafe.Pointer // *C.lms_db; nil once closed
	path string
	opts Options
}

// Open opens the store in directory path, creating it if needed (unless opts.ReadOnly).
//
// Opening a path this process already has open shares one LMDB environment underneath (LMDB
// forbids two per process); the first open's map and sync options then apply to both.
func Open(path string, opts *Options) (*DB, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if path == "" {
		return nil, errInvalid("Open", "path is empty")
	}
	if v := cABIVersion(); v != headerABIVersion {
		return nil, newError("Open", CodeVersionMismatch,
			"the linked liblmstore has ABI version "+itoa(int(v))+"; this package was built for "+itoa(headerABIVersion))
	}
	var flags uint32
	if o.ReadOnly {
		flags |= 1 // LMS_OPEN_READ_ONLY
	}
	if o.NoSync {
		flags |= 2 // LMS_OPEN_NO_SYNC
	}
	if o.Verify {
		flags |= 4 // LMS_OPEN_VERIFY
	}
	if o.CreateParents {
		flags |= 8 // LMS_OPEN_CREATE_PARENTS
	}
	if o.ConnectTimeout < 0 || o.ConnectTimeout/time.Millisecond > math.MaxUint32 {
		return nil, errInvalid("Open", "ConnectTimeout must be between 0 and 49 days, got "+o.ConnectTimeout.String())
	}
	h, r := cOpen(path, openOptions{
		flags:           flags,
		mapSize:         o.MapSize,
		maxMapSize:      o.MaxMapSize,
		maxReaders:      o.MaxReaders,
		fileMode:        uint32(o.FileMode.Perm()),
		renderCacheSize: o.RenderCacheSize,
		poolSize:        o.PoolSize,
		connectTimeout:  uint32(o.ConnectTimeout / time.Millisecond),
	})
	if err := errFrom("Open", &r); err != nil {
		return nil, err
	}
	return &DB{h: h, path: path, opts: o}, nil
}

// acquire enters a call: it returns the handle with the read lock held, or ErrClosed.
func (db *DB) acquire(op string) (unsafe.Pointer, error) {
	if db == nil {
		return nil, errClosed(op)
	}
	db.mu.RLock()
	if db.h == nil {
		db.mu.RUnlock()
		return nil, errClosed(op)
	}
	return db.h, nil
}

func (db *DB) release() { db.mu.RUnlock() }

// Close closes the store. It waits for calls in progress on other goroutines, is safe to
// call more than once (later calls return nil), and makes every later call return ErrClosed.
func (db *DB) Close() error {
	if db == nil {
		return nil
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.h != nil {
		cClose(db.h)
		db.h = nil
	}
	return nil
}

// Path returns the directory the store was opened at.
func (db *DB) Path() string { return db.path }

// Sync flushes committed writes to disk. It is needed only with Options.NoSync.
func (db *DB) Sync() error {
	h, err := db.acquire("Sync")
	if err != nil {
		return err
	}
	defer db.release()
	r := cSync(h)
	return errFrom("Sync", &r)
}

// Stats returns counts and sizes.
func (db *DB) Stats() (Stats, error) {
	var s Stats
	h, err := db.acquire("Stats")
	if err != nil {
		return s, err
	}
	defer db.release()
	r := cStat(h, &s)
	return s, errFrom("Stats", &r)
}

// Backup writes a consistent copy of the store into directory path (created if missing; it
// must be empty) while other goroutines and processes go on reading and writing. With
// compact, every table is rewritten with full pages and free pages are left out, so the copy
// is smaller (about 0.9 the size of a store appended to in many sessions) and slower to
// write. The copy opens with Open.
func (db *DB) Backup(path string, compact bool) error {
	h, err := db.acquire("Backup")
	if err != nil {
		return err
	}
	defer db.release()
	r := cBackup(h, path, compact)
	return errFrom("Backup", &r)
}

// Version returns the version of the linked C library, e.g. "0.1.0".
func Version() string { return cVersion() }

// ABIVersion returns the ABI version of the linked C library. Open refuses a library whose
// ABI differs from the header this package was compiled against.
func ABIVersion() uint32 { return cABIVersion() }

// ---- call plumbing: every method's C call goes through one of these ----

// readInto runs one C call that writes its result into a pooled Go buffer (the lms_*_into
// functions: one crossing, nothing allocated or freed in C) and decodes it after the lock is
// released. When the library says the buffer is too small it is replaced by one of the size
// needed and the call retried (the data may have grown in between, hence the loop).
func (db *DB) readInto(op string, call func(h unsafe.Pointer, buf []byte) callResult, decode func(r callResult) error) error {
	sp := getScratch()
	r, err := db.callInto(op, sp, call)
	if err == nil {
		if err = decode(r); err != nil {
			err = errBadRecord(op, err)
		}
	}
	putScratch(sp)
	return err
}

// callInto is readInto's call: the result lands in *buf, which it grows as needed.
func (db *DB) callInto(op string, buf *[]byte, call func(h unsafe.Pointer, buf []byte) callResult) (callResult, error) {
	h, err := db.acquire(op)
	if err != nil {
		return callResult{}, err
	}
	var r callResult
	for try := 0; ; try++ {
		r = call(h, *buf)
		if r.code != codeBufferTooSmall || try == 8 {
			break
		}
		*buf = make([]byte, growTo(int(r.n)))
	}
	db.release()
	return r, errFrom(op, &r)
}
