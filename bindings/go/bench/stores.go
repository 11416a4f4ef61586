// Package bench compares the lmstore Go package with what a Go developer would pick instead
// for prompts and chat history: bbolt (an embedded B+tree, pure Go) and SQLite (through
// mattn/go-sqlite3). Every store keeps the same MessagePack records under the same key
// layout, durably, and in each benchmark decodes them with the same Codec, so the ratios
// compare storage and call paths rather than codecs.
package bench

import (
	"bytes"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	lmstore "github.com/lmstore/lmstore/bindings/go"
	_ "github.com/mattn/go-sqlite3"
	bolt "go.etcd.io/bbolt"
)

// Store is one contender.
type Store interface {
	Name() string
	// LoadTemplates stores templates as fast as the store allows (setup, not measured).
	LoadTemplates(ts []lmstore.Template) error
	// GetTemplate returns the latest version of id, decoded with c.
	GetTemplate(id string, c Codec) (lmstore.Template, error)
	// AppendBatch stores msgs in one durable transaction.
	AppendBatch(msgs []lmstore.Message) error
	// Latest returns the newest n messages of a session, newest first, decoded with c.
	Latest(session string, n int, c Codec) ([]lmstore.Message, error)
	// LatestRaw is Latest without decoding: the records' bytes, copied into buf (reused from
	// call to call). It measures the storage path alone.
	LatestRaw(session string, n int, buf []byte) ([]byte, error)
	Close() error
}

// ---- lmstore ----

type lmsStore struct {
	dir string
	db  *lmstore.DB
	buf []byte // raw reads for the generic codec; benchmarks run one goroutine per store
}

// OpenLmstore opens a durable lmstore store in dir.
func OpenLmstore(dir string) (Store, error) {
	db, err := lmstore.Open(dir, nil)
	if err != nil {
		return nil, err
	}
	return &lmsStore{dir: dir, db: db}, nil
}

func (s *lmsStore) Name() string { return "lmstore" }

// LoadTemplates puts one version per call (the ABI has no batch put for templates), so it
// loads with NoSync and flushes once, then reopens durable.
func (s *lmsStore) LoadTemplates(ts []lmstore.Template) error {
	if err := s.db.Close(); err != nil {
		return err
	}
	fast, err := lmstore.Open(s.dir, &lmstore.Options{NoSync: true})
	if err != nil {
		return err
	}
	for _, t := range ts {
		if _, err := fast.PutTemplate(t); err != nil {
			fast.Close()
			return err
		}
	}
	if err := fast.Sync(); err != nil {
		return err
	}
	fast.Close()
	s.db, err = lmstore.Open(s.dir, nil)
	return err
}

func (s *lmsStore) GetTemplate(id string, c Codec) (lmstore.Template, error) {
	if c != Generic {
		return s.db.GetTemplate(id)
	}
	rec, err := s.db.GetTemplateRaw(id, "", s.buf)
	if err != nil {
		return lmstore.Template{}, err
	}
	s.buf = rec
	return genericTemplateOf(rec)
}

func (s *lmsStore) AppendBatch(msgs []lmstore.Message) error {
	_, err := s.db.AppendMessages(msgs)
	return err
}

func (s *lmsStore) Latest(session string, n int, c Codec) ([]lmstore.Message, error) {
	if c != Generic {
		p, err := s.db.RangeMessages(session, lmstore.RangeOptions{Limit: n, Reverse: true, RawMetadata: c == Lazy})
		return p.Messages, err
	}
	p, err := s.db.RangeMessagesRaw(session, lmstore.RangeOptions{Limit: n, Reverse: true}, s.buf)
	if err != nil {
		return nil, err
	}
	s.buf = p.Data
	return genericPage(p.Data)
}

func (s *lmsStore) LatestRaw(session string, n int, buf []byte) ([]byte, error) {
	p, err := s.db.RangeMessagesRaw(session, lmstore.RangeOptions{Limit: n, Reverse: true}, buf)
	return p.Data, err
}

func (s *lmsStore) Close() error { return s.db.Close() }

