package lmstore

// Records written by the core, read through this package's hand-written decoder, compared field
// by field with the same bytes decoded by a generic MessagePack decoder (vmihailenco/msgpack
// into map[string]any) and with the field lists of docs/format.md, the one description of the
// records. Every field; optional ones absent and present.

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/vmihailenco/msgpack/v5"
)

// documented returns the fields of the docs/format.md paragraph after title: every `name`
// outside parentheses, optional when "(omitted when absent)" follows it before the next one.
func documented(t *testing.T, title string) (required, optional []string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "format.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, title)
	if start < 0 {
		t.Fatalf("docs/format.md does not describe %q", title)
	}
	para := doc[start+len(title):]
	para = para[:strings.Index(para, ".\n")]
	type name struct {
		word string
		at   int
	}
	var names []name
	depth := 0
	for i := 0; i < len(para); i++ {
		switch para[i] {
		case '(':
			depth++
		case ')':
			depth--
		case '`':
			end := i + 1 + strings.IndexByte(para[i+1:], '`')
			word := para[i+1 : end]
			if depth == 0 && strings.Trim(word, "abcdefghijklmnopqrstuvwxyz_") == "" {
				names = append(names, name{word, end})
			}
			i = end
		}
	}
	for k, n := range names {
		upto := len(para)
		if k+1 < len(names) {
			upto = names[k+1].at
		}
		if strings.Contains(para[n.at:upto], "omitted when absent") {
			optional = append(optional, n.word)
		} else {
			required = append(required, n.word)
		}
	}
	return required, optional
}

func keysOf(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func checkKeys(t *testing.T, what string, rec map[string]any, required, optional []string, present bool) {
	t.Helper()
	want := append([]string{}, required...)
	if present {
		want = append(want, optional...)
	}
	sort.Strings(want)
	if got := keysOf(rec); !reflect.DeepEqual(got, want) {
		t.Errorf("%s: fields %v, docs/format.md lists %v", what, got, want)
	}
}

// norm makes a generically decoded value comparable with the package's (int64, float64,
// []any, map[string]any, nil for an empty map).
func norm(v any) any {
	switch x := v.(type) {
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int64:
		return x
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		if x <= 1<<63-1 {
			return int64(x)
		}
		return x
	case float32:
		return float64(x)
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = norm(x[i])
		}
		return out
	case map[string]any:
		if len(x) == 0 {
			return map[string]any(nil)
		}
		out := map[string]any{}
		for k, e := range x {
			out[k] = norm(e)
		}
		return out
	}
	return v
}

func micros(v any) time.Time {
	us := norm(v).(int64)
	return fromMicros(us)
}

func idOf(v any) ID {
	var id ID
	if b, ok := v.([]byte); ok {
		copy(id[:], b)
	}
	return id
}

func gstr(v any) string {
	s, _ := v.(string)
	return s
}

