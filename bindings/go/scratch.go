package lmstore

import "sync"

// Scratch buffers receive results from C; decoded values copy out of them, so they are
// reused. A buffer grown for a large result goes back to the pool unless it is huge.
const (
	scratchSize    = 64 << 10
	maxPooledBytes = 1 << 20
)

var scratchPool = sync.Pool{New: func() any { b := make([]byte, scratchSize); return &b }}

func getScratch() *[]byte { return scratchPool.Get().(*[]byte) }

func putScratch(b *[]byte) {
	if cap(*b) <= maxPooledBytes {
		scratchPool.Put(b)
	}
}

// growTo is the size of a buffer for a result of n bytes, with room for it to grow a little.
func growTo(n int) int { return n + n/8 + 1024 }
