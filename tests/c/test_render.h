/*
 * Render functions through the C ABI: every function, its good results and its bad inputs
 * (not a map, bad MessagePack, unknown template, a failing template, NULLs, small buffers),
 * options version 1 and 2, the compile check and the lint. Included by test_lmstore.c.
 */
#ifndef LMS_TEST_RENDER_H
#define LMS_TEST_RENDER_H

#include "test_util.h"

/* A spec map: id, version, template, and inputs given as "name:type:required" triples. */
static void render_spec(mpw *w, const char *id, const char *version, const char *text,
                        const char *const *inputs, size_t n_inputs)
{
    size_t i;
    mpw_map(w, 4);
    mpw_str(w, "id");
    mpw_str(w, id);
    mpw_str(w, "version");
    mpw_str(w, version);
    mpw_str(w, "template");
    mpw_str(w, text);
    mpw_str(w, "inputs");
    mpw_map(w, (uint32_t)n_inputs);
    for (i = 0; i < n_inputs; i++) {
        char name[64], type[32];
        int required = 0;
        if (sscanf(inputs[i], "%63[^:]:%31[^:]:%d", name, type, &required) != 3) w->err = 1;
        mpw_str(w, name);
        mpw_map(w, 2);
        mpw_str(w, "type");
        mpw_str(w, type);
        mpw_str(w, "required");
        mpw_bool(w, required);
    }
}

static int render_text_is(const char *got, size_t len, const char *want)
{
    return got != NULL && len == strlen(want) && memcmp(got, want, len) == 0 && got[len] == 0;
}