func generic(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := msgpack.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCrossCheckMessages(t *testing.T) {
	required, optional := documented(t, "Message record (as returned; stored compact, below):")
	if fmt.Sprint(optional) != "[agent_id in_reply_to]" {
		t.Fatalf("optional message fields %v", optional)
	}
	db, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	bare, err := db.AppendMessage(Message{SessionID: "x", Role: "user"})
	if err != nil {
		t.Fatal(err)
	}
	full, err := db.AppendMessage(Message{SessionID: "x", Role: "assistant", AgentID: "bot", Content: "héllo 👋",
		InReplyTo: bare.ID, Metadata: map[string]any{"n": 1, "big": int64(1) << 40, "neg": -3, "f": 1.5, "s": "x",
			"b": true, "nil": nil, "arr": []any{1, "a"}, "deep": map[string]any{"a": map[string]any{"b": []any{}}}}})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := db.RangeMessagesRaw("x", RangeOptions{Limit: 10}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var recs []map[string]any
	if err := msgpack.Unmarshal(raw.Data, &recs); err != nil {
		t.Fatal(err)
	}
	page, err := db.RangeMessages("x", RangeOptions{Limit: 10})
	if err != nil || len(recs) != 2 || len(page.Messages) != 2 {
		t.Fatalf("%v %d %d", err, len(recs), len(page.Messages))
	}
	for i, present := range []bool{false, true} {
		g := recs[i]
		checkKeys(t, "message", g, required, optional, present)
		want := Message{
			ID: idOf(g["id"]), SessionID: gstr(g["session_id"]), Time: micros(g["ts"]), Role: gstr(g["role"]),
			AgentID: gstr(g["agent_id"]), Content: gstr(g["content"]), InReplyTo: idOf(g["in_reply_to"]),
			Metadata: norm(g["metadata"]).(map[string]any), CreatedAt: micros(g["created_at"]), UpdatedAt: micros(g["updated_at"]),
		}
		got := page.Messages[i]
		got.Metadata = norm(got.Metadata).(map[string]any)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("message %d:\n got %+v\nwant %+v", i, got, want)
		}
		one, err := db.GetMessage(want.ID)
		one.Metadata = norm(one.Metadata).(map[string]any)
		if err != nil || !reflect.DeepEqual(one, want) {
			t.Errorf("GetMessage %d: %v\n got %+v\nwant %+v", i, err, one, want)
		}
	}
	_ = full
}

func TestCrossCheckTemplates(t *testing.T) {
	required, optional := documented(t, "Template record (stored as returned), keys in this order:")
	if fmt.Sprint(optional) != "[description]" {
		t.Fatalf("optional template fields %v", optional)
	}
	db, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.PutTemplate(Template{ID: "bare", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PutTemplate(Template{ID: "full", Version: "2.0.0", Text: "Hi {{ n }}", Description: "d",
		Inputs:   map[string]Input{"n": {Type: InputString, Description: "name", Default: "you"}, "k": {Type: InputNumber, Optional: true}},
		Metadata: map[string]any{"team": "a", "tags": []any{"x", "y"}, "n": 3}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id      string
		present bool
	}{{"bare", false}, {"full", true}} {
		b, err := db.GetTemplateRaw(c.id, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		g := generic(t, b)
		checkKeys(t, "template", g, required, optional, c.present)
		inputs := map[string]Input{}
		for name, v := range g["inputs"].(map[string]any) {
			in := v.(map[string]any)
			inputs[name] = Input{Type: InputType(gstr(in["type"])), Optional: !in["required"].(bool), Default: norm(in["default"]), Description: gstr(in["description"])}
		}
		if len(inputs) == 0 {
			inputs = nil
		}
		want := Template{ID: gstr(g["id"]), Version: gstr(g["version"]), Text: gstr(g["template"]), Description: gstr(g["description"]),
			Inputs: inputs, Metadata: norm(g["metadata"]).(map[string]any), CreatedAt: micros(g["created_at"])}
		got, err := db.GetTemplate(c.id)
		if err != nil {
			t.Fatal(err)
		}
		got.Metadata = norm(got.Metadata).(map[string]any)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("template %s:\n got %+v\nwant %+v", c.id, got, want)
		}
	}
}

func TestCrossCheckSessions(t *testing.T) {
	required, _ := documented(t, "Session (as returned; stored as above):")
	db, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateSession("bare", "", nil); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSession("full", "t", map[string]any{"a": 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AppendMessage(Message{SessionID: "full", Role: "user"}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"bare", "full"} {
		var g map[string]any
		err := db.readInto("test", func(h unsafe.Pointer, buf []byte) callResult { return cGetSession(h, id, buf) },
			func(r callResult) error { return msgpack.Unmarshal(r.data, &g) })
		if err != nil {
			t.Fatal(err)
		}
		checkKeys(t, "session", g, required, nil, true)
		want := Session{ID: gstr(g["session_id"]), Title: gstr(g["title"]), Metadata: norm(g["metadata"]).(map[string]any),
			CreatedAt: micros(g["created_at"]), UpdatedAt: micros(g["updated_at"]), LastTime: micros(g["last_ts"]),
			LastActivity: micros(g["last_activity"]), MessageCount: uint64(norm(g["message_count"]).(int64))}
		got, err := db.GetSession(id)
		if err != nil {
			t.Fatal(err)
		}
		got.Metadata = norm(got.Metadata).(map[string]any)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("session %s:\n got %+v\nwant %+v", id, got, want)
		}
	}
}
