package lmstore

import (
	"fmt"
	"iter"
	"time"
	"unsafe"
)

// Message is one message of a conversation.
type Message struct {
	// ID is the message's UUID; the zero ID on append makes the store generate a UUIDv7.
	ID        ID
	SessionID string // 1..255 bytes of UTF-8; the session is created on its first message
	// Time is the message's place in its session (microsecond precision). The zero time on
	// append assigns the current time, never below the session's last one, so a clock that
	// steps back does not reorder history.
	Time      time.Time
	Role      string // e.g. "user", "assistant", "tool"
	AgentID   string // optional; indexes the message for AgentMessages
	Content   string // UTF-8 text
	InReplyTo ID     // optional; the zero ID means none
	// Metadata is free-form (parts, tool calls, token counts...). Decoded integers are int64
	// (uint64 above MaxInt64) and floats float64; an empty map decodes as nil.
	Metadata map[string]any
	// RawMetadata is the metadata as the store keeps it (a MessagePack map), set instead of
	// Metadata by reads that ask for it (RangeOptions.RawMetadata, MessageDecoder.RawMetadata):
	// building a map[string]any for every message is most of the cost of reading a page, and
	// callers that forward messages or look at one key need not pay it. Decode it on first use
	// with DecodeMetadata, into a map or a struct of the caller's. On append it is stored as is
	// when Metadata is nil. nil when the message has no metadata.
	RawMetadata []byte
	CreatedAt   time.Time // set by the store
	UpdatedAt   time.Time // set by the store on append and update
}

// AppendResult says what happened to one appended message.
type AppendResult struct {
	ID   ID        // the message id, given or generated
	Time time.Time // the stored time (for a duplicate, the time already stored)
	// Duplicate is true when a message with this ID already existed: nothing was stored.
	Duplicate bool
}

// Cursor is an opaque position in a listing: pass a page's Next to the same query to get the
// page after it. It is safe to keep (e.g. hand to a client) and is at most 272 bytes.
type Cursor []byte

// RangeOptions select which messages a range returns. The zero value is "the first page of
// the whole session, oldest first, 100 per page".
type RangeOptions struct {
	Start time.Time // inclusive lower bound; zero: unbounded
	End   time.Time // exclusive upper bound; zero: unbounded
	// Limit is the most messages a call gives: the size of the one page RangeMessages returns
	// (1..10000; 0: DefaultPageSize), and the most messages Messages and AgentMessages yield
	// in all (0: no limit), as Node's `limit` is.
	Limit int
	// PageSize is how many messages the iterators fetch per call underneath (1..10000; 0:
	// DefaultPageSize, or Limit when that is smaller). RangeMessages ignores it.
	PageSize int
	Reverse  bool // newest first
	// RawMetadata leaves each message's metadata undecoded, in Message.RawMetadata (see there).
	RawMetadata bool
	// Cursor resumes after the last item of a previous page of the same query (same session
	// or agent, same direction); nil starts from the beginning.
	Cursor Cursor
}

// DefaultPageSize is the page size used when RangeOptions.Limit is 0.
const DefaultPageSize = 100

// MessagePage is one page of a range.
type MessagePage struct {
	Messages []Message
	// Next resumes after the last message of this page; nil when this is the last page.
	Next Cursor
}

// MarshalMsgpack encodes m as the store keeps it (id, session_id, ts, role, agent_id?,
// content, in_reply_to?, metadata, created_at, updated_at).
func (m Message) MarshalMsgpack() ([]byte, error) {
	w := &writer{}
	if err := m.encode(w, true); err != nil {
		return nil, err
	}
	return w.b, nil
}

func (m *Message) encode(w *writer, record bool) error {
	n := 5 // session_id, ts, role, content, metadata
	if !m.ID.IsZero() || record {
		n++
	}
	if m.AgentID != "" {
		n++
	}
	if !m.InReplyTo.IsZero() {
		n++
	}
	if record {
		n += 2
	}
	w.mapLen(n)
	if !m.ID.IsZero() || record {
		w.str("id")
		w.bin(m.ID[:])
	}
	w.str("session_id")
	w.str(m.SessionID)
	w.str("ts")
	w.int(toMicros(m.Time))
	w.str("role")
	w.str(m.Role)
	if m.AgentID != "" {
		w.str("agent_id")
		w.str(m.AgentID)
	}
	w.str("content")
	w.str(m.Content)
	if !m.InReplyTo.IsZero() {
		w.str("in_reply_to")
		w.bin(m.InReplyTo[:])
	}
	w.str("metadata")
	if m.Metadata == nil && len(m.RawMetadata) > 0 {
		w.b = append(w.b, m.RawMetadata...) // the library checks that it is a map
	} else if err := w.metadata(m.Metadata); err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	if record {
		w.str("created_at")
		w.int(toMicros(m.CreatedAt))
		w.str("updated_at")
		w.int(toMicros(m.UpdatedAt))
	}
	return nil
}

