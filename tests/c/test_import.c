/*
 * C tests of import, verify, export and migration (src/capi/import.rs): results read from the
 * MessagePack reports, progress callbacks, and every bad input with its status and message.
 * Run from the repository root (fixtures under tests/fixtures, sources made by
 * tests/python/make_sources.py through scripts/python-env.sh).
 */
#include "test_util.h"

struct progress {
    uint64_t calls, done, known;
    int backwards;
};

static void on_progress(void *ctx, uint64_t done, uint64_t known)
{
    struct progress *p = (struct progress *)ctx;
    if (done < p->done || done > known) p->backwards = 1;
    p->calls++;
    p->done = done;
    p->known = known;
}

static int64_t report_int(const uint8_t *r, size_t n, const char *key)
{
    int64_t v = -1;
    CHECK(mpr_find_int(mpr_of(r, n), key, &v) == 0, key);
    return v;
}

/* Makes a migration source of `kind` ("tkr" or "promptlightning") under dir/kind. */
static int make_source(const char *dir, const char *kind)
{
    char python[4096], cmd[8192];
    FILE *f = popen("scripts/python-env.sh", "r");
    size_t n;
    if (!f) return -1;
    n = fread(python, 1, sizeof python - 1, f);
    pclose(f);
    while (n > 0 && (python[n - 1] == '\n' || python[n - 1] == '\r')) n--;
    python[n] = 0;
    if (n == 0) return -1;
    snprintf(cmd, sizeof cmd, "%s tests/python/make_sources.py %s %s/%s", python, kind, dir, kind);
    return system(cmd);
}

