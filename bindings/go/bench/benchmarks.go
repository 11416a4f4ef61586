package bench

import (
	"fmt"
	"sync/atomic"
	"testing"

	lmstore "github.com/lmstore/lmstore/bindings/go"
)

// GetTemplate measures fetching the latest version of a random template, decoded with c.
func GetTemplate(s Store, c Codec) func(b *testing.B) {
	return func(b *testing.B) {
		p := NewPick()
		if t, err := s.GetTemplate(p.Template(), c); err != nil || t.Text == "" {
			b.Fatalf("%s: get template: %v", s.Name(), err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := s.GetTemplate(p.Template(), c); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// Latest measures "the latest 50 messages" of a random session, decoded with c. Each message
// has a small metadata map ({"tokens": n}).
func Latest(s Store, c Codec) func(b *testing.B) { return latest(s, c, (*Pick).Session) }

// LatestPlain is Latest over sessions whose messages have no metadata, which shows how much
// of a range is the Go-side decoding of metadata maps that every store pays alike.
func LatestPlain(s Store, c Codec) func(b *testing.B) { return latest(s, c, (*Pick).PlainSession) }

func latest(s Store, c Codec, session func(*Pick) string) func(b *testing.B) {
	return func(b *testing.B) {
		p := NewPick()
		if ms, err := s.Latest(session(p), LatestN, c); err != nil || len(ms) != LatestN || ms[0].Time.Before(ms[1].Time) {
			b.Fatalf("%s: latest: %d messages, %v", s.Name(), len(ms), err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := s.Latest(session(p), LatestN, c); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// LatestRaw measures the storage path of "the latest 50" alone: the 50 records' bytes copied
// into one reused buffer, nothing decoded.
func LatestRaw(s Store) func(b *testing.B) {
	return func(b *testing.B) {
		p := NewPick()
		buf, err := s.LatestRaw(p.Session(), LatestN, nil)
		if err != nil || len(buf) < LatestN*200 {
			b.Fatalf("%s: latest raw: %d bytes, %v", s.Name(), len(buf), err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if buf, err = s.LatestRaw(p.Session(), LatestN, buf); err != nil {
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
