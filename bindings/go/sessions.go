package lmstore

import (
	"fmt"
	"iter"
	"time"
	"unsafe"
)

// Session is a conversation's header: what DB.GetSession and DB.ListSessions return.
type Session struct {
	ID       string
	Title    string         // "" when none
	Metadata map[string]any // nil when empty
	// CreatedAt and UpdatedAt are when the session was created and its title or metadata
	// last changed.
	CreatedAt time.Time
	UpdatedAt time.Time
	// LastTime is the time of the session's newest message (zero if it has none).
	LastTime time.Time
	// LastActivity is the last time a message was appended (or the session was created);
	// ListSessions orders by it.
	LastActivity time.Time
	MessageCount uint64
}

// SessionPage is one page of DB.ListSessions.
type SessionPage struct {
	Sessions []Session
	// Next resumes after the last session of this page; nil when this is the last page.
	Next Cursor
}

// UnmarshalMsgpack decodes a session map as the store returns it.
func (s *Session) UnmarshalMsgpack(b []byte) error {
	r := reader{b: b}
	return s.decode(&r)
}

func (s *Session) decode(r *reader) error {
	n, err := r.mapLen()
	if err != nil {
		return err
	}
	*s = Session{}
	for ; n > 0; n-- {
		k, err := r.rawStr()
		if err != nil {
			return err
		}
		var us int64
		switch string(k) {
		case "session_id":
			s.ID, err = r.str()
		case "title":
			s.Title, err = r.str()
		case "metadata":
			s.Metadata, err = r.metadata()
		case "created_at":
			us, err = r.int()
			s.CreatedAt = fromMicros(us)
		case "updated_at":
			us, err = r.int()
			s.UpdatedAt = fromMicros(us)
		case "last_ts":
			us, err = r.int()
			s.LastTime = fromMicros(us)
		case "last_activity":
			us, err = r.int()
			s.LastActivity = fromMicros(us)
		case "message_count":
			us, err = r.int()
			s.MessageCount = uint64(us)
		default:
			err = r.skip()
		}
		if err != nil {
			return fmt.Errorf("session field %q: %w", k, err)
		}
	}
	return nil
}

// CreateSession creates a session explicitly, with an optional title and metadata. Sessions
// are also created by their first message. It returns ErrConflict if the session exists.
func (db *DB) CreateSession(sessionID, title string, metadata map[string]any) error {
	const op = "CreateSession"
	md, err := encodeMetadata(metadata)
	if err != nil {
		return errInvalid(op, "metadata: "+err.Error())
	}
	h, err := db.acquire(op)
	if err != nil {
		return err
	}
	r := cCreateSession(h, sessionID, title, md)
	db.release()
	return errFrom(op, &r)
}

// GetSession returns a session, or ErrNotFound.
func (db *DB) GetSession(sessionID string) (Session, error) {
	var s Session
	err := db.readInto("GetSession", func(h unsafe.Pointer, buf []byte) callResult {
		return cGetSession(h, sessionID, buf)
	}, func(r callResult) error {
		return s.decode(&reader{b: r.data})
	})
	return s, err
}

func (db *DB) updateSession(op, sessionID, title string, metadata map[string]any, flags uint32) error {
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
	r := cUpdateSession(h, sessionID, title, md, flags)
	db.release()
	return errFrom(op, &r)
}

// UpdateSession replaces a session's title and metadata ("" and nil clear them).
func (db *DB) UpdateSession(sessionID, title string, metadata map[string]any) error {
	return db.updateSession("UpdateSession", sessionID, title, metadata, updateTitle|updateMetadata)
}

// SetSessionTitle replaces only a session's title ("" clears it).
func (db *DB) SetSessionTitle(sessionID, title string) error {
	return db.updateSession("SetSessionTitle", sessionID, title, nil, updateTitle)
}

// SetSessionMetadata replaces only a session's metadata (nil clears it).
func (db *DB) SetSessionMetadata(sessionID string, metadata map[string]any) error {
	return db.updateSession("SetSessionMetadata", sessionID, "", metadata, updateMetadata)
}

// DeleteSession deletes a session with all its messages and index entries in one
// transaction, and returns how many messages it deleted; ErrNotFound if there is no session.
func (db *DB) DeleteSession(sessionID string) (int, error) {
	const op = "DeleteSession"
	h, err := db.acquire(op)
	if err != nil {
		return 0, err
	}
	r := cDeleteSession(h, sessionID)
	db.release()
	return int(r.n), errFrom(op, &r)
}

// ListSessions returns one page of sessions by most recent activity, newest first. Pass nil
// to start and a page's Next to continue. limit must be 1..10000 (0: DefaultPageSize).
func (db *DB) ListSessions(cursor Cursor, limit int) (SessionPage, error) {
	const op = "ListSessions"
	var page SessionPage
	if limit == 0 {
		limit = DefaultPageSize
	}
	if limit < 0 || limit > maxPage {
		return page, errInvalid(op, "limit must be between 1 and "+itoa(maxPage)+", got "+itoa(limit))
	}
	if len(cursor) > maxCursor {
		return page, newError(op, CodeBadCursor, "cursor is "+itoa(len(cursor))+" bytes; the limit is "+itoa(maxCursor))
	}
	err := db.readInto(op, func(h unsafe.Pointer, buf []byte) callResult {
		return cListSessions(h, cursor, uint32(limit), buf)
	}, func(res callResult) error {
		page.Next = res.cursor
		r := &reader{b: res.data}
		n, err := r.arrayLen()
		if err != nil {
			return err
		}
		if n != int(res.count) {
			return fmt.Errorf("page holds %d records, the library said %d", n, res.count)
		}
		page.Sessions = make([]Session, n)
		for i := range page.Sessions {
			if err := page.Sessions[i].decode(r); err != nil {
				return err
			}
		}
		return nil
	})
	return page, err
}

// Sessions iterates over all sessions by most recent activity, newest first, paging
// underneath. An error is yielded once and ends the iteration.
func (db *DB) Sessions() iter.Seq2[Session, error] {
	return func(yield func(Session, error) bool) {
		var cursor Cursor
		for {
			page, err := db.ListSessions(cursor, DefaultPageSize)
			if err != nil {
				yield(Session{}, err)
				return
			}
			for _, s := range page.Sessions {
				if !yield(s, nil) {
					return
				}
			}
			if page.Next == nil {
				return
			}
			cursor = page.Next
		}
	}
}
