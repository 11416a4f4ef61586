package lmstore_test

import (
	"errors"
	"testing"

	lmstore "github.com/lmstore/lmstore/bindings/go"
)

// Limit means the same as in Node: the most messages an iterator yields; PageSize is how many
// it fetches per call.
func TestIteratorLimitIsTheMostYielded(t *testing.T) {
	db := openTemp(t, nil)
	fill(t, db, "s", 250)
	count := func(opts lmstore.RangeOptions) (n int, first, last string) {
		for m, err := range db.Messages("s", opts) {
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				first = m.Content
			}
			last = m.Content
			n++
		}
		return n, first, last
	}
	if n, _, _ := count(lmstore.RangeOptions{Reverse: true, Limit: 50}); n != 50 {
		t.Fatalf("Limit 50 yielded %d", n)
	}
	if n, _, _ := count(lmstore.RangeOptions{Limit: 120, PageSize: 7}); n != 120 {
		t.Fatalf("Limit 120 in pages of 7 yielded %d", n)
	}
	if n, _, _ := count(lmstore.RangeOptions{PageSize: 7}); n != 250 {
		t.Fatalf("no limit yielded %d", n)
	}
	if n, _, _ := count(lmstore.RangeOptions{}); n != 250 {
		t.Fatalf("the zero options yielded %d", n)
	}
	latest, err := db.LatestMessages("s", 50)
	if err != nil {
		t.Fatal(err)
	}
	n, first, last := count(lmstore.RangeOptions{Reverse: true, Limit: 50, PageSize: 1000})
	if n != 50 || first != latest[49].Content || last != latest[0].Content {
		t.Fatalf("reverse Limit 50: %d messages, %q..%q", n, first, last)
	}
	for _, err := range db.AgentMessages("a", lmstore.RangeOptions{Limit: -1}) {
		if !errors.Is(err, lmstore.ErrInvalidArgument) {
			t.Fatalf("negative Limit: %v", err)
		}
	}
}
