package lmstore_test

import (
	"reflect"
	"testing"

	lmstore "github.com/lmstore/lmstore/bindings/go"
)

// Lazy metadata: a read that asks for raw metadata keeps the bytes, decoded on first use into a
// map or the caller's own type, and equal to what the eager read gives.
func TestRawMetadata(t *testing.T) {
	db := openTemp(t, nil)
	type usage struct {
		Tokens int    `msgpack:"tokens"`
		Model  string `msgpack:"model"`
	}
	for i := 0; i < 40; i++ {
		md := map[string]any{"tokens": int64(i), "model": "m", "parts": []any{"a", int64(i)}}
		if i%3 == 0 {
			md = nil
		}
		if _, err := db.AppendMessage(lmstore.Message{SessionID: "s", Role: "user", Content: "x", Metadata: md}); err != nil {
			t.Fatal(err)
		}
	}
	eager := must[lmstore.MessagePage](t)(db.RangeMessages("s", lmstore.RangeOptions{Limit: 100}))
	lazy := must[lmstore.MessagePage](t)(db.RangeMessages("s", lmstore.RangeOptions{Limit: 100, RawMetadata: true}))
	for i := range eager.Messages {
		e, l := eager.Messages[i], lazy.Messages[i]
		if l.Metadata != nil {
			t.Fatalf("message %d: raw read decoded the metadata", i)
		}
		if (e.Metadata == nil) != (l.RawMetadata == nil) {
			t.Fatalf("message %d: metadata %v, raw %x", i, e.Metadata, l.RawMetadata)
		}
		var m map[string]any
		if err := l.DecodeMetadata(&m); err != nil || !reflect.DeepEqual(m, e.Metadata) {
			t.Fatalf("message %d: decoded %v (%v), eager %v", i, m, err, e.Metadata)
		}
		var u usage
		if err := l.DecodeMetadata(&u); err != nil {
			t.Fatal(err)
		}
		if e.Metadata != nil && (u.Tokens != i || u.Model != "m") {
			t.Fatalf("message %d: into a struct: %+v", i, u)
		}
		var fromEager usage
		if err := e.DecodeMetadata(&fromEager); err != nil || fromEager != u {
			t.Fatalf("message %d: DecodeMetadata of an eager message: %+v %v", i, fromEager, err)
		}
		// Copies never share memory: growing one leaves the next intact.
		if l.RawMetadata != nil {
			_ = append(l.RawMetadata, 0xff)
		}
	}
	for i := range lazy.Messages {
		var m map[string]any
		if err := lazy.Messages[i].DecodeMetadata(&m); err != nil || !reflect.DeepEqual(m, eager.Messages[i].Metadata) {
			t.Fatalf("message %d after appends: %v", i, err)
		}
	}
	// Raw metadata goes back in as it is.
	back := lazy.Messages[1]
	back.ID, back.Time = lmstore.ID{}, back.Time.Add(1)
	r := must[lmstore.AppendResult](t)(db.AppendMessage(back))
	got := must[lmstore.Message](t)(db.GetMessage(r.ID))
	if !reflect.DeepEqual(got.Metadata, eager.Messages[1].Metadata) {
		t.Fatalf("re-appended raw metadata: %v", got.Metadata)
	}
	// A MessageDecoder can keep it raw too.
	raw := must[lmstore.RawPage](t)(db.RangeMessagesRaw("s", lmstore.RangeOptions{Limit: 1, Reverse: true}, nil))
	_ = raw
	dec := lmstore.MessageDecoder{RawMetadata: true}
	rec, err := eager.Messages[1].MarshalMsgpack()
	if err != nil {
		t.Fatal(err)
	}
	var m lmstore.Message
	if err := dec.Decode(rec, &m); err != nil || m.Metadata != nil || m.RawMetadata == nil {
		t.Fatalf("decoder: %v %v %x", err, m.Metadata, m.RawMetadata)
	}
}
