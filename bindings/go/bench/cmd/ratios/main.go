// Command ratios runs the lmstore, bbolt and SQLite benchmarks in one process, on the same
// data, and prints a Markdown table of times and ratios with issue 4's goals marked.
//
//	go run ./cmd/ratios                   # about a second per benchmark
//	go run ./cmd/ratios -benchtime 1x     # smoke run: each benchmark once
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	lmstore "github.com/lmstore/lmstore/bindings/go"
	"github.com/lmstore/lmstore/bindings/go/bench"
)

type result struct {
	ns     float64
	allocs int64
	n      int
}

func run(f func(*testing.B)) result {
	r := testing.Benchmark(f)
	if r.N == 0 {
		fmt.Fprintln(os.Stderr, "benchmark failed")
		os.Exit(1)
	}
	return result{ns: float64(r.T.Nanoseconds()) / float64(r.N), allocs: r.AllocsPerOp(), n: r.N}
}

func human(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

func mark(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

func main() {
	testing.Init()
	benchtime := flag.String("benchtime", "1s", "per benchmark: a duration, or Nx for N iterations")
	rounds := flag.Int("rounds", 5, "interleaved rounds; each cell reports its fastest round, ratios also the median")
	flag.Parse()
	if err := flag.Set("test.benchtime", *benchtime); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}

	root, err := os.MkdirTemp("", "lmstore-ratios-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.RemoveAll(root)
	start := time.Now()
	stores, err := bench.Setup(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "setup:", err)
		os.Exit(1)
	}
	defer func() {
		for _, s := range stores {
			s.Close()
		}
	}()
	rec, _ := bench.Templates(1)[0].MarshalMsgpack()
	fmt.Printf("data: %d templates (%d-byte records), %d sessions x %d messages; loaded in %s\n",
		bench.NumTemplates, len(rec), bench.NumSessions, bench.PerSession, time.Since(start).Round(time.Millisecond))
	fmt.Printf("liblmstore %s, %s, GOMAXPROCS %d, benchtime %s, best of %d rounds\n\n",
		lmstore.Version(), runtime.Version(), runtime.GOMAXPROCS(0), *benchtime, *rounds)
	if strings.HasSuffix(*benchtime, "x") {
		fmt.Print("(a fixed iteration count: a smoke run that checks the benchmarks work; its times are not measurements)\n\n")
	}

	type op struct {
		name  string
		bench func(bench.Store) func(*testing.B)
		goal  bool // issue 4 sets goals for this operation
	}
	withCodec := func(f func(bench.Store, bench.Codec) func(*testing.B), c bench.Codec) func(bench.Store) func(*testing.B) {
		return func(s bench.Store) func(*testing.B) { return f(s, c) }
	}
	tables := []struct {
		title string
		ops   []op
	}{
		{"Every store decodes with lmstore's fast decoder (the ratios compare storage and call paths)", []op{
			{"get template", withCodec(bench.GetTemplate, bench.Fast), true},
			{"latest 50 (range)", withCodec(bench.Latest, bench.Fast), true},
			{"latest 50, lazy metadata", withCodec(bench.Latest, bench.Lazy), true},
			{"latest 50, no metadata", withCodec(bench.LatestPlain, bench.Fast), false},
			{"latest 50, raw bytes (no decoding)", bench.LatestRaw, false},
			{"append 1,000 (one batch)", bench.AppendBatch, false},
		}},
		{"Every store decodes with a generic decoder (vmihailenco/msgpack into tagged structs)", []op{
			{"get template", withCodec(bench.GetTemplate, bench.Generic), false},
			{"latest 50 (range)", withCodec(bench.Latest, bench.Generic), false},
			{"latest 50, no metadata", withCodec(bench.LatestPlain, bench.Generic), false},
		}},
	}
	// Rounds interleave the stores so that a burst of load from elsewhere on the machine hits
	// all of them. Each cell reports its fastest round (noise only ever adds time); the
	// ratios are also given as the median of the per-round ratios.
	type cell struct {
		rounds []result
	}
	results := map[string]map[string]*cell{}
	var cgo []result
	key := func(t int, o op) string { return fmt.Sprint(t, "/", o.name) }
	for round := 0; round < *rounds; round++ {
		for t, tab := range tables {
			for _, o := range tab.ops {
				k := key(t, o)
				if results[k] == nil {
					results[k] = map[string]*cell{}
				}
				for _, s := range stores {
					c := results[k][s.Name()]
					if c == nil {
						c = &cell{}
						results[k][s.Name()] = c
					}
					c.rounds = append(c.rounds, run(o.bench(s)))
				}
			}
		}
		cgo = append(cgo, run(bench.CgoCall))
	}
	best := func(rs []result) result {
		b := rs[0]
		for _, r := range rs[1:] {
			if r.ns < b.ns {
				b = r
			}
		}
		return b
	}
	median := func(v []float64) float64 {
		v = slices.Clone(v)
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	ratios := func(a, b *cell) []float64 {
		var out []float64
		for i := range a.rounds {
			out = append(out, a.rounds[i].ns/b.rounds[i].ns)
		}
		return out
	}
	var allocs []string
	for t, tab := range tables {
		fmt.Printf("%s:\n\n", tab.title)
		fmt.Println("| operation | lmstore | bbolt | SQLite | bbolt / lmstore (best; median) | SQLite / lmstore (best; median) | goal (≥1× bbolt, ≥3× SQLite) |")
		fmt.Println("|---|---|---|---|---|---|---|")
		for _, o := range tab.ops {
			r := results[key(t, o)]
			l, b, q := best(r["lmstore"].rounds), best(r["bbolt"].rounds), best(r["sqlite"].rounds)
			vb, vq := b.ns/l.ns, q.ns/l.ns
			mb, mq := median(ratios(r["bbolt"], r["lmstore"])), median(ratios(r["sqlite"], r["lmstore"]))
			goal := "no goal set"
			if o.goal {
				goal = fmt.Sprintf("bbolt: %s, SQLite: %s", mark(vb >= 1), mark(vq >= 3))
				if (vb >= 1) != (mb >= 1) || (vq >= 3) != (mq >= 3) {
					goal += fmt.Sprintf(" (by the medians: bbolt %s, SQLite %s)", mark(mb >= 1), mark(mq >= 3))
				}
			}
			fmt.Printf("| %s | %s | %s | %s | %.2f×; %.2f× | %.2f×; %.2f× | %s |\n", o.name, human(l.ns), human(b.ns), human(q.ns), vb, mb, vq, mq, goal)
			allocs = append(allocs, fmt.Sprintf("%s%s %d/%d/%d", o.name, map[int]string{0: "", 1: " (generic)"}[t], l.allocs, b.allocs, q.allocs))
		}
		fmt.Println()
	}
	get := best(results[key(0, tables[0].ops[0])]["lmstore"].rounds)
	c := best(cgo)
	share := c.ns / get.ns
	fmt.Printf("bare cgo call (lms_abi_version): %s = %.1f%% of an lmstore get template (goal ≤ 25%%: %s)\n",
		human(c.ns), 100*share, mark(share <= 0.25))
	fmt.Println("ratios are the rival's time over lmstore's: above 1 means lmstore is faster.")
	fmt.Println("allocs/op (lmstore/bbolt/SQLite):", strings.Join(allocs, "; "))
}
