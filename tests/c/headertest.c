/*
 * Compiles the public header on its own, twice (the guard must hold), as C99 and as C++11,
 * with warnings as errors: a header that only builds in one language or needs a prior include
 * would break users before they run anything.
 */
#include "lmstore.h"
#include "lmstore.h"

#include <string.h>

#ifdef __cplusplus
#define STATIC_ASSERT(c, m) static_assert(c, #m)
#else
#define STATIC_ASSERT(c, m) typedef char static_assert_##m[(c) ? 1 : -1]
#endif

/* Layout facts the Go and Node bindings hard-code. */
STATIC_ASSERT(sizeof(lms_append_result) == 32, append_result_size);
STATIC_ASSERT(sizeof(lms_page) == 8 + 8 + 4 + 4 + LMS_CURSOR_MAX || sizeof(void *) != 8, page_size);
STATIC_ASSERT(sizeof(lms_options) == 48, options_size);
STATIC_ASSERT(LMS_VERSION_NUMBER == LMS_VERSION_MAJOR * 10000 + LMS_VERSION_MINOR * 100 +
                                       LMS_VERSION_PATCH,
              version_number);
STATIC_ASSERT(LMS_ID_LEN == 16, id_len);
STATIC_ASSERT(LMS_OK == 0, ok_is_zero);

/* Taking every function's address checks each prototype without linking the library. */
typedef void (*any_fn)(void);
#define FN(f) (any_fn)(f)

int main(void)
{
    static const any_fn fns[] = {
        FN(lms_last_error), FN(lms_last_error_os_code), FN(lms_strerror), FN(lms_bytes_free),
        FN(lms_append_messages), FN(lms_append_message), FN(lms_append_messages_packed),
        FN(lms_range_messages), FN(lms_range_agent_messages), FN(lms_page_free),
        FN(lms_get_message), FN(lms_update_message), FN(lms_delete_message),
        FN(lms_trim_session), FN(lms_trim_session_before), FN(lms_create_session),
        FN(lms_get_session), FN(lms_update_session), FN(lms_delete_session),
        FN(lms_list_sessions), FN(lms_template_decode), FN(lms_template_free),
        FN(lms_messages_decode), FN(lms_message_list_free), FN(lms_version),
        FN(lms_version_number), FN(lms_abi_version), FN(lms_options_init), FN(lms_open),
        FN(lms_close), FN(lms_sync), FN(lms_stat), FN(lms_backup), FN(lms_put_template),
        FN(lms_put_template_fields), FN(lms_get_template), FN(lms_get_template_by_alias),
        FN(lms_list_templates), FN(lms_list_template_versions), FN(lms_delete_template),
        FN(lms_set_template_alias), FN(lms_delete_template_alias),
        FN(lms_list_template_aliases),
    };
    struct lms_message_in m;
    struct lms_range r;
    struct lms_template_fields f;
    lms_stats s;
    lms_str str;
    lms_template t;
    lms_message msg;
    lms_message_list l;
    memset(&m, 0, sizeof m);
    memset(&r, 0, sizeof r);
    memset(&f, 0, sizeof f);
    memset(&s, 0, sizeof s);
    memset(&str, 0, sizeof str);
    memset(&t, 0, sizeof t);
    memset(&msg, 0, sizeof msg);
    memset(&l, 0, sizeof l);
    (void)m;
    (void)r;
    (void)f;
    (void)s;
    (void)str;
    (void)t;
    (void)msg;
    (void)l;
    return sizeof fns / sizeof fns[0] == 43 ? 0 : 1;
}
