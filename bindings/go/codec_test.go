package lmstore

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"time"
)

func sampleMessage() Message {
	return Message{ID: NewID(), SessionID: "chat-1", Time: time.UnixMicro(1_700_000_000_000_001).UTC(),
		Role: "assistant", AgentID: "agent-7", Content: "Hello there, this is longer than thirty-two bytes.",
		InReplyTo: NewID(), CreatedAt: time.UnixMicro(5).UTC(), UpdatedAt: time.UnixMicro(6).UTC(),
		Metadata: map[string]any{"tokens": int64(300), "neg": int64(-40000), "big": uint64(1 << 63),
			"f": 1.5, "ok": true, "none": nil, "s": "short", "bin": []byte{1, 2},
			"list": []any{"a", int64(1), map[string]any{"deep": "x"}}}}
}

func sampleTemplate() Template {
	return Template{ID: "t", Version: "1.2.3", Text: "Hi {{ name }}", Description: "d",
		Inputs: map[string]Input{"name": {Type: InputString, Description: "who"},
			"n": {Type: InputNumber, Optional: true, Default: int64(3)}},
		Metadata: map[string]any{"owner": "me"}, CreatedAt: time.UnixMicro(9).UTC()}
}

func sessionRecord() []byte {
	w := &writer{}
	w.mapLen(9)
	w.str("session_id")
	w.str("chat-1")
	w.str("title")
	w.nil()
	w.str("metadata")
	w.mapLen(1)
	w.str("k")
	w.str("v")
	w.str("created_at")
	w.int(1)
	w.str("updated_at")
	w.b = append(w.b, 0xce, 0, 0, 0, 2) // uint32: any integer encoding is valid
	w.str("last_ts")
	w.b = append(w.b, 0xd1, 0x01, 0x00) // int16
	w.str("last_activity")
	w.int(4)
	w.str("message_count")
	w.b = append(w.b, 0xcc, 7) // uint8
	w.str("future_field")
	w.arrayLen(2)
	w.str("x")
	w.mapLen(0)
	return w.b
}

func encodedPage(t testing.TB, ms ...Message) []byte {
	w := &writer{}
	w.arrayLen(len(ms))
	for i := range ms {
		if err := ms[i].encode(w, true); err != nil {
			t.Fatal(err)
		}
	}
	return w.b
}

func TestDecodeRoundTrip(t *testing.T) {
	m := sampleMessage()
	rec, err := m.MarshalMsgpack()
	if err != nil {
		t.Fatal(err)
	}
	var got Message
	if err := got.UnmarshalMsgpack(rec); err != nil || !reflect.DeepEqual(got, m) {
		t.Fatalf("message: %v\n%#v\n%#v", err, got, m)
	}
	tpl := sampleTemplate()
	rec, err = tpl.MarshalMsgpack()
	if err != nil {
		t.Fatal(err)
	}
	var gotT Template
	if err := gotT.UnmarshalMsgpack(rec); err != nil || !reflect.DeepEqual(gotT, tpl) {
		t.Fatalf("template: %v\n%#v\n%#v", err, gotT, tpl)
	}
	var s Session
	if err := s.UnmarshalMsgpack(sessionRecord()); err != nil {
		t.Fatal(err)
	}
	want := Session{ID: "chat-1", Metadata: map[string]any{"k": "v"}, CreatedAt: fromMicros(1),
		UpdatedAt: fromMicros(2), LastTime: fromMicros(256), LastActivity: fromMicros(4), MessageCount: 7}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("session: %#v", s)
	}
}

