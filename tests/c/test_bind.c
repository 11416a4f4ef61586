/*
 * The binding-facing ABI: lms_write_batch() (several writes, one transaction, a result and
 * the error words per operation, returned with the call). Built and run like test_lmstore.c.
 */
#include "test_util.h"

/* One result of a batch: its status, and its message for a failure. */
typedef struct result {
    int64_t status;
    const char *msg;
    size_t msg_len;
    mpr value;
} result;

static int result_at(mpr *r, result *out)
{
    size_t n;
    if (mpr_array(r, &n) || n < 2 || mpr_int(r, &out->status)) return -1;
    out->value = *r;
    out->msg = NULL;
    out->msg_len = 0;
    if (out->status != 0 && mpr_bytes(r, &out->msg, &out->msg_len)) return -1;
    if (out->status == 0 && mpr_skip(r)) return -1;
    if (n == 3 && mpr_skip(r)) return -1;
    return 0;
}

static int has_words(const result *res, const char *words)
{
    size_t n = strlen(words), i;
    for (i = 0; res->msg && i + n <= res->msg_len; i++)
        if (memcmp(res->msg + i, words, n) == 0) return 1;
    return 0;
}

static void op_name(mpw *w, const char *name, uint32_t args)
{
    mpw_array(w, args + 1);
    mpw_str(w, name);
}

static void test_batch_errors(void)
{
    char *dir = temp_dir();
    lms_db *db = open_path(dir, LMS_OPEN_NO_SYNC);
    uint8_t *out = NULL;
    size_t out_len = 0;
    mpw w;
    mpr r;
    result res;
    size_t n;
    static const uint8_t not_array[] = {0x81, 0xa1, 'a', 0x01};
    static const uint8_t garbage[] = {0xc1};

    EXPECT(lms_write_batch(db, not_array, sizeof not_array, NULL, &out_len),
           LMS_INVALID_ARGUMENT, "out");
    EXPECT(lms_write_batch(db, not_array, sizeof not_array, &out, NULL),
           LMS_INVALID_ARGUMENT, "out_len");

    /* A call that fails as a whole returns its error in *out as well. */
    EXPECT(lms_write_batch(NULL, not_array, sizeof not_array, &out, &out_len),
           LMS_INVALID_ARGUMENT, "db");
    r = mpr_of(out, out_len);
    CHECK(result_at(&r, &res) == 0 && res.status == LMS_INVALID_ARGUMENT && has_words(&res, "db"),
          "a NULL handle's error comes back in out");
    lms_bytes_free(out, out_len);

    EXPECT(lms_write_batch(db, not_array, sizeof not_array, &out, &out_len), LMS_BAD_MSGPACK,
           "array of operations");
    r = mpr_of(out, out_len);
    CHECK(result_at(&r, &res) == 0 && res.status == LMS_BAD_MSGPACK &&
              has_words(&res, "array of operations"),
          "a batch that is not an array: the error comes back in out");
    lms_bytes_free(out, out_len);
    EXPECT(lms_write_batch(db, garbage, sizeof garbage, &out, &out_len), LMS_BAD_MSGPACK,
           "write batch");
    lms_bytes_free(out, out_len);
    EXPECT(lms_write_batch(db, NULL, 3, &out, &out_len), LMS_INVALID_ARGUMENT, "ops");
    lms_bytes_free(out, out_len);

    /* Operations that are malformed on their own fail alone; the good ones still commit. */
    memset(&w, 0, sizeof w);
    mpw_array(&w, 6);
    op_name(&w, "frobnicate", 0);
    op_name(&w, "create_session", 4);
    mpw_str(&w, "kept");
    mpw_byte(&w, 0xc0);
    mpw_byte(&w, 0xc0);
    mpw_int(&w, 7);
    op_name(&w, "trim_session", 2);
    mpw_str(&w, "kept");
    mpw_int(&w, -1);
    op_name(&w, "delete_session", 3);
    mpw_str(&w, "kept");
    mpw_int(&w, 1);
    mpw_int(&w, 2);
    op_name(&w, "update_session", 4);
    mpw_str(&w, "kept");
    mpw_str(&w, "title");
    mpw_byte(&w, 0xc0);
    mpw_int(&w, 64);
    op_name(&w, "set_template_alias", 3);
    mpw_str(&w, "none");
    mpw_str(&w, "prod");
    mpw_str(&w, "1.0.0");
    REQUIRE(!w.err, "batch fits");
    E(lms_write_batch(db, w.buf, w.len, &out, &out_len));
    r = mpr_of(out, out_len);
    CHECK(mpr_array(&r, &n) == 0 && n == 6, "six results");
    CHECK(result_at(&r, &res) == 0 && res.status == LMS_INVALID_ARGUMENT &&
              has_words(&res, "operation 0") && has_words(&res, "unknown write operation 'frobnicate'"),
          "unknown operation named");
    CHECK(result_at(&r, &res) == 0 && res.status == LMS_INVALID_ARGUMENT &&
              has_words(&res, "create_session: 4 arguments given, it takes 3"),
          "wrong arity named");
    CHECK(result_at(&r, &res) == 0 && res.status == LMS_INVALID_ARGUMENT &&
              has_words(&res, "trim_session: keep must not be negative"),
          "negative keep refused");
    CHECK(result_at(&r, &res) == 0 && res.status == LMS_INVALID_ARGUMENT &&
              has_words(&res, "delete_session: 3 arguments given, it takes 1"),
          "extra arguments refused");
    CHECK(result_at(&r, &res) == 0 && res.status == LMS_INVALID_ARGUMENT &&
              has_words(&res, "update_session: unknown flags 0x40"),
          "unknown update flags refused");
    CHECK(result_at(&r, &res) == 0 && res.status == LMS_NOT_FOUND && res.msg_len > 0,
          "set_template_alias on a missing template: not found, in words");
    lms_bytes_free(out, out_len);
    CHECK(stats_of(db).sessions == 0 && stats_of(db).template_ids == 0, "nothing written");

    lms_close(db);
    remove_dir(dir);
}

