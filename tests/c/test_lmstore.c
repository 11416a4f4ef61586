/*
 * C test suite for the lmstore ABI, built against the committed header and linked once
 * against liblmstore.so and once against liblmstore.a.
 *
 *   test_lmstore [group...]     groups: basics templates messages sessions backup
 *                               stat readonly shared limits threads procs (default: all)
 *
 * Every exported function is called at least once (the header's list is checked by
 * check-exports.sh). Failures print file:line, the status and lms_last_error().
 */
#include "test_util.h"

#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

/* ------------------------------------------------------------------------------------------ */
/* helpers */

static lms_template_fields tpl_fields(const char *id, const char *version, const char *text)
{
    lms_template_fields f;
    memset(&f, 0, sizeof f);
    f.id = id;
    f.id_len = id ? strlen(id) : 0;
    f.version = version;
    f.version_len = version ? strlen(version) : 0;
    f.text = text;
    f.text_len = text ? strlen(text) : 0;
    return f;
}

static int put_tpl(lms_db *db, const char *id, const char *version, const char *text,
                   uint32_t flags, uint32_t *outcome)
{
    lms_template_fields f = tpl_fields(id, version, text);
    return lms_put_template_fields(db, &f, flags, outcome);
}

static lms_message_in msg_in(const char *session, const char *role, const char *content)
{
    lms_message_in m;
    memset(&m, 0, sizeof m);
    m.session_id = session;
    m.session_id_len = session ? strlen(session) : 0;
    m.role = role;
    m.role_len = role ? strlen(role) : 0;
    m.content = content;
    m.content_len = content ? strlen(content) : 0;
    return m;
}

static int append_simple(lms_db *db, const char *session, const char *role, const char *content,
                         const char *agent, int64_t ts, lms_append_result *res)
{
    lms_message_in m = msg_in(session, role, content);
    if (agent) {
        m.agent_id = agent;
        m.agent_id_len = strlen(agent);
    }
    m.ts = ts;
    return lms_append_message(db, &m, res);
}

/* The text of template `id` (latest, or at `version`), into buf; "" if it cannot be read. */
static const char *tpl_text(lms_db *db, const char *id, const char *version, char *buf, size_t cap)
{
    uint8_t *rec = NULL;
    size_t len = 0;
    lms_template *t = NULL;
    buf[0] = 0;
    if (lms_get_template(db, STR(id), version, version ? strlen(version) : 0, &rec, &len) == 0 &&
        lms_template_decode(rec, len, &t) == 0) {
        size_t n = t->text.len < cap - 1 ? t->text.len : cap - 1;
        memcpy(buf, t->text.ptr, n);
        buf[n] = 0;
    }
    lms_template_free(t);
    lms_bytes_free(rec, len);
    return buf;
}

static int str_is(lms_str s, const char *want)
{
    return s.len == strlen(want) && (s.len == 0 || memcmp(s.ptr, want, s.len) == 0);
}

/* All messages of a session (oldest first) decoded; the caller frees the list. */
static lms_message_list *all_messages(lms_db *db, const char *session, uint32_t flags)
{
    lms_range r;
    lms_page p;
    lms_message_list *l = NULL;
    memset(&r, 0, sizeof r);
    r.limit = LMS_MAX_PAGE;
    r.flags = flags;
    RE(lms_range_messages(db, STR(session), &r, &p));
    RE(lms_messages_decode(p.data, p.len, &l));
    lms_page_free(&p);
    return l;
}

static void make_id(uint8_t id[LMS_ID_LEN], unsigned seed)
{
    unsigned i;
    for (i = 0; i < LMS_ID_LEN; i++) id[i] = (uint8_t)(seed * 31u + i);
    id[0] = (uint8_t)(seed >> 8);
    id[1] = (uint8_t)seed;
}

/* ------------------------------------------------------------------------------------------ */
/* basics: versions, options, status strings, open errors, NULL handles */

static void test_versions(void)
{
    char want[64];
    snprintf(want, sizeof want, "%d.%d.%d", LMS_VERSION_MAJOR, LMS_VERSION_MINOR,
             LMS_VERSION_PATCH);
    CHECK(lms_version() != NULL && strcmp(lms_version(), want) == 0, "lms_version matches header");
    CHECK(lms_version_number() == LMS_VERSION_NUMBER, "lms_version_number matches header");
    CHECK(LMS_VERSION_NUMBER == LMS_VERSION_MAJOR * 10000 + LMS_VERSION_MINOR * 100 +
                                    LMS_VERSION_PATCH,
          "LMS_VERSION_NUMBER composes its parts");
    CHECK(lms_abi_version() == LMS_ABI_VERSION, "lms_abi_version matches header");
}

static void test_options_init(void)
{
    lms_options o;
    memset(&o, 0xab, sizeof o);
    lms_options_init(&o);
    CHECK(o.version == LMS_OPTIONS_VERSION, "options version");
    CHECK(o.flags == 0, "default flags");
    CHECK(o.map_size == (uint64_t)64 << 20, "default map size 64 MiB");
    CHECK(o.max_map_size == (uint64_t)1 << 40, "default growth cap 1 TiB");
    CHECK(o.max_readers == 126, "default max readers");
    CHECK(o.file_mode == 0600, "default file mode 0600");
    lms_options_init(NULL); /* documented no-op */
}

static void test_strerror(void)
{
    static const char *const want[] = {
        "ok", "not found", "invalid argument", "conflict", "map full", "I/O error",
        "corrupt data", "version mismatch", "internal error", "key too long", "invalid UTF-8",
        "bad MessagePack", "bad cursor", "read-only", "too large", "buffer too small",
        "bad render input", "render failed", "not an lmstore", "unsupported by this backend",
    };
    int codes[] = {LMS_OK, LMS_NOT_FOUND, LMS_INVALID_ARGUMENT, LMS_CONFLICT, LMS_MAP_FULL,
                   LMS_IO, LMS_CORRUPT, LMS_VERSION_MISMATCH, LMS_INTERNAL, LMS_KEY_TOO_LONG,
                   LMS_INVALID_UTF8, LMS_BAD_MSGPACK, LMS_BAD_CURSOR, LMS_READ_ONLY,
                   LMS_TOO_LARGE, LMS_BUFFER_TOO_SMALL, LMS_INPUT, LMS_RENDER,
                   LMS_NOT_A_STORE, LMS_UNSUPPORTED};
    size_t i, j;
    for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *s = lms_strerror(codes[i]);
        CHECK(codes[i] == (int)i, "status codes are dense and never renumbered");
        CHECK(s != NULL && strcmp(s, want[i]) == 0, want[i]);
        for (j = 0; j < i; j++)
            CHECK(strcmp(s, lms_strerror(codes[j])) != 0, "distinct status strings");
    }
    CHECK(strcmp(lms_strerror(20), "unknown status") == 0, "unknown status 20");
    CHECK(LMS_UNSUPPORTED == 19, "LMS_UNSUPPORTED is 19");
    CHECK(strcmp(lms_strerror(99), "unknown status") == 0, "unknown status 99");
    CHECK(strcmp(lms_strerror(-1), "unknown status") == 0, "unknown status -1");
    CHECK(strcmp(lms_strerror(1 << 20), "unknown status") == 0, "unknown status large");
}

static void *fresh_thread_error(void *arg)
{
    int *ok = (int *)arg;
    *ok = lms_last_error() != NULL && lms_last_error()[0] == 0 && lms_last_error_os_code() == 0;
    return NULL;
}

static void test_last_error_is_thread_local(void)
{
    pthread_t t;
    int ok = 0;
    lms_db *out = NULL;
    EXPECT(lms_open(NULL, 3, NULL, &out), LMS_INVALID_ARGUMENT, "path is NULL");
    REQUIRE(pthread_create(&t, NULL, fresh_thread_error, &ok) == 0, "pthread_create");
    pthread_join(t, NULL);
    CHECK(ok, "a new thread sees an empty last error and os code 0");
    CHECK(strstr(lms_last_error(), "path is NULL") != NULL, "this thread keeps its message");
}

static void test_open_errors(void)
{
    char *dir = temp_dir();
    char missing[4200];
    lms_options o;
    lms_db *db = (lms_db *)&o; /* a stale pointer that must be cleared */

    EXPECT(lms_open(STR(dir), NULL, NULL), LMS_INVALID_ARGUMENT, "out");
    EXPECT(lms_open(NULL, 5, NULL, &db), LMS_INVALID_ARGUMENT, "path is NULL");
    CHECK(db == NULL, "out cleared on failure");
    EXPECT(lms_open(dir, 0, NULL, &db), LMS_INVALID_ARGUMENT, "empty");
    EXPECT(lms_open("a\0b", 3, NULL, &db), LMS_INVALID_ARGUMENT, "NUL");

    lms_options_init(&o);
    o.version = 99;
    EXPECT(lms_open(STR(dir), &o, &db), LMS_INVALID_ARGUMENT, "lms_options.version");
    lms_options_init(&o);
    o.flags = 0x80;
    EXPECT(lms_open(STR(dir), &o, &db), LMS_INVALID_ARGUMENT, "unknown open flags");
    /* a version-1 caller's struct ends at file_mode: what lies beyond is never read */
    lms_options_init(&o);
    o.version = 1;
    o.pool_size = 0xdeadbeef;
    o.connect_timeout_ms = 0xdeadbeef;
    RE(lms_open(STR(dir), &o, &db));
    lms_close(db);
    db = NULL;

    snprintf(missing, sizeof missing, "%s/never-created", dir);
    lms_options_init(&o);
    o.flags = LMS_OPEN_READ_ONLY;
    db = (lms_db *)&o;
    rc = lms_open(STR(missing), &o, &db);
    CHECK(rc == LMS_NOT_FOUND, "read-only open of a missing store is LMS_NOT_FOUND");
    CHECK(db == NULL, "out cleared on failed read-only open");

    /* a missing parent is not created unless asked */
    snprintf(missing, sizeof missing, "%s/typo/store", dir);
    EXPECT(lms_open(STR(missing), NULL, &db), LMS_NOT_FOUND,
           "does not exist (LMS_OPEN_CREATE_PARENTS creates it)");
    lms_options_init(&o);
    o.flags = LMS_OPEN_CREATE_PARENTS;
    RE(lms_open(STR(missing), &o, &db));
    lms_close(db);
    db = NULL;

    /* a file where a directory should be */
    snprintf(missing, sizeof missing, "%s/plainfile", dir);
    {
        FILE *f = fopen(missing, "w");
        REQUIRE(f != NULL, "create plain file");
        fputs("not a store", f);
        fclose(f);
    }
    rc = lms_open(STR(missing), NULL, &db);
    CHECK(rc != LMS_OK && db == NULL, "opening a plain file fails cleanly");
    CHECK(lms_last_error()[0] != 0, "... with a message");
    remove_dir(dir);
}

static void test_null_handle(void)
{
    uint8_t *out = NULL, id[LMS_ID_LEN] = {0};
    size_t out_len = 0;
    uint32_t outcome = 0;
    uint64_t n = 0;
    lms_stats st;
    lms_page page;
    lms_range r;
    lms_message_in m = msg_in("s", "user", "hi");
    lms_append_result res;
    lms_template_fields f = tpl_fields("t", "1", "x");
    static const uint8_t spec[] = {0x80};
    static const uint8_t batch[] = {0x90};

    memset(&r, 0, sizeof r);
    r.limit = 1;
#define NULL_DB(expr) EXPECT(expr, LMS_INVALID_ARGUMENT, "db is NULL")
    NULL_DB(lms_sync(NULL));
    NULL_DB(lms_upgrade(NULL, NULL));
    NULL_DB(lms_stat(NULL, &st));
    NULL_DB(lms_backup(NULL, STR("/tmp/x"), 0));
    NULL_DB(lms_put_template(NULL, spec, sizeof spec, 0, &outcome));
    NULL_DB(lms_put_template_fields(NULL, &f, 0, &outcome));
    NULL_DB(lms_get_template(NULL, STR("t"), NULL, 0, &out, &out_len));
    NULL_DB(lms_get_template_by_alias(NULL, STR("t"), STR("a"), &out, &out_len));
    NULL_DB(lms_list_templates(NULL, NULL, 0, NULL, 0, 10, &out, &out_len));
    NULL_DB(lms_list_template_versions(NULL, STR("t"), &out, &out_len));
    NULL_DB(lms_delete_template(NULL, STR("t"), NULL, 0));
    NULL_DB(lms_set_template_alias(NULL, STR("t"), STR("a"), STR("1")));
    NULL_DB(lms_delete_template_alias(NULL, STR("t"), STR("a")));
    NULL_DB(lms_list_template_aliases(NULL, STR("t"), &out, &out_len));
    NULL_DB(lms_append_message(NULL, &m, &res));
    NULL_DB(lms_append_messages(NULL, &m, 1, &res));
    NULL_DB(lms_append_messages(NULL, NULL, 0, NULL));
    NULL_DB(lms_append_messages_packed(NULL, batch, sizeof batch, &res, 1));
    NULL_DB(lms_range_messages(NULL, STR("s"), &r, &page));
    NULL_DB(lms_range_agent_messages(NULL, STR("a"), &r, &page));
    NULL_DB(lms_get_message(NULL, id, sizeof id, &out, &out_len));
    NULL_DB(lms_update_message(NULL, id, sizeof id, STR("x"), NULL, 0, LMS_UPDATE_CONTENT));
    NULL_DB(lms_delete_message(NULL, id, sizeof id));
    NULL_DB(lms_trim_session(NULL, STR("s"), 1, &n));
    NULL_DB(lms_trim_session_before(NULL, STR("s"), 1, &n));
    NULL_DB(lms_create_session(NULL, STR("s"), NULL, 0, NULL, 0));
    NULL_DB(lms_get_session(NULL, STR("s"), &out, &out_len));
    NULL_DB(lms_update_session(NULL, STR("s"), STR("t"), NULL, 0, LMS_UPDATE_TITLE));
    NULL_DB(lms_delete_session(NULL, STR("s"), &n));
    NULL_DB(lms_list_sessions(NULL, NULL, 0, 10, &page));
#undef NULL_DB
    CHECK(out == NULL && out_len == 0, "out-params stay cleared");

    /* NULL is a no-op for every destructor */
    lms_close(NULL);
    lms_bytes_free(NULL, 0);
    lms_bytes_free(NULL, 123);
    lms_page_free(NULL);
    lms_template_free(NULL);
    lms_message_list_free(NULL);
    memset(&page, 0, sizeof page);
    lms_page_free(&page);
    lms_page_free(&page);
    CHECK(1, "destructors accept NULL");
}