// UnmarshalMsgpack decodes a message record as the store returns it. Unknown keys are skipped.
func (m *Message) UnmarshalMsgpack(b []byte) error {
	r := reader{b: b}
	return m.decode(&r)
}

func (m *Message) decode(r *reader) error {
	n, err := r.mapLen()
	if err != nil {
		return err
	}
	*m = Message{}
	for ; n > 0; n-- {
		k, err := r.rawStr()
		if err != nil {
			return err
		}
		switch string(k) {
		case "id":
			m.ID, err = r.id16()
		case "session_id":
			var b []byte
			b, err = r.rawStr()
			m.SessionID = sticky(&r.session, b)
		case "ts":
			var us int64
			us, err = r.int()
			m.Time = fromMicros(us)
		case "role":
			m.Role, err = r.shortStr()
		case "agent_id":
			var b []byte
			b, err = r.rawStr()
			m.AgentID = sticky(&r.agent, b)
		case "content":
			m.Content, err = r.str()
		case "in_reply_to":
			m.InReplyTo, err = r.id16()
		case "metadata":
			if r.rawMetadata {
				m.RawMetadata, err = r.rawMap()
			} else {
				m.Metadata, err = r.metadata()
			}
		case "created_at":
			var us int64
			us, err = r.int()
			m.CreatedAt = fromMicros(us)
		case "updated_at":
			var us int64
			us, err = r.int()
			m.UpdatedAt = fromMicros(us)
		default:
			err = r.skip()
		}
		if err != nil {
			return fmt.Errorf("message field %q: %w", k, err)
		}
	}
	return nil
}

// A MessageDecoder decodes message records one after another the way a page is decoded:
// short strings that repeat from record to record (roles, metadata keys, the session id) are
// allocated once and shared. Use it to decode records kept elsewhere (a cache, another store)
// with the same code as this package. The zero value is ready to use; a MessageDecoder is not
// safe for concurrent use. Decoded values never point into the input.
type MessageDecoder struct {
	// RawMetadata makes Decode set Message.RawMetadata instead of decoding Metadata.
	RawMetadata bool

	r reader
}

// Decode decodes one message record into *m. Unknown keys are skipped; malformed input is an
// error, never a panic.
func (d *MessageDecoder) Decode(record []byte, m *Message) error {
	d.r.b, d.r.i, d.r.rawMetadata = record, 0, d.RawMetadata
	err := m.decode(&d.r)
	d.r.b = nil
	return err
}

// DecodeMessagePage decodes a page as the store returns it (a MessagePack array of message
// records), e.g. RawPage.Data from RangeMessagesRaw.
func DecodeMessagePage(page []byte) ([]Message, error) {
	return decodeMessages(page, -1, false)
}

// DecodeMetadata decodes the message's metadata into v (a *map[string]any, or a pointer to a
// struct with msgpack tags): from RawMetadata when set, else from Metadata. No metadata leaves
// v as it is.
func (m *Message) DecodeMetadata(v any) error {
	return decodeMetadataInto(m.RawMetadata, m.Metadata, v)
}

// decodeMessages decodes a page (a MessagePack array of message records); count, unless
// negative, is how many records the library said it holds.
func decodeMessages(data []byte, count int, rawMetadata bool) ([]Message, error) {
	r := &reader{b: data, rawMetadata: rawMetadata}
	n, err := r.arrayLen()
	if err != nil {
		return nil, err
	}
	if count >= 0 && n != count {
		return nil, fmt.Errorf("page holds %d records, the library said %d", n, count)
	}
	if n > len(data)-r.i {
		return nil, errShort // every record takes at least one byte
	}
	out := make([]Message, n)
	for i := range out {
		if err := out[i].decode(r); err != nil {
			return nil, fmt.Errorf("message %d: %w", i, err)
		}
	}
	return out, nil
}

// AppendMessage appends one message; see AppendMessages.
func (db *DB) AppendMessage(m Message) (AppendResult, error) {
	res, err := db.appendMessages("AppendMessage", []Message{m})
	if err != nil {
		return AppendResult{}, err
	}
	return res[0], nil
}

// AppendMessages appends a batch in one transaction: all are stored or none. It returns once
// the commit is durable (unless Options.NoSync). A message whose ID already exists is not
// stored again and comes back with Duplicate set, so a retried batch is harmless. Appends
// from many goroutines share commits.
func (db *DB) AppendMessages(msgs []Message) ([]AppendResult, error) {
	return db.appendMessages("AppendMessages", msgs)
}

