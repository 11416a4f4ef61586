package lmstore_test

import (
	"errors"
	"fmt"
	"log"
	"os"

	lmstore "github.com/lmstore/lmstore/bindings/go"
)

// exampleDir stands in for a real data directory so the examples run as tests.
func exampleDir() (string, func()) {
	dir, err := os.MkdirTemp("", "lmstore-example-")
	if err != nil {
		log.Fatal(err)
	}
	return dir, func() { os.RemoveAll(dir) }
}

func ExampleOpen() {
	dir, cleanup := exampleDir()
	defer cleanup()

	db, err := lmstore.Open(dir, nil) // nil: defaults (durable, growing map)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	st, err := db.Stats()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("templates:", st.TemplateIDs, "messages:", st.Messages)
	// Output: templates: 0 messages: 0
}

func ExampleDB_PutTemplate() {
	dir, cleanup := exampleDir()
	defer cleanup()
	db, err := lmstore.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	tpl := lmstore.Template{
		ID:      "greeting",
		Version: "1.0.0",
		Text:    "Hello {{ name }}!",
		Inputs:  map[string]lmstore.Input{"name": {Type: lmstore.InputString}},
	}
	outcome, err := db.PutTemplate(tpl)
	fmt.Println(outcome, err)

	// Versions are immutable: the same content again is a no-op...
	outcome, err = db.PutTemplate(tpl)
	fmt.Println(outcome, err)

	// ...and different content under the same version is a conflict.
	tpl.Text = "Hi {{ name }}!"
	_, err = db.PutTemplate(tpl)
	fmt.Println(errors.Is(err, lmstore.ErrConflict))

	tpl.Version = "1.1.0"
	if _, err := db.PutTemplate(tpl); err != nil {
		log.Fatal(err)
	}
	if err := db.SetTemplateAlias("greeting", "production", "1.0.0"); err != nil {
		log.Fatal(err)
	}
	latest, _ := db.GetTemplate("greeting")
	prod, _ := db.GetTemplateByAlias("greeting", "production")
	fmt.Println("latest:", latest.Version, latest.Text)
	fmt.Println("production:", prod.Version, prod.Text)
	// Output:
	// created <nil>
	// unchanged <nil>
	// true
	// latest: 1.1.0 Hi {{ name }}!
	// production: 1.0.0 Hello {{ name }}!
}

func ExampleDB_GetTemplate_notFound() {
	dir, cleanup := exampleDir()
	defer cleanup()
	db, err := lmstore.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	_, err = db.GetTemplate("missing")
	if errors.Is(err, lmstore.ErrNotFound) {
		fmt.Println("no such template")
	}
	var e *lmstore.Error
	if errors.As(err, &e) {
		fmt.Println(e.Op, e.Code)
	}
	// Output:
	// no such template
	// GetTemplate not found
}

func ExampleDB_AppendMessages() {
	dir, cleanup := exampleDir()
	defer cleanup()
	db, err := lmstore.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	question := lmstore.NewID() // known before appending, so the answer can refer to it
	results, err := db.AppendMessages([]lmstore.Message{
		{ID: question, SessionID: "chat-1", Role: "user", Content: "What is LMDB?"},
		{SessionID: "chat-1", Role: "assistant", Content: "A memory-mapped B+tree.", InReplyTo: question,
			Metadata: map[string]any{"tokens": 7}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(results), results[0].ID == question, results[1].Duplicate)

	// Appending the same id again stores nothing; the result says so.
	again, _ := db.AppendMessage(lmstore.Message{ID: question, SessionID: "chat-1", Role: "user", Content: "What is LMDB?"})
	fmt.Println("duplicate:", again.Duplicate)

	s, _ := db.GetSession("chat-1")
	fmt.Println(s.ID, s.MessageCount)
	// Output:
	// 2 true false
	// duplicate: true
	// chat-1 2
}

func ExampleDB_RangeMessages() {
	dir, cleanup := exampleDir()
	defer cleanup()
	db, err := lmstore.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	var batch []lmstore.Message
	for i := 1; i <= 5; i++ {
		batch = append(batch, lmstore.Message{SessionID: "chat-1", Role: "user", Content: fmt.Sprint("message ", i)})
	}
	if _, err := db.AppendMessages(batch); err != nil {
		log.Fatal(err)
	}

	// The latest two, newest first, then the page after them via the cursor.
	page, err := db.RangeMessages("chat-1", lmstore.RangeOptions{Limit: 2, Reverse: true})
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range page.Messages {
		fmt.Println(m.Content)
	}
	page, _ = db.RangeMessages("chat-1", lmstore.RangeOptions{Limit: 2, Reverse: true, Cursor: page.Next})
	for _, m := range page.Messages {
		fmt.Println(m.Content)
	}
	// Output:
	// message 5
	// message 4
	// message 3
	// message 2
}

func ExampleDB_Messages() {
	dir, cleanup := exampleDir()
	defer cleanup()
	db, err := lmstore.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	for _, role := range []string{"system", "user", "assistant"} {
		if _, err := db.AppendMessage(lmstore.Message{SessionID: "chat-1", Role: role, Content: "as " + role}); err != nil {
			log.Fatal(err)
		}
	}
	// The iterator fetches PageSize messages per call underneath; Limit would cap how many it yields.
	for m, err := range db.Messages("chat-1", lmstore.RangeOptions{PageSize: 2}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %s\n", m.Role, m.Content)
	}
	// Output:
	// system: as system
	// user: as user
	// assistant: as assistant
}

func ExampleDB_LatestMessages() {
	dir, cleanup := exampleDir()
	defer cleanup()
	db, err := lmstore.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	for i := 1; i <= 4; i++ {
		if _, err := db.AppendMessage(lmstore.Message{SessionID: "chat-1", Role: "user", Content: fmt.Sprint(i)}); err != nil {
			log.Fatal(err)
		}
	}
	latest, _ := db.LatestMessages("chat-1", 3) // oldest first, ready for a model's context
	for _, m := range latest {
		fmt.Print(m.Content, " ")
	}
	fmt.Println()
	// Output: 2 3 4
}

func ExampleDB_ListSessions() {
	dir, cleanup := exampleDir()
	defer cleanup()
	db, err := lmstore.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	if err := db.CreateSession("support-42", "Refund request", map[string]any{"customer": "c-9"}); err != nil {
		log.Fatal(err)
	}
	for s, err := range db.Sessions() {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(s.ID, s.Title, s.Metadata["customer"], s.MessageCount)
	}
	// Output: support-42 Refund request c-9 0
}

func ExampleParseID() {
	id, err := lmstore.ParseID("0192f0c1-7b4e-7a3c-9d2e-5f1a2b3c4d5e")
	fmt.Println(id, err)
	// Output: 0192f0c1-7b4e-7a3c-9d2e-5f1a2b3c4d5e <nil>
}
