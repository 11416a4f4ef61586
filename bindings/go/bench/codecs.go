package bench

import (
	"bytes"
	"fmt"
	"sync"
	"time"

	lmstore "github.com/lmstore/lmstore/bindings/go"
	"github.com/vmihailenco/msgpack/v5"
)

// Codec is how a store's records become Go values. Every store decodes the same bytes with
// the same codec in a given benchmark, so the ratios compare storage and call paths.
type Codec int

const (
	// Fast is the lmstore package's own decoder (hand-written, no reflection): what
	// DB.GetTemplate and DB.RangeMessages use, and what Template.UnmarshalMsgpack and
	// lmstore.MessageDecoder offer for records kept anywhere else.
	Fast Codec = iota
	// Generic is github.com/vmihailenco/msgpack/v5 decoding into tagged structs (with loose
	// interface decoding for metadata), then copied into lmstore's types: what a Go developer
	// storing MessagePack in bbolt or SQLite would typically write.
	Generic
	// Lazy is Fast with metadata left undecoded (lmstore.RangeOptions.RawMetadata,
	// lmstore.MessageDecoder.RawMetadata): Message.RawMetadata keeps the bytes, decoded on
	// first use. Templates decode as with Fast.
	Lazy
)

func (c Codec) String() string {
	switch c {
	case Generic:
		return "generic"
	case Lazy:
		return "lazy"
	}
	return "fast"
}

type genericInput struct {
	Type        string `msgpack:"type"`
	Required    bool   `msgpack:"required"`
	Default     any    `msgpack:"default"`
	Description string `msgpack:"description"`
}

type genericTemplate struct {
	ID          string                  `msgpack:"id"`
	Version     string                  `msgpack:"version"`
	Template    string                  `msgpack:"template"`
	Description string                  `msgpack:"description"`
	Inputs      map[string]genericInput `msgpack:"inputs"`
	Metadata    map[string]any          `msgpack:"metadata"`
	CreatedAt   int64                   `msgpack:"created_at"`
}

type genericMessage struct {
	ID        []byte         `msgpack:"id"`
	SessionID string         `msgpack:"session_id"`
	TS        int64          `msgpack:"ts"`
	Role      string         `msgpack:"role"`
	AgentID   string         `msgpack:"agent_id"`
	Content   string         `msgpack:"content"`
	InReplyTo []byte         `msgpack:"in_reply_to"`
	Metadata  map[string]any `msgpack:"metadata"`
	CreatedAt int64          `msgpack:"created_at"`
	UpdatedAt int64          `msgpack:"updated_at"`
}

// genericDecoder is a reusable msgpack.Decoder over a byte slice.
type genericDecoder struct {
	rd  bytes.Reader
	dec *msgpack.Decoder
}

var genericDecoders = sync.Pool{New: func() any {
	d := &genericDecoder{}
	d.dec = msgpack.NewDecoder(&d.rd)
	d.dec.UseLooseInterfaceDecoding(true)
	return d
}}

func getGeneric(b []byte) *genericDecoder {
	d := genericDecoders.Get().(*genericDecoder)
	d.rd.Reset(b)
	d.dec.Reset(&d.rd)
	d.dec.UseLooseInterfaceDecoding(true)
	return d
}

func putGeneric(d *genericDecoder) {
	d.rd.Reset(nil)
	genericDecoders.Put(d)
}

func micros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

func id16(b []byte) (lmstore.ID, error) {
	var id lmstore.ID
	if len(b) != 0 && len(b) != len(id) {
		return id, fmt.Errorf("id has %d bytes", len(b))
	}
	copy(id[:], b)
	return id, nil
}

// message decodes the next record with the generic decoder.
func (d *genericDecoder) message() (lmstore.Message, error) {
	var g genericMessage
	if err := d.dec.Decode(&g); err != nil {
		return lmstore.Message{}, err
	}
	id, err := id16(g.ID)
	if err != nil {
		return lmstore.Message{}, err
	}
	reply, err := id16(g.InReplyTo)
	if err != nil {
		return lmstore.Message{}, err
	}
	if len(g.Metadata) == 0 {
		g.Metadata = nil
	}
	return lmstore.Message{ID: id, SessionID: g.SessionID, Time: micros(g.TS), Role: g.Role,
		AgentID: g.AgentID, Content: g.Content, InReplyTo: reply, Metadata: g.Metadata,
		CreatedAt: micros(g.CreatedAt), UpdatedAt: micros(g.UpdatedAt)}, nil
}

// genericTemplateOf decodes a template record with the generic decoder.
func genericTemplateOf(rec []byte) (lmstore.Template, error) {
	d := getGeneric(rec)
	defer putGeneric(d)
	var g genericTemplate
	if err := d.dec.Decode(&g); err != nil {
		return lmstore.Template{}, err
	}
	t := lmstore.Template{ID: g.ID, Version: g.Version, Text: g.Template, Description: g.Description,
		Metadata: g.Metadata, CreatedAt: micros(g.CreatedAt)}
	if len(t.Metadata) == 0 {
		t.Metadata = nil
	}
	if len(g.Inputs) > 0 {
		t.Inputs = make(map[string]lmstore.Input, len(g.Inputs))
		for name, in := range g.Inputs {
			t.Inputs[name] = lmstore.Input{Type: lmstore.InputType(in.Type), Optional: !in.Required,
				Default: in.Default, Description: in.Description}
		}
	}
	return t, nil
}

// genericMessageOf decodes one message record with the generic decoder.
func genericMessageOf(rec []byte) (lmstore.Message, error) {
	d := getGeneric(rec)
	defer putGeneric(d)
	return d.message()
}

// genericPage decodes a page (an array of message records) with the generic decoder, record
// by record, exactly as genericMessageOf decodes one.
func genericPage(page []byte) ([]lmstore.Message, error) {
	d := getGeneric(page)
	defer putGeneric(d)
	n, err := d.dec.DecodeArrayLen()
	if err != nil {
		return nil, err
	}
	out := make([]lmstore.Message, 0, max(n, 0))
	for i := 0; i < n; i++ {
		m, err := d.message()
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}
