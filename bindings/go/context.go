package lmstore

import (
	"context"
	"fmt"
)

// Context variants of the calls that can wait: durable writes (a commit waits for the disk and
// for other writers), backups and dictionary training. A call into the C library cannot be
// interrupted, so these check ctx before starting and, when ctx ends while the call runs, return
// at once with an error that wraps ctx.Err() (errors.Is(err, context.DeadlineExceeded) or
// context.Canceled) while the call finishes in the background. The write may then still commit,
// as a request to a network database whose reply was lost may have: read to find out. With a
// ctx that can never end (context.Background()) they cost nothing over the plain methods.

func withContext[T any](ctx context.Context, op string, call func() (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, fmt.Errorf("lmstore: %s: not started: %w", op, err)
	}
	if ctx.Done() == nil {
		return call()
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := call()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return zero, fmt.Errorf("lmstore: %s: gave up waiting (the call goes on and may still commit): %w", op, ctx.Err())
	}
}

// AppendMessagesContext is AppendMessages with a context (see the note on context variants).
func (db *DB) AppendMessagesContext(ctx context.Context, msgs []Message) ([]AppendResult, error) {
	return withContext(ctx, "AppendMessages", func() ([]AppendResult, error) { return db.AppendMessages(msgs) })
}

// AppendMessageContext is AppendMessage with a context.
func (db *DB) AppendMessageContext(ctx context.Context, m Message) (AppendResult, error) {
	return withContext(ctx, "AppendMessage", func() (AppendResult, error) { return db.AppendMessage(m) })
}

// PutTemplateContext is PutTemplate with a context.
func (db *DB) PutTemplateContext(ctx context.Context, t Template) (PutOutcome, error) {
	return withContext(ctx, "PutTemplate", func() (PutOutcome, error) { return db.PutTemplate(t) })
}

// SyncContext is Sync with a context.
func (db *DB) SyncContext(ctx context.Context) error {
	_, err := withContext(ctx, "Sync", func() (struct{}, error) { return struct{}{}, db.Sync() })
	return err
}

// BackupContext is Backup with a context. A backup given up on goes on in the background: treat
// its directory as unusable.
func (db *DB) BackupContext(ctx context.Context, path string, compact bool) error {
	_, err := withContext(ctx, "Backup", func() (struct{}, error) { return struct{}{}, db.Backup(path, compact) })
	return err
}

// TrainDictionaryContext is TrainDictionary with a context. A training given up on goes on in
// the background and may still make its dictionary current: Dictionaries tells.
func (db *DB) TrainDictionaryContext(ctx context.Context, minBody uint32) (Dictionary, error) {
	return withContext(ctx, "TrainDictionary", func() (Dictionary, error) { return db.TrainDictionary(minBody) })
}
