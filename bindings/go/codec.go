package lmstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
)

// Records have a fixed shape, so they are read and written by hand here: that avoids
// reflection and lets string keys be compared without allocating. Only free-form values
// (metadata, input defaults) go through the msgpack library.

var errShort = errors.New("truncated MessagePack")

// reader is a cursor over one MessagePack buffer. Strings are copied out (the buffers are
// pooled and reused), but short ones go through a small intern table first: a page of 50
// messages then allocates "user", "assistant", "tokens" or the session id once, not 50 times.
// Interning is invisible to callers (Go strings are immutable) and keeps nothing alive beyond
// the strings the results hold anyway.
type reader struct {
	b []byte
	i int

	strs    [internSlots]string // direct-mapped: short strings seen in this decode
	session string              // the last session_id, usually every record's
	agent   string              // the last agent_id

	rawMetadata bool   // keep metadata maps as bytes (Message.RawMetadata)
	arena       []byte // where rawMap copies them: one allocation for many records
}

const (
	internMax   = 32 // longer strings are always copied
	internSlots = 32 // a power of two
)

// intern returns b as a string, reusing an equal short string seen before in this decode.
func (r *reader) intern(b []byte) string {
	n := len(b)
	switch {
	case n == 0:
		return ""
	case n > internMax:
		return string(b)
	}
	switch string(b) { // well-known values cost nothing at all
	case "user":
		return "user"
	case "assistant":
		return "assistant"
	case "system":
		return "system"
	case "tool":
		return "tool"
	case "string":
		return "string"
	case "number":
		return "number"
	case "boolean":
		return "boolean"
	case "object":
		return "object"
	case "array<string>":
		return "array<string>"
	}
	h := (uint(n)*131 + uint(b[0])*31 + uint(b[n-1])*7 + uint(b[n>>1])) & (internSlots - 1)
	if s := r.strs[h]; s == string(b) { // compares without allocating
		return s
	}
	s := string(b)
	r.strs[h] = s
	return s
}

// sticky returns b as a string, reusing *last when equal (a page's records usually share
// their session id); long values are never interned.
func sticky(last *string, b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if *last != string(b) {
		*last = string(b)
	}
	return *last
}

func (r *reader) byte() (byte, error) {
	if r.i >= len(r.b) {
		return 0, errShort
	}
	c := r.b[r.i]
	r.i++
	return c, nil
}

func (r *reader) take(n int) ([]byte, error) {
	if n < 0 || len(r.b)-r.i < n {
		return nil, errShort
	}
	s := r.b[r.i : r.i+n]
	r.i += n
	return s, nil
}

func (r *reader) uintN(n int) (uint64, error) {
	s, err := r.take(n)
	if err != nil {
		return 0, err
	}
	switch n {
	case 1:
		return uint64(s[0]), nil
	case 2:
		return uint64(binary.BigEndian.Uint16(s)), nil
	case 4:
		return uint64(binary.BigEndian.Uint32(s)), nil
	default:
		return binary.BigEndian.Uint64(s), nil
	}
}

// peekNil consumes a nil if one is next.
func (r *reader) peekNil() bool {
	if r.i < len(r.b) && r.b[r.i] == 0xc0 {
		r.i++
		return true
	}
	return false
}

func (r *reader) mapLen() (int, error) {
	c, err := r.byte()
	if err != nil {
		return 0, err
	}
	var n uint64
	switch {
	case c&0xf0 == 0x80:
		return int(c & 0x0f), nil
	case c == 0xde:
		n, err = r.uintN(2)
	case c == 0xdf:
		n, err = r.uintN(4)
	case c == 0xc0:
		return 0, nil
	default:
		return 0, fmt.Errorf("expected a map, got 0x%02x", c)
	}
	// Every entry takes at least two bytes: a count beyond what is left is malformed, and is
	// refused before anyone sizes an allocation by it.
	if err == nil && n > uint64(len(r.b)-r.i)/2 {
		err = errShort
	}
	return int(n), err
}

func (r *reader) arrayLen() (int, error) {
	c, err := r.byte()
	if err != nil {
		return 0, err
	}
	var n uint64
	switch {
	case c&0xf0 == 0x90:
		return int(c & 0x0f), nil
	case c == 0xdc:
		n, err = r.uintN(2)
	case c == 0xdd:
		n, err = r.uintN(4)
	case c == 0xc0:
		return 0, nil
	default:
		return 0, fmt.Errorf("expected an array, got 0x%02x", c)
	}
	if err == nil && n > uint64(len(r.b)-r.i) { // every element takes at least a byte
		err = errShort
	}
	return int(n), err
}

