package lmstore_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	lmstore "github.com/lmstore/lmstore/bindings/go"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func at(us int) time.Time { return t0.Add(time.Duration(us) * time.Microsecond) }

// fill appends n messages to session with times t0+0µs, +10µs, ... and returns them as stored.
func fill(t *testing.T, db *lmstore.DB, session string, n int) []lmstore.Message {
	t.Helper()
	msgs := make([]lmstore.Message, n)
	for i := range msgs {
		msgs[i] = lmstore.Message{
			ID: lmstore.NewID(), SessionID: session, Time: at(10 * i), Role: "user",
			Content: fmt.Sprintf("m%03d", i), Metadata: map[string]any{"i": int64(i)},
		}
	}
	res := must[[]lmstore.AppendResult](t)(db.AppendMessages(msgs))
	for i, r := range res {
		if r.ID != msgs[i].ID || !r.Time.Equal(msgs[i].Time) || r.Duplicate {
			t.Fatalf("result %d: %+v", i, r)
		}
	}
	return msgs
}

func contents(ms []lmstore.Message) string {
	var b []string
	for _, m := range ms {
		b = append(b, m.Content)
	}
	return strings.Join(b, ",")
}

func TestAppendAndGet(t *testing.T) {
	db := openTemp(t, nil)
	first := must[lmstore.AppendResult](t)(db.AppendMessage(lmstore.Message{SessionID: "s", Role: "user", Content: "hello", AgentID: "bot"}))
	if first.ID.IsZero() || first.Time.IsZero() || first.Duplicate {
		t.Fatalf("generated: %+v", first)
	}
	reply := lmstore.Message{
		ID: lmstore.NewID(), SessionID: "s", Role: "assistant", Content: "héllo ✓", AgentID: "bot",
		InReplyTo: first.ID, Metadata: map[string]any{"tokens": int64(12), "tools": []any{"search"}, "big": uint64(1 << 63)},
	}
	res := must[lmstore.AppendResult](t)(db.AppendMessage(reply))
	if res.ID != reply.ID || res.Time.Before(first.Time) {
		t.Fatalf("reply result %+v (first %+v)", res, first)
	}
	got := must[lmstore.Message](t)(db.GetMessage(reply.ID))
	want := reply
	want.Time, want.CreatedAt, want.UpdatedAt = res.Time, got.CreatedAt, got.UpdatedAt
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("get:\n got %#v\nwant %#v", got, want)
	}
	if got.CreatedAt.IsZero() || !got.UpdatedAt.Equal(got.CreatedAt) {
		t.Fatalf("created %v updated %v", got.CreatedAt, got.UpdatedAt)
	}

	// Appending an existing id stores nothing and says so, even inside a batch.
	again := must[[]lmstore.AppendResult](t)(db.AppendMessages([]lmstore.Message{reply, {SessionID: "s", Role: "user", Content: "new"}}))
	if !again[0].Duplicate || !again[0].Time.Equal(res.Time) || again[1].Duplicate {
		t.Fatalf("duplicate batch: %+v", again)
	}
	if s := must[lmstore.Session](t)(db.GetSession("s")); s.MessageCount != 3 {
		t.Fatalf("count %d", s.MessageCount)
	}
	_, err := db.GetMessage(lmstore.NewID())
	wantErr(t, err, lmstore.ErrNotFound)

	if r := must[[]lmstore.AppendResult](t)(db.AppendMessages(nil)); r != nil {
		t.Fatalf("empty batch: %v", r)
	}
}