static void test_batch_writes(void)
{
    char *dir = temp_dir();
    lms_db *db = open_path(dir, 0), *ro;
    uint8_t *out = NULL;
    size_t out_len = 0, n;
    mpw w, msgs, bad, spec;
    mpr r;
    result res;
    int64_t v;
    lms_stats s;

    memset(&msgs, 0, sizeof msgs);
    mpw_array(&msgs, 2);
    mpw_map(&msgs, 3);
    mpw_str(&msgs, "session_id"); mpw_str(&msgs, "chat");
    mpw_str(&msgs, "role"); mpw_str(&msgs, "user");
    mpw_str(&msgs, "content"); mpw_str(&msgs, "hello");
    mpw_map(&msgs, 3);
    mpw_str(&msgs, "session_id"); mpw_str(&msgs, "chat");
    mpw_str(&msgs, "role"); mpw_str(&msgs, "assistant");
    mpw_str(&msgs, "content"); mpw_str(&msgs, "hi");
    memset(&bad, 0, sizeof bad);
    mpw_array(&bad, 1);
    mpw_map(&bad, 1);
    mpw_str(&bad, "session_id"); mpw_str(&bad, "chat");
    memset(&spec, 0, sizeof spec);
    mpw_map(&spec, 3);
    mpw_str(&spec, "id"); mpw_str(&spec, "greet");
    mpw_str(&spec, "version"); mpw_str(&spec, "1.0.0");
    mpw_str(&spec, "template"); mpw_str(&spec, "Hi {{ name }}");

    memset(&w, 0, sizeof w);
    mpw_array(&w, 7);
    op_name(&w, "append", 1);
    mpw_bin(&w, msgs.buf, msgs.len);
    op_name(&w, "append", 1); /* a message without a role: fails alone */
    mpw_bin(&w, bad.buf, bad.len);
    op_name(&w, "put_template", 2);
    mpw_bin(&w, spec.buf, spec.len);
    mpw_bool(&w, 0);
    op_name(&w, "set_template_alias", 3);
    mpw_str(&w, "greet"); mpw_str(&w, "prod"); mpw_str(&w, "1.0.0");
    op_name(&w, "sync", 0);
    op_name(&w, "trim_session", 2);
    mpw_str(&w, "chat");
    mpw_int(&w, 1);
    op_name(&w, "delete_template_alias", 2);
    mpw_str(&w, "greet"); mpw_str(&w, "staging");
    REQUIRE(!w.err && !msgs.err && !bad.err && !spec.err, "batch fits");
    E(lms_write_batch(db, w.buf, w.len, &out, &out_len));
    r = mpr_of(out, out_len);
    CHECK(mpr_array(&r, &n) == 0 && n == 7, "seven results");
    CHECK(result_at(&r, &res) == 0 && res.status == 0, "append ok");
    {
        mpr a = res.value;
        size_t k, f;
        const char *id;
        size_t id_len;
        int64_t ts;
        CHECK(mpr_array(&a, &k) == 0 && k == 2, "one result per message");
        CHECK(mpr_array(&a, &f) == 0 && f == 3 && mpr_bytes(&a, &id, &id_len) == 0 &&
                  id_len == 16 && mpr_int(&a, &ts) == 0 && ts > 0 && *a.p == 0xc2,
              "[id, ts, duplicate=false]");
    }
    CHECK(result_at(&r, &res) == 0 && res.status == LMS_INVALID_ARGUMENT &&
              has_words(&res, "role is missing"),
          "the bad append fails alone, in words");
    CHECK(result_at(&r, &res) == 0 && res.status == 0, "put ok");
    {
        mpr a = res.value;
        CHECK(mpr_int(&a, &v) == 0 && v == LMS_PUT_CREATED, "put outcome: created");
    }
    CHECK(result_at(&r, &res) == 0 && res.status == 0, "alias set (sees the put before it)");
    CHECK(result_at(&r, &res) == 0 && res.status == 0, "sync ok");
    CHECK(result_at(&r, &res) == 0 && res.status == 0, "trim ok");
    {
        mpr a = res.value;
        CHECK(mpr_int(&a, &v) == 0 && v == 1, "trim deleted one message");
    }
    CHECK(result_at(&r, &res) == 0 && res.status == LMS_NOT_FOUND && res.msg_len > 0,
          "deleting a missing alias: not found");
    lms_bytes_free(out, out_len);
    s = stats_of(db);
    CHECK(s.messages == 1 && s.sessions == 1 && s.template_versions == 1, "the good ops committed");

    /* Read-only: every operation fails with LMS_READ_ONLY, in words. */
    ro = open_path(dir, LMS_OPEN_READ_ONLY);
    E(lms_write_batch(ro, w.buf, w.len, &out, &out_len));
    r = mpr_of(out, out_len);
    CHECK(mpr_array(&r, &n) == 0 && n == 7, "seven results");
    CHECK(result_at(&r, &res) == 0 && res.status == LMS_READ_ONLY && has_words(&res, "read-only"),
          "read-only append");
    lms_bytes_free(out, out_len);
    lms_close(ro);

    /* An empty batch is fine and returns an empty array. */
    memset(&w, 0, sizeof w);
    mpw_array(&w, 0);
    E(lms_write_batch(db, w.buf, w.len, &out, &out_len));
    r = mpr_of(out, out_len);
    CHECK(mpr_array(&r, &n) == 0 && n == 0, "no results");
    lms_bytes_free(out, out_len);

    lms_close(db);
    remove_dir(dir);
}

