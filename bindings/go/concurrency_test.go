package lmstore_test

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	lmstore "github.com/lmstore/lmstore/bindings/go"
)

// Many goroutines read and write at once, and readers page through ranges while yielding
// the processor between pages and messages, so the Go scheduler moves them between OS
// threads mid-iteration. LMDB's MDB_NOTLS and call-scoped transactions make that legal; this
// test (under -race) checks that the binding keeps it so.
func TestConcurrentUse(t *testing.T) {
	db := openTemp(t, &lmstore.Options{NoSync: true, MaxReaders: 512})
	const (
		writers  = 8
		readers  = 24
		batches  = 15
		perBatch = 20
	)
	for i := 0; i < 20; i++ {
		must[lmstore.PutOutcome](t)(db.PutTemplate(lmstore.Template{ID: fmt.Sprint("tpl", i), Text: "x"}))
	}
	var wg sync.WaitGroup
	var stop atomic.Bool
	errs := make(chan error, writers+readers)

	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			session := fmt.Sprint("w", w)
			for b := 0; b < batches; b++ {
				batch := make([]lmstore.Message, perBatch)
				for i := range batch {
					batch[i] = lmstore.Message{SessionID: session, Role: "user", AgentID: "shared", Content: fmt.Sprint(b*perBatch + i)}
				}
				if _, err := db.AppendMessages(batch); err != nil {
					errs <- err
					return
				}
				runtime.Gosched()
			}
		}(w)
	}
	var pagesRead atomic.Int64
	for r := 0; r < readers; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			for !stop.Load() {
				session := fmt.Sprint("w", r%writers)
				var prev time.Time
				n := 0
				for m, err := range db.Messages(session, lmstore.RangeOptions{PageSize: 7}) {
					if err != nil {
						errs <- err
						return
					}
					if m.SessionID != session || m.Time.Before(prev) {
						errs <- fmt.Errorf("reader %d: out of order or wrong session: %+v", r, m)
						return
					}
					prev = m.Time
					if n++; n%3 == 0 {
						runtime.Gosched()
					}
				}
				pagesRead.Add(1)
				if _, err := db.GetTemplate(fmt.Sprint("tpl", r%20)); err != nil {
					errs <- err
					return
				}
				if _, err := db.RangeAgentMessages("shared", lmstore.RangeOptions{Limit: 5, Reverse: true}); err != nil {
					errs <- err
					return
				}
				if _, err := db.Stats(); err != nil {
					errs <- err
					return
				}
			}
		}(r)
	}
	// Stop readers once the writers are done.
	done := make(chan struct{})
	go func() {
		for {
			st, err := db.Stats()
			if err != nil || st.Messages == writers*batches*perBatch {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		stop.Store(true)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("timed out")
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for w := 0; w < writers; w++ {
		s := must[lmstore.Session](t)(db.GetSession(fmt.Sprint("w", w)))
		if s.MessageCount != batches*perBatch {
			t.Fatalf("session w%d has %d messages", w, s.MessageCount)
		}
	}
	if pagesRead.Load() == 0 {
		t.Fatal("readers never finished a range")
	}
}

// Ranges paged from goroutines pinned to and released from OS threads between pages, to be
// sure a range does not depend on the thread that started it.
func TestRangeAcrossThreads(t *testing.T) {
	db := openTemp(t, nil)
	fill(t, db, "s", 60)
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			opts := lmstore.RangeOptions{Limit: 4}
			seen := 0
			for i := 0; ; i++ {
				if i%2 == 0 {
					runtime.LockOSThread()
				}
				p, err := db.RangeMessages("s", opts)
				if i%2 == 0 {
					runtime.UnlockOSThread()
				}
				if err != nil {
					t.Error(err)
					return
				}
				seen += len(p.Messages)
				runtime.Gosched()
				if p.Next == nil {
					break
				}
				opts.Cursor = p.Next
			}
			if seen != 60 {
				t.Errorf("saw %d messages", seen)
			}
		}()
	}
	wg.Wait()
}

