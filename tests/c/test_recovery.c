/*
 * Damaged stores through the C ABI: LMS_OPEN_VERIFY, lms_verify, lms_verify_db and lms_salvage,
 * with their bad inputs. Included by test_lmstore.c (one binary, one export check).
 */

/* Overwrites page `pgno` of dir/data.mdb with zeros (4096-byte pages, as LMDB uses here). */
static void zero_page(const char *dir, long pgno)
{
    char path[4400];
    static const uint8_t zeros[4096];
    FILE *f;
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    f = fopen(path, "r+b");
    REQUIRE(f != NULL, "open data.mdb");
    REQUIRE(fseek(f, pgno * 4096L, SEEK_SET) == 0, "seek");
    REQUIRE(fwrite(zeros, 1, sizeof zeros, f) == sizeof zeros, "write");
    fclose(f);
}

static int contains(const char *hay, size_t n, const char *needle)
{
    size_t i, k = strlen(needle);
    for (i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0) return 1;
    return 0;
}

/* Reads an unsigned field of a report map; -1 when absent. */
static int64_t report_int(const uint8_t *rep, size_t len, const char *key)
{
    int64_t v = -1;
    if (mpr_find_int(mpr_of(rep, len), key, &v)) return -1;
    return v;
}

static void test_recovery(void)
{
    char *dir = temp_dir();
    char store[4200], out[4200], notempty[4200], junk[4200], path[4400];
    uint8_t *rep = NULL;
    size_t rep_len = 99;
    lms_db *db;
    lms_append_result res;
    int i;
    long leaf = -1;

    snprintf(store, sizeof store, "%s/store", dir);
    snprintf(out, sizeof out, "%s/salvaged", dir);
    snprintf(notempty, sizeof notempty, "%s/notempty", dir);
    snprintf(junk, sizeof junk, "%s/junk", dir);

    db = open_path(store, LMS_OPEN_NO_SYNC);
    for (i = 0; i < 600; i++) {
        char content[64];
        snprintf(content, sizeof content, "message number %d with some words", i);
        E(append_simple(db, i % 2 ? "chat-a" : "chat-b", "user", content, NULL, 0, &res));
    }
    E(lms_sync(db));

    /* A sound store verifies clean, by path and through its open handle. */
    E(lms_verify_db(db, &rep, &rep_len));
    CHECK(rep != NULL && report_int(rep, rep_len, "damage_count") == 0, "verify_db: no damage");
    CHECK(mpr_find_streq(mpr_of(rep, rep_len), "table", "x") == 0, "report is a map");
    lms_bytes_free(rep, rep_len);
    rep = NULL;
    lms_close(db);
    E(lms_verify(STR(store), &rep, &rep_len));
    CHECK(rep != NULL && report_int(rep, rep_len, "damage_count") == 0, "verify: no damage");
    CHECK(report_int(rep, rep_len, "page_size") == 4096, "verify: page size reported");
    lms_bytes_free(rep, rep_len);
    rep = NULL;

    /* Bad inputs: status, message, and out-params cleared. */
    EXPECT(lms_verify(NULL, 3, &rep, &rep_len), LMS_INVALID_ARGUMENT, "path is NULL");
    CHECK(rep == NULL && rep_len == 0, "verify: out cleared on failure");
    EXPECT(lms_verify(store, 0, &rep, &rep_len), LMS_INVALID_ARGUMENT, "empty");
    EXPECT(lms_verify("a\0b", 3, &rep, &rep_len), LMS_INVALID_ARGUMENT, "NUL");
    EXPECT(lms_verify(STR(store), NULL, &rep_len), LMS_INVALID_ARGUMENT, "out");
    EXPECT(lms_verify(STR(store), &rep, NULL), LMS_INVALID_ARGUMENT, "out_len");
    EXPECT(lms_verify(STR(dir), &rep, &rep_len), LMS_NOT_FOUND, "no data.mdb");
    EXPECT(lms_verify_db(NULL, &rep, &rep_len), LMS_INVALID_ARGUMENT, "db is NULL");
    EXPECT(lms_salvage(NULL, 1, STR(out), &rep, &rep_len), LMS_INVALID_ARGUMENT, "src is NULL");
    EXPECT(lms_salvage(STR(store), NULL, 1, &rep, &rep_len), LMS_INVALID_ARGUMENT, "dest is NULL");
    EXPECT(lms_salvage(STR(store), STR(out), NULL, &rep_len), LMS_INVALID_ARGUMENT, "out");
    EXPECT(lms_salvage(STR(dir), STR(out), &rep, &rep_len), LMS_NOT_FOUND, "no data.mdb");
    REQUIRE(mkdir(notempty, 0700) == 0, "mkdir");
    snprintf(path, sizeof path, "%s/keep", notempty);
    {
        FILE *f = fopen(path, "w");
        REQUIRE(f != NULL, "create file");
        fclose(f);
    }
    EXPECT(lms_salvage(STR(store), STR(notempty), &rep, &rep_len), LMS_INVALID_ARGUMENT,
           "not empty");
    CHECK(rep == NULL, "salvage: out cleared on failure");

    /* Damage a leaf page of the messages: every page past the tables' roots that holds the
     * text of message 3, found by scanning for it, as a user's damage would land anywhere.
     * Every one: older copies of the page may sit on the free list, and only the live one
     * is damage that verify and salvage must see. */
    {
        FILE *f;
        char page[4096];
        long pgno, hits[64];
        int n = 0, k;
        snprintf(path, sizeof path, "%s/data.mdb", store);
        f = fopen(path, "rb");
        REQUIRE(f != NULL, "open data.mdb");
        for (pgno = 0; n < 64 && fread(page, 1, sizeof page, f) == sizeof page; pgno++) {
            if (pgno >= 2 && contains(page, sizeof page, "message number 3 ")) hits[n++] = pgno;
        }
        fclose(f);
        for (k = 0; k < n; k++) zero_page(store, hits[k]);
        if (n > 0) leaf = hits[0];
    }
    REQUIRE(leaf > 1, "found a page of messages");

    rc = lms_verify(STR(store), &rep, &rep_len);
    CHECK(rc == LMS_CORRUPT && strstr(lms_last_error(), "messages") != NULL,
          "verify finds the damaged page and names the table");
    CHECK(rep != NULL && report_int(rep, rep_len, "damage_count") > 0,
          "the report comes with LMS_CORRUPT");
    lms_bytes_free(rep, rep_len);
    rep = NULL;
    {
        lms_options o;
        lms_db *bad = (lms_db *)&o;
        lms_options_init(&o);
        o.flags = LMS_OPEN_VERIFY;
        EXPECT(lms_open(STR(store), &o, &bad), LMS_CORRUPT, "(messages)");
        CHECK(bad == NULL, "verifying open refuses before LMDB maps the file");
    }

    /* Salvage keeps everything outside the damaged page. */
    E(lms_salvage(STR(store), STR(out), &rep, &rep_len));
    {
        int64_t got = report_int(rep, rep_len, "messages");
        CHECK(got > 450 && got < 600, "salvage recovers the messages outside the damaged page");
        CHECK(report_int(rep, rep_len, "damage_count") > 0, "salvage reports the damage");
        db = open_path(out, 0);
        CHECK((int64_t)stats_of(db).messages == got, "the new store counts what was recovered");
        lms_close(db);
    }
    lms_bytes_free(rep, rep_len);
    rep = NULL;

    /* Junk never crashes either function. */
    REQUIRE(mkdir(junk, 0700) == 0, "mkdir");
    snprintf(path, sizeof path, "%s/data.mdb", junk);
    {
        FILE *f = fopen(path, "wb");
        REQUIRE(f != NULL, "create junk");
        for (i = 0; i < 20000; i++) fputc((i * 7919) & 0xff, f);
        fclose(f);
    }
    EXPECT(lms_verify(STR(junk), &rep, &rep_len), LMS_CORRUPT, "bad magic");
    lms_bytes_free(rep, rep_len);
    rep = NULL;
    snprintf(out, sizeof out, "%s/salvaged-junk", dir);
    E(lms_salvage(STR(junk), STR(out), &rep, &rep_len));
    CHECK(report_int(rep, rep_len, "messages") == 0, "nothing recovered from junk");
    lms_bytes_free(rep, rep_len);
    remove_dir(dir);
}