static void test_decode_errors(void)
{
    static const uint8_t junk[] = {0xc1, 0x00, 0x01};
    static const uint8_t not_template[] = {0x81, 0xa1, 'x', 0x01};
    static const uint8_t empty_array[] = {0x90};
    lms_template *t = (lms_template *)junk;
    lms_message_list *l = (lms_message_list *)junk;

    EXPECT(lms_template_decode(junk, sizeof junk, &t), LMS_BAD_MSGPACK, "");
    CHECK(t == NULL, "template out cleared on failure");
    EXPECT(lms_template_decode(not_template, sizeof not_template, &t), LMS_BAD_MSGPACK,
           "not a template record: 'id' is missing");
    CHECK(t == NULL, "template out cleared on failure");
    lms_template_free(t);
    t = NULL;
    EXPECT(lms_template_decode(NULL, 4, &t), LMS_INVALID_ARGUMENT, "NULL");
    EXPECT(lms_template_decode(not_template, sizeof not_template, NULL), LMS_INVALID_ARGUMENT,
           "out");
    EXPECT(lms_template_decode(NULL, 0, &t), LMS_INVALID_ARGUMENT, "record is NULL");
    EXPECT(lms_messages_decode(junk, sizeof junk, &l), LMS_BAD_MSGPACK, "");
    CHECK(l == NULL, "list out cleared on failure");
    EXPECT(lms_messages_decode(NULL, 2, &l), LMS_INVALID_ARGUMENT, "NULL");
    EXPECT(lms_messages_decode(empty_array, 1, NULL), LMS_INVALID_ARGUMENT, "out");
    E(lms_messages_decode(empty_array, sizeof empty_array, &l));
    CHECK(l != NULL && l->count == 0, "empty page decodes to an empty list");
    lms_message_list_free(l);
}

/* ------------------------------------------------------------------------------------------ */
/* templates */

