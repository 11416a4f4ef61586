package bench

import (
	"bytes"
	"fmt"
	"os"
	"testing"
	"time"

	lmstore "github.com/lmstore/lmstore/bindings/go"
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

// The sub-benchmark names are codec/store, so `benchstat` or the eye can compare them:
// go test -bench . -benchtime 2s

var codecs = []Codec{Fast, Generic, Lazy}

func BenchmarkGetTemplate(b *testing.B) {
	for _, c := range codecs {
		for _, s := range stores {
			b.Run(c.String()+"/"+s.Name(), GetTemplate(s, c))
		}
	}
}

func BenchmarkAppendBatch1000(b *testing.B) {
	for _, s := range stores {
		b.Run(s.Name(), AppendBatch(s))
	}
}

func BenchmarkLatest50(b *testing.B) {
	for _, c := range codecs {
		for _, s := range stores {
			b.Run(c.String()+"/"+s.Name(), Latest(s, c))
		}
	}
}

func BenchmarkLatest50NoMetadata(b *testing.B) {
	for _, c := range codecs {
		for _, s := range stores {
			b.Run(c.String()+"/"+s.Name(), LatestPlain(s, c))
		}
	}
}

func BenchmarkLatest50Raw(b *testing.B) {
	for _, s := range stores {
		b.Run(s.Name(), LatestRaw(s))
	}
}

func BenchmarkCgoCall(b *testing.B) { CgoCall(b) }

// BenchmarkGetTemplateRawLmstore is lmstore's get template without decoding: the whole C call
// (lookup, copy into the caller's buffer), to set the bare cgo crossing against.
func BenchmarkGetTemplateRawLmstore(b *testing.B) {
	db := stores[0].(*lmsStore).db
	p := NewPick()
	buf := make([]byte, 4096)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := db.GetTemplateRaw(p.Template(), "", buf); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSameRecords checks that every store, with either codec, returns the same values for
// the same query, so the benchmarks compare like with like.
func TestSameRecords(t *testing.T) {
	p := NewPick()
	for i := 0; i < 20; i++ {
		id, session, plain := p.Template(), p.Session(), p.PlainSession()
		var got []string
		var who []string
		for _, c := range codecs {
			for _, s := range stores {
				tpl, err := s.GetTemplate(id, c)
				if err != nil {
					t.Fatalf("%s/%s: %v", c, s.Name(), err)
				}
				tpl.CreatedAt = time.Time{} // each store stamps its own
				ms, err := s.Latest(session, LatestN, c)
				if err != nil {
					t.Fatalf("%s/%s: %v", c, s.Name(), err)
				}
				ps, err := s.Latest(plain, LatestN, c)
				if err != nil {
					t.Fatalf("%s/%s: %v", c, s.Name(), err)
				}
				for _, list := range [][]lmstore.Message{ms, ps} {
					for i := range list {
						list[i].CreatedAt, list[i].UpdatedAt = time.Time{}, time.Time{}
						if c == Lazy { // decoded on first use: compare what that gives
							if err := list[i].DecodeMetadata(&list[i].Metadata); err != nil {
								t.Fatal(err)
							}
							list[i].RawMetadata = nil
						}
					}
				}
				if len(ms) != LatestN || len(ps) != LatestN {
					t.Fatalf("%s/%s: %d and %d messages", c, s.Name(), len(ms), len(ps))
				}
				got = append(got, fmt.Sprintf("%#v\n%#v\n%#v", tpl, ms, ps))
				who = append(who, c.String()+"/"+s.Name())
			}
		}
		for j := 1; j < len(got); j++ {
			if got[j] != got[0] {
				t.Fatalf("%s and %s disagree on %s or %s:\n%s\n%s", who[0], who[j], id, session, got[0], got[j])
			}
		}
	}
}

// TestLatestRaw checks that the undecoded reads return the same records as the decoded ones.
func TestLatestRaw(t *testing.T) {
	session := NewPick().Session()
	for _, s := range stores {
		buf, err := s.LatestRaw(session, LatestN, nil)
		if err != nil {
			t.Fatalf("%s: %v", s.Name(), err)
		}
		ms, err := s.Latest(session, LatestN, Fast)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if !bytes.Contains(buf, []byte(m.Content)) || !bytes.Contains(buf, m.ID[:]) {
				t.Fatalf("%s: raw page lacks message %s", s.Name(), m.ID)
			}
		}
	}
}
