package lmstore

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"sync"
	"time"
)

// ID is a message id: a 16-byte UUID. The store generates time-ordered UUIDv7 ids for
// messages appended without one; NewID makes the same kind in Go when the caller wants to
// know the id before appending (for in_reply_to chains, or idempotent retries).
//
// The zero ID means "none" (no id given, no in-reply-to).
type ID [16]byte

// String returns the UUID form, e.g. "0192f0c1-7b4e-7a3c-9d2e-5f1a2b3c4d5e".
func (id ID) String() string {
	var b [36]byte
	hex.Encode(b[0:8], id[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], id[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], id[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], id[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], id[10:16])
	return string(b[:])
}

// IsZero reports whether id is the zero ID.
func (id ID) IsZero() bool { return id == ID{} }

// MarshalText implements encoding.TextMarshaler (UUID form), so IDs read well in JSON.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; it accepts what ParseID accepts.
func (id *ID) UnmarshalText(b []byte) error {
	v, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

var errBadID = errors.New("lmstore: invalid ID: want a UUID such as 0192f0c1-7b4e-7a3c-9d2e-5f1a2b3c4d5e")

// ParseID parses a UUID in its canonical 36-character form, or as 32 hex digits without
// dashes. Upper- and lower-case hex are both accepted.
func ParseID(s string) (ID, error) {
	var id ID
	var digits [32]byte
	switch len(s) {
	case 36:
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return ID{}, errBadID
		}
		copy(digits[0:8], s[0:8])
		copy(digits[8:12], s[9:13])
		copy(digits[12:16], s[14:18])
		copy(digits[16:20], s[19:23])
		copy(digits[20:32], s[24:36])
	case 32:
		copy(digits[:], s)
	default:
		return ID{}, errBadID
	}
	if _, err := hex.Decode(id[:], digits[:]); err != nil {
		return ID{}, errBadID
	}
	return id, nil
}

// MustParseID is ParseID for constants in tests and examples; it panics on a bad string.
func MustParseID(s string) ID {
	id, err := ParseID(s)
	if err != nil {
		panic(err)
	}
	return id
}

var v7 struct {
	sync.Mutex
	lastMS  int64
	counter uint16 // 12-bit sequence in rand_a, so ids made in one millisecond stay ordered
}

// NewID returns a new time-ordered UUIDv7 (RFC 9562), like the ones the store generates.
func NewID() ID {
	var id ID
	if _, err := rand.Read(id[6:]); err != nil {
		panic("lmstore: crypto/rand failed: " + err.Error())
	}
	ms := time.Now().UnixMilli()
	v7.Lock()
	if ms <= v7.lastMS {
		ms = v7.lastMS
		v7.counter++
		if v7.counter > 0x0fff {
			ms++
			v7.counter = 0
		}
	} else {
		v7.counter = uint16(id[6]&0x07)<<8 | uint16(id[7]) // random start leaves room to count up
	}
	v7.lastMS = ms
	seq := v7.counter
	v7.Unlock()
	var t [8]byte
	binary.BigEndian.PutUint64(t[:], uint64(ms)<<16)
	copy(id[0:6], t[0:6])
	id[6] = 0x70 | byte(seq>>8)&0x0f
	id[7] = byte(seq)
	id[8] = id[8]&0x3f | 0x80
	return id
}