static void test_templates(void)
{
    char *dir = temp_dir();
    lms_db *db = open_path(dir, 0);
    char text[256], long_id[601];
    uint32_t outcome = 99;
    uint8_t *out = (uint8_t *)text, *rec = NULL;
    size_t out_len = 7, rec_len = 0, n;
    lms_stats s0, s1;
    lms_template *t = NULL;
    lms_template_fields f;
    mpw w;
    mpr r;

    s0 = stats_of(db);
    CHECK(s0.template_ids == 0 && s0.template_versions == 0 && s0.templates_modified_at == 0,
          "fresh store has no templates");

    /* create, identical re-put, conflict, replace */
    E(put_tpl(db, "greet", "1.0.0", "Hello {{ name }}", 0, &outcome));
    CHECK(outcome == LMS_PUT_CREATED, "first put is CREATED");
    s1 = stats_of(db);
    CHECK(s1.template_ids == 1 && s1.template_versions == 1, "counts after first put");
    CHECK(s1.templates_modified_at > 0, "modified time set");
    outcome = 99;
    E(put_tpl(db, "greet", "1.0.0", "Hello {{ name }}", 0, &outcome));
    CHECK(outcome == LMS_PUT_UNCHANGED, "identical re-put is UNCHANGED");
    CHECK(stats_of(db).template_versions == 1, "identical re-put adds no version");
    E(put_tpl(db, "greet", "1.0.0", "Hello {{ name }}", 0, NULL)); /* outcome may be NULL */
    REJECT(db, put_tpl(db, "greet", "1.0.0", "Hi {{ name }}", 0, &outcome), LMS_CONFLICT,
           "1.0.0");
    CHECK(strcmp(tpl_text(db, "greet", "1.0.0", text, sizeof text), "Hello {{ name }}") == 0,
          "conflicting put left the record alone");
    E(put_tpl(db, "greet", "1.0.0", "Hi {{ name }}", LMS_PUT_REPLACE, &outcome));
    CHECK(outcome == LMS_PUT_REPLACED, "replace is REPLACED");
    CHECK(strcmp(tpl_text(db, "greet", "1.0.0", text, sizeof text), "Hi {{ name }}") == 0,
          "replaced text is stored");
    s1 = stats_of(db);
    CHECK(s1.template_ids == 1 && s1.template_versions == 1, "replace keeps the counts");
    E(put_tpl(db, "greet", "1.0.0", "Hi {{ name }}", LMS_PUT_REPLACE, &outcome));
    CHECK(outcome == LMS_PUT_UNCHANGED, "replace with identical content is UNCHANGED");
    REJECT(db, put_tpl(db, "greet", "1.0.0", "x", 0x10, &outcome), LMS_INVALID_ARGUMENT,
           "unknown put flags");

    /* latest = put last; default version */
    E(put_tpl(db, "greet", "2.0.0", "Hey {{ name }}", 0, &outcome));
    E(put_tpl(db, "greet", "1.5.0", "Yo {{ name }}", 0, &outcome));
    CHECK(strcmp(tpl_text(db, "greet", NULL, text, sizeof text), "Yo {{ name }}") == 0,
          "latest is the version put last, not the highest");
    E(put_tpl(db, "plain", NULL, "no version given", 0, &outcome));
    E(lms_get_template(db, STR("plain"), NULL, 0, &rec, &rec_len));
    E(lms_template_decode(rec, rec_len, &t));
    REQUIRE(t != NULL, "decoded");
    CHECK(str_is(t->version, "0.1.0"), "absent version defaults to 0.1.0");
    CHECK(str_is(t->id, "plain") && str_is(t->text, "no version given"), "decoded fields");
    CHECK(t->description.ptr == NULL && t->description.len == 0, "absent description is NULL/0");
    CHECK(t->created_at > 0, "created_at set");
    lms_template_free(t);
    t = NULL;
    lms_bytes_free(rec, rec_len);
    rec = NULL;

    /* the MessagePack spec path, with description, inputs and metadata */
    memset(&w, 0, sizeof w);
    mpw_map(&w, 6);
    mpw_str(&w, "id"); mpw_str(&w, "spec-tpl");
    mpw_str(&w, "version"); mpw_str(&w, "3.1.4");
    mpw_str(&w, "template"); mpw_str(&w, "Summarize {{ text }} in {{ n }} words");
    mpw_str(&w, "description"); mpw_str(&w, "summary prompt");
    mpw_str(&w, "inputs");
    mpw_map(&w, 2);
    mpw_str(&w, "text"); mpw_map(&w, 1); mpw_str(&w, "type"); mpw_str(&w, "string");
    mpw_str(&w, "n"); mpw_map(&w, 3); mpw_str(&w, "type"); mpw_str(&w, "number");
    mpw_str(&w, "required"); mpw_bool(&w, 0); mpw_str(&w, "default"); mpw_int(&w, 50);
    mpw_str(&w, "metadata");
    mpw_map(&w, 1); mpw_str(&w, "owner"); mpw_str(&w, "team-a");
    REQUIRE(!w.err, "spec fits");
    E(lms_put_template(db, w.buf, w.len, 0, &outcome));
    CHECK(outcome == LMS_PUT_CREATED, "msgpack put CREATED");
    E(lms_put_template(db, w.buf, w.len, 0, &outcome));
    CHECK(outcome == LMS_PUT_UNCHANGED, "msgpack identical re-put UNCHANGED");
    E(lms_get_template(db, STR("spec-tpl"), STR("3.1.4"), &rec, &rec_len));
    {
        /* the caller-buffer form: asks for the size, refuses a short buffer, fills an exact one */
        uint8_t small[8], *exact;
        size_t need = 0, got = 0;
        EXPECT(lms_get_template_into(db, STR("spec-tpl"), STR("3.1.4"), NULL, 0, &need),
               LMS_BUFFER_TOO_SMALL, "buffer holds 0");
        CHECK(need == rec_len, "size query reports the record length");
        memset(small, 0xAB, sizeof small);
        EXPECT(lms_get_template_into(db, STR("spec-tpl"), STR("3.1.4"), small, sizeof small, &got),
               LMS_BUFFER_TOO_SMALL, "buffer holds 8");
        CHECK(got == rec_len && small[0] == 0xAB, "a short buffer is left untouched");
        exact = (uint8_t *)malloc(need);
        REQUIRE(exact != NULL, "malloc");
        E(lms_get_template_into(db, STR("spec-tpl"), STR("3.1.4"), exact, need, &got));
        CHECK(got == rec_len && memcmp(exact, rec, rec_len) == 0, "into == allocated copy");
        E(lms_get_template_into(db, STR("spec-tpl"), NULL, 0, exact, need, &got));
        EXPECT(lms_get_template_into(db, STR("nope"), NULL, 0, exact, need, &got), LMS_NOT_FOUND,
               "template 'nope' not found");
        CHECK(got == 0, "out_len cleared on failure");
        EXPECT(lms_get_template_into(db, STR("spec-tpl"), NULL, 0, NULL, need, &got),
               LMS_INVALID_ARGUMENT, "buf is NULL");
        EXPECT(lms_get_template_into(db, STR("spec-tpl"), NULL, 0, exact, need, NULL),
               LMS_INVALID_ARGUMENT, "out_len");
        EXPECT(lms_get_template_into(NULL, STR("spec-tpl"), NULL, 0, exact, need, &got),
               LMS_INVALID_ARGUMENT, "db is NULL");
        free(exact);
    }
    E(lms_template_decode(rec, rec_len, &t));
    REQUIRE(t != NULL, "decoded");
    lms_bytes_free(rec, rec_len); /* the decoded struct owns its memory */
    rec = NULL;
    CHECK(str_is(t->description, "summary prompt"), "description round-trips");
    r = mpr_of((const uint8_t *)t->inputs.ptr, t->inputs.len);
    CHECK(mpr_map(&r, &n) == 0 && n == 2, "inputs is a map of 2");
    r = mpr_of((const uint8_t *)t->metadata.ptr, t->metadata.len);
    CHECK(mpr_find_streq(r, "owner", "team-a"), "metadata round-trips");
    lms_template_free(t);
    t = NULL;

    /* malformed specs */
    {
        static const uint8_t garbage[] = {0xc1};
        static const uint8_t truncated[] = {0x82, 0xa2, 'i', 'd'};
        static const uint8_t array[] = {0x91, 0x01};
        static const uint8_t trailing[] = {0x80, 0x80};
        REJECT(db, lms_put_template(db, garbage, sizeof garbage, 0, &outcome), LMS_BAD_MSGPACK,
               "MessagePack");
        REJECT(db, lms_put_template(db, truncated, sizeof truncated, 0, &outcome),
               LMS_BAD_MSGPACK, "MessagePack");
        REJECT(db, lms_put_template(db, array, sizeof array, 0, &outcome), LMS_BAD_MSGPACK,
               "map");
        REJECT(db, lms_put_template(db, trailing, sizeof trailing, 0, &outcome),
               LMS_BAD_MSGPACK, "");
        REJECT(db, lms_put_template(db, NULL, 9, 0, &outcome), LMS_INVALID_ARGUMENT,
               "spec is NULL");
        REJECT(db, lms_put_template(db, garbage, 0, 0, &outcome), LMS_INVALID_ARGUMENT,
               "empty");
    }
    memset(&w, 0, sizeof w);
    mpw_map(&w, 1); mpw_str(&w, "template"); mpw_str(&w, "x");
    REJECT(db, lms_put_template(db, w.buf, w.len, 0, &outcome), LMS_INVALID_ARGUMENT, "id");
    memset(&w, 0, sizeof w);
    mpw_map(&w, 3); mpw_str(&w, "id"); mpw_str(&w, "u"); mpw_str(&w, "template");
    mpw_str(&w, "x"); mpw_str(&w, "colour"); mpw_str(&w, "red");
    REJECT(db, lms_put_template(db, w.buf, w.len, 0, &outcome), LMS_INVALID_ARGUMENT,
           "colour");
    memset(&w, 0, sizeof w);
    mpw_map(&w, 3); mpw_str(&w, "id"); mpw_str(&w, "u"); mpw_str(&w, "template");
    mpw_str(&w, "x"); mpw_str(&w, "metadata"); mpw_int(&w, 7);
    REJECT(db, lms_put_template(db, w.buf, w.len, 0, &outcome), LMS_BAD_MSGPACK, "metadata");

    /* field-by-field argument checks */
    REJECT(db, lms_put_template_fields(db, NULL, 0, &outcome), LMS_INVALID_ARGUMENT,
           "fields is NULL");
    f = tpl_fields(NULL, "1", "x");
    REJECT(db, lms_put_template_fields(db, &f, 0, &outcome), LMS_INVALID_ARGUMENT, "id is NULL");
    f = tpl_fields("u", "1", "x");
    f.id_len = 0;
    REJECT(db, lms_put_template_fields(db, &f, 0, &outcome), LMS_INVALID_ARGUMENT, "empty");
    f = tpl_fields("u", "1", NULL);
    REJECT(db, lms_put_template_fields(db, &f, 0, &outcome), LMS_INVALID_ARGUMENT,
           "NULL");
    f = tpl_fields("u", "1", "x");
    f.version = NULL;
    f.version_len = 3;
    REJECT(db, lms_put_template_fields(db, &f, 0, &outcome), LMS_INVALID_ARGUMENT,
           "version is NULL but its length is 3");
    f = tpl_fields("u", "1", "x");
    f.id = (const char *)BAD_UTF8;
    f.id_len = sizeof BAD_UTF8;
    REJECT(db, lms_put_template_fields(db, &f, 0, &outcome), LMS_INVALID_UTF8, "template id");
    f = tpl_fields("u", "1", "x");
    f.text = (const char *)BAD_UTF8;
    f.text_len = sizeof BAD_UTF8;
    REJECT(db, lms_put_template_fields(db, &f, 0, &outcome), LMS_INVALID_UTF8, "template");
    f = tpl_fields("u", "1", "x");
    f.version = (const char *)BAD_UTF8;
    f.version_len = sizeof BAD_UTF8;
    REJECT(db, lms_put_template_fields(db, &f, 0, &outcome), LMS_INVALID_UTF8, "version");
    f = tpl_fields("u", "1", "x");
    f.id = "a\0b";
    f.id_len = 3;
    REJECT(db, lms_put_template_fields(db, &f, 0, &outcome), LMS_INVALID_ARGUMENT, "NUL");
    memset(long_id, 'k', 600);
    long_id[600] = 0;
    REJECT(db, put_tpl(db, long_id, "1", "x", 0, &outcome), LMS_KEY_TOO_LONG, "template id");
    f = tpl_fields("u", "1", "x");
    {
        static const uint8_t not_map[] = {0x93, 1, 2, 3};
        static const uint8_t bad_inputs[] = {0x81, 0xa1, 'x', 0x81, 0xa4, 't', 'y', 'p', 'e',
                                             0xa5, 'c', 'o', 'l', 'o', 'r'};
        f.metadata = not_map;
        f.metadata_len = sizeof not_map;
        REJECT(db, lms_put_template_fields(db, &f, 0, &outcome), LMS_BAD_MSGPACK, "metadata");
        f.metadata = NULL;
        f.metadata_len = 0;
        f.inputs = not_map;
        f.inputs_len = sizeof not_map;
        REJECT(db, lms_put_template_fields(db, &f, 0, &outcome), LMS_BAD_MSGPACK,
               "inputs must be a MessagePack map");
        f.inputs = bad_inputs;
        f.inputs_len = sizeof bad_inputs;
        REJECT(db, lms_put_template_fields(db, &f, 0, &outcome), LMS_INVALID_ARGUMENT, "x");
    }

    /* get: missing id vs missing version say different things; out-params are cleared */
    EXPECT(lms_get_template(db, STR("nope"), NULL, 0, &out, &out_len), LMS_NOT_FOUND,
           "template 'nope' not found");
    CHECK(out == NULL && out_len == 0, "out cleared on failure");
    EXPECT(lms_get_template(db, STR("greet"), STR("9.9.9"), &out, &out_len), LMS_NOT_FOUND,
           "has no version '9.9.9'");
    EXPECT(lms_get_template(db, STR("nope"), STR("9.9.9"), &out, &out_len), LMS_NOT_FOUND,
           "nope");
    EXPECT(lms_get_template(db, STR("greet"), NULL, 0, NULL, &out_len), LMS_INVALID_ARGUMENT,
           "out");
    EXPECT(lms_get_template(db, STR("greet"), NULL, 0, &out, NULL), LMS_INVALID_ARGUMENT,
           "out_len");
    EXPECT(lms_get_template(db, NULL, 4, NULL, 0, &out, &out_len), LMS_INVALID_ARGUMENT,
           "id is NULL");
    EXPECT(lms_get_template(db, "greet", 0, NULL, 0, &out, &out_len), LMS_INVALID_ARGUMENT,
           "empty");
    EXPECT(lms_get_template(db, STR("greet"), NULL, 4, &out, &out_len), LMS_INVALID_ARGUMENT,
           "version is NULL but its length is 4");
    EXPECT(lms_get_template(db, (const char *)BAD_UTF8, sizeof BAD_UTF8, NULL, 0, &out,
                            &out_len),
           LMS_INVALID_UTF8, "template id");
    EXPECT(lms_get_template(db, long_id, 600, NULL, 0, &out, &out_len), LMS_KEY_TOO_LONG,
           "template id");

    /* aliases */
    E(lms_set_template_alias(db, STR("greet"), STR("production"), STR("1.0.0")));
    E(lms_get_template_by_alias(db, STR("greet"), STR("production"), &rec, &rec_len));
    E(lms_template_decode(rec, rec_len, &t));
    CHECK(t && str_is(t->version, "1.0.0"), "alias resolves to its version");
    lms_template_free(t);
    t = NULL;
    lms_bytes_free(rec, rec_len);
    rec = NULL;
    E(lms_set_template_alias(db, STR("greet"), STR("production"), STR("2.0.0")));
    E(lms_set_template_alias(db, STR("greet"), STR("staging"), STR("1.5.0")));
    E(lms_list_template_aliases(db, STR("greet"), &rec, &rec_len));
    r = mpr_of(rec, rec_len);
    CHECK(mpr_map(&r, &n) == 0 && n == 2, "two aliases");
    r = mpr_of(rec, rec_len);
    CHECK(mpr_find_streq(r, "production", "2.0.0") && mpr_find_streq(r, "staging", "1.5.0"),
          "alias moved and listed");
    lms_bytes_free(rec, rec_len);
    rec = NULL;
    EXPECT(lms_get_template_by_alias(db, STR("greet"), STR("canary"), &out, &out_len),
           LMS_NOT_FOUND, "has no alias 'canary'");
    CHECK(out == NULL && out_len == 0, "out cleared");
    EXPECT(lms_get_template_by_alias(db, STR("nope"), STR("production"), &out, &out_len),
           LMS_NOT_FOUND, "template 'nope' not found");
    EXPECT(lms_get_template_by_alias(db, STR("greet"), NULL, 2, &out, &out_len),
           LMS_INVALID_ARGUMENT, "alias is NULL");
    EXPECT(lms_get_template_by_alias(db, STR("greet"), "x", 0, &out, &out_len),
           LMS_INVALID_ARGUMENT, "alias is empty");
    EXPECT(lms_get_template_by_alias(db, STR("greet"), (const char *)BAD_UTF8,
                                     sizeof BAD_UTF8, &out, &out_len),
           LMS_INVALID_UTF8, "alias");
    REJECT(db, lms_set_template_alias(db, STR("greet"), STR("production"), STR("7.7.7")),
           LMS_NOT_FOUND, "7.7.7");
    REJECT(db, lms_set_template_alias(db, STR("nope"), STR("production"), STR("1.0.0")),
           LMS_NOT_FOUND, "nope");
    REJECT(db, lms_set_template_alias(db, STR("greet"), NULL, 0, STR("1.0.0")),
           LMS_INVALID_ARGUMENT, "alias is NULL");
    REJECT(db, lms_set_template_alias(db, STR("greet"), STR("p"), NULL, 0),
           LMS_INVALID_ARGUMENT, "version is NULL");
    REJECT(db, lms_set_template_alias(db, STR("greet"), (const char *)BAD_UTF8,
                                      sizeof BAD_UTF8, STR("1.0.0")),
           LMS_INVALID_UTF8, "alias");
    E(lms_delete_template_alias(db, STR("greet"), STR("staging")));
    REJECT(db, lms_delete_template_alias(db, STR("greet"), STR("staging")), LMS_NOT_FOUND,
           "staging");
    REJECT(db, lms_delete_template_alias(db, STR("nope"), STR("staging")), LMS_NOT_FOUND,
           "nope");
    EXPECT(lms_list_template_aliases(db, STR("greet"), NULL, &out_len), LMS_INVALID_ARGUMENT,
           "out");

    /* versions in put order */
    E(lms_list_template_versions(db, STR("greet"), &rec, &rec_len));
    {
        static const char *const order[] = {"1.0.0", "2.0.0", "1.5.0"};
        size_t i;
        r = mpr_of(rec, rec_len);
        CHECK(mpr_array(&r, &n) == 0 && n == 3, "three versions");
        for (i = 0; i < 3 && i < n; i++) {
            int64_t created = 0;
            CHECK(mpr_find_streq(r, "version", order[i]), "versions listed in put order");
            CHECK(mpr_find_int(r, "created_at", &created) == 0 && created > 0, "created_at");
            mpr_skip(&r);
        }
    }
    lms_bytes_free(rec, rec_len);
    rec = NULL;
    EXPECT(lms_list_template_versions(db, STR("nope"), &out, &out_len), LMS_NOT_FOUND, "nope");
    EXPECT(lms_list_template_versions(db, NULL, 0, &out, &out_len), LMS_INVALID_ARGUMENT,
           "id is NULL");

    /* listing ids: order, prefix, paging, limits */
    E(put_tpl(db, "a/one", "1", "x", 0, NULL));
    E(put_tpl(db, "a/two", "1", "x", 0, NULL));
    E(put_tpl(db, "a/three", "1", "x", 0, NULL));
    E(put_tpl(db, "b/one", "1", "x", 0, NULL));
    {
        static const char *const want_all[] = {"a/one", "a/three", "a/two", "b/one",
                                               "greet", "plain", "spec-tpl"};
        const char *s;
        size_t sl, i;
        E(lms_list_templates(db, NULL, 0, NULL, 0, 100, &rec, &rec_len));
        r = mpr_of(rec, rec_len);
        CHECK(mpr_array(&r, &n) == 0 && n == 7, "seven ids");
        for (i = 0; i < n && i < 7; i++)
            CHECK(mpr_bytes(&r, &s, &sl) == 0 && sl == strlen(want_all[i]) &&
                      memcmp(s, want_all[i], sl) == 0,
                  "ids in byte order");
        lms_bytes_free(rec, rec_len);
        rec = NULL;
        E(lms_list_templates(db, STR("a/"), NULL, 0, 2, &rec, &rec_len));
        r = mpr_of(rec, rec_len);
        CHECK(mpr_array(&r, &n) == 0 && n == 2, "first page of prefix a/");
        mpr_skip(&r);
        CHECK(mpr_bytes(&r, &s, &sl) == 0 && sl == 7 && memcmp(s, "a/three", 7) == 0,
              "page ends at a/three");
        lms_bytes_free(rec, rec_len);
        rec = NULL;
        E(lms_list_templates(db, STR("a/"), STR("a/three"), 2, &rec, &rec_len));
        r = mpr_of(rec, rec_len);
        CHECK(mpr_array(&r, &n) == 0 && n == 1, "second page has the rest");
        CHECK(mpr_bytes(&r, &s, &sl) == 0 && sl == 5 && memcmp(s, "a/two", 5) == 0,
              "second page resumes after the cursor id");
        lms_bytes_free(rec, rec_len);
        rec = NULL;
        E(lms_list_templates(db, STR("zzz"), NULL, 0, 10, &rec, &rec_len));
        r = mpr_of(rec, rec_len);
        CHECK(mpr_array(&r, &n) == 0 && n == 0, "unknown prefix is an empty list");
        lms_bytes_free(rec, rec_len);
        rec = NULL;
    }
    EXPECT(lms_list_templates(db, NULL, 0, NULL, 0, 0, &out, &out_len), LMS_INVALID_ARGUMENT,
           "limit");
    EXPECT(lms_list_templates(db, NULL, 0, NULL, 0, LMS_MAX_PAGE + 1, &out, &out_len),
           LMS_INVALID_ARGUMENT, "limit");
    EXPECT(lms_list_templates(db, NULL, 3, NULL, 0, 10, &out, &out_len), LMS_INVALID_ARGUMENT,
           "prefix is NULL");
    EXPECT(lms_list_templates(db, (const char *)BAD_UTF8, sizeof BAD_UTF8, NULL, 0, 10, &out,
                              &out_len),
           LMS_INVALID_UTF8, "prefix");
    EXPECT(lms_list_templates(db, NULL, 0, NULL, 0, 10, NULL, NULL), LMS_INVALID_ARGUMENT,
           "out");

    /* deletes: a version (latest falls back), a whole id, counts follow */
    s0 = stats_of(db);
    E(lms_delete_template(db, STR("greet"), STR("1.5.0")));
    CHECK(strcmp(tpl_text(db, "greet", NULL, text, sizeof text), "Hey {{ name }}") == 0,
          "deleting the latest makes the one put before it latest");
    s1 = stats_of(db);
    CHECK(s1.template_versions == s0.template_versions - 1 && s1.template_ids == s0.template_ids,
          "version count drops by one");
    CHECK(s1.templates_modified_at >= s0.templates_modified_at, "modified time moves forward");
    E(lms_delete_template(db, STR("greet"), STR("2.0.0")));
    E(lms_list_template_aliases(db, STR("greet"), &rec, &rec_len));
    r = mpr_of(rec, rec_len);
    CHECK(mpr_map(&r, &n) == 0 && n == 0, "aliases to a deleted version go with it");
    lms_bytes_free(rec, rec_len);
    rec = NULL;
    REJECT(db, lms_delete_template(db, STR("greet"), STR("2.0.0")), LMS_NOT_FOUND,
           "has no version '2.0.0'");
    REJECT(db, lms_delete_template(db, STR("nope"), NULL, 0), LMS_NOT_FOUND,
           "template 'nope' not found");
    REJECT(db, lms_delete_template(db, NULL, 1, NULL, 0), LMS_INVALID_ARGUMENT, "id is NULL");
    s0 = stats_of(db);
    E(lms_delete_template(db, STR("spec-tpl"), NULL, 0));
    s1 = stats_of(db);
    CHECK(s1.template_ids == s0.template_ids - 1 &&
              s1.template_versions == s0.template_versions - 1,
          "deleting an id drops its versions");
    EXPECT(lms_get_template(db, STR("spec-tpl"), NULL, 0, &out, &out_len), LMS_NOT_FOUND,
           "not found");
    E(put_tpl(db, "spec-tpl", "1", "back", 0, &outcome));
    CHECK(outcome == LMS_PUT_CREATED, "a deleted id can be put again");
    E(lms_delete_template(db, STR("greet"), NULL, 0));
    E(lms_delete_template(db, STR("a/one"), NULL, 0));
    E(lms_delete_template(db, STR("a/two"), NULL, 0));
    E(lms_delete_template(db, STR("a/three"), NULL, 0));
    E(lms_delete_template(db, STR("b/one"), NULL, 0));
    E(lms_delete_template(db, STR("plain"), NULL, 0));
    E(lms_delete_template(db, STR("spec-tpl"), NULL, 0));
    s1 = stats_of(db);
    CHECK(s1.template_ids == 0 && s1.template_versions == 0, "all deleted: counts back to 0");

    lms_close(db);
    remove_dir(dir);
}

/* ------------------------------------------------------------------------------------------ */
/* messages */