/* An _into read must give the allocating read's bytes, refuse a small buffer without
 * touching it (reporting the size needed), and refuse a NULL out-parameter. */
#define INTO_CASE(label, alloc_call, into_call_buf, into_call_nullout)                        \
    do {                                                                                   \
        uint8_t *a_ = NULL, small_[4];                                                     \
        size_t a_len_ = 0, got_ = 0;                                                       \
        static uint8_t big_[65536];                                                        \
        uint8_t *buf;                                                                      \
        size_t cap;                                                                        \
        size_t *olen = &got_;                                                              \
        E(alloc_call);                                                                     \
        buf = big_; cap = sizeof big_;                                                     \
        E(into_call_buf);                                                                  \
        CHECK(got_ == a_len_ && memcmp(big_, a_, a_len_) == 0, label ": same bytes");      \
        memset(small_, 0xee, sizeof small_);                                               \
        buf = small_; cap = a_len_ > 1 ? 1 : 0; got_ = 0;                                   \
        CHECK((rc = (into_call_buf)) == LMS_BUFFER_TOO_SMALL && got_ == a_len_ &&           \
                  small_[0] == 0xee,                                                       \
              label ": too small, size reported, buffer untouched");                       \
        olen = NULL;                                                                       \
        EXPECT(into_call_nullout, LMS_INVALID_ARGUMENT, "out");                            \
        (void)olen;                                                                        \
        lms_bytes_free(a_, a_len_);                                                        \
    } while (0)

