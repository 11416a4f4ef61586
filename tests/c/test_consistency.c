/* Included by test_lmstore.c: lms_check_consistency(). */

/* lms_check_consistency() on a consistent store: counts match what was stored, no problems, no text. The
 * detection of each kind of damage is tested in Rust (tests/consistency.rs), where the test
 * can break an index behind the library's back. */
static void test_consistency(void)
{
    char *dir = temp_dir();
    lms_db *db = open_path(dir, LMS_OPEN_NO_SYNC);
    lms_consistency_report r;
    memset(&r, 0xab, sizeof r);
    E(lms_check_consistency(db, &r));
    CHECK(r.messages == 0 && r.template_ids == 0 && r.problem_count == 0 && r.problems == NULL
              && r.problems_len == 0,
          "an empty store verifies clean");
    lms_consistency_report_free(&r);
    fill_sample(db);
    E(put_tpl(db, "greeting", "2.0.0", "Hi {{ name }}", 0, NULL));
    E(lms_check_consistency(db, &r));
    CHECK(r.messages == 5 && r.template_ids == 1 && r.template_versions == 2 && r.aliases == 1,
          "verify counts every record kind");
    CHECK(r.problem_count == 0 && r.problems == NULL, "no problems in a consistent store");
    lms_consistency_report_free(&r);
    lms_consistency_report_free(&r); /* a cleared report frees again harmlessly */
    lms_consistency_report_free(NULL);
    EXPECT(lms_check_consistency(NULL, &r), LMS_INVALID_ARGUMENT, "db is NULL");
    CHECK(r.problems == NULL && r.problem_count == 0, "a failed verify leaves a cleared report");
    EXPECT(lms_check_consistency(db, NULL), LMS_INVALID_ARGUMENT, "out");
    lms_close(db);
    remove_dir(dir);
}
