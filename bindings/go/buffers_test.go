package lmstore_test

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	lmstore "github.com/lmstore/lmstore/bindings/go"
)

// The initial pooled read buffer is 64 KiB; these sizes are above it, and above the 1 MiB
// beyond which a grown buffer is not pooled again.
const (
	beyondScratch = 100 << 10
	beyondPool    = 3 << 19
)

func TestLargeTemplateRoundTrips(t *testing.T) {
	db := openTemp(t, nil)
	for _, size := range []int{10, beyondScratch, beyondPool} {
		tpl := greeting("1.0.0", "Hello {{ name }}! "+strings.Repeat("x", size))
		tpl.ID = fmt.Sprint("big-", size)
		tpl.Metadata = map[string]any{"blob": strings.Repeat("m", size/2), "n": int64(size)}
		must[lmstore.PutOutcome](t)(db.PutTemplate(tpl))
		got := must[lmstore.Template](t)(db.GetTemplate(tpl.ID))
		if got.Text != tpl.Text || !reflect.DeepEqual(got.Metadata, tpl.Metadata) {
			t.Fatalf("size %d: template did not round-trip", size)
		}
		// Raw: into a too-small buffer (grown), a nil one, and one large enough (reused).
		want, err := db.GetTemplateRaw(tpl.ID, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		small := make([]byte, 16)
		raw := must[[]byte](t)(db.GetTemplateRaw(tpl.ID, "1.0.0", small))
		if !bytes.Equal(raw, want) {
			t.Fatalf("size %d: raw record differs with a small buffer", size)
		}
		big := make([]byte, len(want)+100)
		raw = must[[]byte](t)(db.GetTemplateRaw(tpl.ID, "", big))
		if !bytes.Equal(raw, want) || &raw[0] != &big[0] {
			t.Fatalf("size %d: raw record not written into the caller's buffer", size)
		}
		var dec lmstore.Template
		if err := dec.UnmarshalMsgpack(raw); err != nil || dec.Text != tpl.Text {
			t.Fatalf("size %d: raw record does not decode: %v", size, err)
		}
	}
	_, err := db.GetTemplateRaw("missing", "", nil)
	wantErr(t, err, lmstore.ErrNotFound)
}

func TestLargePageRoundTrips(t *testing.T) {
	db := openTemp(t, nil)
	for _, total := range []int{beyondScratch, beyondPool} {
		session := fmt.Sprint("big-", total)
		const n = 20
		var msgs []lmstore.Message
		for i := 0; i < n; i++ {
			msgs = append(msgs, lmstore.Message{SessionID: session, Time: at(i + 1), Role: "user",
				Content: fmt.Sprint(i, strings.Repeat("c", total/n)), Metadata: map[string]any{"i": int64(i)}})
		}
		must[[]lmstore.AppendResult](t)(db.AppendMessages(msgs))
		page := must[lmstore.MessagePage](t)(db.RangeMessages(session, lmstore.RangeOptions{Limit: n}))
		if len(page.Messages) != n || page.Next != nil {
			t.Fatalf("%d bytes: got %d messages, next %v", total, len(page.Messages), page.Next)
		}
		for i, m := range page.Messages {
			if m.Content != msgs[i].Content || m.Metadata["i"] != int64(i) {
				t.Fatalf("%d bytes: message %d did not round-trip", total, i)
			}
		}
		// Paged in halves, so a cursor comes back from the _into call too.
		half := must[lmstore.MessagePage](t)(db.RangeMessages(session, lmstore.RangeOptions{Limit: n / 2}))
		rest := must[lmstore.MessagePage](t)(db.RangeMessages(session, lmstore.RangeOptions{Limit: n, Cursor: half.Next}))
		if half.Next == nil || len(rest.Messages) != n/2 || rest.Messages[0].Content != msgs[n/2].Content {
			t.Fatalf("%d bytes: paging with a cursor failed", total)
		}
		// Raw pages decode to the same messages, whatever buffer they are given.
		for _, buf := range [][]byte{nil, make([]byte, 8), make([]byte, 0, 2*total)} {
			raw := must[lmstore.RawPage](t)(db.RangeMessagesRaw(session, lmstore.RangeOptions{Limit: n}, buf))
			if raw.Count != n || raw.Next != nil {
				t.Fatalf("%d bytes: raw page count %d", total, raw.Count)
			}
			if cap(buf) >= len(raw.Data) && &raw.Data[0] != &buf[:1][0] {
				t.Fatalf("%d bytes: raw page not written into the caller's buffer", total)
			}
			decoded, err := lmstore.DecodeMessagePage(raw.Data)
			if err != nil || !reflect.DeepEqual(decoded, page.Messages) {
				t.Fatalf("%d bytes: raw page decodes differently: %v", total, err)
			}
		}
	}
}

// TestResultsNeverAliasBuffers reads results, then reads other data many times (which reuses
// the pooled buffers the first results were decoded from), and checks the first results are
// untouched.
func TestResultsNeverAliasBuffers(t *testing.T) {
	db := openTemp(t, nil)
	a := greeting("1.0.0", "Template A "+strings.Repeat("a", 500))
	a.ID = "a"
	a.Description = "first"
	a.Metadata = map[string]any{"k": "va", "list": []any{"x", int64(1)}, "bin": []byte("raw-a")}
	b := a
	b.ID, b.Text, b.Description = "b", "Template B "+strings.Repeat("b", 500), "second"
	b.Metadata = map[string]any{"k": "vb", "list": []any{"y", int64(2)}, "bin": []byte("raw-b")}
	must[lmstore.PutOutcome](t)(db.PutTemplate(a))
	must[lmstore.PutOutcome](t)(db.PutTemplate(b))
	fill(t, db, "s1", 30)
	fill(t, db, "s2", 30)
	gotA := must[lmstore.Template](t)(db.GetTemplate("a"))
	page1 := must[lmstore.MessagePage](t)(db.RangeMessages("s1", lmstore.RangeOptions{Limit: 10}))
	snapA := fmt.Sprintf("%#v", gotA)
	snap1 := fmt.Sprintf("%#v", page1)
	for i := 0; i < 50; i++ {
		must[lmstore.Template](t)(db.GetTemplate("b"))
		must[lmstore.MessagePage](t)(db.RangeMessages("s2", lmstore.RangeOptions{Limit: 30, Reverse: true}))
	}
	if fmt.Sprintf("%#v", gotA) != snapA {
		t.Fatal("a template changed after later reads: it aliases a reused buffer")
	}
	if fmt.Sprintf("%#v", page1) != snap1 {
		t.Fatal("a page changed after later reads: it aliases a reused buffer")
	}
	if gotA.Text != a.Text || gotA.Metadata["k"] != "va" || !bytes.Equal(gotA.Metadata["bin"].([]byte), []byte("raw-a")) {
		t.Fatalf("template a is wrong: %#v", gotA)
	}
}

func TestMessageDecoderMatchesPageDecoding(t *testing.T) {
	db := openTemp(t, nil)
	fill(t, db, "s", 20)
	raw := must[lmstore.RawPage](t)(db.RangeMessagesRaw("s", lmstore.RangeOptions{Limit: 20}, nil))
	page := must[lmstore.MessagePage](t)(db.RangeMessages("s", lmstore.RangeOptions{Limit: 20}))
	var dec lmstore.MessageDecoder
	for i, want := range page.Messages {
		rec, err := want.MarshalMsgpack()
		if err != nil {
			t.Fatal(err)
		}
		var got lmstore.Message
		if err := dec.Decode(rec, &got); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("message %d: %v\n%#v\n%#v", i, err, got, want)
		}
	}
	if raw.Count != 20 {
		t.Fatalf("raw count %d", raw.Count)
	}
}
