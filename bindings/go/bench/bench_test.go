package bench

import (
	"fmt"
	"os"
	"testing"
)

var stores []Store

func TestMain(m *testing.M) {
	root, err := os.MkdirTemp("", "lmstore-bench-")
	if err != nil {
		panic(err)
	}
	code := 0
	func() {
		defer os.RemoveAll(root)
		if stores, err = Setup(root); err != nil {
			fmt.Fprintln(os.Stderr, "setup:", err)
			code = 1
			return
		}
		defer func() {
			for _, s := range stores {
				s.Close()
			}
		}()
		code = m.Run()
	}()
	os.Exit(code)
}

// The sub-benchmark names are the stores, so `benchstat` or the eye can compare them:
// go test -bench . -benchtime 2s

func BenchmarkGetTemplate(b *testing.B) {
	for _, s := range stores {
		b.Run(s.Name(), GetTemplate(s))
	}
}

func BenchmarkAppendBatch1000(b *testing.B) {
	for _, s := range stores {
		b.Run(s.Name(), AppendBatch(s))
	}
}

func BenchmarkLatest50(b *testing.B) {
	for _, s := range stores {
		b.Run(s.Name(), Latest(s))
	}
}

func BenchmarkLatest50NoMetadata(b *testing.B) {
	for _, s := range stores {
		b.Run(s.Name(), LatestPlain(s))
	}
}

func BenchmarkCgoCall(b *testing.B) { CgoCall(b) }

// TestSameRecords checks that every store returns the same data for the same query, so
// the benchmarks compare like with like.
func TestSameRecords(t *testing.T) {
	p := NewPick()
	for i := 0; i < 20; i++ {
		id, session := p.Template(), p.Session()
		var text []string
		var latest []string
		for _, s := range stores {
			tpl, err := s.GetTemplate(id)
			if err != nil {
				t.Fatalf("%s: %v", s.Name(), err)
			}
			text = append(text, fmt.Sprint(tpl.ID, tpl.Version, tpl.Text, tpl.Inputs, tpl.Metadata))
			ms, err := s.Latest(session, LatestN)
			if err != nil {
				t.Fatalf("%s: %v", s.Name(), err)
			}
			var ids string
			for _, m := range ms {
				ids += m.ID.String() + m.Content + m.Role
			}
			latest = append(latest, ids)
		}
		for j := 1; j < len(stores); j++ {
			if text[j] != text[0] {
				t.Fatalf("%s and %s disagree on %s", stores[0].Name(), stores[j].Name(), id)
			}
			if latest[j] != latest[0] {
				t.Fatalf("%s and %s disagree on the latest of %s", stores[0].Name(), stores[j].Name(), session)
			}
		}
	}
}