func (db *DB) appendMessages(op string, msgs []Message) ([]AppendResult, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	w := getWriter()
	defer putWriter(w)
	w.arrayLen(len(msgs))
	for i := range msgs {
		if err := msgs[i].encode(w, false); err != nil {
			return nil, errInvalid(op, "message "+itoa(i)+": "+err.Error())
		}
	}
	results := make([]appendResult, len(msgs))
	h, err := db.acquire(op)
	if err != nil {
		return nil, err
	}
	r := cAppend(h, w.b, results)
	db.release()
	if err := errFrom(op, &r); err != nil {
		return nil, err
	}
	out := make([]AppendResult, len(msgs))
	for i := range results {
		id, ts, dup := appendResultOf(&results[i])
		out[i] = AppendResult{ID: id, Time: fromMicros(ts), Duplicate: dup}
	}
	return out, nil
}

func rangeArgs(op string, o *RangeOptions) (start, end int64, limit, flags uint32, err error) {
	switch {
	case o.Limit == 0:
		limit = DefaultPageSize
	case o.Limit < 0 || o.Limit > maxPage:
		return 0, 0, 0, 0, errInvalid(op, "limit must be between 1 and "+itoa(maxPage)+", got "+itoa(o.Limit))
	default:
		limit = uint32(o.Limit)
	}
	if len(o.Cursor) > maxCursor {
		return 0, 0, 0, 0, newError(op, CodeBadCursor, "cursor is "+itoa(len(o.Cursor))+" bytes; the limit is "+itoa(maxCursor))
	}
	if o.Reverse {
		flags |= rangeReverse
	}
	if !o.Start.IsZero() {
		flags |= rangeStart
		start = o.Start.UnixMicro()
	}
	if !o.End.IsZero() {
		flags |= rangeEnd
		end = o.End.UnixMicro()
	}
	return start, end, limit, flags, nil
}

func (db *DB) rangePage(op string, agent bool, name string, o *RangeOptions) (MessagePage, error) {
	var page MessagePage
	start, end, limit, flags, err := rangeArgs(op, o)
	if err != nil {
		return page, err
	}
	decode := func(r callResult) error {
		page.Next = r.cursor
		var err error
		page.Messages, err = decodeMessages(r.data, int(r.count), o.RawMetadata)
		return err
	}
	err = db.readInto(op, func(h unsafe.Pointer, buf []byte) callResult {
		return cRangeInto(h, agent, name, start, end, limit, flags, o.Cursor, buf)
	}, decode)
	return page, err
}

// RawPage is one page of records as the store returns it, undecoded.
type RawPage struct {
	// Data is a MessagePack array of Count records (docs/format.md); decode it with
	// DecodeMessagePage, or one record at a time with a MessageDecoder.
	Data  []byte
	Count int
	// Next resumes after the last record of this page; nil when this is the last page.
	Next Cursor
}

// RangeMessagesRaw is RangeMessages without decoding, for callers that forward pages (to a
// browser, a cache) or use their own codec. The library writes the page straight into buf (a
// new buffer when buf is too small), so Data aliases buf: pass the previous page's Data back
// in to page without allocating.
func (db *DB) RangeMessagesRaw(sessionID string, opts RangeOptions, buf []byte) (RawPage, error) {
	const op = "RangeMessagesRaw"
	var page RawPage
	start, end, limit, flags, err := rangeArgs(op, &opts)
	if err != nil {
		return page, err
	}
	r, err := db.callInto(op, &buf, func(h unsafe.Pointer, buf []byte) callResult {
		return cRangeInto(h, false, sessionID, start, end, limit, flags, opts.Cursor, buf)
	})
	if err == nil {
		page = RawPage{Data: r.data, Count: int(r.count), Next: r.cursor}
	}
	return page, err
}

func (db *DB) rangeSeq(op string, agent bool, name string, o RangeOptions) iter.Seq2[Message, error] {
	return func(yield func(Message, error) bool) {
		opts := o
		if o.Limit < 0 || o.PageSize < 0 {
			yield(Message{}, errInvalid(op, "Limit and PageSize must not be negative"))
			return
		}
		pageSize := o.PageSize
		if pageSize == 0 {
			pageSize = DefaultPageSize
		}
		remaining := o.Limit // 0: no limit
		for {
			opts.Limit = pageSize
			if o.Limit > 0 {
				opts.Limit = min(pageSize, remaining)
			}
			// Each page is one call that takes and releases the lock, so the loop body may
			// call anything (even Close: the next page then yields ErrClosed).
			page, err := db.rangePage(op, agent, name, &opts)
			if err != nil {
				yield(Message{}, err)
				return
			}
			for _, m := range page.Messages {
				if !yield(m, nil) {
					return
				}
			}
			if o.Limit > 0 {
				if remaining -= len(page.Messages); remaining <= 0 {
					return
				}
			}
			if page.Next == nil {
				return
			}
			opts.Cursor = page.Next
		}
	}
}