// rawStr returns the bytes of a string or binary value without copying; nil for nil.
func (r *reader) rawStr() ([]byte, error) {
	c, err := r.byte()
	if err != nil {
		return nil, err
	}
	var n uint64
	switch {
	case c&0xe0 == 0xa0:
		n = uint64(c & 0x1f)
	case c == 0xd9 || c == 0xc4:
		n, err = r.uintN(1)
	case c == 0xda || c == 0xc5:
		n, err = r.uintN(2)
	case c == 0xdb || c == 0xc6:
		n, err = r.uintN(4)
	case c == 0xc0:
		return nil, nil
	default:
		return nil, fmt.Errorf("expected a string, got 0x%02x", c)
	}
	if err != nil {
		return nil, err
	}
	return r.take(int(n))
}

// str copies a string out: results are decoded from pooled buffers that are reused, so
// nothing returned may point into them.
func (r *reader) str() (string, error) {
	b, err := r.rawStr()
	return string(b), err
}

// shortStr is str for values that repeat (roles, keys, input types): see intern.
func (r *reader) shortStr() (string, error) {
	b, err := r.rawStr()
	return r.intern(b), err
}

// id16 reads a 16-byte id (bin 16); nil gives the zero ID.
func (r *reader) id16() (ID, error) {
	var id ID
	b, err := r.rawStr()
	if err != nil || b == nil {
		return id, err
	}
	if len(b) != len(id) {
		return id, fmt.Errorf("id has %d bytes, want 16", len(b))
	}
	copy(id[:], b)
	return id, nil
}

func (r *reader) int() (int64, error) {
	c, err := r.byte()
	if err != nil {
		return 0, err
	}
	switch {
	case c <= 0x7f:
		return int64(c), nil
	case c >= 0xe0:
		return int64(int8(c)), nil
	}
	var u uint64
	switch c {
	case 0xcc:
		u, err = r.uintN(1)
	case 0xcd:
		u, err = r.uintN(2)
	case 0xce:
		u, err = r.uintN(4)
	case 0xcf:
		u, err = r.uintN(8)
		if u > math.MaxInt64 {
			return 0, errors.New("integer out of range")
		}
	case 0xd0:
		u, err = r.uintN(1)
		return int64(int8(u)), err
	case 0xd1:
		u, err = r.uintN(2)
		return int64(int16(u)), err
	case 0xd2:
		u, err = r.uintN(4)
		return int64(int32(u)), err
	case 0xd3:
		u, err = r.uintN(8)
		return int64(u), err
	case 0xc0:
		return 0, nil
	default:
		return 0, fmt.Errorf("expected an integer, got 0x%02x", c)
	}
	return int64(u), err
}

func (r *reader) bool() (bool, error) {
	c, err := r.byte()
	switch {
	case err != nil:
		return false, err
	case c == 0xc3:
		return true, nil
	case c == 0xc2 || c == 0xc0:
		return false, nil
	}
	return false, fmt.Errorf("expected a boolean, got 0x%02x", c)
}

// skip steps over one value of any type. It loops rather than recurses, so no nesting depth
// in malformed input can exhaust the stack; every value consumes at least one byte, so a
// bogus count ends in errShort.
func (r *reader) skip() error {
	for pending := 1; pending > 0; pending-- {
		c, err := r.byte()
		if err != nil {
			return err
		}
		n := 0 // bytes of payload
		switch {
		case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		case c&0xf0 == 0x80:
			pending += 2 * int(c&0x0f)
		case c&0xf0 == 0x90:
			pending += int(c & 0x0f)
		case c&0xe0 == 0xa0:
			n = int(c & 0x1f)
		default:
			var l uint64
			switch c {
			case 0xcc, 0xd0:
				n = 1
			case 0xcd, 0xd1, 0xd4:
				n = 2
			case 0xca, 0xce, 0xd2:
				n = 4
			case 0xcb, 0xcf, 0xd3:
				n = 8
			case 0xd5:
				n = 3
			case 0xd6:
				n = 5
			case 0xd7:
				n = 9
			case 0xd8:
				n = 17
			case 0xc4, 0xd9: // bin 8, str 8
				l, err = r.uintN(1)
				n = int(l)
			case 0xc5, 0xda:
				l, err = r.uintN(2)
				n = int(l)
			case 0xc6, 0xdb:
				l, err = r.uintN(4)
				n = int(l)
			case 0xc7: // ext 8: length, then type
				l, err = r.uintN(1)
				n = int(l) + 1
			case 0xc8:
				l, err = r.uintN(2)
				n = int(l) + 1
			case 0xc9:
				l, err = r.uintN(4)
				n = int(l) + 1
			case 0xdc:
				l, err = r.uintN(2)
				pending += int(l)
			case 0xdd:
				l, err = r.uintN(4)
				pending += int(l)
			case 0xde:
				l, err = r.uintN(2)
				pending += 2 * int(l)
			case 0xdf:
				l, err = r.uintN(4)
				pending += 2 * int(l)
			default:
				return fmt.Errorf("invalid MessagePack code 0x%02x", c)
			}
			if err != nil {
				return err
			}
		}
		if _, err := r.take(n); err != nil {
			return err
		}
	}
	return nil
}