static void test_import(void)
{
    char *dir = temp_dir();
    char path[4096];
    lms_db *db;
    uint8_t *r = NULL;
    size_t n = 0;
    struct progress p = {0, 0, 0, 0};

    snprintf(path, sizeof path, "%s/store", dir);
    db = open_path(path, 0);
    E(lms_import_folder(db, STR("tests/fixtures/import/skips"), 0, on_progress, &p, &r, &n));
    CHECK(r != NULL && n > 0, "import report");
    CHECK(report_int(r, n, "imported") == 1, "one file imported");
    CHECK(report_int(r, n, "skipped") == 13, "thirteen files skipped");
    CHECK(p.calls >= 2 && p.done == p.known && p.known == 14 && !p.backwards,
          "progress from 0 to 14 files");
    {
        /* The first file in path order is bad_default.yaml, with its reason and position. */
        mpr files, first;
        size_t count;
        int64_t line = 0, col = 0;
        CHECK(mpr_find(mpr_of(r, n), "files", &files) == 0 && mpr_array(&files, &count) == 0 &&
                  count == 14,
              "files lists every file");
        first = files;
        CHECK(mpr_find_streq(first, "path", "bad_default.yaml"), "first file by path");
        CHECK(mpr_find_streq(first, "outcome", "skipped"), "bad_default.yaml is skipped");
        CHECK(mpr_find_int(first, "line", &line) == 0 && line == 6 &&
                  mpr_find_int(first, "column", &col) == 0 && col == 14,
              "skip reason carries line 6 column 14");
    }
    lms_bytes_free(r, n);

    /* A dry run writes nothing; an atomic run with a failing file writes nothing either. */
    {
        lms_stats before = stats_of(db);
        E(lms_import_folder(db, STR("tests/fixtures/import/typing"), LMS_IMPORT_DRY_RUN, NULL,
                            NULL, &r, &n));
        CHECK(report_int(r, n, "imported") == 2, "dry run reports two imports");
        lms_bytes_free(r, n);
        E(lms_import_folder(db, STR("tests/fixtures/import/typing"), LMS_IMPORT_ATOMIC, NULL,
                            NULL, &r, &n));
        lms_bytes_free(r, n);
        CHECK(stats_of(db).template_versions == before.template_versions,
              "dry and failed atomic runs write nothing");
    }

    /* Verify, export, and the export read back. */
    E(lms_verify_import(db, STR("tests/fixtures/import/skips"), &r, &n));
    CHECK(report_int(r, n, "matched") == 1, "verify matches the imported file");
    lms_bytes_free(r, n);
    snprintf(path, sizeof path, "%s/export", dir);
    E(lms_export_folder(db, STR(path), &r, &n));
    CHECK(report_int(r, n, "versions") == 1, "export wrote one version");
    lms_bytes_free(r, n);
    E(lms_verify_import(db, STR(path), &r, &n));
    CHECK(report_int(r, n, "matched") == 1, "the export verifies");
    lms_bytes_free(r, n);

    /* Bad inputs. */
    r = (uint8_t *)1;
    EXPECT(lms_import_folder(db, STR("/nonexistent/prompts"), 0, NULL, NULL, &r, &n),
           LMS_NOT_FOUND, "/nonexistent/prompts");
    CHECK(r == NULL && n == 0, "out-params cleared on failure");
    EXPECT(lms_import_folder(db, STR("tests/fixtures/import/skips/fine.yml"), 0, NULL, NULL, &r,
                             &n),
           LMS_INVALID_ARGUMENT, "is not a folder");
    EXPECT(lms_import_folder(db, STR("tests/fixtures/import/skips"), 0x80, NULL, NULL, &r, &n),
           LMS_INVALID_ARGUMENT, "unknown import flags");
    EXPECT(lms_import_folder(NULL, STR("x"), 0, NULL, NULL, &r, &n), LMS_INVALID_ARGUMENT,
           "db is NULL");
    EXPECT(lms_import_folder(db, NULL, 3, 0, NULL, NULL, &r, &n), LMS_INVALID_ARGUMENT,
           "path is NULL");
    EXPECT(lms_import_folder(db, "a\0b", 3, 0, NULL, NULL, &r, &n), LMS_INVALID_ARGUMENT, "NUL");
    EXPECT(lms_import_folder(db, STR("tests/fixtures/import/skips"), 0, NULL, NULL, NULL, &n),
           LMS_INVALID_ARGUMENT, "out");
    EXPECT(lms_verify_import(db, STR("/nonexistent/prompts"), &r, &n), LMS_NOT_FOUND,
           "/nonexistent/prompts");
    EXPECT(lms_verify_import(db, STR("x"), NULL, NULL), LMS_INVALID_ARGUMENT, "out");
    EXPECT(lms_export_folder(db, STR(path), &r, &n), LMS_INVALID_ARGUMENT, "is not empty");
    EXPECT(lms_export_folder(NULL, STR(path), &r, &n), LMS_INVALID_ARGUMENT, "db is NULL");
    lms_close(db);

    /* A read-only handle cannot import. */
    snprintf(path, sizeof path, "%s/store", dir);
    db = open_path(path, LMS_OPEN_READ_ONLY);
    EXPECT(lms_import_folder(db, STR("tests/fixtures/import/skips"), 0, NULL, NULL, &r, &n),
           LMS_READ_ONLY, "read-only");
    lms_close(db);
    remove_dir(dir);
}