static void test_into_reads(void)
{
    char *dir = temp_dir();
    lms_db *db = open_path(dir, LMS_OPEN_NO_SYNC);
    lms_template_fields f;
    lms_message_in m;
    lms_append_result res;
    uint32_t outcome;
    lms_range q;
    lms_page page;
    lms_page_info pi;
    static uint8_t big[65536];
    uint8_t small[4];

    memset(&f, 0, sizeof f);
    f.id = "greet"; f.id_len = 5;
    f.version = "1.0.0"; f.version_len = 5;
    f.text = "Hello {{ name }}, this record is longer than four bytes"; f.text_len = strlen(f.text);
    RE(lms_put_template_fields(db, &f, 0, &outcome));
    RE(lms_set_template_alias(db, STR("greet"), STR("prod"), STR("1.0.0")));
    memset(&m, 0, sizeof m);
    m.session_id = "s"; m.session_id_len = 1;
    m.role = "assistant"; m.role_len = 9;
    m.agent_id = "bot"; m.agent_id_len = 3;
    m.content = "hi there"; m.content_len = 8;
    RE(lms_append_message(db, &m, &res));
    RE(lms_append_message(db, &m, &res));

    INTO_CASE("by alias", lms_get_template_by_alias(db, STR("greet"), STR("prod"), &a_, &a_len_),
              lms_get_template_by_alias_into(db, STR("greet"), STR("prod"), buf, cap, olen),
              lms_get_template_by_alias_into(db, STR("greet"), STR("prod"), big, 9, NULL));
    INTO_CASE("list templates", lms_list_templates(db, NULL, 0, NULL, 0, 10, &a_, &a_len_),
              lms_list_templates_into(db, NULL, 0, NULL, 0, 10, buf, cap, olen),
              lms_list_templates_into(db, NULL, 0, NULL, 0, 10, big, 9, NULL));
    INTO_CASE("versions", lms_list_template_versions(db, STR("greet"), &a_, &a_len_),
              lms_list_template_versions_into(db, STR("greet"), buf, cap, olen),
              lms_list_template_versions_into(db, STR("greet"), big, 9, NULL));
    INTO_CASE("aliases", lms_list_template_aliases(db, STR("greet"), &a_, &a_len_),
              lms_list_template_aliases_into(db, STR("greet"), buf, cap, olen),
              lms_list_template_aliases_into(db, STR("greet"), big, 9, NULL));
    INTO_CASE("message", lms_get_message(db, res.id, 16, &a_, &a_len_),
              lms_get_message_into(db, res.id, 16, buf, cap, olen),
              lms_get_message_into(db, res.id, 16, big, 9, NULL));
    INTO_CASE("session", lms_get_session(db, STR("s"), &a_, &a_len_),
              lms_get_session_into(db, STR("s"), buf, cap, olen),
              lms_get_session_into(db, STR("s"), big, 9, NULL));
    EXPECT(lms_get_template_by_alias_into(db, STR("greet"), STR("nope"), big, sizeof big, (size_t *)&pi.len),
           LMS_NOT_FOUND, "nope");
    EXPECT(lms_get_session_into(NULL, STR("s"), big, sizeof big, (size_t *)&pi.len), LMS_INVALID_ARGUMENT, "db");

    /* Pages: the agent range and the session list. */
    memset(&q, 0, sizeof q);
    q.limit = 1;
    RE(lms_range_agent_messages(db, STR("bot"), &q, &page));
    E(lms_range_agent_messages_into(db, STR("bot"), &q, big, sizeof big, &pi));
    CHECK(pi.len == page.len && memcmp(big, page.data, page.len) == 0 && pi.count == 1 &&
              pi.cursor_len == page.cursor_len && pi.cursor_len > 0 &&
              memcmp(pi.cursor, page.cursor, pi.cursor_len) == 0,
          "agent page into: same bytes, count and cursor");
    memset(small, 0xee, sizeof small);
    CHECK((rc = lms_range_agent_messages_into(db, STR("bot"), &q, small, 1, &pi)) ==
                  LMS_BUFFER_TOO_SMALL && pi.len == page.len && small[0] == 0xee,
          "agent page: too small, size reported, buffer untouched");
    EXPECT(lms_range_agent_messages_into(db, STR("bot"), &q, big, sizeof big, NULL),
           LMS_INVALID_ARGUMENT, "out");
    q.limit = 0;
    EXPECT(lms_range_agent_messages_into(db, STR("bot"), &q, big, sizeof big, &pi),
           LMS_INVALID_ARGUMENT, "limit");
    lms_page_free(&page);
    RE(lms_list_sessions(db, NULL, 0, 10, &page));
    E(lms_list_sessions_into(db, NULL, 0, 10, big, sizeof big, &pi));
    CHECK(pi.len == page.len && memcmp(big, page.data, page.len) == 0 && pi.count == 1 &&
              pi.cursor_len == 0,
          "session list into: same bytes, last page");
    CHECK((rc = lms_list_sessions_into(db, NULL, 0, 10, small, 1, &pi)) == LMS_BUFFER_TOO_SMALL &&
              pi.len == page.len,
          "session list: too small, size reported");
    EXPECT(lms_list_sessions_into(db, (const uint8_t *)"zz", 2, 10, big, sizeof big, &pi),
           LMS_BAD_CURSOR, "cursor");
    lms_page_free(&page);

    lms_close(db);
    remove_dir(dir);
}