static void test_render_stored(lms_db *db)
{
    static const char *const inputs[] = {"name:string:1", "n:number:0", "tags:array<string>:0"};
    mpw spec, vars;
    char *out = NULL;
    size_t len = 0;
    char buf[64];
    uint32_t outcome;

    memset(&spec, 0, sizeof spec);
    render_spec(&spec, "greet", "1.0.0", "Hi {{ name }}", inputs, 3);
    RE(lms_put_template(db, spec.buf, spec.len, 0, &outcome));
    memset(&spec, 0, sizeof spec);
    render_spec(&spec, "greet", "2.0.0",
                "Hello {{ name }}{% if n %} x{{ n }}{% endif %} {{ tags|yaml }}", inputs, 3);
    RE(lms_put_template(db, spec.buf, spec.len, 0, &outcome));
    RE(lms_set_template_alias(db, STR("greet"), STR("prod"), STR("1.0.0")));

    memset(&vars, 0, sizeof vars);
    mpw_map(&vars, 3);
    mpw_str(&vars, "name");
    mpw_str(&vars, "Ann");
    mpw_str(&vars, "n");
    mpw_str(&vars, "2");
    mpw_str(&vars, "extra");
    mpw_str(&vars, "dropped");
    REQUIRE(!vars.err && !spec.err, "msgpack buffers");

    E(lms_render(db, STR("greet"), NULL, 0, vars.buf, vars.len, &out, &len));
    CHECK(render_text_is(out, len, "Hello Ann x2.0 None"), "latest renders, number coerced");
    lms_bytes_free((uint8_t *)out, len);
    E(lms_render(db, STR("greet"), STR("1.0.0"), vars.buf, vars.len, &out, &len));
    CHECK(render_text_is(out, len, "Hi Ann"), "exact version");
    lms_bytes_free((uint8_t *)out, len);
    E(lms_render_by_alias(db, STR("greet"), STR("prod"), vars.buf, vars.len, &out, &len));
    CHECK(render_text_is(out, len, "Hi Ann"), "alias");
    lms_bytes_free((uint8_t *)out, len);

    E(lms_render_into(db, STR("greet"), NULL, 0, vars.buf, vars.len, buf, sizeof buf, &len));
    CHECK(len == strlen("Hello Ann x2.0 None") && memcmp(buf, "Hello Ann x2.0 None", len) == 0,
          "into");
    memset(buf, 'z', sizeof buf);
    EXPECT(lms_render_into(db, STR("greet"), NULL, 0, vars.buf, vars.len, buf, 4, &len),
           LMS_BUFFER_TOO_SMALL, "buffer holds 4");
    CHECK(len == strlen("Hello Ann x2.0 None") && buf[0] == 'z', "size reported, buf untouched");
    EXPECT(lms_render_into(db, STR("greet"), NULL, 0, vars.buf, vars.len, NULL, 0, &len),
           LMS_BUFFER_TOO_SMALL, "buffer holds 0");
    CHECK(len == strlen("Hello Ann x2.0 None"), "size query with NULL/0");
    E(lms_render_by_alias_into(db, STR("greet"), STR("prod"), vars.buf, vars.len, buf,
                               sizeof buf, &len));
    CHECK(len == 6 && memcmp(buf, "Hi Ann", 6) == 0, "alias into");

    /* Bad inputs: each a status and a message that names the problem; out cleared. */
    out = (char *)buf;
    EXPECT(lms_render(db, STR("nope"), NULL, 0, vars.buf, vars.len, &out, &len), LMS_NOT_FOUND,
           "template 'nope' not found");
    CHECK(out == NULL && len == 0, "out cleared on failure");
    EXPECT(lms_render(db, STR("greet"), STR("9.9"), vars.buf, vars.len, &out, &len),
           LMS_NOT_FOUND, "has no version '9.9'");
    EXPECT(lms_render_by_alias(db, STR("greet"), STR("staging"), vars.buf, vars.len, &out, &len),
           LMS_NOT_FOUND, "has no alias 'staging'");
    {
        static const uint8_t not_map[] = {0x92, 0x01, 0x02};
        static const uint8_t bad[] = {0x82, 0xa4, 'n', 'a'};
        EXPECT(lms_render(db, STR("greet"), NULL, 0, not_map, sizeof not_map, &out, &len),
               LMS_INVALID_ARGUMENT, "render variables must be a MessagePack map, got an array");
        EXPECT(lms_render(db, STR("greet"), NULL, 0, bad, sizeof bad, &out, &len),
               LMS_BAD_MSGPACK, "render variables");
        EXPECT(lms_render_into(db, STR("greet"), NULL, 0, bad, sizeof bad, buf, sizeof buf, &len),
               LMS_BAD_MSGPACK, "render variables");
    }
    EXPECT(lms_render(db, STR("greet"), NULL, 0, NULL, 0, &out, &len), LMS_INPUT,
           "missing input: name");
    {
        mpw v;
        memset(&v, 0, sizeof v);
        mpw_map(&v, 2);
        mpw_str(&v, "name");
        mpw_str(&v, "A");
        mpw_str(&v, "n");
        mpw_str(&v, "abc");
        EXPECT(lms_render(db, STR("greet"), NULL, 0, v.buf, v.len, &out, &len), LMS_INPUT,
               "could not convert string to float: 'abc'");
        memset(&v, 0, sizeof v);
        mpw_map(&v, 2);
        mpw_str(&v, "name");
        mpw_str(&v, "A");
        mpw_str(&v, "tags");
        mpw_int(&v, 5);
        EXPECT(lms_render(db, STR("greet"), NULL, 0, v.buf, v.len, &out, &len), LMS_INPUT,
               "type mismatch for 'tags': expected array<string>");
    }
    {
        static const char *const none[] = {"x:string:0"};
        mpw s;
        memset(&s, 0, sizeof s);
        render_spec(&s, "fails", "3", "line one\n{{ audience }}", none, 1);
        RE(lms_put_template(db, s.buf, s.len, 0, &outcome));
        EXPECT(lms_render(db, STR("fails"), NULL, 0, NULL, 0, &out, &len), LMS_RENDER,
               "'audience' is undefined (template 'fails' version '3', line 2)");
        EXPECT(lms_render_by_alias_into(db, STR("fails"), STR("x"), NULL, 0, buf, sizeof buf,
                                        &len),
               LMS_NOT_FOUND, "no alias 'x'");
    }
    EXPECT(lms_render(NULL, STR("greet"), NULL, 0, NULL, 0, &out, &len), LMS_INVALID_ARGUMENT,
           "db is NULL");
    EXPECT(lms_render(db, NULL, 3, NULL, 0, NULL, 0, &out, &len), LMS_INVALID_ARGUMENT,
           "id is NULL");
    EXPECT(lms_render(db, STR("greet"), NULL, 0, NULL, 5, &out, &len), LMS_INVALID_ARGUMENT,
           "vars is NULL but its length is 5");
    EXPECT(lms_render(db, STR("greet"), NULL, 0, NULL, 0, NULL, &len), LMS_INVALID_ARGUMENT,
           "out (an out-parameter) is NULL");
    EXPECT(lms_render_into(db, STR("greet"), NULL, 0, NULL, 0, buf, sizeof buf, NULL),
           LMS_INVALID_ARGUMENT, "out_len (an out-parameter) is NULL");
    EXPECT(lms_render(db, (const char *)BAD_UTF8, sizeof BAD_UTF8, NULL, 0, NULL, 0, &out, &len),
           LMS_INVALID_UTF8, "not valid UTF-8");
    EXPECT(lms_render_by_alias(db, STR("greet"), NULL, 0, NULL, 0, &out, &len),
           LMS_INVALID_ARGUMENT, "alias is NULL");

    /* Put refuses a text that does not compile; nothing is written. */
    {
        mpw s;
        memset(&s, 0, sizeof s);
        render_spec(&s, "broken", "1", "ok\n{% for x in %}", NULL, 0);
        REJECT(db, lms_put_template(db, s.buf, s.len, 0, &outcome), LMS_RENDER,
               "does not compile");
        CHECK(strstr(lms_last_error(), "(line 2, column ") != NULL, "line and column");
    }
}