// ---- bbolt ----

// Buckets mirror lmstore's tables: templates `id 0x00 version` -> record, template heads
// `id` -> latest version, messages `len|session|ts(8)|id(16)` -> record, message ids
// `id` -> messages key, sessions `session` -> last_ts(8)|count(8)|last_activity(8).
var (
	bTemplates = []byte("templates")
	bHeads     = []byte("template_heads")
	bMessages  = []byte("messages")
	bIDs       = []byte("message_ids")
	bSessions  = []byte("sessions")
)

type boltStore struct{ db *bolt.DB }

// OpenBolt opens a bbolt file in dir with its defaults (fsync on every commit).
func OpenBolt(dir string) (Store, error) {
	db, err := bolt.Open(filepath.Join(dir, "bolt.db"), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bTemplates, bHeads, bMessages, bIDs, bSessions} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	return &boltStore{db: db}, err
}

func (s *boltStore) Name() string { return "bbolt" }

func templateKey(id, version string) []byte {
	k := make([]byte, 0, len(id)+1+len(version))
	k = append(k, id...)
	k = append(k, 0)
	return append(k, version...)
}

func (s *boltStore) LoadTemplates(ts []lmstore.Template) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		tb, hb := tx.Bucket(bTemplates), tx.Bucket(bHeads)
		for _, t := range ts {
			t.CreatedAt = time.Now()
			rec, err := t.MarshalMsgpack()
			if err != nil {
				return err
			}
			if err := tb.Put(templateKey(t.ID, t.Version), rec); err != nil {
				return err
			}
			if err := hb.Put([]byte(t.ID), []byte(t.Version)); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *boltStore) GetTemplate(id string, c Codec) (lmstore.Template, error) {
	var t lmstore.Template
	err := s.db.View(func(tx *bolt.Tx) error {
		latest := tx.Bucket(bHeads).Get([]byte(id))
		if latest == nil {
			return errors.New("not found")
		}
		rec := tx.Bucket(bTemplates).Get(templateKey(id, string(latest)))
		if rec == nil {
			return errors.New("not found")
		}
		// Both codecs copy out: rec is only valid inside the transaction.
		if c != Generic {
			return t.UnmarshalMsgpack(rec)
		}
		var err error
		t, err = genericTemplateOf(rec)
		return err
	})
	return t, err
}

func sessionPrefix(session string) []byte {
	k := make([]byte, 0, 1+len(session)+24)
	k = append(k, byte(len(session)))
	return append(k, session...)
}

func messageKey(session string, ts int64, id lmstore.ID) []byte {
	k := sessionPrefix(session)
	k = binary.BigEndian.AppendUint64(k, uint64(ts))
	return append(k, id[:]...)
}

func (s *boltStore) AppendBatch(msgs []lmstore.Message) error {
	now := time.Now()
	return s.db.Update(func(tx *bolt.Tx) error {
		mb, ib, sb := tx.Bucket(bMessages), tx.Bucket(bIDs), tx.Bucket(bSessions)
		heads := map[string][]byte{}
		for i := range msgs {
			m := msgs[i]
			if ib.Get(m.ID[:]) != nil {
				continue // duplicate, as lmstore does
			}
			m.CreatedAt, m.UpdatedAt = now, now
			rec, err := m.MarshalMsgpack()
			if err != nil {
				return err
			}
			key := messageKey(m.SessionID, m.Time.UnixMicro(), m.ID)
			if err := mb.Put(key, rec); err != nil {
				return err
			}
			if err := ib.Put(m.ID[:], key); err != nil {
				return err
			}
			h, ok := heads[m.SessionID]
			if !ok {
				h = make([]byte, 24)
				copy(h, sb.Get([]byte(m.SessionID)))
				heads[m.SessionID] = h
			}
			ts := uint64(m.Time.UnixMicro())
			if ts > binary.BigEndian.Uint64(h[0:]) {
				binary.BigEndian.PutUint64(h[0:], ts)
			}
			binary.BigEndian.PutUint64(h[8:], binary.BigEndian.Uint64(h[8:])+1)
			binary.BigEndian.PutUint64(h[16:], uint64(now.UnixMicro()))
		}
		for session, h := range heads {
			if err := sb.Put([]byte(session), h); err != nil {
				return err
			}
		}
		return nil
	})
}

