package lmstore

// Facts the package shares with include/lmstore.h, checked against the header itself so that a
// status code, flag or version added there cannot leave this binding behind. (Flags, limits and
// struct layouts come from the header through cgo; the status table and its sentinels are Go.)

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// headerDefines returns every `#define LMS_NAME <integer>` of the header.
func headerDefines(t *testing.T) map[string]int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "include", "lmstore.h"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, m := range regexp.MustCompile(`(?m)^#define (LMS_[A-Z0-9_]+) (-?\d+)\s*$`).FindAllSubmatch(b, -1) {
		v, err := strconv.Atoi(string(m[2]))
		if err != nil {
			t.Fatal(err)
		}
		out[string(m[1])] = v
	}
	if len(out) < 20 {
		t.Fatalf("parsed only %d defines from the header", len(out))
	}
	return out
}

// Defines of the header that are flags, limits or versions rather than statuses.
var notStatus = regexp.MustCompile(`^LMS_(RANGE|UPDATE|PUT|APPEND|BACKUP|OPEN)_|^LMS_VERSION_(MAJOR|MINOR|PATCH|NUMBER)$|^LMS_(ABI|OPTIONS)_VERSION$|^LMS_ID_LEN$|^LMS_MAX_|^LMS_CURSOR_MAX$`)

// The statuses are the header's defines that lms_strerror knows (flags share small numbers).
func TestStatusTableMatchesHeader(t *testing.T) {
	defs := headerDefines(t)
	statuses := map[int]string{}
	for name, v := range defs {
		if v > 0 && cStrerror(v) != "unknown status" && !notStatus.MatchString(name) {
			statuses[v] = name
		}
	}
	seen := map[error]int{}
	for v := 1; v < 100; v++ {
		known := cStrerror(v) != "unknown status"
		if known && statuses[v] == "" {
			t.Errorf("lms_strerror knows status %d but the header has no LMS_ define for it", v)
		}
		sentinel, ok := sentinels[Code(v)]
		if known != ok {
			t.Errorf("status %d (%s): library knows it %v, Go sentinel table has it %v", v, statuses[v], known, ok)
			continue
		}
		if !ok {
			continue
		}
		if seen[sentinel] != 0 {
			t.Errorf("%s and status %d share a sentinel", statuses[v], seen[sentinel])
		}
		seen[sentinel] = v
		if !errors.Is(&Error{Code: Code(v)}, sentinel) {
			t.Errorf("an Error with code %d does not unwrap to its sentinel", v)
		}
	}
	if len(statuses) < 15 {
		t.Fatalf("found only %d statuses", len(statuses))
	}
}

func TestVersion(t *testing.T) {
	defs := headerDefines(t)
	want := strconv.Itoa(defs["LMS_VERSION_MAJOR"]) + "." + strconv.Itoa(defs["LMS_VERSION_MINOR"]) + "." + strconv.Itoa(defs["LMS_VERSION_PATCH"])
	if got := Version(); got != want {
		t.Errorf("Version() = %q, header says %q", got, want)
	}
	cargo, err := os.ReadFile(filepath.Join("..", "..", "Cargo.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^version = "` + regexp.QuoteMeta(want) + `"`).Match(cargo) {
		t.Errorf("Cargo.toml's version is not %s", want)
	}
	if got := ABIVersion(); int(got) != defs["LMS_ABI_VERSION"] || got != headerABIVersion {
		t.Errorf("ABIVersion() = %d, header LMS_ABI_VERSION = %d", got, defs["LMS_ABI_VERSION"])
	}
	if n := cVersionNumber(); int(n) != defs["LMS_VERSION_MAJOR"]*10000+defs["LMS_VERSION_MINOR"]*100+defs["LMS_VERSION_PATCH"] {
		t.Errorf("lms_version_number() = %d", n)
	}
}

// A buffer too small for a record: the library says so with the size needed and leaves the
// buffer untouched, and the status maps to ErrBufferTooSmall.
func TestBufferTooSmallSentinel(t *testing.T) {
	db, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	big := make([]byte, 3000)
	for i := range big {
		big[i] = 'a' + byte(i%26)
	}
	if _, err := db.PutTemplate(Template{ID: "big", Version: "1.0.0", Text: string(big)}); err != nil {
		t.Fatal(err)
	}
	whole, err := db.GetTemplateRaw("big", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := db.acquire("test")
	if err != nil {
		t.Fatal(err)
	}
	small := make([]byte, 64)
	for i := range small {
		small[i] = 0xee
	}
	r := cGetTemplate(h, "big", "", false, small)
	db.release()
	if r.code != codeBufferTooSmall || int(r.n) != len(whole) {
		t.Fatalf("code %d, needed %d; want %d and %d", r.code, r.n, codeBufferTooSmall, len(whole))
	}
	for _, b := range small {
		if b != 0xee {
			t.Fatal("a too-small buffer was written to")
		}
	}
	err = errFrom("GetTemplateRaw", &r)
	if !errors.Is(err, ErrBufferTooSmall) || CodeBufferTooSmall.String() != "buffer too small" {
		t.Fatalf("%v does not unwrap to ErrBufferTooSmall", err)
	}
}