static void test_message_append_errors(lms_db *db)
{
    lms_message_in m, batch[3];
    lms_append_result res[3];
    char long_name[601];
    uint8_t short_id[5] = {1, 2, 3, 4, 5};
    static const uint8_t not_map[] = {0x01};
    static const uint8_t bad_mp[] = {0x81, 0xa3, 'k'};

    memset(long_name, 's', 600);
    long_name[600] = 0;

    REJECT(db, lms_append_message(db, NULL, res), LMS_INVALID_ARGUMENT, "msg is NULL");
    m = msg_in(NULL, "user", "x");
    REJECT(db, lms_append_message(db, &m, res), LMS_INVALID_ARGUMENT, "session_id is NULL");
    m = msg_in("s", "user", "x");
    m.session_id_len = 0;
    REJECT(db, lms_append_message(db, &m, res), LMS_INVALID_ARGUMENT, "session_id is empty");
    m = msg_in("s", NULL, "x");
    REJECT(db, lms_append_message(db, &m, res), LMS_INVALID_ARGUMENT, "role is NULL");
    m = msg_in("s", "user", "x");
    m.ts = INT64_MAX;
    REJECT(db, lms_append_message(db, &m, res), LMS_INVALID_ARGUMENT, "end of year 9999");
    m.ts = -5;
    REJECT(db, lms_append_message(db, &m, res), LMS_INVALID_ARGUMENT, "got -5");
    m = msg_in("s", "user", NULL);
    m.content_len = 4;
    REJECT(db, lms_append_message(db, &m, res), LMS_INVALID_ARGUMENT,
           "content is NULL but its length is 4");
    m = msg_in("s", "user", "x");
    m.session_id = (const char *)BAD_UTF8;
    m.session_id_len = sizeof BAD_UTF8;
    REJECT(db, lms_append_message(db, &m, res), LMS_INVALID_UTF8, "session_id");
    m = msg_in("s", "user", "x");
    m.content = (const char *)BAD_UTF8;
    m.content_len = sizeof BAD_UTF8;
    REJECT(db, lms_append_message(db, &m, res), LMS_INVALID_UTF8, "content");
    m = msg_in("s", "user", "x");
    m.role = (const char *)BAD_UTF8;
    m.role_len = sizeof BAD_UTF8;
    REJECT(db, lms_append_message(db, &m, res), LMS_INVALID_UTF8, "role");
    m = msg_in("s", "user", "x");
    m.agent_id = (const char *)BAD_UTF8;
    m.agent_id_len = sizeof BAD_UTF8;
    REJECT(db, lms_append_message(db, &m, res), LMS_INVALID_UTF8, "agent_id");
    m = msg_in(long_name, "user", "x");
    REJECT(db, lms_append_message(db, &m, res), LMS_KEY_TOO_LONG, "session_id");
    m = msg_in("s", "user", "x");
    m.agent_id = long_name;
    m.agent_id_len = 600;
    REJECT(db, lms_append_message(db, &m, res), LMS_KEY_TOO_LONG, "agent_id");
    m = msg_in("s", "user", "x");
    m.id = short_id;
    m.id_len = sizeof short_id;
    REJECT(db, lms_append_message(db, &m, res), LMS_INVALID_ARGUMENT, "16 bytes");
    m = msg_in("s", "user", "x");
    m.in_reply_to = short_id;
    m.in_reply_to_len = 3;
    REJECT(db, lms_append_message(db, &m, res), LMS_INVALID_ARGUMENT, "in_reply_to");
    m = msg_in("s", "user", "x");
    m.metadata = not_map;
    m.metadata_len = sizeof not_map;
    REJECT(db, lms_append_message(db, &m, res), LMS_BAD_MSGPACK, "metadata");
    m.metadata = bad_mp;
    m.metadata_len = sizeof bad_mp;
    REJECT(db, lms_append_message(db, &m, res), LMS_BAD_MSGPACK, "metadata");

    /* a batch is all or nothing, and the message names the bad item */
    batch[0] = msg_in("batch", "user", "one");
    batch[1] = msg_in("batch", "user", "two");
    batch[1].content = (const char *)BAD_UTF8;
    batch[1].content_len = sizeof BAD_UTF8;
    batch[2] = msg_in("batch", "user", "three");
    REJECT(db, lms_append_messages(db, batch, 3, res), LMS_INVALID_UTF8, "message 1");
    REJECT(db, lms_append_messages(db, NULL, 2, res), LMS_INVALID_ARGUMENT, "NULL");
    REJECT(db, lms_append_messages(db, batch, 2, NULL), LMS_INVALID_ARGUMENT, "NULL");
    {
        uint64_t before = fingerprint(db);
        E(lms_append_messages(db, NULL, 0, NULL));
        CHECK(fingerprint(db) == before, "an empty batch writes nothing");
    }
}

static void test_packed(lms_db *db)
{
    mpw w;
    lms_append_result res[2];
    uint8_t id[LMS_ID_LEN];
    static const uint8_t garbage[] = {0xc1, 0xc1};
    static const uint8_t a_map[] = {0x80};
    lms_stats s0 = stats_of(db);

    make_id(id, 900);
    memset(&w, 0, sizeof w);
    mpw_array(&w, 2);
    mpw_map(&w, 4);
    mpw_str(&w, "session_id"); mpw_str(&w, "packed");
    mpw_str(&w, "id"); mpw_bin(&w, id, sizeof id);
    mpw_str(&w, "role"); mpw_str(&w, "user");
    mpw_str(&w, "content"); mpw_str(&w, "packed one");
    mpw_map(&w, 5);
    mpw_str(&w, "session_id"); mpw_str(&w, "packed");
    mpw_str(&w, "role"); mpw_str(&w, "assistant");
    mpw_str(&w, "agent_id"); mpw_str(&w, "packer");
    mpw_str(&w, "content"); mpw_str(&w, "packed two");
    mpw_str(&w, "in_reply_to"); mpw_bin(&w, id, sizeof id);
    REQUIRE(!w.err, "batch fits");

    REJECT(db, lms_append_messages_packed(db, w.buf, w.len, res, 1), LMS_INVALID_ARGUMENT,
           "room for 1");
    REJECT(db, lms_append_messages_packed(db, w.buf, w.len, NULL, 0), LMS_INVALID_ARGUMENT,
           "room");
    REJECT(db, lms_append_messages_packed(db, garbage, sizeof garbage, res, 2), LMS_BAD_MSGPACK,
           "MessagePack");
    REJECT(db, lms_append_messages_packed(db, a_map, sizeof a_map, res, 2), LMS_BAD_MSGPACK,
           "array");
    REJECT(db, lms_append_messages_packed(db, NULL, 0, res, 2), LMS_INVALID_ARGUMENT,
           "batch is NULL");
    REJECT(db, lms_append_messages_packed(db, NULL, 7, res, 2), LMS_INVALID_ARGUMENT,
           "batch is NULL");
    E(lms_append_messages_packed(db, w.buf, w.len, res, 2));
    CHECK(memcmp(res[0].id, id, sizeof id) == 0, "given id kept");
    CHECK(res[0].outcome == LMS_APPEND_STORED && res[1].outcome == LMS_APPEND_STORED,
          "both stored");
    CHECK(res[1].ts >= res[0].ts, "assigned times keep batch order");
    CHECK((res[1].id[6] >> 4) == 7, "generated ids are UUIDv7");
    CHECK(stats_of(db).messages == s0.messages + 2, "two messages counted");
}

/* Appends n messages sharing timestamps, then pages through them with small pages in both
 * directions: every message must appear exactly once and in the same order as one big page. */
static void test_paging_ties(lms_db *db)
{
    enum { N = 23, PAGE = 4 };
    lms_message_in m[N];
    lms_append_result res[N];
    uint8_t ids[N][LMS_ID_LEN];
    int dir_;
    size_t i;

    for (i = 0; i < N; i++) {
        m[i] = msg_in("ties", i % 2 ? "assistant" : "user", "same time");
        make_id(ids[i], (unsigned)(2000 + N - i)); /* ids in descending byte order: order must not
                                               come from insertion */
        m[i].id = ids[i];
        m[i].id_len = LMS_ID_LEN;
        m[i].ts = i < 10 ? 1000 : (i < 20 ? 2000 : 3000);
    }
    E(lms_append_messages(db, m, N, res));
    for (i = 0; i < N; i++)
        CHECK(res[i].ts == m[i].ts, "explicit ts stored as given");

    for (dir_ = 0; dir_ < 2; dir_++) {
        lms_message_list *all = all_messages(db, "ties", dir_ ? LMS_RANGE_REVERSE : 0);
        uint8_t cursor[LMS_CURSOR_MAX];
        size_t cursor_len = 0, seen = 0, pages = 0;
        CHECK(all->count == N, "one page holds them all");
        for (i = 1; i < all->count; i++)
            CHECK(dir_ ? all->items[i].ts <= all->items[i - 1].ts
                       : all->items[i].ts >= all->items[i - 1].ts,
                  "time order");
        for (;;) {
            lms_range r;
            lms_page p;
            lms_message_list *l = NULL;
            memset(&r, 0, sizeof r);
            r.limit = PAGE;
            r.flags = dir_ ? LMS_RANGE_REVERSE : 0;
            r.cursor = cursor_len ? cursor : NULL;
            r.cursor_len = cursor_len;
            E(lms_range_messages(db, STR("ties"), &r, &p));
            if (rc != LMS_OK) break;
            E(lms_messages_decode(p.data, p.len, &l));
            CHECK(l && l->count == p.count, "decoded count matches page count");
            for (i = 0; l && i < l->count && seen + i < all->count; i++)
                CHECK(memcmp(l->items[i].id, all->items[seen + i].id, LMS_ID_LEN) == 0,
                      "page resumes exactly after the cursor");
            seen += p.count;
            pages++;
            CHECK(p.cursor_len <= LMS_CURSOR_MAX, "cursor fits");
            memcpy(cursor, p.cursor, p.cursor_len);
            cursor_len = p.cursor_len;
            lms_message_list_free(l);
            lms_page_free(&p);
            if (cursor_len == 0 || pages > N) break;
        }
        CHECK(seen == N, "paging visits every message once");
        CHECK(pages == (N + PAGE - 1) / PAGE, "no empty trailing page");
        lms_message_list_free(all);
    }

    /* a window: [2000, 3000) */
    {
        lms_range r;
        lms_page p;
        memset(&r, 0, sizeof r);
        r.limit = 100;
        r.flags = LMS_RANGE_START | LMS_RANGE_END;
        r.start_ts = 2000;
        r.end_ts = 3000;
        E(lms_range_messages(db, STR("ties"), &r, &p));
        CHECK(p.count == 10 && p.cursor_len == 0, "start inclusive, end exclusive");
        lms_page_free(&p);
        r.flags = LMS_RANGE_START | LMS_RANGE_REVERSE;
        r.start_ts = 2001;
        E(lms_range_messages(db, STR("ties"), &r, &p));
        CHECK(p.count == 3, "start bound, newest first");
        {
            /* the caller-buffer form returns the same bytes and cursor */
            lms_page_info info;
            uint8_t *buf = (uint8_t *)malloc(p.len);
            REQUIRE(buf != NULL, "malloc");
            EXPECT(lms_range_messages_into(db, STR("ties"), &r, buf, p.len - 1, &info),
                   LMS_BUFFER_TOO_SMALL, "buffer holds");
            CHECK(info.len == p.len && info.count == 0, "too small: only the size needed");
            E(lms_range_messages_into(db, STR("ties"), &r, buf, p.len, &info));
            CHECK(info.len == p.len && info.count == p.count && info.cursor_len == p.cursor_len &&
                      memcmp(buf, p.data, p.len) == 0,
                  "into == allocated page");
            r.limit = 1;
            E(lms_range_messages_into(db, STR("ties"), &r, buf, p.len, &info));
            CHECK(info.count == 1 && info.cursor_len > 0, "a full page carries a cursor");
            EXPECT(lms_range_messages_into(db, STR("ties"), &r, buf, p.len, NULL),
                   LMS_INVALID_ARGUMENT, "out");
            r.limit = 0;
            EXPECT(lms_range_messages_into(db, STR("ties"), &r, buf, p.len, &info),
                   LMS_INVALID_ARGUMENT, "limit");
            free(buf);
        }
        lms_page_free(&p);
    }
}

