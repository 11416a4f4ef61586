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
	rounds := flag.Int("rounds", 3, "interleaved rounds; each cell reports its fastest round")
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
	ops := []op{
		{"get template", bench.GetTemplate, true},
		{"latest 50 (range)", bench.Latest, true},
		{"latest 50, no metadata", bench.LatestPlain, false},
		{"append 1,000 (one batch)", bench.AppendBatch, false},
	}
	// Rounds interleave the stores so that a burst of load from elsewhere on the machine hits
	// all of them, and the fastest round is kept: noise only ever adds time.
	results := map[string]map[string]result{}
	var cgo result
	best := func(old, r result) result {
		if old.n == 0 || r.ns < old.ns {
			return r
		}
		return old
	}
	for round := 0; round < *rounds; round++ {
		for _, o := range ops {
			if results[o.name] == nil {
				results[o.name] = map[string]result{}
			}
			for _, s := range stores {
				results[o.name][s.Name()] = best(results[o.name][s.Name()], run(o.bench(s)))
			}
		}
		cgo = best(cgo, run(bench.CgoCall))
	}

	fmt.Println("| operation | lmstore | bbolt | SQLite | bbolt / lmstore | SQLite / lmstore | goal (≥1× bbolt, ≥3× SQLite) |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, o := range ops {
		r := results[o.name]
		l, b, q := r["lmstore"], r["bbolt"], r["sqlite"]
		vb, vq := b.ns/l.ns, q.ns/l.ns
		goal := "no goal set"
		if o.goal {
			goal = fmt.Sprintf("bbolt: %s, SQLite: %s", mark(vb >= 1), mark(vq >= 3))
		}
		fmt.Printf("| %s | %s | %s | %s | %.2f× | %.2f× | %s |\n", o.name, human(l.ns), human(b.ns), human(q.ns), vb, vq, goal)
	}
	get := results["get template"]["lmstore"]
	share := cgo.ns / get.ns
	fmt.Printf("\nbare cgo call (lms_abi_version): %s = %.1f%% of an lmstore get template (goal ≤ 25%%: %s)\n",
		human(cgo.ns), 100*share, mark(share <= 0.25))
	fmt.Println("ratios are the rival's time over lmstore's: above 1 means lmstore is faster.")
	var allocs []string
	for _, o := range ops {
		r := results[o.name]
		allocs = append(allocs, fmt.Sprintf("%s %d/%d/%d", o.name, r["lmstore"].allocs, r["bbolt"].allocs, r["sqlite"].allocs))
	}
	fmt.Println("allocs/op (lmstore/bbolt/SQLite):", strings.Join(allocs, "; "))
}