static int view_is(lms_str v, const char *s)
{
    return v.len == strlen(s) && (v.len == 0 || memcmp(v.ptr, s, v.len) == 0);
}

static void test_list_decoders(void)
{
    char *dir = temp_dir();
    lms_db *db = open_path(dir, LMS_OPEN_NO_SYNC);
    lms_template_fields f;
    lms_message_in m;
    lms_append_result res;
    uint32_t outcome;
    uint8_t *b = NULL, meta[] = {0x81, 0xa1, 'k', 0x07};
    size_t b_len = 0;
    lms_page page;
    lms_str_list *ids = NULL;
    lms_version_list *versions = NULL;
    lms_alias_list *aliases = NULL;
    lms_session_list *sessions = NULL;
    static const uint8_t garbage[] = {0xc1}, not_array[] = {0x07}, bad_item[] = {0x91, 0x07};

    memset(&f, 0, sizeof f);
    f.text = "x"; f.text_len = 1;
    f.id = "a/one"; f.id_len = 5;
    f.version = "1.0.0"; f.version_len = 5;
    RE(lms_put_template_fields(db, &f, 0, &outcome));
    f.version = "2.0.0";
    RE(lms_put_template_fields(db, &f, 0, &outcome));
    f.id = "b/two"; f.version = NULL; f.version_len = 0;
    RE(lms_put_template_fields(db, &f, 0, &outcome));
    RE(lms_set_template_alias(db, STR("a/one"), STR("prod"), STR("1.0.0")));
    RE(lms_set_template_alias(db, STR("a/one"), STR("canary"), STR("2.0.0")));
    RE(lms_create_session(db, STR("titled"), STR("Title"), meta, sizeof meta));
    memset(&m, 0, sizeof m);
    m.session_id = "bare"; m.session_id_len = 4;
    m.role = "user"; m.role_len = 4;
    RE(lms_append_message(db, &m, &res));

    RE(lms_list_templates(db, NULL, 0, NULL, 0, 10, &b, &b_len));
    E(lms_template_ids_decode(b, b_len, &ids));
    CHECK(ids && ids->count == 2 && view_is(ids->items[0], "a/one") && view_is(ids->items[1], "b/two"),
          "template ids decoded");
    lms_str_list_free(ids);
    lms_bytes_free(b, b_len);

    RE(lms_list_template_versions(db, STR("a/one"), &b, &b_len));
    E(lms_template_versions_decode(b, b_len, &versions));
    CHECK(versions && versions->count == 2 && view_is(versions->items[0].version, "1.0.0") &&
              view_is(versions->items[1].version, "2.0.0") && versions->items[0].created_at > 0 &&
              versions->items[1].created_at >= versions->items[0].created_at,
          "versions decoded, oldest first");
    lms_version_list_free(versions);
    lms_bytes_free(b, b_len);

    RE(lms_list_template_aliases(db, STR("a/one"), &b, &b_len));
    E(lms_template_aliases_decode(b, b_len, &aliases));
    CHECK(aliases && aliases->count == 2 && view_is(aliases->items[0].alias, "canary") &&
              view_is(aliases->items[0].version, "2.0.0") && view_is(aliases->items[1].alias, "prod") &&
              view_is(aliases->items[1].version, "1.0.0"),
          "aliases decoded");
    lms_alias_list_free(aliases);
    lms_bytes_free(b, b_len);

    RE(lms_list_sessions(db, NULL, 0, 10, &page));
    E(lms_sessions_decode(page.data, page.len, &sessions));
    CHECK(sessions && sessions->count == 2 && view_is(sessions->items[0].session_id, "bare") &&
              sessions->items[0].title.ptr == NULL && sessions->items[0].message_count == 1 &&
              sessions->items[0].last_ts == res.ts && view_is(sessions->items[1].session_id, "titled") &&
              view_is(sessions->items[1].title, "Title") && sessions->items[1].message_count == 0 &&
              sessions->items[1].metadata.len == sizeof meta &&
              memcmp(sessions->items[1].metadata.ptr, meta, sizeof meta) == 0 &&
              sessions->items[1].created_at > 0 && sessions->items[1].last_activity > 0,
          "session page decoded, newest activity first");
    lms_session_list_free(sessions);
    lms_page_free(&page);

    RE(lms_get_session(db, STR("titled"), &b, &b_len));
    E(lms_sessions_decode(b, b_len, &sessions));
    CHECK(sessions && sessions->count == 1 && view_is(sessions->items[0].title, "Title"),
          "one session decodes as a list of one");
    lms_session_list_free(sessions);
    lms_bytes_free(b, b_len);

    /* Bad input: refused, *out NULL. */
    ids = (lms_str_list *)1;
    EXPECT(lms_template_ids_decode(garbage, sizeof garbage, &ids), LMS_BAD_MSGPACK, "template id list");
    CHECK(ids == NULL, "out cleared on failure");
    EXPECT(lms_template_ids_decode(not_array, sizeof not_array, &ids), LMS_BAD_MSGPACK, "must be an array");
    EXPECT(lms_template_ids_decode(bad_item, sizeof bad_item, &ids), LMS_BAD_MSGPACK, "not a string");
    EXPECT(lms_template_versions_decode(bad_item, sizeof bad_item, &versions), LMS_BAD_MSGPACK, "a version");
    EXPECT(lms_template_aliases_decode(bad_item, sizeof bad_item, &aliases), LMS_BAD_MSGPACK, "map");
    EXPECT(lms_sessions_decode(not_array, sizeof not_array, &sessions), LMS_BAD_MSGPACK, "sessions");
    EXPECT(lms_sessions_decode(bad_item, sizeof bad_item, &sessions), LMS_BAD_MSGPACK, "session");
    EXPECT(lms_sessions_decode(NULL, 0, &sessions), LMS_INVALID_ARGUMENT, "data");
    EXPECT(lms_template_ids_decode(garbage, sizeof garbage, NULL), LMS_INVALID_ARGUMENT, "out");
    lms_str_list_free(NULL);
    lms_version_list_free(NULL);
    lms_alias_list_free(NULL);
    lms_session_list_free(NULL);

    lms_close(db);
    remove_dir(dir);
}

