package lmstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	lmstore "github.com/lmstore/lmstore/bindings/go"
)

var chatWords = strings.Fields(`the a to and of it is you we can please thanks could would should
	this that what how why when message store session prompt template reply model token answer
	question error retry deploy config file line code test build run fails works maybe sure
	great okay check again later today tomorrow yes no`)

// chatMessages returns n messages spread over four sessions, each of 20 to 70 words from
// chatWords (so bodies of roughly 100 to 450 bytes, both sides of the default min_body), no two
// alike, with a little metadata. Given ids make them easy to find again.
func chatMessages(rng *rand.Rand, seen map[string]bool, n int) []lmstore.Message {
	roles := []string{"user", "assistant"}
	out := make([]lmstore.Message, 0, n)
	for len(out) < n {
		words := make([]string, 20+rng.IntN(51))
		for i := range words {
			words[i] = chatWords[rng.IntN(len(chatWords))]
		}
		content := strings.Join(words, " ")
		if seen[content] {
			continue
		}
		seen[content] = true
		i := len(seen)
		out = append(out, lmstore.Message{
			ID:        lmstore.NewID(),
			SessionID: fmt.Sprintf("chat-%d", i%4),
			Role:      roles[i%2],
			Content:   content,
			Metadata:  map[string]any{"tokens": int64(len(words)), "n": int64(i)},
		})
	}
	return out
}

// checkAll reads every session back in full and compares each message with what was appended.
func checkAll(t *testing.T, db *lmstore.DB, want map[lmstore.ID]lmstore.Message) {
	t.Helper()
	sessions := map[string]bool{}
	for _, m := range want {
		sessions[m.SessionID] = true
	}
	read := 0
	for s := range sessions {
		for got, err := range db.Messages(s, lmstore.RangeOptions{}) {
			if err != nil {
				t.Fatalf("reading %s: %v", s, err)
			}
			w, ok := want[got.ID]
			if !ok {
				t.Fatalf("unexpected message %v in %s", got.ID, s)
			}
			if got.Content != w.Content || got.SessionID != w.SessionID || got.Role != w.Role ||
				!reflect.DeepEqual(got.Metadata, w.Metadata) {
				t.Fatalf("message %v read back as\n %q %v\nwant\n %q %v", got.ID, got.Content, got.Metadata, w.Content, w.Metadata)
			}
			read++
		}
	}
	if read != len(want) {
		t.Fatalf("read %d messages back, appended %d", read, len(want))
	}
}

func appendAll(t *testing.T, db *lmstore.DB, want map[lmstore.ID]lmstore.Message, msgs []lmstore.Message) {
	t.Helper()
	for _, r := range must[[]lmstore.AppendResult](t)(db.AppendMessages(msgs)) {
		if r.Duplicate {
			t.Fatalf("duplicate %v", r.ID)
		}
	}
	for _, m := range msgs {
		want[m.ID] = m
	}
}

func TestDictionaries(t *testing.T) {
	dir := t.TempDir()
	db, err := lmstore.Open(dir, &lmstore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	if ds := must[[]lmstore.Dictionary](t)(db.Dictionaries()); len(ds) != 0 {
		t.Fatalf("a new store has dictionaries: %+v", ds)
	}
	// Too few messages: the library says how many it found and how many it needs.
	_, err = db.TrainDictionary(0)
	wantErr(t, err, lmstore.ErrInvalidArgument)
	var e *lmstore.Error
	if !errors.As(err, &e) || e.Code != lmstore.CodeInvalidArgument || e.Op != "TrainDictionary" ||
		e.Msg != "too few messages to train a dictionary: 0 found, at least 500 needed" {
		t.Fatalf("empty store: %#v", err)
	}

	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	want := map[lmstore.ID]lmstore.Message{}
	appendAll(t, db, want, chatMessages(rng, seen, 600))

	first := must[lmstore.Dictionary](t)(db.TrainDictionary(0))
	if first.Version != 1 || first.MinBody != 256 || first.Bytes == 0 || first.ZstdID == 0 {
		t.Fatalf("first dictionary: %+v", first)
	}
	// New bodies of 256 bytes and more are compressed with it; all of them read back as written.
	appendAll(t, db, want, chatMessages(rng, seen, 600))
	checkAll(t, db, want)

	_, err = db.TrainDictionary(5)
	wantErr(t, err, lmstore.ErrInvalidArgument)
	if !strings.Contains(err.Error(), "min_body") {
		t.Fatalf("min_body 5: %v", err)
	}
	// An ended context: the training does not start.
	done, stop := context.WithCancel(context.Background())
	stop()
	if _, err := db.TrainDictionaryContext(done, 512); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled training: %v", err)
	}

	second := must[lmstore.Dictionary](t)(db.TrainDictionaryContext(context.Background(), 512))
	if second.Version != 2 || second.MinBody != 512 || second.Bytes == 0 {
		t.Fatalf("second dictionary: %+v", second)
	}
	// Records compressed with either dictionary (and without one) read back unchanged, also
	// bodies of 512 bytes and more written after the second.
	long := chatMessages(rng, seen, 50)
	for i := range long {
		long[i].Content += " " + long[i].Content + " " + long[i].Content
		seen[long[i].Content] = true
	}
	appendAll(t, db, want, long)
	checkAll(t, db, want)

	ds := must[[]lmstore.Dictionary](t)(db.Dictionaries())
	if len(ds) != 2 {
		t.Fatalf("%d dictionaries: %+v", len(ds), ds)
	}
	if ds[0].Version != 1 || ds[0].MinBody != 0 || ds[0].ZstdID != first.ZstdID || ds[0].Bytes != first.Bytes {
		t.Fatalf("first listed %+v, trained %+v", ds[0], first)
	}
	if ds[1] != second {
		t.Fatalf("second listed %+v, trained %+v", ds[1], second)
	}
	if ds[0].ZstdID == ds[1].ZstdID {
		t.Fatalf("both dictionaries have zstd id %d", ds[0].ZstdID)
	}
	db.Close()

	// A read-only handle lists them and reads through them, but cannot train.
	ro, err := lmstore.Open(dir, &lmstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if got := must[[]lmstore.Dictionary](t)(ro.Dictionaries()); !reflect.DeepEqual(got, ds) {
		t.Fatalf("read-only handle lists %+v, want %+v", got, ds)
	}
	checkAll(t, ro, want)
	_, err = ro.TrainDictionary(0)
	wantErr(t, err, lmstore.ErrReadOnly)
}