// latest calls f with the newest n records of a session, newest first, inside one read
// transaction (the bytes are only valid during the call).
func (s *boltStore) latest(session string, n int, f func(rec []byte) error) error {
	prefix := sessionPrefix(session)
	return s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bMessages).Cursor()
		end := append(append([]byte{}, prefix...), bytes.Repeat([]byte{0xff}, 8)...)
		k, v := c.Seek(end)
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for i := 0; k != nil && bytes.HasPrefix(k, prefix) && i < n; k, v = c.Prev() {
			if err := f(v); err != nil {
				return err
			}
			i++
		}
		return nil
	})
}

func (s *boltStore) Latest(session string, n int, c Codec) ([]lmstore.Message, error) {
	return decodeLatest(n, c, func(f func([]byte) error) error { return s.latest(session, n, f) })
}

func (s *boltStore) LatestRaw(session string, n int, buf []byte) ([]byte, error) {
	return collectRaw(buf, func(f func([]byte) error) error { return s.latest(session, n, f) })
}

func (s *boltStore) Close() error { return s.db.Close() }

// decodeLatest turns the records a peer store visits, newest first, into messages with the
// chosen codec: the same code for every peer, so only their storage differs.
func decodeLatest(n int, c Codec, visit func(func(rec []byte) error) error) ([]lmstore.Message, error) {
	out := make([]lmstore.Message, 0, n)
	dec := lmstore.MessageDecoder{RawMetadata: c == Lazy}
	err := visit(func(rec []byte) error {
		var m lmstore.Message
		var err error
		if c != Generic {
			err = dec.Decode(rec, &m)
		} else {
			m, err = genericMessageOf(rec)
		}
		out = append(out, m)
		return err
	})
	return out, err
}

// collectRaw concatenates the records a peer store visits into buf, undecoded.
func collectRaw(buf []byte, visit func(func(rec []byte) error) error) ([]byte, error) {
	buf = buf[:0]
	err := visit(func(rec []byte) error {
		buf = append(buf, rec...)
		return nil
	})
	return buf, err
}

// ---- SQLite ----

type sqliteStore struct {
	db                       *sql.DB
	getTpl, latest           *sql.Stmt
	insMsg, upSession, selID *sql.Stmt
}

const sqliteSchema = `
CREATE TABLE IF NOT EXISTS templates (id TEXT NOT NULL, version TEXT NOT NULL, record BLOB NOT NULL,
  PRIMARY KEY (id, version)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS template_heads (id TEXT PRIMARY KEY, latest TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (session TEXT NOT NULL, ts INTEGER NOT NULL, id BLOB NOT NULL,
  record BLOB NOT NULL, PRIMARY KEY (session, ts, id)) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS message_ids ON messages (id);
CREATE TABLE IF NOT EXISTS sessions (session TEXT PRIMARY KEY, last_ts INTEGER NOT NULL,
  message_count INTEGER NOT NULL, last_activity INTEGER NOT NULL) WITHOUT ROWID;
`

// OpenSQLite opens a SQLite database in dir in WAL mode with synchronous=FULL, which makes a
// commit as durable as lmstore's and bbolt's.
func OpenSQLite(dir string) (Store, error) {
	dsn := "file:" + filepath.Join(dir, "sqlite.db") + "?_journal_mode=WAL&_synchronous=FULL&_busy_timeout=5000"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	if _, err := db.Exec(sqliteSchema); err != nil {
		return nil, err
	}
	s := &sqliteStore{db: db}
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = db.Prepare(q)
		return st
	}
	s.getTpl = prep(`SELECT t.record FROM template_heads h JOIN templates t ON t.id = h.id AND t.version = h.latest WHERE h.id = ?`)
	s.latest = prep(`SELECT record FROM messages WHERE session = ? ORDER BY ts DESC, id DESC LIMIT ?`)
	s.insMsg = prep(`INSERT OR IGNORE INTO messages (session, ts, id, record) VALUES (?, ?, ?, ?)`)
	s.upSession = prep(`INSERT INTO sessions (session, last_ts, message_count, last_activity) VALUES (?, ?, ?, ?)
	  ON CONFLICT (session) DO UPDATE SET last_ts = max(last_ts, excluded.last_ts),
	  message_count = message_count + excluded.message_count, last_activity = excluded.last_activity`)
	s.selID = prep(`SELECT 1 FROM messages WHERE id = ?`)
	return s, err
}

