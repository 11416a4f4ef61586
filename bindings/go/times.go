package lmstore

import "time"

// Times cross the ABI as int64 microseconds since the epoch, 0 meaning "never".

func toMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros maps 0, the ABI's "never", to the zero time; other times are UTC so that values
// print the same everywhere.
func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}
