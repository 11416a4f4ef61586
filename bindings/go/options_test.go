package lmstore_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	lmstore "github.com/lmstore/lmstore/bindings/go"
)

func TestOpenCreateParents(t *testing.T) {
	deep := filepath.Join(t.TempDir(), "a", "b", "store")
	_, err := lmstore.Open(deep, nil)
	wantErr(t, err, lmstore.ErrNotFound)
	if _, statErr := os.Stat(filepath.Dir(deep)); !os.IsNotExist(statErr) {
		t.Fatalf("a refused open created %s", filepath.Dir(deep))
	}
	db, err := lmstore.Open(deep, &lmstore.Options{CreateParents: true})
	if err != nil {
		t.Fatalf("Open with CreateParents: %v", err)
	}
	defer db.Close()
	must[lmstore.PutOutcome](t)(db.PutTemplate(greeting("1.0.0", "Hello")))
}

// A leaf page of messages zeroed on disk: a plain open still succeeds (it checks the meta
// pages, the length and the roots), Verify refuses the file and names the table.
func TestOpenVerify(t *testing.T) {
	dir := t.TempDir()
	db, err := lmstore.Open(dir, &lmstore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 600; i++ {
		session := "chat-a"
		if i%2 == 0 {
			session = "chat-b"
		}
		msg := lmstore.Message{SessionID: session, Role: "user", Content: fmt.Sprintf("message number %d with some words", i)}
		if _, err := db.AppendMessage(msg); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Sync(); err != nil {
		t.Fatal(err)
	}
	db.Close()

	sound, err := lmstore.Open(dir, &lmstore.Options{Verify: true})
	if err != nil {
		t.Fatalf("Verify refused a sound store: %v", err)
	}
	sound.Close()

	file := filepath.Join(dir, "data.mdb")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	zeroed := 0
	for p := 2; (p+1)*page <= len(data); p++ {
		if bytes.Contains(data[p*page:(p+1)*page], []byte("message number 3 ")) {
			clear(data[p*page : (p+1)*page])
			zeroed++
		}
	}
	if zeroed == 0 {
		t.Fatal("no page holds message 3")
	}
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = lmstore.Open(dir, &lmstore.Options{Verify: true})
	wantErr(t, err, lmstore.ErrCorrupt)
	if !strings.Contains(err.Error(), "messages") {
		t.Fatalf("the error does not name the table: %v", err)
	}
}

func TestOpenOptionRanges(t *testing.T) {
	_, err := lmstore.Open(t.TempDir(), &lmstore.Options{ConnectTimeout: -time.Second})
	wantErr(t, err, lmstore.ErrInvalidArgument)
	// Options that only a postgres:// URL uses are accepted, and ignored, by an LMDB store.
	db := openTemp(t, &lmstore.Options{RenderCacheSize: 1, PoolSize: 2, ConnectTimeout: time.Second})
	must[lmstore.PutOutcome](t)(db.PutTemplate(greeting("1.0.0", "Hello {{ name }}")))
	must[lmstore.PutOutcome](t)(db.PutTemplate(lmstore.Template{ID: "other", Version: "1", Text: "Bye"}))
	// A cache of one still renders both, alternately.
	for i := 0; i < 3; i++ {
		if got := must[string](t)(db.Render("other", nil)); got != "Bye" {
			t.Fatalf("render other: %q", got)
		}
		if got := must[string](t)(db.Render("greeting", map[string]any{"name": "Ada"})); got != "Hello Ada" {
			t.Fatalf("render greeting: %q", got)
		}
	}
}

// PoolSize and ConnectTimeout reach a PostgreSQL store (tests/pg/run.sh sets the URL).
func TestOpenPostgresOptions(t *testing.T) {
	url := os.Getenv("LMSTORE_TEST_PG_URL")
	if url == "" {
		t.Skip("LMSTORE_TEST_PG_URL is not set: tests/pg/run.sh runs this against its server")
	}
	url += "&options=-csearch_path%3Dgo_options_" + fmt.Sprint(os.Getpid())
	db, err := lmstore.Open(url, &lmstore.Options{PoolSize: 2, ConnectTimeout: 3 * time.Second})
	if err != nil {
		t.Fatalf("Open %s: %v", url, err)
	}
	defer db.Close()
	must[lmstore.PutOutcome](t)(db.PutTemplate(greeting("1.0.0", "Hello")))
	if got := must[lmstore.Template](t)(db.GetTemplate("greeting")); got.Text != "Hello" {
		t.Fatalf("got %q", got.Text)
	}
	// Nothing listens on this socket: the open fails within the timeout, as ErrIO.
	start := time.Now()
	_, err = lmstore.Open("postgres:///x?host=/nonexistent-lmstore&port=1&user=none", &lmstore.Options{ConnectTimeout: 500 * time.Millisecond})
	wantErr(t, err, lmstore.ErrIO)
	if time.Since(start) > 10*time.Second {
		t.Fatalf("a refused connection took %v", time.Since(start))
	}
}