// RangeMessages returns one page of a session's messages in time order (newest first with
// Reverse). "The latest 50" is RangeOptions{Limit: 50, Reverse: true}. An unknown session
// gives an empty page. Ties in time keep a stable order and cursors resume exactly after
// the last message returned, like Redis XRANGE with an exclusive start.
func (db *DB) RangeMessages(sessionID string, opts RangeOptions) (MessagePage, error) {
	return db.rangePage("RangeMessages", false, sessionID, &opts)
}

// Messages iterates over a session's messages that opts select, at most opts.Limit of them (0:
// all), fetching opts.PageSize per call underneath; it starts at opts.Cursor. Break out of the loop to stop
// early. An error is yielded once and ends the iteration.
func (db *DB) Messages(sessionID string, opts RangeOptions) iter.Seq2[Message, error] {
	return db.rangeSeq("Messages", false, sessionID, opts)
}

// LatestMessages returns the newest n messages of a session (at most 10000) in
// chronological order, oldest first: the usual context window for a model.
func (db *DB) LatestMessages(sessionID string, n int) ([]Message, error) {
	page, err := db.rangePage("LatestMessages", false, sessionID, &RangeOptions{Limit: n, Reverse: true})
	if err != nil {
		return nil, err
	}
	msgs := page.Messages
	for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
		msgs[i], msgs[j] = msgs[j], msgs[i]
	}
	return msgs, nil
}

// RangeAgentMessages is RangeMessages over one agent's messages across all sessions.
func (db *DB) RangeAgentMessages(agentID string, opts RangeOptions) (MessagePage, error) {
	return db.rangePage("RangeAgentMessages", true, agentID, &opts)
}

// AgentMessages is Messages over one agent's messages across all sessions.
func (db *DB) AgentMessages(agentID string, opts RangeOptions) iter.Seq2[Message, error] {
	return db.rangeSeq("AgentMessages", true, agentID, opts)
}

// GetMessage returns the message with this id (an index lookup), or ErrNotFound.
func (db *DB) GetMessage(id ID) (Message, error) {
	var m Message
	err := db.readInto("GetMessage", func(h unsafe.Pointer, buf []byte) callResult {
		return cGetMessage(h, id, buf)
	}, func(r callResult) error {
		return m.decode(&reader{b: r.data})
	})
	return m, err
}

func (db *DB) updateMessage(op string, id ID, content string, metadata map[string]any, flags uint32) error {
	md, err := encodeMetadata(metadata)
	if err != nil {
		return errInvalid(op, "metadata: "+err.Error())
	}
	if flags&updateMetadata != 0 && md == nil {
		md = emptyMap
	}
	h, err := db.acquire(op)
	if err != nil {
		return err
	}
	r := cUpdateMessage(h, id, content, md, flags)
	db.release()
	return errFrom(op, &r)
}

var emptyMap = []byte{0x80}

// UpdateMessage replaces a message's content and metadata; it keeps its session, time and
// id, and its UpdatedAt changes. It returns ErrNotFound if there is no such message.
func (db *DB) UpdateMessage(id ID, content string, metadata map[string]any) error {
	return db.updateMessage("UpdateMessage", id, content, metadata, updateContent|updateMetadata)
}

// SetMessageContent replaces only a message's content.
func (db *DB) SetMessageContent(id ID, content string) error {
	return db.updateMessage("SetMessageContent", id, content, nil, updateContent)
}

// SetMessageMetadata replaces only a message's metadata (nil clears it).
func (db *DB) SetMessageMetadata(id ID, metadata map[string]any) error {
	return db.updateMessage("SetMessageMetadata", id, "", metadata, updateMetadata)
}

// DeleteMessage deletes one message and its index entries, or returns ErrNotFound.
func (db *DB) DeleteMessage(id ID) error {
	h, err := db.acquire("DeleteMessage")
	if err != nil {
		return err
	}
	r := cDeleteMessage(h, id)
	db.release()
	return errFrom("DeleteMessage", &r)
}

// TrimSession keeps only the newest keep messages of a session and returns how many it
// deleted.
func (db *DB) TrimSession(sessionID string, keep int) (int, error) {
	const op = "TrimSession"
	if keep < 0 {
		return 0, errInvalid(op, "keep is negative")
	}
	h, err := db.acquire(op)
	if err != nil {
		return 0, err
	}
	r := cTrim(h, sessionID, false, int64(keep))
	db.release()
	return int(r.n), errFrom(op, &r)
}

// TrimSessionBefore deletes a session's messages older than before (exclusive) and returns
// how many it deleted.
func (db *DB) TrimSessionBefore(sessionID string, before time.Time) (int, error) {
	const op = "TrimSessionBefore"
	h, err := db.acquire(op)
	if err != nil {
		return 0, err
	}
	r := cTrim(h, sessionID, true, before.UnixMicro())
	db.release()
	return int(r.n), errFrom(op, &r)
}