static void test_migrate(void)
{
    char *dir = temp_dir();
    char path[4096], src[4096], side[4096];
    lms_db *db;
    uint8_t *r = NULL;
    size_t n = 0;
    struct progress p = {0, 0, 0, 0};
    FILE *f;

    REQUIRE(make_source(dir, "tkr") == 0, "make a tkr-agent-chat source");
    REQUIRE(make_source(dir, "promptlightning") == 0, "make a promptlightning source");
    snprintf(path, sizeof path, "%s/store", dir);
    snprintf(side, sizeof side, "%s/side.jsonl", dir);
    db = open_path(path, 0);

    snprintf(src, sizeof src, "%s/tkr", dir);
    E(lms_migrate(db, LMS_MIGRATE_TKR_AGENT_CHAT, STR(src), STR(side), on_progress, &p, &r, &n));
    CHECK(report_int(r, n, "messages_migrated") == 48, "48 messages migrated");
    CHECK(report_int(r, n, "sessions_migrated") == 4, "4 sessions migrated");
    CHECK(report_int(r, n, "mismatches") == 0, "verification finds nothing");
    CHECK(p.calls >= 2 && p.done == p.known && p.known > 0 && !p.backwards, "progress");
    lms_bytes_free(r, n);
    E(lms_migrate(db, LMS_MIGRATE_TKR_AGENT_CHAT, STR(src), STR(side), NULL, NULL, &r, &n));
    CHECK(report_int(r, n, "messages_unchanged") == 48 &&
              report_int(r, n, "messages_migrated") == 0,
          "a second run changes nothing");
    lms_bytes_free(r, n);
    f = fopen(side, "r");
    CHECK(f != NULL, "the side file exists");
    if (f) fclose(f);

    snprintf(src, sizeof src, "%s/promptlightning", dir);
    E(lms_migrate(db, LMS_MIGRATE_PROMPTLIGHTNING, STR(src), STR(side), NULL, NULL, &r, &n));
    CHECK(report_int(r, n, "templates_migrated") == 3, "3 templates migrated");
    lms_bytes_free(r, n);

    /* Bad inputs: a source of the other kind, not LMDB, missing, an lmstore store, bad kind. */
    REJECT(db, lms_migrate(db, LMS_MIGRATE_TKR_AGENT_CHAT, STR(src), STR(side), NULL, NULL, &r, &n),
           LMS_INVALID_ARGUMENT, "is a promptlightning store, not a tkr-agent-chat one");
    CHECK(r == NULL && n == 0, "out-params cleared on failure");
    REJECT(db, lms_migrate(db, LMS_MIGRATE_PROMPTLIGHTNING, STR("tests/fixtures/import"), STR(side),
                           NULL, NULL, &r, &n),
           LMS_INVALID_ARGUMENT, "is not an LMDB environment");
    REJECT(db, lms_migrate(db, LMS_MIGRATE_PROMPTLIGHTNING, STR("/nonexistent/source"), STR(side),
                           NULL, NULL, &r, &n),
           LMS_NOT_FOUND, "/nonexistent/source");
    REJECT(db, lms_migrate(db, LMS_MIGRATE_TKR_AGENT_CHAT, STR(path), STR(side), NULL, NULL, &r,
                           &n),
           LMS_INVALID_ARGUMENT, "is an lmstore store");
    REJECT(db, lms_migrate(db, 9, STR(src), STR(side), NULL, NULL, &r, &n), LMS_INVALID_ARGUMENT,
           "unknown migration kind 9");
    EXPECT(lms_migrate(db, LMS_MIGRATE_PROMPTLIGHTNING, NULL, 4, STR(side), NULL, NULL, &r, &n),
           LMS_INVALID_ARGUMENT, "source is NULL");
    EXPECT(lms_migrate(db, LMS_MIGRATE_PROMPTLIGHTNING, STR(src), NULL, 0, NULL, NULL, &r, &n),
           LMS_INVALID_ARGUMENT, "side_file is NULL");
    EXPECT(lms_migrate(NULL, LMS_MIGRATE_PROMPTLIGHTNING, STR(src), STR(side), NULL, NULL, &r, &n),
           LMS_INVALID_ARGUMENT, "db is NULL");
    lms_close(db);
    remove_dir(dir);
}

int main(void)
{
    test_import();
    printf("import     %s\n", g_failures ? "FAILED" : "ok");
    {
        int before = g_failures;
        test_migrate();
        printf("migrate    %s\n", g_failures == before ? "ok" : "FAILED");
    }
    printf("%d checks, %d failed\n", g_checks, g_failures);
    return g_failures ? 1 : 0;
}
