package lmstore_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	lmstore "github.com/lmstore/lmstore/bindings/go"
)

func openTemp(t testing.TB, opts *lmstore.Options) *lmstore.DB {
	t.Helper()
	db, err := lmstore.Open(t.TempDir(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func wantErr(t testing.TB, err, sentinel error) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("got error %v, want %v", err, sentinel)
	}
	var e *lmstore.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *lmstore.Error", err)
	}
	if e.Op == "" || e.Msg == "" {
		t.Fatalf("error %#v lacks Op or Msg", e)
	}
}

func greeting(version, text string) lmstore.Template {
	return lmstore.Template{
		ID:          "greeting",
		Version:     version,
		Text:        text,
		Description: "says hello",
		Inputs: map[string]lmstore.Input{
			"name":  {Type: lmstore.InputString, Description: "who to greet"},
			"times": {Type: lmstore.InputNumber, Optional: true, Default: int64(1)},
			"tags":  {Type: lmstore.InputStringArray, Optional: true, Default: []any{"a", "b"}},
		},
		Metadata: map[string]any{"owner": "team-a", "score": 0.5, "n": int64(3), "nested": map[string]any{"k": true}},
	}
}

func TestTemplates(t *testing.T) {
	db := openTemp(t, nil)
	put := must[lmstore.PutOutcome](t)

	if got := put(db.PutTemplate(greeting("1.0.0", "Hello {{ name }}"))); got != lmstore.Created {
		t.Fatalf("first put: %v", got)
	}
	if got := put(db.PutTemplate(greeting("1.0.0", "Hello {{ name }}"))); got != lmstore.Unchanged {
		t.Fatalf("identical re-put: %v", got)
	}
	_, err := db.PutTemplate(greeting("1.0.0", "Hi {{ name }}"))
	wantErr(t, err, lmstore.ErrConflict)
	if got := put(db.ReplaceTemplate(greeting("1.0.0", "Hi {{ name }}"))); got != lmstore.Replaced {
		t.Fatalf("replace: %v", got)
	}
	put(db.PutTemplate(greeting("1.1.0", "Hello {{ name }}!")))

	latest := must[lmstore.Template](t)(db.GetTemplate("greeting"))
	if latest.Version != "1.1.0" || latest.Text != "Hello {{ name }}!" {
		t.Fatalf("latest: %+v", latest)
	}
	want := greeting("1.1.0", "Hello {{ name }}!")
	want.CreatedAt = latest.CreatedAt
	if want.Inputs["name"] = (lmstore.Input{Type: lmstore.InputString, Description: "who to greet"}); !reflect.DeepEqual(latest, want) {
		t.Fatalf("round trip:\n got %#v\nwant %#v", latest, want)
	}
	if latest.CreatedAt.IsZero() || time.Since(latest.CreatedAt) > time.Hour {
		t.Fatalf("created_at %v", latest.CreatedAt)
	}

	v1 := must[lmstore.Template](t)(db.GetTemplateVersion("greeting", "1.0.0"))
	if v1.Text != "Hi {{ name }}" {
		t.Fatalf("1.0.0 after replace: %q", v1.Text)
	}
	_, err = db.GetTemplateVersion("greeting", "9.9.9")
	wantErr(t, err, lmstore.ErrNotFound)
	_, err = db.GetTemplate("nope")
	wantErr(t, err, lmstore.ErrNotFound)
	_, err = db.GetTemplateVersion("greeting", "")
	wantErr(t, err, lmstore.ErrInvalidArgument)

	// Default version.
	put(db.PutTemplate(lmstore.Template{ID: "plain", Text: "x"}))
	if v := must[lmstore.Template](t)(db.GetTemplate("plain")).Version; v != "0.1.0" {
		t.Fatalf("default version %q", v)
	}

	// Aliases.
	if err := db.SetTemplateAlias("greeting", "production", "1.0.0"); err != nil {
		t.Fatal(err)
	}
	if v := must[lmstore.Template](t)(db.GetTemplateByAlias("greeting", "production")).Version; v != "1.0.0" {
		t.Fatalf("alias resolves to %q", v)
	}
	wantErr(t, db.SetTemplateAlias("greeting", "canary", "7.0.0"), lmstore.ErrNotFound)
	if err := db.SetTemplateAlias("greeting", "canary", "1.1.0"); err != nil {
		t.Fatal(err)
	}
	aliases := must[map[string]string](t)(db.TemplateAliases("greeting"))
	if !reflect.DeepEqual(aliases, map[string]string{"production": "1.0.0", "canary": "1.1.0"}) {
		t.Fatalf("aliases %v", aliases)
	}
	if err := db.DeleteTemplateAlias("greeting", "canary"); err != nil {
		t.Fatal(err)
	}
	_, err = db.GetTemplateByAlias("greeting", "canary")
	wantErr(t, err, lmstore.ErrNotFound)
	wantErr(t, db.DeleteTemplateAlias("greeting", "canary"), lmstore.ErrNotFound)

	// Versions, in put order.
	versions := must[[]lmstore.TemplateVersion](t)(db.TemplateVersions("greeting"))
	if len(versions) != 2 || versions[0].Version != "1.0.0" || versions[1].Version != "1.1.0" || versions[0].CreatedAt.IsZero() {
		t.Fatalf("versions %+v", versions)
	}
	_, err = db.TemplateVersions("nope")
	wantErr(t, err, lmstore.ErrNotFound)

	counts := must[lmstore.TemplateCounts](t)(db.TemplateCounts())
	if counts.IDs != 2 || counts.Versions != 3 || counts.ModifiedAt.IsZero() {
		t.Fatalf("counts %+v", counts)
	}

	// Deleting the latest makes the previous one latest, and takes its aliases along.
	if err := db.DeleteTemplateVersion("greeting", "1.1.0"); err != nil {
		t.Fatal(err)
	}
	if v := must[lmstore.Template](t)(db.GetTemplate("greeting")).Version; v != "1.0.0" {
		t.Fatalf("latest after delete %q", v)
	}
	wantErr(t, db.DeleteTemplateVersion("greeting", "1.1.0"), lmstore.ErrNotFound)
	wantErr(t, db.DeleteTemplateVersion("greeting", ""), lmstore.ErrInvalidArgument)
	if err := db.DeleteTemplate("greeting"); err != nil {
		t.Fatal(err)
	}
	_, err = db.GetTemplate("greeting")
	wantErr(t, err, lmstore.ErrNotFound)
	wantErr(t, db.DeleteTemplate("greeting"), lmstore.ErrNotFound)
	counts = must[lmstore.TemplateCounts](t)(db.TemplateCounts())
	if counts.IDs != 1 || counts.Versions != 1 {
		t.Fatalf("counts after delete %+v", counts)
	}
}