// Every call after Close returns ErrClosed, Close twice is fine, and a nil *DB does not crash.
func TestUseAfterClose(t *testing.T) {
	db, err := lmstore.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, db, "s", 3)
	it := db.Messages("s", lmstore.RangeOptions{PageSize: 1})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	id := lmstore.NewID()
	calls := map[string]error{}
	calls["Sync"] = db.Sync()
	_, calls["Stats"] = db.Stats()
	calls["Backup"] = db.Backup(t.TempDir(), false)
	_, calls["TrainDictionary"] = db.TrainDictionary(0)
	_, calls["Dictionaries"] = db.Dictionaries()
	_, calls["PutTemplate"] = db.PutTemplate(lmstore.Template{ID: "a", Text: "x"})
	_, calls["ReplaceTemplate"] = db.ReplaceTemplate(lmstore.Template{ID: "a", Text: "x"})
	_, calls["GetTemplate"] = db.GetTemplate("a")
	_, calls["GetTemplateVersion"] = db.GetTemplateVersion("a", "1")
	_, calls["GetTemplateByAlias"] = db.GetTemplateByAlias("a", "p")
	_, calls["ListTemplates"] = db.ListTemplates("", "", 10)
	_, calls["TemplateVersions"] = db.TemplateVersions("a")
	calls["DeleteTemplate"] = db.DeleteTemplate("a")
	calls["DeleteTemplateVersion"] = db.DeleteTemplateVersion("a", "1")
	calls["SetTemplateAlias"] = db.SetTemplateAlias("a", "p", "1")
	calls["DeleteTemplateAlias"] = db.DeleteTemplateAlias("a", "p")
	_, calls["TemplateAliases"] = db.TemplateAliases("a")
	_, calls["TemplateCounts"] = db.TemplateCounts()
	_, calls["AppendMessage"] = db.AppendMessage(lmstore.Message{SessionID: "s", Role: "user"})
	_, calls["AppendMessages"] = db.AppendMessages([]lmstore.Message{{SessionID: "s", Role: "user"}})
	_, calls["RangeMessages"] = db.RangeMessages("s", lmstore.RangeOptions{})
	_, calls["RangeAgentMessages"] = db.RangeAgentMessages("a", lmstore.RangeOptions{})
	_, calls["LatestMessages"] = db.LatestMessages("s", 5)
	_, calls["GetMessage"] = db.GetMessage(id)
	calls["UpdateMessage"] = db.UpdateMessage(id, "x", nil)
	calls["SetMessageContent"] = db.SetMessageContent(id, "x")
	calls["SetMessageMetadata"] = db.SetMessageMetadata(id, nil)
	calls["DeleteMessage"] = db.DeleteMessage(id)
	_, calls["TrimSession"] = db.TrimSession("s", 1)
	_, calls["TrimSessionBefore"] = db.TrimSessionBefore("s", time.Now())
	calls["CreateSession"] = db.CreateSession("n", "", nil)
	_, calls["GetSession"] = db.GetSession("s")
	calls["UpdateSession"] = db.UpdateSession("s", "", nil)
	calls["SetSessionTitle"] = db.SetSessionTitle("s", "")
	calls["SetSessionMetadata"] = db.SetSessionMetadata("s", nil)
	_, calls["DeleteSession"] = db.DeleteSession("s")
	_, calls["ListSessions"] = db.ListSessions(nil, 10)
	for _, err := range it {
		calls["Messages"] = err
	}
	for _, err := range db.AgentMessages("a", lmstore.RangeOptions{}) {
		calls["AgentMessages"] = err
	}
	for _, err := range db.Sessions() {
		calls["Sessions"] = err
	}
	for _, err := range db.TemplateIDs("") {
		calls["TemplateIDs"] = err
	}
	for op, err := range calls {
		if !errors.Is(err, lmstore.ErrClosed) {
			t.Errorf("%s after Close: %v", op, err)
			continue
		}
		var e *lmstore.Error
		if !errors.As(err, &e) || e.Code != lmstore.CodeClosed || e.Op == "" {
			t.Errorf("%s after Close: %#v", op, err)
		}
	}

	var nilDB *lmstore.DB
	if _, err := nilDB.GetTemplate("a"); !errors.Is(err, lmstore.ErrClosed) {
		t.Fatalf("nil DB: %v", err)
	}
	if err := nilDB.Close(); err != nil {
		t.Fatal(err)
	}
}

// Close while other goroutines are mid-call: it waits for them, and their later calls fail
// cleanly with ErrClosed instead of touching a freed handle.
func TestCloseWhileInUse(t *testing.T) {
	db, err := lmstore.Open(t.TempDir(), &lmstore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	must[lmstore.PutOutcome](t)(db.PutTemplate(lmstore.Template{ID: "a", Text: "x"}))
	fill(t, db, "s", 30)
	var wg sync.WaitGroup
	var ok, closed atomic.Int64
	start := make(chan struct{})
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			<-start
			for {
				var err error
				switch g % 4 {
				case 0:
					_, err = db.GetTemplate("a")
				case 1:
					_, err = db.LatestMessages("s", 10)
				case 2:
					_, err = db.AppendMessage(lmstore.Message{SessionID: "w", Role: "user", Content: "x"})
				case 3:
					for _, e := range db.Messages("s", lmstore.RangeOptions{PageSize: 3}) {
						if e != nil {
							err = e
							break
						}
						runtime.Gosched()
					}
				}
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, lmstore.ErrClosed):
					closed.Add(1)
					return
				default:
					t.Error(err)
					return
				}
			}
		}(g)
	}
	close(start)
	time.Sleep(50 * time.Millisecond)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if ok.Load() == 0 || closed.Load() != 32 {
		t.Fatalf("ok %d, closed %d", ok.Load(), closed.Load())
	}
}

// Two handles on one path share the environment and see each other's writes; closing one
// leaves the other working.
func TestTwoHandlesOnePath(t *testing.T) {
	dir := t.TempDir()
	a, err := lmstore.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := lmstore.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	must[lmstore.PutOutcome](t)(a.PutTemplate(lmstore.Template{ID: "x", Text: "from a"}))
	if got := must[lmstore.Template](t)(b.GetTemplate("x")).Text; got != "from a" {
		t.Fatalf("b sees %q", got)
	}
	a.Close()
	must[lmstore.PutOutcome](t)(b.PutTemplate(lmstore.Template{ID: "y", Text: "from b"}))
	if _, err := b.GetTemplate("y"); err != nil {
		t.Fatal(err)
	}
}
