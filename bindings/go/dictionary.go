package lmstore

// Dictionary is a zstd compression dictionary held by a store, trained by TrainDictionary from
// the store's own messages.
type Dictionary struct {
	// Version is its version in this store, counting up from 1; every stored record names the
	// version it was compressed with, so earlier dictionaries stay as long as the store.
	Version uint32
	// ZstdID is the id zstd derived from its content (written into every frame made with it).
	ZstdID uint32
	// Bytes is its size in bytes.
	Bytes uint64
	// MinBody is, for the current dictionary (the newest), the body size in bytes (content and
	// metadata) from which new message bodies are compressed with it; 0 for earlier ones.
	MinBody uint32
}

// TrainDictionary trains a zstd dictionary from the store's newest messages (their content and
// metadata, up to 4 MiB), stores it under the next version and makes it current: from then on,
// new and updated message bodies of minBody bytes and more are compressed with it, so short
// chat messages compress too. minBody 0 means the default, 256 bytes; otherwise it must be at
// least 32 (1 to 31 is ErrInvalidArgument).
//
// Nothing already stored is rewritten, and reads inflate in the library, so callers keep
// seeing plain text. Training reads one snapshot while other goroutines and processes go on
// reading and writing, and stores the result in one transaction. It takes a second or two;
// TrainDictionaryContext gives up waiting when a context ends. The store must hold at least
// 500 messages (else ErrInvalidArgument, with the count in the message); a read-only handle
// returns ErrReadOnly.
//
// Inflating costs read time (about 0.7 µs per 300-byte message), so a store read mostly as
// "latest N" and already small on disk may keep minBody high.
// The first training makes the store schema 3, which lmstore versions without dictionaries
// refuse to open.
func (db *DB) TrainDictionary(minBody uint32) (Dictionary, error) {
	var d Dictionary
	h, err := db.acquire("TrainDictionary")
	if err != nil {
		return d, err
	}
	defer db.release()
	r := cTrainDictionary(h, minBody, &d)
	return d, errFrom("TrainDictionary", &r)
}

// Dictionaries returns the store's compression dictionaries, oldest first (so the current one
// is last); an empty slice for a store never trained.
func (db *DB) Dictionaries() ([]Dictionary, error) {
	h, err := db.acquire("Dictionaries")
	if err != nil {
		return nil, err
	}
	// The first call has no room and learns the count; the next has room for that many, and
	// another follows only if a training added one in between.
	var buf []dictionaryInfo
	var r callResult
	for {
		r = cListDictionaries(h, buf)
		if !r.ok() || r.n <= uint64(len(buf)) {
			break
		}
		buf = make([]dictionaryInfo, r.n)
	}
	db.release()
	if err := errFrom("Dictionaries", &r); err != nil {
		return nil, err
	}
	out := make([]Dictionary, r.n)
	for i := range out {
		out[i] = dictionaryOf(&buf[i])
	}
	return out, nil
}