static void test_render_preview_check_lint(void)
{
    static const char *const inputs[] = {"who:string:1"};
    mpw spec, vars;
    char *out = NULL;
    size_t len = 0;
    char buf[32];
    uint32_t line = 7, col = 7;
    uint8_t *list = NULL;

    memset(&spec, 0, sizeof spec);
    render_spec(&spec, "p", "1", "{% for i in range(2) %}{{ who }}{{ loop.index }} {% endfor %}",
                inputs, 1);
    memset(&vars, 0, sizeof vars);
    mpw_map(&vars, 1);
    mpw_str(&vars, "who");
    mpw_bool(&vars, 1);
    E(lms_render_preview(spec.buf, spec.len, vars.buf, vars.len, &out, &len));
    CHECK(render_text_is(out, len, "True1 True2 "), "preview, boolean printed by str()");
    lms_bytes_free((uint8_t *)out, len);
    E(lms_render_preview_into(spec.buf, spec.len, vars.buf, vars.len, buf, sizeof buf, &len));
    CHECK(len == 12 && memcmp(buf, "True1 True2 ", 12) == 0, "preview into");
    EXPECT(lms_render_preview_into(spec.buf, spec.len, vars.buf, vars.len, buf, 3, &len),
           LMS_BUFFER_TOO_SMALL, "buffer holds 3");
    EXPECT(lms_render_preview(spec.buf, spec.len, NULL, 0, &out, &len), LMS_INPUT,
           "missing input: who");
    EXPECT(lms_render_preview(NULL, 0, NULL, 0, &out, &len), LMS_INVALID_ARGUMENT,
           "spec is NULL");
    {
        static const uint8_t junk[] = {0xc1, 0xc1};
        EXPECT(lms_render_preview(junk, sizeof junk, NULL, 0, &out, &len), LMS_BAD_MSGPACK,
               "template spec");
    }
    {
        mpw bad;
        memset(&bad, 0, sizeof bad);
        render_spec(&bad, "p", "1", "{{ 1 // 0 }}", NULL, 0);
        EXPECT(lms_render_preview(bad.buf, bad.len, NULL, 0, &out, &len), LMS_RENDER,
               "integer division or modulo by zero (template 'p' version '1', line 1)");
        memset(&bad, 0, sizeof bad);
        render_spec(&bad, "p", "1", "{{ x", NULL, 0);
        EXPECT(lms_render_preview(bad.buf, bad.len, NULL, 0, &out, &len), LMS_RENDER,
               "does not compile");
    }

    E(lms_template_check(STR("{{ a }}{% if b %}{% endif %}"), &line, &col));
    CHECK(line == 0 && col == 0, "compiles: no position");
    EXPECT(lms_template_check(STR("ab\ncd {% if %}"), &line, &col), LMS_RENDER, "line 2");
    CHECK(line == 2 && col > 1, "line and column out");
    EXPECT(lms_template_check(STR("{% endfor %}"), NULL, NULL), LMS_RENDER, "line 1");
    EXPECT(lms_template_check((const char *)BAD_UTF8, sizeof BAD_UTF8, NULL, NULL),
           LMS_INVALID_UTF8, "text is not valid UTF-8");
    EXPECT(lms_template_check(NULL, 4, NULL, NULL), LMS_INVALID_ARGUMENT, "text is NULL");

    memset(&spec, 0, sizeof spec);
    render_spec(&spec, "l", "1", "{{ who }}{{ b }}{% set c = 1 %}{{ c }}{{ a.x }}", inputs, 1);
    E(lms_template_lint(spec.buf, spec.len, &list, &len));
    {
        mpr r = mpr_of(list, len);
        size_t n = 0, sl = 0;
        const char *s = NULL;
        CHECK(mpr_array(&r, &n) == 0 && n == 2, "two undeclared");
        CHECK(mpr_bytes(&r, &s, &sl) == 0 && sl == 1 && s[0] == 'a', "a");
        CHECK(mpr_bytes(&r, &s, &sl) == 0 && sl == 1 && s[0] == 'b', "b");
    }
    lms_bytes_free(list, len);
    EXPECT(lms_template_lint(spec.buf, spec.len, NULL, &len), LMS_INVALID_ARGUMENT, "out");
    EXPECT(lms_template_lint(NULL, 0, &list, &len), LMS_INVALID_ARGUMENT, "spec is NULL");
}