func TestTemplateMetadataOrderDoesNotConflict(t *testing.T) {
	db := openTemp(t, nil)
	// Go map order is random; many keys make a different order on each encode likely.
	md := map[string]any{}
	for _, k := range strings.Split("a b c d e f g h i j k l m n o p", " ") {
		md[k] = k
	}
	for i := 0; i < 20; i++ {
		if _, err := db.PutTemplate(lmstore.Template{ID: "t", Version: "1", Text: "x", Metadata: md}); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
}

func TestListTemplates(t *testing.T) {
	db := openTemp(t, nil)
	var all []string
	for _, id := range []string{"chat/a", "chat/b", "chat/c", "code/a", "code/b", "z"} {
		all = append(all, id)
		must[lmstore.PutOutcome](t)(db.PutTemplate(lmstore.Template{ID: id, Text: id}))
	}
	page := must[[]string](t)(db.ListTemplates("", "", 4))
	if !reflect.DeepEqual(page, all[:4]) {
		t.Fatalf("page 1 %v", page)
	}
	page = must[[]string](t)(db.ListTemplates("", page[3], 4))
	if !reflect.DeepEqual(page, all[4:]) {
		t.Fatalf("page 2 %v", page)
	}
	page = must[[]string](t)(db.ListTemplates("chat/", "", 100))
	if !reflect.DeepEqual(page, all[:3]) {
		t.Fatalf("prefix %v", page)
	}
	var got []string
	for id, err := range db.TemplateIDs("co") {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, id)
	}
	if !reflect.DeepEqual(got, []string{"code/a", "code/b"}) {
		t.Fatalf("iterator %v", got)
	}
	_, err := db.ListTemplates("", "", 0)
	wantErr(t, err, lmstore.ErrInvalidArgument)
}

func TestTemplateIDsPagesUnderneath(t *testing.T) {
	db := openTemp(t, &lmstore.Options{NoSync: true})
	const n = 1234
	for i := 0; i < n; i++ {
		must[lmstore.PutOutcome](t)(db.PutTemplate(lmstore.Template{ID: fmt.Sprintf("t%05d", i), Text: "x"}))
	}
	count := 0
	for _, err := range db.TemplateIDs("") {
		if err != nil {
			t.Fatal(err)
		}
		count++
	}
	if count != n {
		t.Fatalf("iterated %d ids, want %d", count, n)
	}
}

