package lmstore

import (
	"strings"
	"testing"
	"time"
)

// benchPage is a page like the benchmark module's "latest 50": 200-byte contents and
// metadata {"tokens": n}.
func benchPage(b testing.TB, metadata bool) []byte {
	w := &writer{}
	w.arrayLen(50)
	content := strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", 4)[:200]
	roles := [2]string{"user", "assistant"}
	for i := 0; i < 50; i++ {
		m := Message{ID: NewID(), SessionID: "session-0001", Time: time.UnixMicro(int64(1e15 + i)),
			Role: roles[i%2], Content: content, CreatedAt: time.Now(), UpdatedAt: time.Now()}
		if metadata {
			m.Metadata = map[string]any{"tokens": int64(40 + i%17)}
		}
		if err := m.encode(w, true); err != nil {
			b.Fatal(err)
		}
	}
	return w.b
}

func benchmarkDecodePage(b *testing.B, metadata bool) {
	page := benchPage(b, metadata)
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := decodeMessages(page, 50, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodePage is the Go-side decoding share of a "latest 50" read.
func BenchmarkDecodePage(b *testing.B)           { benchmarkDecodePage(b, true) }
func BenchmarkDecodePageNoMetadata(b *testing.B) { benchmarkDecodePage(b, false) }
