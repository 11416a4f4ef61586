// Command lmstore-outside reads a store written by the C demo (make demo DEMO_DIR=...): the
// proof that a module outside this repository can depend on the Go package, build and run.
package main

import (
	"errors"
	"fmt"
	"os"

	lmstore "github.com/lmstore/lmstore/bindings/go"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: lmstore-outside STORE_DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "lmstore-outside:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	db, err := lmstore.Open(dir, &lmstore.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Printf("liblmstore %s (ABI %d)\n", lmstore.Version(), lmstore.ABIVersion())

	for id, err := range db.TemplateIDs("") {
		if err != nil {
			return err
		}
		versions, err := db.TemplateVersions(id)
		if err != nil {
			return err
		}
		latest, err := db.GetTemplate(id)
		if err != nil {
			return err
		}
		fmt.Printf("template %s: %d versions, latest %s: %q\n", id, len(versions), latest.Version, latest.Text)
		aliases, err := db.TemplateAliases(id)
		if err != nil {
			return err
		}
		for alias := range aliases {
			t, err := db.GetTemplateByAlias(id, alias)
			if err != nil {
				return err
			}
			fmt.Printf("  alias %s -> %s: %q\n", alias, t.Version, t.Text)
		}
	}

	for s, err := range db.Sessions() {
		if err != nil {
			return err
		}
		fmt.Printf("session %s: %d messages\n", s.ID, s.MessageCount)
		latest, err := db.LatestMessages(s.ID, 50)
		if err != nil {
			return err
		}
		for _, m := range latest {
			agent := ""
			if m.AgentID != "" {
				agent = " (" + m.AgentID + ")"
			}
			fmt.Printf("  %s %s%s: %s\n", m.Time.Format("15:04:05.000000"), m.Role, agent, m.Content)
		}
	}

	// The store was opened read-only: a write must say so, not crash or succeed.
	if _, err := db.AppendMessage(lmstore.Message{SessionID: "x", Role: "user"}); !errors.Is(err, lmstore.ErrReadOnly) {
		return fmt.Errorf("write to a read-only store: %v", err)
	}
	return nil
}