func TestAppendErrorsAreAtomic(t *testing.T) {
	db := openTemp(t, nil)
	ok := lmstore.Message{SessionID: "s", Role: "user", Content: "fine"}
	cases := []struct {
		m    lmstore.Message
		want error
	}{
		{lmstore.Message{SessionID: strings.Repeat("s", 256), Role: "user"}, lmstore.ErrKeyTooLong},
		{lmstore.Message{SessionID: "s", Role: "user", AgentID: strings.Repeat("a", 256)}, lmstore.ErrKeyTooLong},
		{lmstore.Message{SessionID: "s\xff", Role: "user"}, lmstore.ErrInvalidUTF8},
		{lmstore.Message{SessionID: "s", Role: "user", Content: "bad \xfe\xff"}, lmstore.ErrInvalidUTF8},
		{lmstore.Message{SessionID: "s", Role: ""}, lmstore.ErrInvalidArgument},
		{lmstore.Message{SessionID: "", Role: "user"}, lmstore.ErrInvalidArgument},
		{lmstore.Message{SessionID: "s", Role: "user", Time: time.UnixMicro(-5)}, lmstore.ErrInvalidArgument},
		{lmstore.Message{SessionID: "s", Role: "user", Metadata: map[string]any{"c": make(chan int)}}, lmstore.ErrInvalidArgument},
	}
	for i, c := range cases {
		_, err := db.AppendMessages([]lmstore.Message{ok, c.m})
		if err == nil {
			t.Fatalf("case %d: no error", i)
		}
		wantErr(t, err, c.want)
	}
	if st := must[lmstore.Stats](t)(db.Stats()); st.Messages != 0 || st.Sessions != 0 {
		t.Fatalf("failed batches stored something: %+v", st)
	}
}

func TestRange(t *testing.T) {
	db := openTemp(t, nil)
	msgs := fill(t, db, "s", 25)
	fill(t, db, "other", 3)

	// Forward, paged by cursor.
	var all []lmstore.Message
	opts := lmstore.RangeOptions{Limit: 10}
	pages := 0
	for {
		p := must[lmstore.MessagePage](t)(db.RangeMessages("s", opts))
		pages++
		all = append(all, p.Messages...)
		if p.Next == nil {
			break
		}
		opts.Cursor = p.Next
	}
	if pages != 3 || contents(all) != contents(msgs) {
		t.Fatalf("%d pages: %s", pages, contents(all))
	}
	if all[3].Metadata["i"] != int64(3) || all[0].SessionID != "s" {
		t.Fatalf("decoded %+v", all[3])
	}

	// Latest 5, newest first, and as a chronological slice.
	p := must[lmstore.MessagePage](t)(db.RangeMessages("s", lmstore.RangeOptions{Limit: 5, Reverse: true}))
	if contents(p.Messages) != "m024,m023,m022,m021,m020" || p.Next == nil {
		t.Fatalf("reverse: %s", contents(p.Messages))
	}
	p = must[lmstore.MessagePage](t)(db.RangeMessages("s", lmstore.RangeOptions{Limit: 3, Reverse: true, Cursor: p.Next}))
	if contents(p.Messages) != "m019,m018,m017" {
		t.Fatalf("reverse page 2: %s", contents(p.Messages))
	}
	latest := must[[]lmstore.Message](t)(db.LatestMessages("s", 3))
	if contents(latest) != "m022,m023,m024" {
		t.Fatalf("latest: %s", contents(latest))
	}

	// Time window: [start, end).
	p = must[lmstore.MessagePage](t)(db.RangeMessages("s", lmstore.RangeOptions{Start: at(50), End: at(100)}))
	if contents(p.Messages) != "m005,m006,m007,m008,m009" || p.Next != nil {
		t.Fatalf("window: %s", contents(p.Messages))
	}
	p = must[lmstore.MessagePage](t)(db.RangeMessages("s", lmstore.RangeOptions{Start: at(50), End: at(100), Reverse: true, Limit: 2}))
	if contents(p.Messages) != "m009,m008" {
		t.Fatalf("reverse window: %s", contents(p.Messages))
	}

	// Unknown session: empty page.
	p = must[lmstore.MessagePage](t)(db.RangeMessages("nobody", lmstore.RangeOptions{}))
	if len(p.Messages) != 0 || p.Next != nil {
		t.Fatalf("unknown session: %+v", p)
	}

	// A page larger than the scratch buffer still arrives whole.
	big := make([]lmstore.Message, 300)
	for i := range big {
		big[i] = lmstore.Message{SessionID: "big", Role: "user", Content: strings.Repeat("z", 1000)}
	}
	must[[]lmstore.AppendResult](t)(db.AppendMessages(big))
	if got := len(must[lmstore.MessagePage](t)(db.RangeMessages("big", lmstore.RangeOptions{Limit: 1000})).Messages); got != 300 {
		t.Fatalf("big page: %d", got)
	}
}