func TestTemplateErrors(t *testing.T) {
	db := openTemp(t, nil)
	_, err := db.PutTemplate(lmstore.Template{ID: strings.Repeat("x", 600), Text: "x"})
	wantErr(t, err, lmstore.ErrKeyTooLong)
	_, err = db.GetTemplate(strings.Repeat("x", 600))
	wantErr(t, err, lmstore.ErrKeyTooLong)
	_, err = db.PutTemplate(lmstore.Template{ID: "bad\xff", Text: "x"})
	wantErr(t, err, lmstore.ErrInvalidUTF8)
	_, err = db.PutTemplate(lmstore.Template{ID: "", Text: "x"})
	wantErr(t, err, lmstore.ErrInvalidArgument)
	_, err = db.PutTemplate(lmstore.Template{ID: "t", Text: "x", Inputs: map[string]lmstore.Input{"n": {Type: "complex"}}})
	wantErr(t, err, lmstore.ErrInvalidArgument)
	_, err = db.PutTemplate(lmstore.Template{ID: "t", Text: "x", Inputs: map[string]lmstore.Input{"n": {Type: lmstore.InputNumber, Default: "one"}}})
	wantErr(t, err, lmstore.ErrInvalidArgument)
	_, err = db.PutTemplate(lmstore.Template{ID: "t", Text: "x", Metadata: map[string]any{"f": func() {}}})
	wantErr(t, err, lmstore.ErrInvalidArgument)
}