// raw returns the bytes of the next value, whatever its type.
func (r *reader) raw() ([]byte, error) {
	start := r.i
	if err := r.skip(); err != nil {
		return nil, err
	}
	return r.b[start:r.i], nil
}

type anyDecoder struct {
	rd  bytes.Reader
	dec *msgpack.Decoder
}

var anyDecoders = sync.Pool{New: func() any {
	d := &anyDecoder{}
	d.dec = msgpack.NewDecoder(&d.rd)
	return d
}}

// decodeAny decodes a free-form value; integers come back as int64 (uint64 above MaxInt64),
// floats as float64, maps as map[string]any.
func decodeAny(b []byte, v any) error {
	d := anyDecoders.Get().(*anyDecoder)
	d.rd.Reset(b)
	d.dec.Reset(&d.rd)
	d.dec.UseLooseInterfaceDecoding(true)
	err := d.dec.Decode(v)
	d.rd.Reset(nil)
	anyDecoders.Put(d)
	return err
}

// rawMap returns a copy of the next value's bytes, which must be a map; an empty map or nil
// gives nil. Copies share one arena, so a page of records costs a few allocations, not one
// each; each copy's capacity ends at its length, so appending to one cannot touch another.
func (r *reader) rawMap() ([]byte, error) {
	if r.i < len(r.b) && (r.b[r.i] == 0x80 || r.b[r.i] == 0xc0) {
		r.i++
		return nil, nil
	}
	if r.i >= len(r.b) || !(r.b[r.i]&0xf0 == 0x80 || r.b[r.i] == 0xde || r.b[r.i] == 0xdf) {
		return nil, errors.New("metadata is not a map")
	}
	b, err := r.raw()
	if err != nil {
		return nil, err
	}
	if cap(r.arena)-len(r.arena) < len(b) {
		r.arena = make([]byte, 0, max(4096, 2*len(b)))
	}
	start := len(r.arena)
	r.arena = append(r.arena, b...)
	return r.arena[start:len(r.arena):len(r.arena)], nil
}

// decodeMetadataInto decodes raw (when set) or m into v.
func decodeMetadataInto(raw []byte, m map[string]any, v any) error {
	if len(raw) == 0 {
		if m == nil {
			return nil
		}
		if p, ok := v.(*map[string]any); ok {
			*p = m
			return nil
		}
		b, err := encodeMetadata(m)
		if err != nil {
			return err
		}
		raw = b
	}
	return decodeAny(raw, v)
}

// metadata decodes a map value; an empty map gives nil so the common case allocates nothing.
func (r *reader) metadata() (map[string]any, error) {
	if r.i < len(r.b) && (r.b[r.i] == 0x80 || r.b[r.i] == 0xc0) {
		r.i++
		return nil, nil
	}
	start := r.i
	v, err := r.value(0)
	if err != nil {
		return nil, err
	}
	if m, ok := v.(map[string]any); ok {
		return m, nil
	}
	return nil, fmt.Errorf("metadata is not a map with string keys: % x", r.b[start:min(r.i, start+16)])
}

// value decodes a free-form value by hand for the common types, with the same results as the
// msgpack library's loose decoding; anything unusual (extensions, non-string map keys) is
// handed to the library. Metadata is decoded for every message of a page, so this is hot.
func (r *reader) value(depth int) (any, error) {
	if depth > 100 {
		return nil, errors.New("value nested too deeply")
	}
	if r.i >= len(r.b) {
		return nil, errShort
	}
	c := r.b[r.i]
	switch {
	case c <= 0x7f || c >= 0xe0 || (c >= 0xcc && c <= 0xd3):
		if c == 0xcf {
			r.i++
			u, err := r.uintN(8)
			if u > math.MaxInt64 {
				return u, err
			}
			return int64(u), err
		}
		return r.int()
	case c == 0xc0:
		r.i++
		return nil, nil
	case c == 0xc2 || c == 0xc3:
		return r.bool()
	case c == 0xca:
		r.i++
		u, err := r.uintN(4)
		return float64(math.Float32frombits(uint32(u))), err
	case c == 0xcb:
		r.i++
		u, err := r.uintN(8)
		return math.Float64frombits(u), err
	case c&0xe0 == 0xa0 || c == 0xd9 || c == 0xda || c == 0xdb:
		return r.shortStr()
	case c == 0xc4 || c == 0xc5 || c == 0xc6:
		b, err := r.rawStr()
		return bytes.Clone(b), err
	case c&0xf0 == 0x90 || c == 0xdc || c == 0xdd:
		n, err := r.arrayLen()
		if err != nil {
			return nil, err
		}
		if n > len(r.b)-r.i {
			return nil, errShort
		}
		a := make([]any, n)
		for i := range a {
			if a[i], err = r.value(depth + 1); err != nil {
				return nil, err
			}
		}
		return a, nil
	case c&0xf0 == 0x80 || c == 0xde || c == 0xdf:
		start := r.i
		n, err := r.mapLen()
		if err != nil {
			return nil, err
		}
		if n > len(r.b)-r.i {
			return nil, errShort
		}
		m := make(map[string]any, n)
		for ; n > 0; n-- {
			if r.i >= len(r.b) {
				return nil, errShort
			}
			if k := r.b[r.i]; !(k&0xe0 == 0xa0 || k == 0xd9 || k == 0xda || k == 0xdb) {
				r.i = start
				return r.library()
			}
			k, err := r.shortStr()
			if err != nil {
				return nil, err
			}
			if m[k], err = r.value(depth + 1); err != nil {
				return nil, err
			}
		}
		return m, nil
	}
	return r.library()
}