// TestUnknownKeysAreSkipped: records from a newer store, with fields this package does not
// know (of every shape), still decode.
func TestUnknownKeysAreSkipped(t *testing.T) {
	m := sampleMessage()
	m.Metadata = nil
	rec, _ := m.MarshalMsgpack()
	extras := [][]byte{
		{0xc0}, {0xc3}, {0x05}, {0xe0}, {0xcc, 1}, {0xcd, 1, 2}, {0xd3, 1, 2, 3, 4, 5, 6, 7, 8},
		{0xcb, 0, 0, 0, 0, 0, 0, 0, 0}, {0xa1, 'x'}, {0xd9, 1, 'x'}, {0xda, 0, 1, 'x'},
		{0xc4, 2, 1, 2}, {0xd4, 1, 0}, {0xd8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		{0xc7, 1, 5, 0}, {0x92, 0x01, 0x81, 0xa1, 'k', 0x90}, {0xdc, 0, 1, 0xc0}, {0xde, 0, 1, 0xa0, 0xc0},
	}
	for _, extra := range extras {
		// Bump the map count and put the unknown field first and last.
		b := append([]byte{rec[0] + 2, 0xa3, 'n', 'e', 'w'}, extra...)
		b = append(b, rec[1:]...)
		b = append(append(b, 0xa4, 'n', 'e', 'w', '2'), extra...)
		var got Message
		if err := got.UnmarshalMsgpack(b); err != nil || !reflect.DeepEqual(got, m) {
			t.Fatalf("extra % x: %v", extra, err)
		}
	}
}

// TestTruncatedRecordsFail: every strict prefix of a valid record is an error, not a panic.
func TestTruncatedRecordsFail(t *testing.T) {
	m := sampleMessage()
	tpl := sampleTemplate()
	mrec, _ := m.MarshalMsgpack()
	trec, _ := tpl.MarshalMsgpack()
	srec := sessionRecord()
	page := encodedPage(t, m, m)
	for i := 0; i < len(mrec); i++ {
		if err := new(Message).UnmarshalMsgpack(mrec[:i]); err == nil {
			t.Fatalf("message prefix %d decoded", i)
		}
	}
	for i := 0; i < len(trec); i++ {
		if err := new(Template).UnmarshalMsgpack(trec[:i]); err == nil {
			t.Fatalf("template prefix %d decoded", i)
		}
	}
	for i := 0; i < len(srec); i++ {
		if err := new(Session).UnmarshalMsgpack(srec[:i]); err == nil {
			t.Fatalf("session prefix %d decoded", i)
		}
	}
	for i := 0; i < len(page); i++ {
		if _, err := DecodeMessagePage(page[:i]); err == nil {
			t.Fatalf("page prefix %d decoded", i)
		}
	}
}

func TestMalformedInputs(t *testing.T) {
	deep := bytes.Repeat([]byte{0x91}, 1<<20) // a million nested arrays in an unknown field
	cases := map[string][]byte{
		"huge map count":   {0xdf, 0xff, 0xff, 0xff, 0xff},
		"huge array page":  {0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0},
		"huge inputs":      append([]byte{0x81, 0xa6, 'i', 'n', 'p', 'u', 't', 's', 0xdf, 0x7f, 0xff, 0xff, 0xff}, make([]byte, 64)...),
		"deeply nested":    append([]byte{0x81, 0xa1, 'x'}, deep...),
		"deep metadata":    append([]byte{0x81, 0xa8, 'm', 'e', 't', 'a', 'd', 'a', 't', 'a'}, bytes.Repeat([]byte{0x81, 0xa1, 'k'}, 200)...),
		"id of 3 bytes":    {0x81, 0xa2, 'i', 'd', 0xc4, 3, 1, 2, 3},
		"string as int":    {0x81, 0xa2, 't', 's', 0xa1, 'x'},
		"bad code":         {0x81, 0xa1, 'x', 0xc1},
		"uint64 overflow":  {0x81, 0xa2, 't', 's', 0xcf, 0xff, 0, 0, 0, 0, 0, 0, 0},
		"key not a string": {0x81, 0x01, 0x02},
		"metadata a list":  {0x81, 0xa8, 'm', 'e', 't', 'a', 'd', 'a', 't', 'a', 0x91, 0x01},
	}
	for name, b := range cases {
		if err := new(Message).UnmarshalMsgpack(b); err == nil {
			t.Errorf("%s: message decoded", name)
		}
		if err := new(Template).UnmarshalMsgpack(b); err == nil && name != "id of 3 bytes" && name != "string as int" && name != "uint64 overflow" {
			t.Errorf("%s: template decoded", name)
		}
		if _, err := DecodeMessagePage(b); err == nil {
			t.Errorf("%s: page decoded", name)
		}
	}
}

// TestDecodedValuesDoNotAliasInput scribbles over the bytes a page was decoded from.
func TestDecodedValuesDoNotAliasInput(t *testing.T) {
	m := sampleMessage()
	page := encodedPage(t, m, m, m)
	got, err := DecodeMessagePage(page)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%#v", got)
	for i := range page {
		page[i] = 0xAA
	}
	if fmt.Sprintf("%#v", got) != want || !reflect.DeepEqual(got[2], m) {
		t.Fatal("decoded messages changed with their input buffer")
	}
	var dec MessageDecoder
	rec, _ := m.MarshalMsgpack()
	var one Message
	if err := dec.Decode(rec, &one); err != nil {
		t.Fatal(err)
	}
	for i := range rec {
		rec[i] = 0
	}
	if !reflect.DeepEqual(one, m) {
		t.Fatal("MessageDecoder result changed with its input")
	}
}

// FuzzDecode runs as a normal test over its seeds; `go test -fuzz FuzzDecode` explores more.
// Whatever the bytes, decoding returns a value or an error and never panics, and the page,
// one-record and MessageDecoder paths agree.
func FuzzDecode(f *testing.F) {
	m := sampleMessage()
	mrec, _ := m.MarshalMsgpack()
	trec, _ := sampleTemplate().MarshalMsgpack()
	f.Add(mrec)
	f.Add(trec)
	f.Add(sessionRecord())
	f.Add(encodedPage(f, m, m))
	f.Add([]byte{0x90})
	f.Add([]byte{0x80})
	f.Add([]byte{0xdf, 0xff, 0xff, 0xff, 0xff})
	f.Add(append([]byte{0x81, 0xa1, 'x'}, bytes.Repeat([]byte{0x91}, 5000)...))
	f.Add([]byte{0x81, 0xa8, 'm', 'e', 't', 'a', 'd', 'a', 't', 'a', 0x81, 0x01, 0xd4, 0x01, 0x00})
	f.Add([]byte{0x81, 0xa8, 'm', 'e', 't', 'a', 'd', 'a', 't', 'a', 0x81, 0xa1, 'k', 0xc7, 0x02, 0x05, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		var m1, m2 Message
		err1 := m1.UnmarshalMsgpack(b)
		var dec MessageDecoder
		err2 := dec.Decode(b, &m2)
		if (err1 == nil) != (err2 == nil) || (err1 == nil && fmt.Sprintf("%#v", m1) != fmt.Sprintf("%#v", m2)) {
			t.Fatalf("UnmarshalMsgpack and MessageDecoder disagree: %v / %v", err1, err2)
		}
		if err1 == nil {
			if _, err := m1.MarshalMsgpack(); err != nil {
				t.Logf("decoded message does not re-encode: %v", err)
			}
		}
		var tpl Template
		_ = tpl.UnmarshalMsgpack(b)
		var s Session
		_ = s.UnmarshalMsgpack(b)
		_, _ = DecodeMessagePage(b)
		r := reader{b: b}
		_, _ = r.value(0)
		r = reader{b: b}
		_ = r.skip()
	})
}