static void test_range_errors(lms_db *db)
{
    lms_range r;
    lms_page p;
    uint8_t cursor[LMS_CURSOR_MAX];
    uint32_t cursor_len;
    static const uint8_t junk_cursor[] = {9, 9, 9, 9, 9};

    memset(&r, 0, sizeof r);
    memset(&p, 0x5a, sizeof p);
    r.limit = 5;
    E(lms_range_messages(db, STR("no-such-session"), &r, &p));
    CHECK(p.count == 0 && p.cursor_len == 0, "unknown session: empty last page");
    {
        lms_message_list *l = NULL;
        E(lms_messages_decode(p.data, p.len, &l));
        CHECK(l && l->count == 0, "empty page decodes");
        lms_message_list_free(l);
    }
    lms_page_free(&p);
    E(lms_range_agent_messages(db, STR("no-such-agent"), &r, &p));
    CHECK(p.count == 0, "unknown agent: empty page");
    lms_page_free(&p);

    /* caller buffers at their edges: the header kept for a page of 50 takes 3 bytes, an
     * empty page needs 1 and a short page gives 2 back */
    {
        lms_page_info info;
        uint8_t one[1] = {0}, *buf;
        size_t need;
        r.limit = 50;
        E(lms_range_messages_into(db, STR("no-such-session"), &r, one, 1, &info));
        CHECK(info.len == 1 && one[0] == 0x90 && info.count == 0, "empty page in one byte");
        EXPECT(lms_range_messages_into(db, STR("no-such-session"), &r, NULL, 0, &info),
               LMS_BUFFER_TOO_SMALL, "buffer holds 0");
        CHECK(info.len == 1, "size of an empty page");
        EXPECT(lms_range_messages_into(db, STR("no-such-session"), &r, NULL, 10, &info),
               LMS_INVALID_ARGUMENT, "buf is NULL but its capacity is 10");
        EXPECT(lms_range_agent_messages_into(db, STR("packer"), &r, NULL, 10, &info),
               LMS_INVALID_ARGUMENT, "buf is NULL but its capacity is 10");
        EXPECT(lms_range_agent_messages_into(db, STR("packer"), &r, NULL, 0, &info),
               LMS_BUFFER_TOO_SMALL, "buffer holds 0");
        need = info.len;
        CHECK(need > 60, "an agent's page has a size");
        buf = (uint8_t *)malloc(need);
        REQUIRE(buf != NULL, "malloc");
        EXPECT(lms_range_agent_messages_into(db, STR("packer"), &r, buf, need - 1, &info),
               LMS_BUFFER_TOO_SMALL, "buffer holds");
        CHECK(info.len == need && info.count == 0, "one byte short: the size needed again");
        E(lms_range_agent_messages_into(db, STR("packer"), &r, buf, need, &info));
        CHECK(info.len == need && info.count == 1, "exactly the size needed");
        E(lms_range_agent_messages(db, STR("packer"), &r, &p));
        CHECK(p.len == need && memcmp(p.data, buf, need) == 0, "into == allocated agent page");
        lms_page_free(&p);
        free(buf);
        r.limit = 5;
    }

    r.limit = 0;
    EXPECT(lms_range_messages(db, STR("ties"), &r, &p), LMS_INVALID_ARGUMENT, "limit");
    CHECK(p.data == NULL && p.count == 0, "page cleared on failure");
    r.limit = LMS_MAX_PAGE + 1;
    EXPECT(lms_range_messages(db, STR("ties"), &r, &p), LMS_INVALID_ARGUMENT, "limit");
    EXPECT(lms_range_agent_messages(db, STR("a"), &r, &p), LMS_INVALID_ARGUMENT, "limit");
    r.limit = 2;
    r.flags = 0x100;
    EXPECT(lms_range_messages(db, STR("ties"), &r, &p), LMS_INVALID_ARGUMENT,
           "unknown range flags");
    r.flags = 0;
    EXPECT(lms_range_messages(db, STR("ties"), NULL, &p), LMS_INVALID_ARGUMENT, "range is NULL");
    EXPECT(lms_range_messages(db, STR("ties"), &r, NULL), LMS_INVALID_ARGUMENT, "out");
    EXPECT(lms_range_messages(db, NULL, 4, &r, &p), LMS_INVALID_ARGUMENT, "session_id is NULL");
    EXPECT(lms_range_agent_messages(db, NULL, 0, &r, &p), LMS_INVALID_ARGUMENT,
           "agent_id is NULL");
    r.cursor = NULL;
    r.cursor_len = 8;
    EXPECT(lms_range_messages(db, STR("ties"), &r, &p), LMS_INVALID_ARGUMENT,
           "cursor is NULL but its length is 8");
    r.cursor = junk_cursor;
    r.cursor_len = sizeof junk_cursor;
    EXPECT(lms_range_messages(db, STR("ties"), &r, &p), LMS_BAD_CURSOR, "malformed cursor");
    r.cursor_len = 2;
    EXPECT(lms_range_messages(db, STR("ties"), &r, &p), LMS_BAD_CURSOR, "malformed cursor");

    /* a real cursor, misused */
    r.cursor = NULL;
    r.cursor_len = 0;
    E(lms_range_messages(db, STR("ties"), &r, &p));
    REQUIRE(p.cursor_len > 0, "a first page of 2 has a cursor");
    cursor_len = p.cursor_len;
    memcpy(cursor, p.cursor, cursor_len);
    lms_page_free(&p);
    r.cursor = cursor;
    r.cursor_len = cursor_len;
    r.flags = LMS_RANGE_REVERSE;
    EXPECT(lms_range_messages(db, STR("ties"), &r, &p), LMS_BAD_CURSOR, "opposite direction");
    r.flags = 0;
    EXPECT(lms_range_agent_messages(db, STR("a"), &r, &p), LMS_BAD_CURSOR, "different kind");
    EXPECT(lms_list_sessions(db, cursor, cursor_len, 10, &p), LMS_BAD_CURSOR, "different kind");
    EXPECT(lms_range_messages(db, STR("other"), &r, &p), LMS_BAD_CURSOR,
           "the cursor belongs to another session's listing");
    r.cursor_len = cursor_len - 1;
    EXPECT(lms_range_messages(db, STR("ties"), &r, &p), LMS_BAD_CURSOR, "malformed cursor");
}

static void test_messages(void)
{
    char *dir = temp_dir();
    lms_db *db = open_path(dir, 0);
    lms_append_result r1, r2, dup;
    lms_message_in m;
    lms_message_list *l = NULL;
    uint8_t *rec = (uint8_t *)dir, id[LMS_ID_LEN], missing[LMS_ID_LEN];
    size_t rec_len = 3, i;
    lms_stats s0, s1;
    uint64_t deleted = 99;
    static const uint8_t meta[] = {0x81, 0xa6, 't', 'o', 'k', 'e', 'n', 's', 0x2a};
    mpr mr;
    int64_t v;

    /* a conversation with metadata, an agent and a reply */
    E(append_simple(db, "conv", "user", "What is LMDB?", NULL, 0, &r1));
    CHECK(r1.outcome == LMS_APPEND_STORED && r1.ts > 0, "stored with an assigned ts");
    CHECK((r1.id[6] >> 4) == 7 && (r1.id[8] & 0xc0) == 0x80, "generated id is a UUIDv7");
    m = msg_in("conv", "assistant", "A memory-mapped B+tree store.");
    m.agent_id = "helper-bot";
    m.agent_id_len = strlen(m.agent_id);
    m.in_reply_to = r1.id;
    m.in_reply_to_len = LMS_ID_LEN;
    m.metadata = meta;
    m.metadata_len = sizeof meta;
    E(lms_append_message(db, &m, &r2));
    CHECK(r2.ts >= r1.ts, "assigned ts never goes back within a session");
    E(append_simple(db, "conv", "user", "", NULL, 0, NULL)); /* empty content, no result */
    s0 = stats_of(db);
    CHECK(s0.sessions == 1 && s0.messages == 3, "session created by its first message");

    /* get by id */
    E(lms_get_message(db, r2.id, LMS_ID_LEN, &rec, &rec_len));
    E(lms_messages_decode(rec, rec_len, &l));
    REQUIRE(l != NULL && l->count == 1, "one record decodes to a list of one");
    CHECK(memcmp(l->items[0].id, r2.id, LMS_ID_LEN) == 0, "id");
    CHECK(str_is(l->items[0].session_id, "conv") && str_is(l->items[0].role, "assistant") &&
              str_is(l->items[0].agent_id, "helper-bot") &&
              str_is(l->items[0].content, "A memory-mapped B+tree store."),
          "fields round-trip");
    CHECK(l->items[0].ts == r2.ts, "ts");
    CHECK(l->items[0].has_reply_to == 1 && memcmp(l->items[0].in_reply_to, r1.id, 16) == 0,
          "in_reply_to");
    mr = mpr_of((const uint8_t *)l->items[0].metadata.ptr, l->items[0].metadata.len);
    CHECK(mpr_find_int(mr, "tokens", &v) == 0 && v == 42, "metadata round-trips");
    CHECK(l->items[0].created_at > 0 && l->items[0].updated_at >= l->items[0].created_at,
          "created/updated times");
    lms_message_list_free(l);
    l = NULL;
    lms_bytes_free(rec, rec_len);
    rec = NULL;
    memset(missing, 0x42, sizeof missing);
    EXPECT(lms_get_message(db, missing, LMS_ID_LEN, &rec, &rec_len), LMS_NOT_FOUND, "not found");
    CHECK(rec == NULL && rec_len == 0, "out cleared");
    EXPECT(lms_get_message(db, missing, 5, &rec, &rec_len), LMS_INVALID_ARGUMENT, "16 bytes");
    EXPECT(lms_get_message(db, NULL, 16, &rec, &rec_len), LMS_INVALID_ARGUMENT, "id is NULL");
    EXPECT(lms_get_message(db, r2.id, LMS_ID_LEN, NULL, &rec_len), LMS_INVALID_ARGUMENT, "out");

    /* duplicate ids store nothing and report the stored ts */
    make_id(id, 7);
    m = msg_in("conv", "user", "first");
    m.id = id;
    m.id_len = LMS_ID_LEN;
    E(lms_append_message(db, &m, &r1));
    CHECK(r1.outcome == LMS_APPEND_STORED, "stored");
    m.content = "second";
    m.content_len = 6;
    s0 = stats_of(db);
    {
        uint64_t before = fingerprint(db);
        E(lms_append_message(db, &m, &dup));
        CHECK(dup.outcome == LMS_APPEND_DUPLICATE, "same id again is LMS_APPEND_DUPLICATE");
        CHECK(dup.ts == r1.ts && memcmp(dup.id, id, LMS_ID_LEN) == 0, "duplicate reports the stored ts");
        CHECK(fingerprint(db) == before, "a duplicate changes nothing");
    }
    m.session_id = "elsewhere";
    m.session_id_len = 9;
    E(lms_append_message(db, &m, &dup));
    CHECK(dup.outcome == LMS_APPEND_DUPLICATE, "ids are unique across sessions");
    s1 = stats_of(db);
    CHECK(s1.messages == s0.messages && s1.sessions == s0.sessions, "no session, no message");

    /* update in place */
    {
        static const uint8_t meta2[] = {0x81, 0xa4, 'e', 'd', 'i', 't', 0xc3};
        E(lms_update_message(db, id, LMS_ID_LEN, STR("first, edited"), NULL, 0,
                             LMS_UPDATE_CONTENT));
        E(lms_get_message(db, id, LMS_ID_LEN, &rec, &rec_len));
        E(lms_messages_decode(rec, rec_len, &l));
        CHECK(l && str_is(l->items[0].content, "first, edited"), "content updated");
        CHECK(l && l->items[0].ts == r1.ts, "it keeps its place");
        CHECK(l && l->items[0].updated_at >= l->items[0].created_at, "updated_at set");
        lms_message_list_free(l);
        l = NULL;
        lms_bytes_free(rec, rec_len);
        rec = NULL;
        E(lms_update_message(db, id, LMS_ID_LEN, NULL, 0, meta2, sizeof meta2,
                             LMS_UPDATE_METADATA));
        E(lms_get_message(db, id, LMS_ID_LEN, &rec, &rec_len));
        E(lms_messages_decode(rec, rec_len, &l));
        CHECK(l && str_is(l->items[0].content, "first, edited"), "metadata update keeps content");
        CHECK(l && l->items[0].metadata.len == sizeof meta2 &&
                  memcmp(l->items[0].metadata.ptr, meta2, sizeof meta2) == 0,
              "metadata updated");
        lms_message_list_free(l);
        l = NULL;
        lms_bytes_free(rec, rec_len);
        rec = NULL;
        REJECT(db, lms_update_message(db, id, LMS_ID_LEN, STR("x"), NULL, 0, 0),
               LMS_INVALID_ARGUMENT, "neither");
        REJECT(db, lms_update_message(db, id, LMS_ID_LEN, STR("x"), NULL, 0, 0x40),
               LMS_INVALID_ARGUMENT, "unknown update flags");
        REJECT(db, lms_update_message(db, missing, LMS_ID_LEN, STR("x"), NULL, 0,
                                      LMS_UPDATE_CONTENT),
               LMS_NOT_FOUND, "not found");
        REJECT(db, lms_update_message(db, id, 4, STR("x"), NULL, 0, LMS_UPDATE_CONTENT),
               LMS_INVALID_ARGUMENT, "16 bytes");
        REJECT(db, lms_update_message(db, id, LMS_ID_LEN, (const char *)BAD_UTF8,
                                      sizeof BAD_UTF8, NULL, 0, LMS_UPDATE_CONTENT),
               LMS_INVALID_UTF8, "content");
        REJECT(db, lms_update_message(db, id, LMS_ID_LEN, NULL, 0, BAD_UTF8, sizeof BAD_UTF8,
                                      LMS_UPDATE_METADATA),
               LMS_BAD_MSGPACK, "");
        REJECT(db, lms_update_message(db, id, LMS_ID_LEN, NULL, 5, NULL, 0, LMS_UPDATE_CONTENT),
               LMS_INVALID_ARGUMENT, "content is NULL but its length is 5");
    }

    test_message_append_errors(db);
    test_packed(db);
    test_paging_ties(db);
    test_range_errors(db);

    /* agent range across sessions */
    E(append_simple(db, "other", "assistant", "from helper in other", "helper-bot", 0, NULL));
    {
        lms_range r;
        lms_page p;
        memset(&r, 0, sizeof r);
        r.limit = 100;
        E(lms_range_agent_messages(db, STR("helper-bot"), &r, &p));
        E(lms_messages_decode(p.data, p.len, &l));
        CHECK(l && l->count == 2, "agent range spans sessions");
        for (i = 0; l && i < l->count; i++)
            CHECK(str_is(l->items[i].agent_id, "helper-bot"), "only that agent");
        CHECK(l && l->count == 2 && str_is(l->items[0].session_id, "conv") &&
                  str_is(l->items[1].session_id, "other"),
              "agent range in time order");
        lms_message_list_free(l);
        l = NULL;
        lms_page_free(&p);
        r.limit = 1;
        r.flags = LMS_RANGE_REVERSE;
        E(lms_range_agent_messages(db, STR("helper-bot"), &r, &p));
        E(lms_messages_decode(p.data, p.len, &l));
        CHECK(l && l->count == 1 && str_is(l->items[0].session_id, "other"),
              "newest agent message first");
        CHECK(p.cursor_len > 0, "more to come");
        r.cursor = p.cursor;
        r.cursor_len = p.cursor_len;
        {
            lms_page p2;
            lms_message_list *l2 = NULL;
            E(lms_range_agent_messages(db, STR("helper-bot"), &r, &p2));
            E(lms_messages_decode(p2.data, p2.len, &l2));
            CHECK(l2 && l2->count == 1 && str_is(l2->items[0].session_id, "conv"),
                  "agent cursor resumes");
            lms_message_list_free(l2);
            lms_page_free(&p2);
        }
        lms_message_list_free(l);
        l = NULL;
        lms_page_free(&p);
    }

    /* delete one message */
    s0 = stats_of(db);
    E(lms_delete_message(db, id, LMS_ID_LEN));
    CHECK(stats_of(db).messages == s0.messages - 1, "message count drops");
    EXPECT(lms_get_message(db, id, LMS_ID_LEN, &rec, &rec_len), LMS_NOT_FOUND, "not found");
    REJECT(db, lms_delete_message(db, id, LMS_ID_LEN), LMS_NOT_FOUND, "not found");
    REJECT(db, lms_delete_message(db, id, 15), LMS_INVALID_ARGUMENT, "16 bytes");
    REJECT(db, lms_delete_message(db, NULL, 0), LMS_INVALID_ARGUMENT, "id is NULL");
    E(lms_append_message(db, &m, &dup));
    CHECK(dup.outcome == LMS_APPEND_STORED, "a deleted id can be appended again");

    /* trim by count */
    for (i = 0; i < 10; i++) E(append_simple(db, "trim", "user", "t", NULL, (int64_t)(100 + i), NULL));
    s0 = stats_of(db);
    E(lms_trim_session(db, STR("trim"), 4, &deleted));
    CHECK(deleted == 6, "trim to 4 deletes 6");
    CHECK(stats_of(db).messages == s0.messages - 6, "message count follows trim");
    l = all_messages(db, "trim", 0);
    CHECK(l->count == 4 && l->items[0].ts == 106 && l->items[3].ts == 109, "newest 4 remain");
    lms_message_list_free(l);
    l = NULL;
    E(lms_trim_session(db, STR("trim"), 10, NULL));
    E(lms_trim_session(db, STR("trim"), 4, &deleted));
    CHECK(deleted == 0, "trimming to more than it has deletes nothing");
    /* trim by time: [106,107] go, [108,109] stay */
    E(lms_trim_session_before(db, STR("trim"), 108, &deleted));
    CHECK(deleted == 2, "trim before 108 deletes 2");
    l = all_messages(db, "trim", 0);
    CHECK(l->count == 2 && l->items[0].ts == 108, "messages at or after the bound remain");
    lms_message_list_free(l);
    l = NULL;
    E(lms_trim_session_before(db, STR("trim"), 0, NULL));
    REJECT(db, lms_trim_session(db, NULL, 3, 1, &deleted), LMS_INVALID_ARGUMENT,
           "session_id is NULL");
    REJECT(db, lms_trim_session_before(db, "x", 0, 5, &deleted), LMS_INVALID_ARGUMENT,
           "session_id is empty");
    s0 = stats_of(db);
    E(lms_trim_session(db, STR("trim"), 0, &deleted));
    CHECK(deleted == 2 && stats_of(db).messages == s0.messages - 2, "trim to 0 empties it");

    lms_close(db);
    remove_dir(dir);
}

