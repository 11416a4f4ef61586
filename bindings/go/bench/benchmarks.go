package bench

import (
	"fmt"
	"sync/atomic"
	"testing"

	lmstore "github.com/lmstore/lmstore/bindings/go"
)

// GetTemplate measures fetching and decoding the latest version of a random template.
func GetTemplate(s Store) func(b *testing.B) {
	return func(b *testing.B) {
		p := NewPick()
		if t, err := s.GetTemplate(p.Template()); err != nil || t.Text == "" {
			b.Fatalf("%s: get template: %v", s.Name(), err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := s.GetTemplate(p.Template()); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// Latest measures "the latest 50 messages" of a random session, decoded. Each message has
// a small metadata map ({"tokens": n}).
func Latest(s Store) func(b *testing.B) { return latest(s, (*Pick).Session) }

// LatestPlain is Latest over sessions whose messages have no metadata, which shows how much
// of a range is the Go-side decoding of metadata maps that every store pays alike.
func LatestPlain(s Store) func(b *testing.B) { return latest(s, (*Pick).PlainSession) }

func latest(s Store, session func(*Pick) string) func(b *testing.B) {
	return func(b *testing.B) {
		p := NewPick()
		if ms, err := s.Latest(session(p), LatestN); err != nil || len(ms) != LatestN || ms[0].Time.Before(ms[1].Time) {
			b.Fatalf("%s: latest: %d messages, %v", s.Name(), len(ms), err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := s.Latest(session(p), LatestN); err != nil {
				b.Fatal(err)
			}
		}
	}
}

var appendRound atomic.Int64

// AppendBatch measures one durable transaction of 1,000 new messages. Building the batch
// (ids, Go values) is outside the timer; encoding it is inside, as a caller pays it.
func AppendBatch(s Store) func(b *testing.B) {
	return func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			round := int(appendRound.Add(1))
			msgs := Messages(fmt.Sprint("append-", round%10), PerSession+round*AppendBatchN, AppendBatchN)
			b.StartTimer()
			if err := s.AppendBatch(msgs); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// CgoCall measures the bare cost of one cgo call into the library (lms_abi_version).
func CgoCall(b *testing.B) {
	for i := 0; i < b.N; i++ {
		lmstore.ABIVersion()
	}
}