/* A version-1 lms_options (without the three version-2 fields) is still accepted. */
struct options_v1 {
    uint32_t version, flags;
    uint64_t map_size, max_map_size;
    uint32_t max_readers, file_mode;
};

static void test_render_options(void)
{
    char *dir = temp_dir();
    lms_options o;
    struct options_v1 v1;
    lms_db *db = NULL;
    lms_options_init(&o);
    CHECK(o.version == 2 && o.render_cache_size == 256, "version-2 options, cache size default 256");
    o.render_cache_size = 1;
    E(lms_open(STR(dir), &o, &db));
    if (db) {
        uint32_t outcome;
        char buf[8];
        size_t len;
        E(put_tpl(db, "a", "1", "A", 0, &outcome));
        E(put_tpl(db, "b", "1", "B", 0, &outcome));
        E(lms_render_into(db, STR("a"), NULL, 0, NULL, 0, buf, sizeof buf, &len));
        E(lms_render_into(db, STR("b"), NULL, 0, NULL, 0, buf, sizeof buf, &len));
        E(lms_render_into(db, STR("a"), NULL, 0, NULL, 0, buf, sizeof buf, &len));
        CHECK(len == 1 && buf[0] == 'A', "a one-slot cache still renders the right template");
        lms_close(db);
        db = NULL;
    }
    memset(&v1, 0, sizeof v1);
    v1.version = 1;
    E(lms_open(STR(dir), (const lms_options *)(const void *)&v1, &db));
    CHECK(db != NULL, "version-1 options accepted");
    lms_close(db);
    remove_dir(dir);
}

static void test_render(void)
{
    char *dir = temp_dir();
    lms_db *db = open_path(dir, LMS_OPEN_NO_SYNC);
    test_render_stored(db);
    lms_close(db);
    remove_dir(dir);
    test_render_preview_check_lint();
    test_render_options();
}

#endif