func (s *sqliteStore) Name() string { return "sqlite" }

func (s *sqliteStore) LoadTemplates(ts []lmstore.Template) error {
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, t := range ts {
		t.CreatedAt = time.Now()
		rec, err := t.MarshalMsgpack()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO templates (id, version, record) VALUES (?, ?, ?)`, t.ID, t.Version, rec); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT OR REPLACE INTO template_heads (id, latest) VALUES (?, ?)`, t.ID, t.Version); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (s *sqliteStore) GetTemplate(id string, c Codec) (lmstore.Template, error) {
	var t lmstore.Template
	var rec []byte
	if err := s.getTpl.QueryRow(id).Scan(&rec); err != nil {
		return t, err
	}
	if c == Generic {
		return genericTemplateOf(rec)
	}
	return t, t.UnmarshalMsgpack(rec)
}

func (s *sqliteStore) AppendBatch(msgs []lmstore.Message) error {
	now := time.Now()
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ins := tx.Stmt(s.insMsg)
	type head struct{ lastTS, count int64 }
	heads := map[string]*head{}
	for i := range msgs {
		m := msgs[i]
		m.CreatedAt, m.UpdatedAt = now, now
		rec, err := m.MarshalMsgpack()
		if err != nil {
			return err
		}
		res, err := ins.Exec(m.SessionID, m.Time.UnixMicro(), m.ID[:], rec)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue // duplicate id
		}
		h := heads[m.SessionID]
		if h == nil {
			h = &head{}
			heads[m.SessionID] = h
		}
		h.count++
		h.lastTS = max(h.lastTS, m.Time.UnixMicro())
	}
	up := tx.Stmt(s.upSession)
	for session, h := range heads {
		if _, err := up.Exec(session, h.lastTS, h.count, now.UnixMicro()); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// latestRows calls f with the newest n records of a session, newest first; the bytes are
// only valid during the call (sql.RawBytes).
func (s *sqliteStore) latestRows(session string, n int, f func(rec []byte) error) error {
	rows, err := s.latest.Query(session, n)
	if err != nil {
		return err
	}
	defer rows.Close()
	var rec sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&rec); err != nil {
			return err
		}
		if err := f(rec); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (s *sqliteStore) Latest(session string, n int, c Codec) ([]lmstore.Message, error) {
	return decodeLatest(n, c, func(f func([]byte) error) error { return s.latestRows(session, n, f) })
}

func (s *sqliteStore) LatestRaw(session string, n int, buf []byte) ([]byte, error) {
	return collectRaw(buf, func(f func([]byte) error) error { return s.latestRows(session, n, f) })
}

func (s *sqliteStore) Close() error { return s.db.Close() }

// ---- data ----

// Sizes of the data set, as issue 4 states them.
const (
	NumTemplates  = 10_000
	NumSessions   = 20
	PerSession    = 500
	AppendBatchN  = 1_000
	LatestN       = 50
	loadBatchSize = 500
)

// TemplateID names template i.
func TemplateID(i int) string { return fmt.Sprintf("prompts/agent-%05d", i) }

// Templates returns n templates whose stored records are about 430 bytes.
func Templates(n int) []lmstore.Template {
	out := make([]lmstore.Template, n)
	for i := range out {
		out[i] = lmstore.Template{
			ID:          TemplateID(i),
			Version:     "1.0.0",
			Description: "Answers customer questions about orders",
			Text: fmt.Sprintf("You are support agent #%d for {{ company }}. Answer politely, using only "+
				"the order data below; if the answer is not there, offer to escalate.\n\n"+
				"Order data:\n{{ order }}\n\nQuestion: {{ question }}", i),
			Inputs: map[string]lmstore.Input{
				"company":  {Type: lmstore.InputString},
				"order":    {Type: lmstore.InputObject},
				"question": {Type: lmstore.InputString},
			},
			Metadata: map[string]any{"owner": "support", "model": "gpt-x"},
		}
	}
	return out
}

// SessionID names session i.
func SessionID(i int) string { return fmt.Sprintf("session-%04d", i) }

var base = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

var content = strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", 4)[:200]

// PlainSessionID names session i of those whose messages carry no metadata.
func PlainSessionID(i int) string { return fmt.Sprintf("plain-%04d", i) }

// PlainMessages is Messages without metadata.
func PlainMessages(session string, first, n int) []lmstore.Message {
	out := Messages(session, first, n)
	for i := range out {
		out[i].Metadata = nil
	}
	return out
}

// Messages returns n messages for session with ids and times fixed in advance, so that
// every store writes the same records.
func Messages(session string, first, n int) []lmstore.Message {
	out := make([]lmstore.Message, n)
	roles := [2]string{"user", "assistant"}
	for i := range out {
		out[i] = lmstore.Message{
			ID:        lmstore.NewID(),
			SessionID: session,
			Time:      base.Add(time.Duration(first+i) * time.Millisecond),
			Role:      roles[i%2],
			Content:   content,
			Metadata:  map[string]any{"tokens": int64(40 + i%17)},
		}
	}
	return out
}

// Setup opens the three stores under root and loads the read data set into each.
func Setup(root string) ([]Store, error) {
	tpls := Templates(NumTemplates)
	var batches [][]lmstore.Message
	for sess := 0; sess < NumSessions; sess++ {
		for i := 0; i < PerSession; i += loadBatchSize {
			batches = append(batches, Messages(SessionID(sess), i, loadBatchSize),
				PlainMessages(PlainSessionID(sess), i, loadBatchSize))
		}
	}
	var stores []Store
	for _, open := range []func(string) (Store, error){OpenLmstore, OpenBolt, OpenSQLite} {
		dir, err := os.MkdirTemp(root, "store-")
		if err != nil {
			return nil, err
		}
		s, err := open(dir)
		if err != nil {
			return nil, err
		}
		stores = append(stores, s)
		if err := s.LoadTemplates(tpls); err != nil {
			return nil, fmt.Errorf("%s: load templates: %w", s.Name(), err)
		}
		for _, batch := range batches {
			if err := s.AppendBatch(batch); err != nil {
				return nil, fmt.Errorf("%s: load messages: %w", s.Name(), err)
			}
		}
	}
	return stores, nil
}

// Pick hands out pseudo-random template ids and sessions, the same sequence for every store,
// precomputed so that measured loops do no formatting.
type Pick struct {
	tpls, sessions, plain []string
	i, j                  int
}

// NewPick seeds a Pick.
func NewPick() *Pick {
	r := rand.New(rand.NewPCG(1, 2))
	p := &Pick{tpls: make([]string, 4096), sessions: make([]string, 4096), plain: make([]string, 4096)}
	for i := range p.tpls {
		p.tpls[i] = TemplateID(r.IntN(NumTemplates))
		n := r.IntN(NumSessions)
		p.sessions[i], p.plain[i] = SessionID(n), PlainSessionID(n)
	}
	return p
}

// Template returns a random template id.
func (p *Pick) Template() string {
	p.i = (p.i + 1) % len(p.tpls)
	return p.tpls[p.i]
}

// Session returns a random session.
func (p *Pick) Session() string {
	p.j = (p.j + 1) % len(p.sessions)
	return p.sessions[p.j]
}

// PlainSession returns a random session whose messages have no metadata.
func (p *Pick) PlainSession() string {
	p.j = (p.j + 1) % len(p.plain)
	return p.plain[p.j]
}
