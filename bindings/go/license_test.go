package lmstore_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The module ships the repository's licenses (a Go module zip holds only its own directory).
func TestLicensesMatchTheRepository(t *testing.T) {
	for _, f := range []string{"LICENSE-MIT", "LICENSE-APACHE"} {
		here, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("the module lacks %s: %v", f, err)
		}
		root, err := os.ReadFile(filepath.Join("..", "..", f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(here, root) {
			t.Errorf("%s differs from the repository's", f)
		}
	}
}
