/*
 * lmstore demo: versioned prompt templates and a conversation, through the C ABI.
 *
 *   cc -std=c99 -Iinclude examples/demo.c target/release/liblmstore.a \
 *      -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc -o demo
 *   ./demo ./demo-store
 *
 * Running it again on the same directory is fine: identical template puts are reported as
 * unchanged, and the conversation simply grows.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lmstore.h"

/* Every call returns a status; on failure lms_last_error() says why, in words. */
#define TRY(call)                                                                  \
    do {                                                                           \
        int rc_ = (call);                                                          \
        if (rc_ != LMS_OK) {                                                       \
            fprintf(stderr, "%s:%d: %s failed: %s (%s)\n", __FILE__, __LINE__,     \
                    #call, lms_strerror(rc_), lms_last_error());                   \
            goto fail;                                                             \
        }                                                                          \
    } while (0)

#define STR(s) (s), strlen(s)

static const char *const put_outcome[] = {"created", "unchanged", "replaced"};

/* Reads a MessagePack string header at *p; lms_list_templates() returns an array of these.
 * Real programs would use a MessagePack library; this keeps the demo self-contained. */
static int read_str(const uint8_t **p, const uint8_t *end, const char **s, size_t *n)
{
    const uint8_t *q = *p;
    size_t len;
    if (q >= end) return -1;
    if ((*q & 0xe0) == 0xa0) { len = *q & 0x1f; q += 1; }
    else if (*q == 0xd9 && end - q >= 2) { len = q[1]; q += 2; }
    else if (*q == 0xda && end - q >= 3) { len = (size_t)q[1] << 8 | q[2]; q += 3; }
    else return -1;
    if ((size_t)(end - q) < len) return -1;
    *s = (const char *)q;
    *n = len;
    *p = q + len;
    return 0;
}

static int print_template_ids(const uint8_t *buf, size_t len)
{
    const uint8_t *p = buf, *end = buf + len;
    size_t count, i;
    if (len == 0) return -1;
    if ((*p & 0xf0) == 0x90) { count = *p & 0x0f; p += 1; }
    else if (*p == 0xdc && len >= 3) { count = (size_t)p[1] << 8 | p[2]; p += 3; }
    else return -1;
    printf("template ids (%zu):", count);
    for (i = 0; i < count; i++) {
        const char *s;
        size_t n;
        if (read_str(&p, end, &s, &n) != 0) return -1;
        printf(" %.*s", (int)n, s);
    }
    printf("\n");
    return 0;
}

/* Fetches a template record (latest or by alias) and prints its version and text. */
static int show_template(lms_db *db, const char *label, const char *alias)
{
    uint8_t *rec = NULL;
    size_t rec_len = 0;
    lms_template *tpl = NULL;
    if (alias)
        TRY(lms_get_template_by_alias(db, STR("greeting"), STR(alias), &rec, &rec_len));
    else
        TRY(lms_get_template(db, STR("greeting"), NULL, 0, &rec, &rec_len));
    TRY(lms_template_decode(rec, rec_len, &tpl));
    printf("%-12s greeting@%.*s: %.*s\n", label, (int)tpl->version.len, tpl->version.ptr,
           (int)tpl->text.len, tpl->text.ptr);
    lms_template_free(tpl);
    lms_bytes_free(rec, rec_len);
    return 0;
fail:
    lms_template_free(tpl);
    lms_bytes_free(rec, rec_len);
    return -1;
}

static int put_greeting(lms_db *db, const char *version, const char *text)
{
    /* inputs: {"name": {"type": "string", "required": false, "default": "world"}} */
    static const uint8_t inputs[] = {
        0x81, 0xa4, 'n', 'a', 'm', 'e',
        0x83, 0xa4, 't', 'y', 'p', 'e', 0xa6, 's', 't', 'r', 'i', 'n', 'g',
              0xa8, 'r', 'e', 'q', 'u', 'i', 'r', 'e', 'd', 0xc2,
              0xa7, 'd', 'e', 'f', 'a', 'u', 'l', 't', 0xa5, 'w', 'o', 'r', 'l', 'd',
    };
    lms_template_fields f;
    uint32_t outcome = 0;
    memset(&f, 0, sizeof f);
    f.id = "greeting";
    f.id_len = strlen(f.id);
    f.version = version;
    f.version_len = strlen(version);
    f.text = text;
    f.text_len = strlen(text);
    f.description = "Greets the user by name";
    f.description_len = strlen(f.description);
    f.inputs = inputs;
    f.inputs_len = sizeof inputs;
    TRY(lms_put_template_fields(db, &f, 0, &outcome));
    printf("put greeting@%s: %s\n", version, outcome < 3 ? put_outcome[outcome] : "?");
    return 0;
fail:
    return -1;
}

static int append(lms_db *db, const char *role, const char *agent, const char *content)
{
    lms_message_in m;
    memset(&m, 0, sizeof m); /* ts 0: the store assigns it; id absent: a UUIDv7 is generated */
    m.session_id = "demo-session";
    m.session_id_len = strlen(m.session_id);
    m.role = role;
    m.role_len = strlen(role);
    if (agent) {
        m.agent_id = agent;
        m.agent_id_len = strlen(agent);
    }
    m.content = content;
    m.content_len = strlen(content);
    TRY(lms_append_message(db, &m, NULL));
    return 0;
fail:
    return -1;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "./demo-store";
    lms_db *db = NULL;
    uint8_t *ids = NULL;
    size_t ids_len = 0;
    lms_page page;
    lms_message_list *msgs = NULL;
    lms_range range;
    lms_stats st;
    size_t i;

    memset(&page, 0, sizeof page);
    if (lms_abi_version() != LMS_ABI_VERSION) {
        fprintf(stderr, "liblmstore ABI %u, header ABI %d\n", lms_abi_version(), LMS_ABI_VERSION);
        return 1;
    }
    printf("lmstore %s, store at %s\n", lms_version(), path);
    TRY(lms_open(STR(path), NULL, &db));

    /* Templates: every version is its own immutable record; the one put last is the latest. */
    if (put_greeting(db, "1.0.0", "Hello, {{ name }}!") != 0) goto fail;
    if (put_greeting(db, "1.1.0", "Hello, {{ name }}! How can I help you today?") != 0) goto fail;
    TRY(lms_set_template_alias(db, STR("greeting"), STR("production"), STR("1.0.0")));

    TRY(lms_list_templates(db, NULL, 0, NULL, 0, 100, &ids, &ids_len));
    if (print_template_ids(ids, ids_len) != 0) {
        fprintf(stderr, "unexpected template list encoding\n");
        goto fail;
    }
    if (show_template(db, "latest", NULL) != 0) goto fail;
    if (show_template(db, "production", "production") != 0) goto fail;

    /* A conversation: sessions are created by their first message. */
    if (append(db, "user", NULL, "Hi! Can you summarize my last order?") != 0 ||
        append(db, "assistant", NULL, "Sure, let me look it up.") != 0 ||
        append(db, "assistant", "helper-bot", "Order #1042: 2 books, shipped Monday.") != 0 ||
        append(db, "assistant", NULL, "Your order of 2 books shipped on Monday.") != 0 ||
        append(db, "user", NULL, "Thanks!") != 0)
        goto fail;

    /* "The latest 3 messages, newest first" is one call returning one page. */
    memset(&range, 0, sizeof range);
    range.limit = 3;
    range.flags = LMS_RANGE_REVERSE;
    TRY(lms_range_messages(db, STR("demo-session"), &range, &page));
    TRY(lms_messages_decode(page.data, page.len, &msgs));
    printf("latest %zu messages of demo-session (newest first):\n", msgs->count);
    for (i = 0; i < msgs->count; i++) {
        const lms_message *m = &msgs->items[i];
        printf("  [%lld] %.*s%s%.*s%s: %.*s\n", (long long)m->ts, (int)m->role.len, m->role.ptr,
               m->agent_id.len ? " (" : "", (int)m->agent_id.len,
               m->agent_id.len ? m->agent_id.ptr : "", m->agent_id.len ? ")" : "",
               (int)m->content.len, m->content.ptr);
    }

    TRY(lms_stat(db, &st));
    printf("stats: %llu template ids, %llu versions, %llu sessions, %llu messages, "
           "map %llu/%llu bytes used\n",
           (unsigned long long)st.template_ids, (unsigned long long)st.template_versions,
           (unsigned long long)st.sessions, (unsigned long long)st.messages,
           (unsigned long long)st.map_used, (unsigned long long)st.map_size);

    lms_message_list_free(msgs);
    lms_page_free(&page);
    lms_bytes_free(ids, ids_len);
    lms_close(db);
    return 0;

fail:
    lms_message_list_free(msgs);
    lms_page_free(&page);
    lms_bytes_free(ids, ids_len);
    lms_close(db);
    return 1;
}