/* The key limits the header's preamble states, at the edge and one byte over. */
static void test_key_limits(void)
{
    char *dir = temp_dir();
    lms_db *db = open_path(dir, LMS_OPEN_NO_SYNC);
    char key[600], key2[600];
    lms_template_fields f;
    lms_message_in m;
    lms_append_result res;
    uint32_t outcome;

    memset(key, 'k', sizeof key);
    memset(key2, 'v', sizeof key2);
    memset(&f, 0, sizeof f);
    f.text = "x"; f.text_len = 1;
    f.id = key; f.id_len = 502;
    f.version = "1"; f.version_len = 1;
    E(lms_put_template_fields(db, &f, 0, &outcome));
    f.id_len = 503;
    EXPECT(lms_put_template_fields(db, &f, 0, &outcome), LMS_KEY_TOO_LONG, "502");
    f.id_len = 250;
    f.version = key2; f.version_len = 260;
    E(lms_put_template_fields(db, &f, 0, &outcome));
    f.version_len = 261;
    EXPECT(lms_put_template_fields(db, &f, 0, &outcome), LMS_KEY_TOO_LONG, "511");
    f.version_len = 260;
    E(lms_set_template_alias(db, key, 250, key2, 260, key2, 260));
    EXPECT(lms_set_template_alias(db, key, 250, key2, 261, key2, 260), LMS_KEY_TOO_LONG, "511");

    memset(&m, 0, sizeof m);
    m.role = "user"; m.role_len = 4;
    m.session_id = key; m.session_id_len = 255;
    m.agent_id = key2; m.agent_id_len = 255;
    E(lms_append_message(db, &m, &res));
    m.session_id_len = 256;
    EXPECT(lms_append_message(db, &m, &res), LMS_KEY_TOO_LONG, "255");
    m.session_id_len = 255;
    m.agent_id_len = 256;
    EXPECT(lms_append_message(db, &m, &res), LMS_KEY_TOO_LONG, "255");

    lms_close(db);
    remove_dir(dir);
}

int main(void)
{
    /* shared helpers this file has no use for */
    (void)fingerprint;
    (void)mpr_find_int;
    (void)mpr_find_streq;
    (void)g_known_bugs;
    test_batch_errors();
    test_batch_writes();
    test_into_reads();
    test_list_decoders();
    test_key_limits();
    printf("test_bind: %d checks, %d failed\n", g_checks, g_failures);
    return g_failures ? 1 : 0;
}