func (r *reader) library() (any, error) {
	raw, err := r.raw()
	if err != nil {
		return nil, err
	}
	var v any
	err = decodeAny(raw, &v)
	return v, err
}

// writer appends MessagePack to a byte slice. It is an io.Writer and io.ByteWriter so the
// msgpack encoder can write free-form values straight into it.
type writer struct {
	b   []byte
	enc *msgpack.Encoder
}

var writers = sync.Pool{New: func() any { return &writer{b: make([]byte, 0, 4096)} }}

func getWriter() *writer {
	w := writers.Get().(*writer)
	w.b = w.b[:0]
	return w
}

func putWriter(w *writer) {
	if cap(w.b) <= 1<<20 {
		writers.Put(w)
	}
}

func (w *writer) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func (w *writer) WriteByte(c byte) error {
	w.b = append(w.b, c)
	return nil
}

func (w *writer) header(fix, b8, b16, b32 byte, fixMax int, n int) {
	switch {
	case n <= fixMax:
		w.b = append(w.b, fix|byte(n))
	case b8 != 0 && n <= math.MaxUint8:
		w.b = append(w.b, b8, byte(n))
	case n <= math.MaxUint16:
		w.b = append(w.b, b16, byte(n>>8), byte(n))
	default:
		w.b = append(w.b, b32, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

func (w *writer) mapLen(n int)   { w.header(0x80, 0, 0xde, 0xdf, 15, n) }
func (w *writer) arrayLen(n int) { w.header(0x90, 0, 0xdc, 0xdd, 15, n) }

func (w *writer) str(s string) {
	w.header(0xa0, 0xd9, 0xda, 0xdb, 31, len(s))
	w.b = append(w.b, s...)
}

func (w *writer) bin(b []byte) {
	switch n := len(b); {
	case n <= math.MaxUint8:
		w.b = append(w.b, 0xc4, byte(n))
	case n <= math.MaxUint16:
		w.b = append(w.b, 0xc5, byte(n>>8), byte(n))
	default:
		w.b = append(w.b, 0xc6, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	w.b = append(w.b, b...)
}

func (w *writer) int(v int64) {
	switch {
	case v >= 0 && v <= 0x7f:
		w.b = append(w.b, byte(v))
	case v >= -32 && v < 0:
		w.b = append(w.b, byte(v))
	default:
		w.b = append(w.b, 0xd3)
		w.b = binary.BigEndian.AppendUint64(w.b, uint64(v))
	}
}

func (w *writer) bool(v bool) {
	if v {
		w.b = append(w.b, 0xc3)
	} else {
		w.b = append(w.b, 0xc2)
	}
}

func (w *writer) nil() { w.b = append(w.b, 0xc0) }

// any writes a free-form value. Map keys are sorted so that equal maps encode to equal bytes:
// the core compares a re-put template's content byte for byte, order included.
func (w *writer) any(v any) error {
	if w.enc == nil {
		w.enc = msgpack.NewEncoder(w)
		w.enc.SetSortMapKeys(true)
	}
	return w.enc.Encode(v)
}

// metadata writes a map; nil or empty writes {}.
func (w *writer) metadata(m map[string]any) error {
	if len(m) == 0 {
		w.b = append(w.b, 0x80)
		return nil
	}
	return w.any(m)
}

// encodeMetadata returns m as a MessagePack map, or nil when empty (the ABI's "absent").
func encodeMetadata(m map[string]any) ([]byte, error) {
	if len(m) == 0 {
		return nil, nil
	}
	w := &writer{}
	if err := w.any(m); err != nil {
		return nil, err
	}
	return w.b, nil
}