func TestRangeErrors(t *testing.T) {
	db := openTemp(t, nil)
	fill(t, db, "s", 5)
	_, err := db.RangeMessages("s", lmstore.RangeOptions{Limit: 10001})
	wantErr(t, err, lmstore.ErrInvalidArgument)
	_, err = db.RangeMessages("s", lmstore.RangeOptions{Cursor: lmstore.Cursor("garbage")})
	wantErr(t, err, lmstore.ErrBadCursor)
	_, err = db.RangeMessages("s", lmstore.RangeOptions{Cursor: make(lmstore.Cursor, 1000)})
	wantErr(t, err, lmstore.ErrBadCursor)
	fwd := must[lmstore.MessagePage](t)(db.RangeMessages("s", lmstore.RangeOptions{Limit: 2}))
	_, err = db.RangeMessages("s", lmstore.RangeOptions{Limit: 2, Reverse: true, Cursor: fwd.Next})
	wantErr(t, err, lmstore.ErrBadCursor)
	_, err = db.RangeAgentMessages("a", lmstore.RangeOptions{Cursor: fwd.Next})
	wantErr(t, err, lmstore.ErrBadCursor)
	_, err = db.ListSessions(fwd.Next, 10)
	wantErr(t, err, lmstore.ErrBadCursor)
	_, err = db.RangeMessages(strings.Repeat("s", 300), lmstore.RangeOptions{})
	wantErr(t, err, lmstore.ErrKeyTooLong)
	_, err = db.RangeMessages("\xff", lmstore.RangeOptions{})
	wantErr(t, err, lmstore.ErrInvalidUTF8)
	for _, err := range db.Messages("s", lmstore.RangeOptions{Cursor: lmstore.Cursor("x")}) {
		wantErr(t, err, lmstore.ErrBadCursor)
	}
}

func TestTiesInTimeResumeExactly(t *testing.T) {
	db := openTemp(t, nil)
	msgs := make([]lmstore.Message, 7)
	for i := range msgs {
		msgs[i] = lmstore.Message{ID: lmstore.NewID(), SessionID: "s", Time: t0, Role: "user", Content: fmt.Sprint(i)}
	}
	must[[]lmstore.AppendResult](t)(db.AppendMessages(msgs))
	for _, reverse := range []bool{false, true} {
		seen := map[lmstore.ID]bool{}
		for m, err := range db.Messages("s", lmstore.RangeOptions{PageSize: 2, Reverse: reverse}) {
			if err != nil {
				t.Fatal(err)
			}
			if seen[m.ID] {
				t.Fatalf("reverse=%v: %s twice", reverse, m.ID)
			}
			seen[m.ID] = true
		}
		if len(seen) != len(msgs) {
			t.Fatalf("reverse=%v: saw %d of %d", reverse, len(seen), len(msgs))
		}
	}
}