/* ------------------------------------------------------------------------------------------ */
/* sessions */

static int session_order_is(lms_db *db, const char *const *want, size_t n)
{
    lms_page p;
    mpr r;
    size_t count, i;
    int ok = 1;
    if (lms_list_sessions(db, NULL, 0, 100, &p) != LMS_OK) return 0;
    r = mpr_of(p.data, p.len);
    if (mpr_array(&r, &count) || count != n) ok = 0;
    for (i = 0; ok && i < n; i++) {
        ok = mpr_find_streq(r, "session_id", want[i]);
        mpr_skip(&r);
    }
    lms_page_free(&p);
    return ok;
}

static void test_sessions(void)
{
    char *dir = temp_dir();
    lms_db *db = open_path(dir, 0);
    uint8_t *rec = NULL;
    size_t rec_len = 0;
    uint64_t deleted = 0;
    lms_stats s0, s1;
    lms_page p;
    mpr r;
    int64_t v;
    uint8_t kept[LMS_ID_LEN];
    lms_append_result res;
    static const uint8_t meta[] = {0x81, 0xa4, 'l', 'a', 'n', 'g', 0xa2, 'e', 'n'};
    static const uint8_t not_map[] = {0xa1, 'x'};

    E(lms_create_session(db, STR("alpha"), STR("First chat"), meta, sizeof meta));
    s0 = stats_of(db);
    CHECK(s0.sessions == 1 && s0.messages == 0, "explicit session counted");
    REJECT(db, lms_create_session(db, STR("alpha"), NULL, 0, NULL, 0), LMS_CONFLICT,
           "already exists");
    REJECT(db, lms_create_session(db, STR("beta"), NULL, 0, not_map, sizeof not_map),
           LMS_BAD_MSGPACK, "metadata");
    REJECT(db, lms_create_session(db, STR("beta"), (const char *)BAD_UTF8, sizeof BAD_UTF8,
                                  NULL, 0),
           LMS_INVALID_UTF8, "title");
    REJECT(db, lms_create_session(db, NULL, 3, NULL, 0, NULL, 0), LMS_INVALID_ARGUMENT,
           "session_id is NULL");
    REJECT(db, lms_create_session(db, (const char *)BAD_UTF8, sizeof BAD_UTF8, NULL, 0, NULL, 0),
           LMS_INVALID_UTF8, "session_id");

    E(lms_get_session(db, STR("alpha"), &rec, &rec_len));
    r = mpr_of(rec, rec_len);
    CHECK(mpr_find_streq(r, "session_id", "alpha") && mpr_find_streq(r, "title", "First chat"),
          "session map");
    {
        mpr m;
        CHECK(mpr_find(r, "metadata", &m) == 0 && mpr_find_streq(m, "lang", "en"),
              "session metadata");
    }
    CHECK(mpr_find_int(r, "message_count", &v) == 0 && v == 0, "message_count 0");
    lms_bytes_free(rec, rec_len);
    rec = NULL;
    EXPECT(lms_get_session(db, STR("nope"), &rec, &rec_len), LMS_NOT_FOUND, "session 'nope'");
    EXPECT(lms_get_session(db, STR("alpha"), &rec, NULL), LMS_INVALID_ARGUMENT, "out_len");

    E(lms_update_session(db, STR("alpha"), STR("Renamed"), NULL, 0, LMS_UPDATE_TITLE));
    E(lms_get_session(db, STR("alpha"), &rec, &rec_len));
    r = mpr_of(rec, rec_len);
    CHECK(mpr_find_streq(r, "title", "Renamed"), "title updated");
    {
        mpr m;
        CHECK(mpr_find(r, "metadata", &m) == 0 && mpr_find_streq(m, "lang", "en"),
              "title update keeps metadata");
    }
    lms_bytes_free(rec, rec_len);
    rec = NULL;
    E(lms_update_session(db, STR("alpha"), NULL, 0, NULL, 0, LMS_UPDATE_METADATA));
    E(lms_get_session(db, STR("alpha"), &rec, &rec_len));
    r = mpr_of(rec, rec_len);
    {
        mpr m;
        size_t n = 9;
        CHECK(mpr_find(r, "metadata", &m) == 0 && mpr_map(&m, &n) == 0 && n == 0,
              "NULL metadata update gives an empty map");
    }
    lms_bytes_free(rec, rec_len);
    rec = NULL;
    REJECT(db, lms_update_session(db, STR("nope"), STR("t"), NULL, 0, LMS_UPDATE_TITLE),
           LMS_NOT_FOUND, "session 'nope' not found");
    REJECT(db, lms_update_session(db, STR("alpha"), NULL, 0, not_map, sizeof not_map,
                                  LMS_UPDATE_METADATA),
           LMS_BAD_MSGPACK, "metadata");
    REJECT(db, lms_update_session(db, STR("alpha"), (const char *)BAD_UTF8, sizeof BAD_UTF8,
                                  NULL, 0, LMS_UPDATE_TITLE),
           LMS_INVALID_UTF8, "title");
    REJECT(db, lms_update_session(db, STR("alpha"), STR("t"), NULL, 0, 0), LMS_INVALID_ARGUMENT,
           "neither");
    REJECT(db, lms_update_session(db, STR("alpha"), STR("t"), NULL, 0, LMS_UPDATE_CONTENT),
           LMS_INVALID_ARGUMENT, "unknown update flags");

    /* order by most recent activity, newest first; paging with a cursor */
    E(append_simple(db, "beta", "user", "b", NULL, 0, NULL));
    E(append_simple(db, "gamma", "user", "g", NULL, 0, NULL));
    E(append_simple(db, "delta", "user", "d", "agent-d", 0, &res));
    memcpy(kept, res.id, LMS_ID_LEN);
    E(append_simple(db, "delta", "user", "d2", "agent-d", 0, NULL));
    E(append_simple(db, "beta", "user", "b2", NULL, 0, NULL));
    {
        static const char *const want[] = {"beta", "delta", "gamma", "alpha"};
        CHECK(session_order_is(db, want, 4), "sessions by most recent activity");
    }
    E(lms_get_session(db, STR("delta"), &rec, &rec_len));
    r = mpr_of(rec, rec_len);
    CHECK(mpr_find_int(r, "message_count", &v) == 0 && v == 2, "message_count follows appends");
    CHECK(mpr_find_int(r, "last_ts", &v) == 0 && v > 0, "last_ts set");
    lms_bytes_free(rec, rec_len);
    rec = NULL;
    E(lms_update_session(db, STR("alpha"), NULL, 0, NULL, 0, LMS_UPDATE_TITLE));
    E(lms_get_session(db, STR("alpha"), &rec, &rec_len));
    r = mpr_of(rec, rec_len);
    CHECK(!mpr_find_streq(r, "title", "Renamed"), "a NULL title clears it");
    lms_bytes_free(rec, rec_len);
    rec = NULL;
    {
        /* trimming a session nobody created is not an error: there is nothing to keep */
        uint64_t before = fingerprint(db);
        E(lms_trim_session(db, STR("ghost"), 1, &deleted));
        CHECK(deleted == 0 && fingerprint(db) == before, "trim of an unknown session is a no-op");
    }
    {
        static const char *const want[] = {"beta", "delta", "gamma", "alpha"};
        uint8_t cursor[LMS_CURSOR_MAX];
        size_t cursor_len = 0, i;
        for (i = 0; i < 5; i++) {
            E(lms_list_sessions(db, cursor_len ? cursor : NULL, cursor_len, 1, &p));
            if (i < 4) {
                r = mpr_of(p.data, p.len);
                {
                    size_t n;
                    CHECK(mpr_array(&r, &n) == 0 && n == 1, "one session per page");
                }
                CHECK(mpr_find_streq(r, "session_id", want[i]), "paged session order");
            } else {
                CHECK(p.count == 0, "past the end: empty page");
            }
            memcpy(cursor, p.cursor, p.cursor_len);
            cursor_len = p.cursor_len;
            lms_page_free(&p);
            if (cursor_len == 0) break;
        }
        CHECK(i >= 3, "paged through all sessions");
    }
    EXPECT(lms_list_sessions(db, NULL, 0, 0, &p), LMS_INVALID_ARGUMENT, "limit");
    EXPECT(lms_list_sessions(db, NULL, 0, LMS_MAX_PAGE + 1, &p), LMS_INVALID_ARGUMENT, "limit");
    EXPECT(lms_list_sessions(db, (const uint8_t *)"junk", 4, 5, &p), LMS_BAD_CURSOR,
           "malformed cursor");
    EXPECT(lms_list_sessions(db, NULL, 3, 5, &p), LMS_INVALID_ARGUMENT, "cursor is NULL");
    EXPECT(lms_list_sessions(db, NULL, 0, 5, NULL), LMS_INVALID_ARGUMENT, "out");

    /* delete a session with everything that belongs to it */
    s0 = stats_of(db);
    E(lms_delete_session(db, STR("delta"), &deleted));
    CHECK(deleted == 2, "two messages deleted with the session");
    s1 = stats_of(db);
    CHECK(s1.sessions == s0.sessions - 1 && s1.messages == s0.messages - 2,
          "counts go back after delete session");
    EXPECT(lms_get_session(db, STR("delta"), &rec, &rec_len), LMS_NOT_FOUND, "not found");
    EXPECT(lms_get_message(db, kept, LMS_ID_LEN, &rec, &rec_len), LMS_NOT_FOUND, "not found");
    {
        lms_range rr;
        memset(&rr, 0, sizeof rr);
        rr.limit = 10;
        E(lms_range_agent_messages(db, STR("agent-d"), &rr, &p));
        CHECK(p.count == 0, "agent index entries went with the session");
        lms_page_free(&p);
        E(lms_range_messages(db, STR("delta"), &rr, &p));
        CHECK(p.count == 0, "no messages left");
        lms_page_free(&p);
    }
    {
        static const char *const want[] = {"beta", "gamma", "alpha"};
        CHECK(session_order_is(db, want, 3), "deleted session left the activity list");
    }
    REJECT(db, lms_delete_session(db, STR("delta"), &deleted), LMS_NOT_FOUND, "delta");
    REJECT(db, lms_delete_session(db, NULL, 1, NULL), LMS_INVALID_ARGUMENT, "session_id is NULL");
    E(lms_delete_session(db, STR("alpha"), NULL));
    E(lms_delete_session(db, STR("beta"), NULL));
    E(lms_delete_session(db, STR("gamma"), NULL));
    s1 = stats_of(db);
    CHECK(s1.sessions == 0 && s1.messages == 0, "all sessions deleted: counts back to 0");
    CHECK(session_order_is(db, NULL, 0), "no sessions listed");
    E(append_simple(db, "delta", "user", "again", NULL, 0, NULL));
    CHECK(stats_of(db).sessions == 1, "a deleted session can start again");

    lms_close(db);
    remove_dir(dir);
}

/* ------------------------------------------------------------------------------------------ */
/* backup, read-only, stat, sync, shared environments */

static void fill_sample(lms_db *db)
{
    int i;
    E(put_tpl(db, "greeting", "1.0.0", "Hello {{ name }}", 0, NULL));
    E(lms_set_template_alias(db, STR("greeting"), STR("production"), STR("1.0.0")));
    for (i = 0; i < 5; i++) E(append_simple(db, "s1", "user", "hello", "bot", 0, NULL));
}

static void test_backup(void)
{
    char *dir = temp_dir(), *bdir = temp_dir();
    char target[4200], text[64];
    lms_db *db = open_path(dir, 0), *copy;
    lms_stats a, b;
    lms_message_list *l;
    int compact;

    fill_sample(db);
    for (compact = 0; compact < 2; compact++) {
        snprintf(target, sizeof target, "%s/copy%d", bdir, compact);
        E(lms_backup(db, STR(target), compact ? LMS_BACKUP_COMPACT : 0));
        copy = open_path(target, 0);
        a = stats_of(db);
        b = stats_of(copy);
        CHECK(a.template_ids == b.template_ids && a.template_versions == b.template_versions &&
                  a.sessions == b.sessions && a.messages == b.messages,
              "backup has the same counts");
        CHECK(strcmp(tpl_text(copy, "greeting", NULL, text, sizeof text), "Hello {{ name }}") ==
                  0,
              "backup holds the template");
        l = all_messages(copy, "s1", 0);
        CHECK(l->count == 5, "backup holds the messages");
        lms_message_list_free(l);
        E(append_simple(copy, "only-in-copy", "user", "x", NULL, 0, NULL));
        CHECK(stats_of(db).sessions == a.sessions, "the copy is independent");
        lms_close(copy);
    }
    snprintf(target, sizeof target, "%s/copy0", bdir);
    EXPECT(lms_backup(db, STR(target), 0), LMS_IO, "backup");
    CHECK(lms_last_error_os_code() != 0, "the errno behind LMS_IO is kept");
    EXPECT(lms_backup(db, STR(target), 0x8), LMS_INVALID_ARGUMENT, "unknown backup flags");
    EXPECT(lms_backup(db, NULL, 3, 0), LMS_INVALID_ARGUMENT, "path is NULL");
    EXPECT(lms_backup(db, "x\0y", 3, 0), LMS_INVALID_ARGUMENT, "NUL");
    lms_close(db);
    remove_dir(dir);
    remove_dir(bdir);
}