func TestMarshalRoundTrip(t *testing.T) {
	tpl := greeting("2.0.0", "x")
	tpl.CreatedAt = time.UnixMicro(1_700_000_000_000_001).UTC()
	b := must[[]byte](t)(tpl.MarshalMsgpack())
	var back lmstore.Template
	if err := back.UnmarshalMsgpack(b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, tpl) {
		t.Fatalf("template:\n got %#v\nwant %#v", back, tpl)
	}
	m := lmstore.Message{
		ID: lmstore.NewID(), SessionID: "s", Time: time.UnixMicro(5).UTC(), Role: "user", AgentID: "a",
		Content: "hi", InReplyTo: lmstore.NewID(), Metadata: map[string]any{"x": []any{int64(1), "y"}},
		CreatedAt: time.UnixMicro(6).UTC(), UpdatedAt: time.UnixMicro(7).UTC(),
	}
	b = must[[]byte](t)(m.MarshalMsgpack())
	var mb lmstore.Message
	if err := mb.UnmarshalMsgpack(b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(mb, m) {
		t.Fatalf("message:\n got %#v\nwant %#v", mb, m)
	}
	if err := mb.UnmarshalMsgpack(b[:len(b)-3]); err == nil {
		t.Fatal("truncated record decoded")
	}
}

func TestStatsSyncBackup(t *testing.T) {
	dir := t.TempDir()
	db, err := lmstore.Open(dir, &lmstore.Options{NoSync: true, MapSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Path() != dir {
		t.Fatalf("path %q", db.Path())
	}
	must[lmstore.PutOutcome](t)(db.PutTemplate(lmstore.Template{ID: "a", Text: "x"}))
	must[[]lmstore.AppendResult](t)(db.AppendMessages([]lmstore.Message{{SessionID: "s", Role: "user", Content: "1"}, {SessionID: "s", Role: "user", Content: "2"}}))
	if err := db.Sync(); err != nil {
		t.Fatal(err)
	}
	st := must[lmstore.Stats](t)(db.Stats())
	if st.TemplateIDs != 1 || st.TemplateVersions != 1 || st.Sessions != 1 || st.Messages != 2 ||
		st.MapSize < 1<<20 || st.MapUsed == 0 || st.MaxReaders == 0 || st.SchemaVersion == 0 || st.LMDBVersion == 0 {
		t.Fatalf("stats %+v", st)
	}
	info, err := os.Stat(filepath.Join(dir, "data.mdb"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Fatalf("data.mdb mode %o, want 600", perm)
	}

	for _, compact := range []bool{false, true} {
		bdir := filepath.Join(t.TempDir(), "backup")
		if err := db.Backup(bdir, compact); err != nil {
			t.Fatalf("backup (compact %v): %v", compact, err)
		}
		b, err := lmstore.Open(bdir, &lmstore.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if got := must[[]lmstore.Message](t)(b.LatestMessages("s", 10)); len(got) != 2 {
			t.Fatalf("backup holds %d messages", len(got))
		}
		b.Close()
	}
	// A backup into a directory that is not empty fails.
	wantErr(t, db.Backup(dir, false), lmstore.ErrIO)
}

func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	_, err := lmstore.Open(filepath.Join(dir, "missing"), &lmstore.Options{ReadOnly: true})
	wantErr(t, err, lmstore.ErrNotFound)

	db, err := lmstore.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	must[lmstore.PutOutcome](t)(db.PutTemplate(lmstore.Template{ID: "a", Text: "x"}))
	db.Close()

	ro, err := lmstore.Open(dir, &lmstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.GetTemplate("a"); err != nil {
		t.Fatal(err)
	}
	_, err = ro.PutTemplate(lmstore.Template{ID: "b", Text: "x"})
	wantErr(t, err, lmstore.ErrReadOnly)
	_, err = ro.AppendMessage(lmstore.Message{SessionID: "s", Role: "user"})
	wantErr(t, err, lmstore.ErrReadOnly)
	wantErr(t, ro.CreateSession("s", "", nil), lmstore.ErrReadOnly)
}

func TestOpenErrors(t *testing.T) {
	_, err := lmstore.Open("", nil)
	wantErr(t, err, lmstore.ErrInvalidArgument)

	dir := t.TempDir()
	junk := make([]byte, 64<<10)
	for i := range junk {
		junk[i] = byte(i*7 + 3)
	}
	if err := os.WriteFile(filepath.Join(dir, "data.mdb"), junk, 0o600); err != nil {
		t.Fatal(err)
	}
	// Not an LMDB file at all: another program's file, refused untouched.
	_, err = lmstore.Open(dir, nil)
	wantErr(t, err, lmstore.ErrNotAStore)
}

// noise is printable text that zstd cannot shrink much: the store compresses large bodies, so
// a run of one letter would never fill a map.
func noise(n int) string {
	b := make([]byte, n)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(' ' + x%95)
	}
	return string(b)
}

func TestMapFullAndTooLarge(t *testing.T) {
	db := openTemp(t, &lmstore.Options{MapSize: 256 << 10, MaxMapSize: 1 << 20, NoSync: true})
	_, err := db.AppendMessage(lmstore.Message{SessionID: "big", Role: "user", Content: noise(4 << 20)})
	wantErr(t, err, lmstore.ErrTooLarge)
	content := noise(32 << 10)
	for i := 0; ; i++ {
		_, err := db.AppendMessage(lmstore.Message{SessionID: "s", Role: "user", Content: content})
		if err != nil {
			wantErr(t, err, lmstore.ErrMapFull)
			break
		}
		if i > 100 {
			t.Fatal("a 1 MiB map took 3 MiB of messages")
		}
	}
	// The store still reads after a failed write.
	if _, err := db.LatestMessages("s", 5); err != nil {
		t.Fatal(err)
	}
}

func TestErrorType(t *testing.T) {
	db := openTemp(t, nil)
	_, err := db.GetTemplate("missing")
	var e *lmstore.Error
	if !errors.As(err, &e) || e.Code != lmstore.CodeNotFound || e.Op != "GetTemplate" || !strings.Contains(e.Msg, "missing") {
		t.Fatalf("%#v", err)
	}
	if !strings.HasPrefix(err.Error(), "lmstore: GetTemplate: ") {
		t.Fatalf("message %q", err.Error())
	}
	if lmstore.CodeNotFound.String() != "not found" {
		t.Fatalf("code string %q", lmstore.CodeNotFound.String())
	}
	if errors.Is(err, lmstore.ErrConflict) {
		t.Fatal("not found is a conflict")
	}
	unknown := &lmstore.Error{Op: "x", Code: 999}
	if !errors.Is(unknown, lmstore.ErrInternal) {
		t.Fatal("unknown codes should unwrap to ErrInternal")
	}
}

func TestID(t *testing.T) {
	const s = "0192f0c1-7b4e-7a3c-9d2e-5f1a2b3c4d5e"
	id := lmstore.MustParseID(s)
	if id.String() != s {
		t.Fatalf("%s", id)
	}
	if id2, err := lmstore.ParseID(strings.ToUpper(strings.ReplaceAll(s, "-", ""))); err != nil || id2 != id {
		t.Fatalf("undashed: %v %v", id2, err)
	}
	for _, bad := range []string{"", "xyz", s[:35], strings.Replace(s, "-", "+", 1), strings.Replace(s, "7", "g", 1)} {
		if _, err := lmstore.ParseID(bad); err == nil {
			t.Fatalf("ParseID(%q) succeeded", bad)
		}
	}
	var zero lmstore.ID
	if !zero.IsZero() || id.IsZero() {
		t.Fatal("IsZero")
	}
	text, _ := id.MarshalText()
	var back lmstore.ID
	if err := back.UnmarshalText(text); err != nil || back != id {
		t.Fatal("text round trip")
	}
	prev := lmstore.NewID()
	for i := 0; i < 10000; i++ {
		next := lmstore.NewID()
		if next.String() <= prev.String() {
			t.Fatalf("NewID not increasing: %s then %s", prev, next)
		}
		if next[6]>>4 != 7 || next[8]>>6 != 2 {
			t.Fatalf("not a UUIDv7: %s", next)
		}
		prev = next
	}
}