func TestMessagesIterator(t *testing.T) {
	db := openTemp(t, nil)
	msgs := fill(t, db, "s", 23)
	var got []lmstore.Message
	for m, err := range db.Messages("s", lmstore.RangeOptions{PageSize: 4}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	if contents(got) != contents(msgs) {
		t.Fatalf("iterator: %s", contents(got))
	}
	n := 0
	for range db.Messages("s", lmstore.RangeOptions{PageSize: 4, Reverse: true}) {
		if n++; n == 6 {
			break
		}
	}
	if n != 6 {
		t.Fatalf("break: %d", n)
	}
}

func TestAgentMessages(t *testing.T) {
	db := openTemp(t, nil)
	var batch []lmstore.Message
	for i := 0; i < 9; i++ {
		agent := []string{"planner", "coder", ""}[i%3]
		batch = append(batch, lmstore.Message{SessionID: fmt.Sprint("s", i%2), Time: at(i), Role: "assistant", AgentID: agent, Content: fmt.Sprint(i)})
	}
	must[[]lmstore.AppendResult](t)(db.AppendMessages(batch))
	p := must[lmstore.MessagePage](t)(db.RangeAgentMessages("planner", lmstore.RangeOptions{Limit: 2}))
	if contents(p.Messages) != "0,3" || p.Next == nil || p.Messages[1].SessionID != "s1" || p.Messages[1].AgentID != "planner" {
		t.Fatalf("agent page: %+v", p)
	}
	var rest []lmstore.Message
	for m, err := range db.AgentMessages("planner", lmstore.RangeOptions{Cursor: p.Next}) {
		if err != nil {
			t.Fatal(err)
		}
		rest = append(rest, m)
	}
	if contents(rest) != "6" {
		t.Fatalf("agent rest: %s", contents(rest))
	}
	p = must[lmstore.MessagePage](t)(db.RangeAgentMessages("coder", lmstore.RangeOptions{Reverse: true}))
	if contents(p.Messages) != "7,4,1" {
		t.Fatalf("coder: %s", contents(p.Messages))
	}
}

func TestUpdateDeleteTrim(t *testing.T) {
	db := openTemp(t, nil)
	msgs := fill(t, db, "s", 10)
	id := msgs[4].ID

	if err := db.SetMessageContent(id, "edited"); err != nil {
		t.Fatal(err)
	}
	m := must[lmstore.Message](t)(db.GetMessage(id))
	if m.Content != "edited" || m.Metadata["i"] != int64(4) || !m.Time.Equal(msgs[4].Time) || !m.UpdatedAt.After(m.CreatedAt) && !m.UpdatedAt.Equal(m.CreatedAt) {
		t.Fatalf("after content update: %+v", m)
	}
	if err := db.SetMessageMetadata(id, map[string]any{"edited": true}); err != nil {
		t.Fatal(err)
	}
	m = must[lmstore.Message](t)(db.GetMessage(id))
	if m.Content != "edited" || !reflect.DeepEqual(m.Metadata, map[string]any{"edited": true}) {
		t.Fatalf("after metadata update: %+v", m)
	}
	if err := db.UpdateMessage(id, "", nil); err != nil {
		t.Fatal(err)
	}
	m = must[lmstore.Message](t)(db.GetMessage(id))
	if m.Content != "" || m.Metadata != nil {
		t.Fatalf("after clearing: %+v", m)
	}
	// The message kept its place.
	p := must[lmstore.MessagePage](t)(db.RangeMessages("s", lmstore.RangeOptions{}))
	if p.Messages[4].ID != id {
		t.Fatal("update moved the message")
	}
	wantErr(t, db.SetMessageContent(lmstore.NewID(), "x"), lmstore.ErrNotFound)
	wantErr(t, db.SetMessageContent(id, "\xff"), lmstore.ErrInvalidUTF8)

	if err := db.DeleteMessage(id); err != nil {
		t.Fatal(err)
	}
	wantErr(t, db.DeleteMessage(id), lmstore.ErrNotFound)
	_, err := db.GetMessage(id)
	wantErr(t, err, lmstore.ErrNotFound)

	// 9 left: m000..m003, m005..m009. Trim to the newest 6 (m003, m005..m009), then drop
	// those before m007.
	if n := must[int](t)(db.TrimSession("s", 6)); n != 3 {
		t.Fatalf("trim deleted %d", n)
	}
	if n := must[int](t)(db.TrimSessionBefore("s", msgs[7].Time)); n != 3 {
		t.Fatalf("trim before deleted %d", n)
	}
	left := must[[]lmstore.Message](t)(db.LatestMessages("s", 100))
	if contents(left) != "m007,m008,m009" {
		t.Fatalf("left: %s", contents(left))
	}
	if s := must[lmstore.Session](t)(db.GetSession("s")); s.MessageCount != 3 {
		t.Fatalf("count after trims %d", s.MessageCount)
	}
	if st := must[lmstore.Stats](t)(db.Stats()); st.Messages != 3 {
		t.Fatalf("stats messages %d", st.Messages)
	}
	_, err = db.TrimSession("s", -1)
	wantErr(t, err, lmstore.ErrInvalidArgument)
}

func TestSessions(t *testing.T) {
	db := openTemp(t, nil)
	if err := db.CreateSession("a", "First", map[string]any{"user": "u1"}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, db.CreateSession("a", "", nil), lmstore.ErrConflict)
	wantErr(t, db.CreateSession(strings.Repeat("a", 256), "", nil), lmstore.ErrKeyTooLong)
	wantErr(t, db.CreateSession("t", "\xff", nil), lmstore.ErrInvalidUTF8)

	s := must[lmstore.Session](t)(db.GetSession("a"))
	if s.ID != "a" || s.Title != "First" || s.Metadata["user"] != "u1" || s.MessageCount != 0 || s.CreatedAt.IsZero() || !s.LastTime.IsZero() {
		t.Fatalf("session: %+v", s)
	}
	time.Sleep(2 * time.Millisecond)
	fill(t, db, "b", 2)
	time.Sleep(2 * time.Millisecond)
	fill(t, db, "c", 1)

	if err := db.SetSessionTitle("b", "Second"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetSessionMetadata("b", map[string]any{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	b := must[lmstore.Session](t)(db.GetSession("b"))
	if b.Title != "Second" || b.Metadata["k"] != "v" || b.MessageCount != 2 || !b.LastTime.Equal(at(10)) || b.UpdatedAt.Before(b.CreatedAt) {
		t.Fatalf("b: %+v", b)
	}
	if err := db.UpdateSession("b", "", nil); err != nil {
		t.Fatal(err)
	}
	b = must[lmstore.Session](t)(db.GetSession("b"))
	if b.Title != "" || b.Metadata != nil {
		t.Fatalf("cleared b: %+v", b)
	}
	wantErr(t, db.SetSessionTitle("zz", "x"), lmstore.ErrNotFound)
	_, err := db.GetSession("zz")
	wantErr(t, err, lmstore.ErrNotFound)

	// Most recent activity first.
	p := must[lmstore.SessionPage](t)(db.ListSessions(nil, 2))
	if len(p.Sessions) != 2 || p.Sessions[0].ID != "c" || p.Sessions[1].ID != "b" || p.Next == nil {
		t.Fatalf("page 1: %+v", p)
	}
	p = must[lmstore.SessionPage](t)(db.ListSessions(p.Next, 2))
	if len(p.Sessions) != 1 || p.Sessions[0].ID != "a" || p.Next != nil {
		t.Fatalf("page 2: %+v", p)
	}
	var ids []string
	for s, err := range db.Sessions() {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	if strings.Join(ids, "") != "cba" {
		t.Fatalf("iterator: %v", ids)
	}
	_, err = db.ListSessions(nil, -1)
	wantErr(t, err, lmstore.ErrInvalidArgument)

	if n := must[int](t)(db.DeleteSession("b")); n != 2 {
		t.Fatalf("delete session removed %d messages", n)
	}
	_, err = db.DeleteSession("b")
	wantErr(t, err, lmstore.ErrNotFound)
	if got := must[[]lmstore.Message](t)(db.LatestMessages("b", 10)); len(got) != 0 {
		t.Fatalf("messages outlived their session: %d", len(got))
	}
	if st := must[lmstore.Stats](t)(db.Stats()); st.Sessions != 2 || st.Messages != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestAssignedTimesNeverGoBackwards(t *testing.T) {
	db := openTemp(t, nil)
	// A message stamped far in the future; assigned times after it must still follow it.
	future := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	must[lmstore.AppendResult](t)(db.AppendMessage(lmstore.Message{SessionID: "s", Time: future, Role: "user", Content: "future"}))
	r := must[lmstore.AppendResult](t)(db.AppendMessage(lmstore.Message{SessionID: "s", Role: "user", Content: "now"}))
	if !r.Time.After(future) {
		t.Fatalf("assigned %v, after %v", r.Time, future)
	}
	if got := contents(must[[]lmstore.Message](t)(db.LatestMessages("s", 2))); got != "future,now" {
		t.Fatalf("order %s", got)
	}
}