static void test_stat_and_sync(void)
{
    char *dir = temp_dir();
    lms_db *db = open_path(dir, LMS_OPEN_NO_SYNC);
    lms_stats s;
    memset(&s, 0, sizeof s);
    E(lms_stat(db, &s));
    CHECK(s.schema_version >= 1, "schema version stamped");
    CHECK(s.lmdb_version >= 907, "LMDB version reported (>= 0.9.7)");
    CHECK(s.map_size >= (uint64_t)64 << 20 && s.map_used > 0 && s.map_used <= s.map_size,
          "map size and use");
    CHECK(s.max_map_size == (uint64_t)1 << 40, "growth cap");
    CHECK(s.max_readers == 126, "max readers");
    EXPECT(lms_stat(db, NULL), LMS_INVALID_ARGUMENT, "out");
    fill_sample(db);
    E(lms_sync(db));
    CHECK(lms_last_error_os_code() >= 0, "os code readable");
    lms_close(db);
    remove_dir(dir);
}

static void test_read_only(void)
{
    char *dir = temp_dir();
    lms_db *db = open_path(dir, 0);
    uint8_t *rec = NULL, id[LMS_ID_LEN];
    size_t rec_len = 0;
    uint32_t outcome;
    uint64_t n;
    char text[64];
    lms_message_in m = msg_in("s1", "user", "x");
    lms_append_result res;
    lms_template_fields f = tpl_fields("new", "1", "x");
    lms_message_list *l;
    static const uint8_t spec[] = {0x82, 0xa2, 'i', 'd', 0xa1, 'z', 0xa8, 't', 'e', 'm', 'p',
                                   'l', 'a', 't', 'e', 0xa1, 'z'};
    /* [{"session_id": "s1", "role": "user"}]: an empty batch writes nothing, so it is no test */
    static const uint8_t batch[] = {0x91, 0x82, 0xaa, 's', 'e', 's', 's', 'i', 'o', 'n', '_',
                                    'i', 'd', 0xa2, 's', '1', 0xa4, 'r', 'o', 'l', 'e', 0xa4,
                                    'u', 's', 'e', 'r'};

    fill_sample(db);
    E(append_simple(db, "s1", "user", "kept", NULL, 0, &res));
    memcpy(id, res.id, LMS_ID_LEN);
    {
        uint32_t from = 7;
        E(lms_upgrade(db, &from));
        CHECK(from == 2, "a new store is schema 2: nothing to upgrade");
        E(lms_upgrade(db, NULL));
    }
    lms_close(db);

    db = open_path(dir, LMS_OPEN_READ_ONLY);
#define RO(expr) REJECT(db, expr, LMS_READ_ONLY, "read-only")
    RO(lms_upgrade(db, NULL));
    RO(lms_put_template(db, spec, sizeof spec, 0, &outcome));
    RO(lms_put_template_fields(db, &f, 0, &outcome));
    RO(lms_delete_template(db, STR("greeting"), NULL, 0));
    RO(lms_set_template_alias(db, STR("greeting"), STR("x"), STR("1.0.0")));
    RO(lms_delete_template_alias(db, STR("greeting"), STR("production")));
    RO(lms_append_message(db, &m, &res));
    RO(lms_append_messages(db, &m, 1, &res));
    RO(lms_append_messages_packed(db, batch, sizeof batch, &res, 1));
    RO(lms_update_message(db, id, LMS_ID_LEN, STR("y"), NULL, 0, LMS_UPDATE_CONTENT));
    RO(lms_delete_message(db, id, LMS_ID_LEN));
    RO(lms_trim_session(db, STR("s1"), 1, &n));
    RO(lms_trim_session_before(db, STR("s1"), INT64_MAX, &n));
    RO(lms_create_session(db, STR("s2"), NULL, 0, NULL, 0));
    RO(lms_update_session(db, STR("s1"), STR("t"), NULL, 0, LMS_UPDATE_TITLE));
    RO(lms_delete_session(db, STR("s1"), &n));
    RO(lms_sync(db));
#undef RO
    /* reads still work */
    CHECK(strcmp(tpl_text(db, "greeting", NULL, text, sizeof text), "Hello {{ name }}") == 0,
          "read-only handle reads templates");
    E(lms_get_message(db, id, LMS_ID_LEN, &rec, &rec_len));
    lms_bytes_free(rec, rec_len);
    l = all_messages(db, "s1", 0);
    CHECK(l->count == 6, "read-only handle ranges");
    lms_message_list_free(l);
    lms_close(db);
    remove_dir(dir);
}

static void test_shared_env(void)
{
    char *dir = temp_dir();
    lms_db *a = open_path(dir, 0), *b = open_path(dir, 0);
    char text[64];
    lms_message_list *l;

    CHECK(a != b, "two handles");
    E(put_tpl(a, "via-a", "1", "written by a", 0, NULL));
    CHECK(strcmp(tpl_text(b, "via-a", NULL, text, sizeof text), "written by a") == 0,
          "b sees a's write at once");
    E(append_simple(b, "shared", "user", "from b", NULL, 0, NULL));
    l = all_messages(a, "shared", 0);
    CHECK(l->count == 1, "a sees b's message");
    lms_message_list_free(l);
    lms_close(a);
    E(append_simple(b, "shared", "user", "b after a closed", NULL, 0, NULL));
    CHECK(strcmp(tpl_text(b, "via-a", NULL, text, sizeof text), "written by a") == 0,
          "b still reads after a closed");
    CHECK(stats_of(b).messages == 2, "b still writes after a closed");
    a = open_path(dir, 0);
    CHECK(stats_of(a).messages == 2, "reopening after a close works");
    lms_close(b);
    lms_close(a);
    /* the environment closed with its last handle: a fresh open works */
    a = open_path(dir, 0);
    CHECK(stats_of(a).messages == 2, "reopen after all handles closed");
    lms_close(a);
    remove_dir(dir);
}

/* ------------------------------------------------------------------------------------------ */
/* limits: map growth, the cap, oversized values, file modes, the session clock */

static void test_limits(void)
{
    enum { CHUNK = 64 << 10, COUNT = 40 };
    char *dir = temp_dir(), path[4200];
    char *big = (char *)malloc(3 << 20);
    lms_options o;
    lms_db *db = NULL;
    lms_message_in batch[COUNT];
    lms_append_result res[COUNT];
    lms_stats s;
    struct stat st;
    size_t i;
    mode_t old_mask;

    REQUIRE(big != NULL, "malloc");
    /* incompressible text: bodies are stored compressed when that gains, and these must take
     * the room their size says */
    {
        uint64_t x = 0x9E3779B97F4A7C15u;
        for (i = 0; i < (size_t)(3 << 20); i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            big[i] = (char)('!' + (int)(x % 94));
        }
    }
    for (i = 0; i < COUNT; i++) {
        batch[i] = msg_in("bulk", "user", NULL);
        batch[i].content = big;
        batch[i].content_len = CHUNK;
    }

    /* a 1 MiB map grows by itself to hold 2.5 MiB */
    lms_options_init(&o);
    o.map_size = 1 << 20;
    o.max_map_size = 16 << 20;
    snprintf(path, sizeof path, "%s/grows", dir);
    RE(lms_open(STR(path), &o, &db));
    for (i = 0; i < COUNT; i++) E(lms_append_message(db, &batch[i], NULL));
    s = stats_of(db);
    CHECK(s.messages == COUNT, "every append stored while the map grew");
    CHECK(s.map_size > ((uint64_t)1 << 20) && s.map_size <= s.max_map_size, "map grew");
    /* a page far larger than chat messages make it: 20 records of 64 KiB each */
    {
        lms_range r;
        lms_page p;
        lms_page_info info;
        lms_message_list *l = NULL;
        uint8_t *buf;
        memset(&r, 0, sizeof r);
        r.limit = 20;
        r.flags = LMS_RANGE_REVERSE;
        E(lms_range_messages(db, STR("bulk"), &r, &p));
        CHECK(p.count == 20 && p.cursor_len > 0 && p.len > 20 * CHUNK, "a page of large records");
        E(lms_messages_decode(p.data, p.len, &l));
        for (i = 0; l && i < l->count; i++)
            CHECK(l->items[i].content.len == CHUNK && memcmp(l->items[i].content.ptr, big, CHUNK) == 0,
                  "large record read back whole");
        lms_message_list_free(l);
        buf = (uint8_t *)malloc(p.len);
        REQUIRE(buf != NULL, "malloc");
        E(lms_range_messages_into(db, STR("bulk"), &r, buf, p.len, &info));
        CHECK(info.len == p.len && memcmp(buf, p.data, p.len) == 0, "into == allocated page");
        free(buf);
        lms_page_free(&p);
    }
    lms_close(db);

    /* at the cap: LMS_MAP_FULL and nothing stored; a value that can never fit: LMS_TOO_LARGE */
    o.max_map_size = 2 << 20;
    snprintf(path, sizeof path, "%s/capped", dir);
    RE(lms_open(STR(path), &o, &db));
    E(append_simple(db, "bulk", "user", "first", NULL, 0, NULL));
    REJECT(db, lms_append_messages(db, batch, COUNT, res), LMS_MAP_FULL, "max_map_size");
    batch[0].content_len = 3 << 20;
    REJECT(db, lms_append_message(db, &batch[0], res), LMS_TOO_LARGE, "can never be stored");
    batch[0].content_len = CHUNK;
    E(lms_append_message(db, &batch[0], res));
    CHECK(stats_of(db).messages == 2, "the store still takes writes that fit");
    lms_close(db);

    lms_options_init(&o);
    o.map_size = 4 << 20;
    o.max_map_size = 1 << 20;
    EXPECT(lms_open(STR(path), &o, &db), LMS_INVALID_ARGUMENT, "max_map_size");

    /* files are private by default; a mode can be asked for */
    snprintf(path, sizeof path, "%s/grows/data.mdb", dir);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "data.mdb is 0600 by default");
    old_mask = umask(022);
    lms_options_init(&o);
    o.file_mode = 0640;
    snprintf(path, sizeof path, "%s/shared-mode", dir);
    RE(lms_open(STR(path), &o, &db));
    lms_close(db);
    umask(old_mask);
    snprintf(path, sizeof path, "%s/shared-mode/data.mdb", dir);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640, "file_mode 0640 honoured");

    /* a clock that steps back does not reorder a session */
    snprintf(path, sizeof path, "%s/clock", dir);
    db = open_path(path, 0);
    {
        int64_t future = ((int64_t)time(NULL) + 3600) * 1000000;
        lms_append_result a, b;
        E(append_simple(db, "clock", "user", "from the future", NULL, future, &a));
        E(append_simple(db, "clock", "user", "assigned now", NULL, 0, &b));
        CHECK(a.ts == future && b.ts >= future, "assigned ts is never below the session's last");
    }
    /* a version too long for a key */
    {
        char long_version[601];
        memset(long_version, 'v', 600);
        long_version[600] = 0;
        REJECT(db, put_tpl(db, "t", long_version, "x", 0, NULL), LMS_KEY_TOO_LONG, "");
    }
    lms_close(db);
    free(big);
    remove_dir(dir);
}

/* ------------------------------------------------------------------------------------------ */
/* threads: one handle, one appender, one reader */

enum { THREAD_MSGS = 150 };

struct thread_ctx {
    lms_db *db;
    int failures;
    int done;
    pthread_mutex_t lock;
};

