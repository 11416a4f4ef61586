package lmstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	lmstore "github.com/lmstore/lmstore/bindings/go"
)

func TestContextVariants(t *testing.T) {
	db := openTemp(t, nil)
	ctx := context.Background()
	if _, err := db.AppendMessageContext(ctx, lmstore.Message{SessionID: "s", Role: "user"}); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	res, err := db.AppendMessagesContext(tctx, []lmstore.Message{{SessionID: "s", Role: "user"}, {SessionID: "s", Role: "assistant"}})
	if err != nil || len(res) != 2 {
		t.Fatalf("%v %v", res, err)
	}
	if _, err := db.PutTemplateContext(tctx, lmstore.Template{ID: "t", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := db.SyncContext(tctx); err != nil {
		t.Fatal(err)
	}
	if err := db.BackupContext(tctx, t.TempDir(), false); err != nil {
		t.Fatal(err)
	}
	// A library error comes back as itself.
	if _, err := db.AppendMessageContext(tctx, lmstore.Message{SessionID: "s"}); !errors.Is(err, lmstore.ErrInvalidArgument) {
		t.Fatalf("missing role: %v", err)
	}
	// An ended context: nothing starts.
	done, stop := context.WithCancel(ctx)
	stop()
	if _, err := db.AppendMessageContext(done, lmstore.Message{SessionID: "s", Role: "user"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if err := db.BackupContext(done, t.TempDir(), false); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled backup: %v", err)
	}
	if n := must[lmstore.Session](t)(db.GetSession("s")).MessageCount; n != 3 {
		t.Fatalf("%d messages; the cancelled append must not have run", n)
	}
	// A deadline that passes while a large durable batch commits: the call returns the
	// deadline error (or finishes first on a fast disk); either way the store stays usable.
	big := make([]lmstore.Message, 20000)
	for i := range big {
		big[i] = lmstore.Message{SessionID: "big", Role: "user", Content: "x"}
	}
	short, cancel2 := context.WithTimeout(ctx, time.Microsecond)
	defer cancel2()
	time.Sleep(time.Millisecond)
	if _, err := db.AppendMessagesContext(short, big); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("expired deadline: %v", err)
	}
}
