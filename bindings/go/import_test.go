package lmstore_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	lmstore "github.com/lmstore/lmstore/bindings/go"
)

const repoRoot = "../.."

func fixture(name string) string { return filepath.Join(repoRoot, "tests/fixtures/import", name) }

func TestImportFolderReportsEveryFile(t *testing.T) {
	db := openTemp(t, nil)
	var calls, last, known uint64
	r, err := db.ImportFolder(fixture("skips"), lmstore.ImportOptions{Progress: func(d, k uint64) {
		calls++
		last, known = d, k
	}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Imported != 1 || r.Skipped != 13 || len(r.Files) != 14 || !r.Committed {
		t.Fatalf("report: %+v", r)
	}
	if calls < 2 || last != 14 || known != 14 {
		t.Fatalf("progress: %d calls, last %d of %d", calls, last, known)
	}
	f := r.Files[0]
	if f.Path != "bad_default.yaml" || f.Outcome != "skipped" || f.Line != 6 || f.Column != 14 ||
		!strings.Contains(f.Reason, "does not match its type 'number'") {
		t.Fatalf("first file: %+v", f)
	}
	// A dry run reports and writes nothing.
	dry, err := db.ImportFolder(fixture("typing"), lmstore.ImportOptions{DryRun: true})
	if err != nil || dry.Committed || dry.Imported != 2 {
		t.Fatalf("dry run: %+v %v", dry, err)
	}
	if _, err := db.GetTemplate("typing-scalars"); !errors.Is(err, lmstore.ErrNotFound) {
		t.Fatalf("dry run wrote: %v", err)
	}
	v, err := db.VerifyImport(fixture("skips"))
	if err != nil || !v.Clean || v.Matched != 1 || v.Skipped != 13 {
		t.Fatalf("verify: %+v %v", v, err)
	}
	out := filepath.Join(t.TempDir(), "export")
	e, err := db.ExportFolder(out)
	if err != nil || e.Versions != 1 || e.Files != 1 {
		t.Fatalf("export: %+v %v", e, err)
	}
	if _, err := os.Stat(filepath.Join(out, "fine.yaml")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExportFolder(out); !errors.Is(err, lmstore.ErrInvalidArgument) ||
		!strings.Contains(err.Error(), "is not empty") {
		t.Fatalf("export into a full folder: %v", err)
	}
	if _, err := db.ImportFolder("/nonexistent/prompts", lmstore.ImportOptions{}); !errors.Is(err, lmstore.ErrNotFound) ||
		!strings.Contains(err.Error(), "/nonexistent/prompts") {
		t.Fatalf("missing folder: %v", err)
	}
}

// makeSource writes a migration source with tests/python/make_sources.py.
func makeSource(t *testing.T, kind string) string {
	t.Helper()
	py, err := exec.Command(filepath.Join(repoRoot, "scripts/python-env.sh")).Output()
	if err != nil {
		t.Fatalf("python-env.sh: %v", err)
	}
	dir := filepath.Join(t.TempDir(), kind)
	cmd := exec.Command(strings.TrimSpace(string(py)), filepath.Join(repoRoot, "tests/python/make_sources.py"), kind, dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make_sources.py: %v\n%s", err, out)
	}
	return dir
}

func TestMigrate(t *testing.T) {
	db := openTemp(t, nil)
	src := makeSource(t, "tkr")
	side := filepath.Join(t.TempDir(), "side.jsonl")
	var last, known uint64
	r, err := db.Migrate(lmstore.MigrateTkrAgentChat, src, side, func(d, k uint64) { last, known = d, k })
	if err != nil {
		t.Fatal(err)
	}
	if !r.Changed || r.MessagesMigrated != 48 || r.SessionsMigrated != 4 || r.Mismatches != 0 ||
		r.SideRecords["agent_cards"] != 2 || r.SideRecords["task_agents"] != 2 {
		t.Fatalf("report: %+v", r)
	}
	if last != known || known == 0 {
		t.Fatalf("progress ended at %d of %d", last, known)
	}
	again, err := db.Migrate(lmstore.MigrateTkrAgentChat, src, side, nil)
	if err != nil || again.Changed || again.MessagesUnchanged != 48 {
		t.Fatalf("second run: %+v %v", again, err)
	}
	pl := makeSource(t, "promptlightning")
	p, err := db.Migrate(lmstore.MigratePromptlightning, pl, side, nil)
	if err != nil || p.TemplatesMigrated != 3 || len(p.LostVersions) != 2 || p.SourceCount == nil || *p.SourceCount != 5 {
		t.Fatalf("promptlightning: %+v %v", p, err)
	}
	if _, err := db.Migrate(lmstore.MigrateTkrAgentChat, pl, side, nil); !errors.Is(err, lmstore.ErrInvalidArgument) ||
		!strings.Contains(err.Error(), "is a promptlightning store") {
		t.Fatalf("other kind: %v", err)
	}
	if _, err := db.Migrate(lmstore.MigrationKind(9), pl, side, nil); !errors.Is(err, lmstore.ErrInvalidArgument) {
		t.Fatalf("bad kind: %v", err)
	}
	if _, err := db.Migrate(lmstore.MigratePromptlightning, fixture("skips"), side, nil); !errors.Is(err, lmstore.ErrInvalidArgument) ||
		!strings.Contains(err.Error(), "is not an LMDB environment") {
		t.Fatalf("not LMDB: %v", err)
	}
}