static void *appender(void *arg)
{
    struct thread_ctx *c = (struct thread_ctx *)arg;
    int i;
    for (i = 0; i < THREAD_MSGS; i++) {
        char content[32];
        lms_append_result res;
        snprintf(content, sizeof content, "message %d", i);
        if (append_simple(c->db, "threaded", "user", content, "thread-bot", 0, &res) != LMS_OK ||
            res.outcome != LMS_APPEND_STORED) {
            fprintf(stderr, "appender: %d %s\n", i, lms_last_error());
            c->failures++;
        }
    }
    pthread_mutex_lock(&c->lock);
    c->done = 1;
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

static void *reader(void *arg)
{
    struct thread_ctx *c = (struct thread_ctx *)arg;
    size_t last_count = 0, i;
    int done = 0, rounds = 0;
    while (!done || rounds < 3) {
        lms_range r;
        lms_page p;
        lms_message_list *l = NULL;
        uint8_t *rec = NULL;
        size_t rec_len = 0;
        pthread_mutex_lock(&c->lock);
        done = c->done;
        pthread_mutex_unlock(&c->lock);
        if (done) rounds++;
        memset(&r, 0, sizeof r);
        r.limit = LMS_MAX_PAGE;
        if (lms_range_messages(c->db, STR("threaded"), &r, &p) != LMS_OK ||
            lms_messages_decode(p.data, p.len, &l) != LMS_OK) {
            fprintf(stderr, "reader: %s\n", lms_last_error());
            c->failures++;
            lms_page_free(&p);
            break;
        }
        if (l->count < last_count) c->failures++; /* history never shrinks */
        for (i = 1; i < l->count; i++)
            if (l->items[i].ts < l->items[i - 1].ts) c->failures++;
        last_count = l->count;
        lms_message_list_free(l);
        lms_page_free(&p);
        if (lms_get_template(c->db, STR("greeting"), NULL, 0, &rec, &rec_len) != LMS_OK) {
            c->failures++;
        }
        lms_bytes_free(rec, rec_len);
        /* errors are per thread: provoking one here must not disturb the appender */
        if (lms_get_template(c->db, STR("no-such"), NULL, 0, &rec, &rec_len) != LMS_NOT_FOUND ||
            strstr(lms_last_error(), "no-such") == NULL)
            c->failures++;
    }
    if (last_count != THREAD_MSGS) {
        fprintf(stderr, "reader saw %zu messages at the end\n", last_count);
        c->failures++;
    }
    return NULL;
}

static void test_threads(void)
{
    char *dir = temp_dir();
    struct thread_ctx c;
    pthread_t ta, tr;
    lms_message_list *l;
    size_t i;

    memset(&c, 0, sizeof c);
    pthread_mutex_init(&c.lock, NULL);
    c.db = open_path(dir, LMS_OPEN_NO_SYNC);
    fill_sample(c.db);
    EXPECT(lms_get_template(c.db, STR("main-thread"), NULL, 0, NULL, NULL), LMS_INVALID_ARGUMENT,
           "out");
    REQUIRE(pthread_create(&ta, NULL, appender, &c) == 0, "start appender");
    REQUIRE(pthread_create(&tr, NULL, reader, &c) == 0, "start reader");
    pthread_join(ta, NULL);
    pthread_join(tr, NULL);
    CHECK(c.failures == 0, "threads saw no errors");
    CHECK(strstr(lms_last_error(), "out") != NULL, "main thread's last error untouched");
    E(lms_sync(c.db));
    l = all_messages(c.db, "threaded", 0);
    CHECK(l->count == THREAD_MSGS, "every threaded append stored");
    for (i = 0; i < l->count; i++) {
        char want[32];
        snprintf(want, sizeof want, "message %zu", i);
        if (!str_is(l->items[i].content, want)) break;
    }
    CHECK(i == THREAD_MSGS, "appends kept their order");
    lms_message_list_free(l);
    lms_close(c.db);
    pthread_mutex_destroy(&c.lock);
    remove_dir(dir);
}

/* ------------------------------------------------------------------------------------------ */
/* processes: two writers on one path */

enum { PROC_MSGS = 40 };

static int proc_writer(const char *dir, const char *who, int start_fd)
{
    char buf;
    int i, failures = 0;
    lms_db *db = NULL;
    /* wait for the go signal so both processes write at the same time */
    if (read(start_fd, &buf, 1) != 1) return 1;
    if (lms_open(STR(dir), NULL, &db) != LMS_OK) {
        fprintf(stderr, "%s: open: %s\n", who, lms_last_error());
        return 1;
    }
    for (i = 0; i < PROC_MSGS; i++) {
        char content[32];
        snprintf(content, sizeof content, "%s %d", who, i);
        if (append_simple(db, who, "user", content, "proc-agent", 0, NULL) != LMS_OK) {
            fprintf(stderr, "%s: append: %s\n", who, lms_last_error());
            failures++;
        }
        if (i % 10 == 0) {
            char version[16];
            snprintf(version, sizeof version, "%d.0.0", i);
            if (put_tpl(db, who, version, content, 0, NULL) != LMS_OK) {
                fprintf(stderr, "%s: put: %s\n", who, lms_last_error());
                failures++;
            }
        }
    }
    lms_close(db);
    return failures ? 1 : 0;
}

static void test_processes(void)
{
    char *dir = temp_dir();
    int go[2], status = -1;
    pid_t child;
    lms_db *db;
    lms_stats s;
    lms_message_list *l;
    char text[64];

    /* create the store first so neither writer races on initialization */
    db = open_path(dir, 0);
    lms_close(db);

    REQUIRE(pipe(go) == 0, "pipe");
    fflush(NULL);
    child = fork();
    REQUIRE(child >= 0, "fork");
    if (child == 0) {
        int code;
        close(go[1]);
        code = proc_writer(dir, "child", go[0]);
        close(go[0]);
        free(dir);
        _exit(code);
    }
    close(go[0]);
    {
        /* one byte for the child; our own start is simply "now" */
        int fds[2];
        REQUIRE(pipe(fds) == 0, "pipe");
        REQUIRE(write(fds[1], "g", 1) == 1 && write(go[1], "g", 1) == 1, "go");
        rc = proc_writer(dir, "parent", fds[0]);
        CHECK(rc == 0, "parent's writes succeeded");
        close(fds[0]);
        close(fds[1]);
    }
    close(go[1]);
    REQUIRE(waitpid(child, &status, 0) == child, "waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child's writes succeeded");

    db = open_path(dir, 0);
    s = stats_of(db);
    CHECK(s.messages == 2 * PROC_MSGS && s.sessions == 2, "parent sees every message");
    CHECK(s.template_ids == 2 && s.template_versions == 2 * (PROC_MSGS / 10),
          "parent sees every template version");
    l = all_messages(db, "child", 0);
    CHECK(l->count == PROC_MSGS, "child's session complete");
    CHECK(l->count > 0 && str_is(l->items[l->count - 1].content, "child 39"), "child's last");
    lms_message_list_free(l);
    l = all_messages(db, "parent", 0);
    CHECK(l->count == PROC_MSGS, "parent's session complete");
    lms_message_list_free(l);
    CHECK(strcmp(tpl_text(db, "child", NULL, text, sizeof text), "child 30") == 0,
          "child's latest template");
    {
        lms_range r;
        lms_page p;
        memset(&r, 0, sizeof r);
        r.limit = LMS_MAX_PAGE;
        E(lms_range_agent_messages(db, STR("proc-agent"), &r, &p));
        CHECK(p.count == 2 * PROC_MSGS, "agent index holds both processes' messages");
        lms_page_free(&p);
    }
    lms_close(db);
    remove_dir(dir);
}

#include "test_recovery.c"
#include "test_consistency.c"
#include "test_render.h"

/* ------------------------------------------------------------------------------------------ */

struct group {
    const char *name;
    void (*run)(void);
};

static void group_basics(void)
{
    test_versions();
    test_options_init();
    test_strerror();
    test_last_error_is_thread_local();
    test_open_errors();
    test_null_handle();
    test_decode_errors();
}

/* What only a PostgreSQL store has; runs with LMSTORE_TEST_BACKEND=pg (tests/pg/run.sh) and is
 * skipped on LMDB. */
static void test_postgres(void)
{
    const char *backend = getenv("LMSTORE_TEST_BACKEND");
    char *dir;
    lms_db *db = NULL;
    lms_stats s;
    lms_options o;
    lms_append_result r;
    static const char bad[] = "postgres://alice:hunter2-secret@127.0.0.1:1/app";
    static const char badport[] = "postgres://alice:hunter2-secret@host:nope/app";
    lms_consistency_report cr;

    /* lms_check_consistency: the domain's own check, on either backend */
    dir = temp_dir();
    db = open_path(dir, 0);
    E(append_simple(db, "s", "user", "hello", NULL, 0, &r));
    E(lms_check_consistency(db, &cr));
    CHECK(cr.messages == 1 && cr.problem_count == 0, "one message checked, no problem");
    lms_consistency_report_free(&cr);
    if (!backend || strcmp(backend, "pg") != 0) {
        lms_close(db);
        remove_dir(dir);
        return;
    }
    EXPECT(lms_backup(db, STR(dir), 0), LMS_UNSUPPORTED, "backup is an LMDB operation");
    {
        uint8_t *report = (uint8_t *)dir;
        size_t report_len = 7;
        EXPECT(lms_verify_db(db, &report, &report_len), LMS_UNSUPPORTED,
               "verify_pages is an LMDB operation");
        CHECK(report == NULL && report_len == 0, "no report on PostgreSQL");
    }
    E(lms_sync(db));
    s = stats_of(db);
    CHECK(s.messages == 1 && s.sessions == 1, "stat counts on PostgreSQL");
    CHECK(s.map_size == 0 && s.max_map_size == 0 && s.schema_version > 0,
          "no map on PostgreSQL, a schema version");
    lms_close(db);

    db = (lms_db *)&s;
    lms_options_init(&o);
    o.connect_timeout_ms = 2000;
    EXPECT(lms_open(STR(bad), &o, &db), LMS_IO, "connecting (postgres://127.0.0.1:1/app)");
    CHECK(db == NULL, "out cleared on failure");
    CHECK(strstr(lms_last_error(), "hunter2") == NULL && strstr(lms_last_error(), "alice") == NULL,
          "no credentials in the message");
    EXPECT(lms_open(STR(badport), NULL, &db), LMS_INVALID_ARGUMENT, "invalid postgres URL");
    CHECK(strstr(lms_last_error(), "hunter2") == NULL, "no password in the message");
    remove_dir(dir);
}

/* A chat message of 20-70 words, different for every i. */
static void chat_text(unsigned i, char *out, size_t cap)
{
    static const char *const words[] = {"the",     "model",   "returned", "a",       "summary",
                                        "of",      "user's",  "document", "please",  "check",
                                        "context", "window",  "tokens",   "answer",  "question",
                                        "retrieval", "function", "call",  "result",  "format"};
    unsigned x = i * 2654435761u + 1, n, w;
    size_t at = (size_t)snprintf(out, cap, "[%u]", i);
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    n = 20 + x % 51;
    for (w = 0; w < n && at + 16 < cap; w++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        at += (size_t)snprintf(out + at, cap - at, " %s", words[x % 20]);
    }
}

static void test_dictionaries(void)
{
    char *dir = temp_dir();
    char text[1024], session[32];
    lms_db *db = open_path(dir, LMS_OPEN_NO_SYNC), *ro;
    lms_dictionary_info info, list[3];
    lms_message_list *l;
    size_t count = 99, i, s;
    unsigned n, ok = 0;

    memset(&info, 0xff, sizeof info);
    EXPECT(lms_train_dictionary(db, 0, &info), LMS_INVALID_ARGUMENT, "too few messages");
    EXPECT(lms_train_dictionary(NULL, 0, NULL), LMS_INVALID_ARGUMENT, "db");
    for (n = 0; n < 1200; n++) {
        if (n == 600) {
            EXPECT(lms_train_dictionary(db, 8, NULL), LMS_INVALID_ARGUMENT, "min_body 8");
            E(lms_list_dictionaries(db, NULL, 0, &count));
            CHECK(count == 0, "no dictionary before training");
            E(lms_train_dictionary(db, 0, &info));
            CHECK(info.version == 1 && info.min_body == 256 && info.bytes > 1000 &&
                      info.zstd_id != 0,
                  "the trained dictionary: version 1, default min_body 256");
        }
        chat_text(n, text, sizeof text);
        snprintf(session, sizeof session, "chat-%u", n % 4);
        E(append_simple(db, session, "user", text, NULL, 0, NULL));
    }
    for (s = 0; s < 4; s++) {
        snprintf(session, sizeof session, "chat-%u", (unsigned)s);
        l = all_messages(db, session, 0);
        for (i = 0; i < l->count; i++) {
            unsigned k = (unsigned)(s + 4 * i);
            chat_text(k, text, sizeof text);
            ok += l->items[i].content.len == strlen(text) &&
                  memcmp(l->items[i].content.ptr, text, strlen(text)) == 0;
        }
        lms_message_list_free(l);
    }
    CHECK(ok == 1200, "every message, written with or without the dictionary, reads back");
    {
        lms_stats st;
        uint32_t from = 0;
        E(lms_stat(db, &st));
        CHECK(st.schema_version == 3, "a store with a dictionary is schema 3");
        E(lms_upgrade(db, &from));
        CHECK(from == 3, "nothing to upgrade in a schema-3 store");
    }
    E(lms_train_dictionary(db, 512, NULL));
    E(lms_list_dictionaries(db, list, 1, &count));
    CHECK(count == 2 && list[0].version == 1 && list[0].min_body == 0,
          "two dictionaries, the first one written, no longer current");
    E(lms_list_dictionaries(db, list, 3, &count));
    CHECK(count == 2 && list[1].version == 2 && list[1].min_body == 512 &&
              list[1].zstd_id != list[0].zstd_id,
          "the second one is current with its min_body");
    EXPECT(lms_list_dictionaries(db, list, 3, NULL), LMS_INVALID_ARGUMENT, "out_count");
    EXPECT(lms_list_dictionaries(db, NULL, 2, &count), LMS_INVALID_ARGUMENT, "out is NULL");
    EXPECT(lms_list_dictionaries(NULL, list, 3, &count), LMS_INVALID_ARGUMENT, "db");
    lms_close(db);
    ro = open_path(dir, LMS_OPEN_READ_ONLY);
    EXPECT(lms_train_dictionary(ro, 0, NULL), LMS_READ_ONLY, "read-only");
    E(lms_list_dictionaries(ro, list, 3, &count));
    CHECK(count == 2, "a read-only handle lists them");
    lms_close(ro);
    remove_dir(dir);
}

static const struct group groups[] = {
    {"basics", group_basics},       {"templates", test_templates},
    {"messages", test_messages},    {"sessions", test_sessions},
    {"backup", test_backup},        {"stat", test_stat_and_sync},
    {"readonly", test_read_only},   {"shared", test_shared_env},
    {"limits", test_limits},        {"threads", test_threads},
    {"procs", test_processes},      {"recovery", test_recovery},
    {"postgres", test_postgres},
    {"consistency", test_consistency},
    {"render", test_render},
    {"dictionaries", test_dictionaries},
};

int main(int argc, char **argv)
{
    size_t i, n = sizeof groups / sizeof groups[0];
    int a, ran = 0;

    /* must run before anything fails on this thread */
    CHECK(lms_last_error()[0] == 0 && lms_last_error_os_code() == 0,
          "last error starts empty");
    for (i = 0; i < n; i++) {
        int selected = argc < 2;
        for (a = 1; a < argc; a++)
            if (strcmp(argv[a], groups[i].name) == 0) selected = 1;
        if (!selected) continue;
        {
            int before = g_failures;
            groups[i].run();
            ran++;
            printf("%-10s %s\n", groups[i].name, g_failures == before ? "ok" : "FAILED");
        }
    }
    if (ran == 0) {
        fprintf(stderr, "no such group; groups:");
        for (i = 0; i < n; i++) fprintf(stderr, " %s", groups[i].name);
        fprintf(stderr, "\n");
        return 2;
    }
    printf("%d checks, %d failed, %d known core bugs\n", g_checks, g_failures, g_known_bugs);
    return g_failures ? 1 : 0;
}
