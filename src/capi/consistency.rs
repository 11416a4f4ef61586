//! `lms_check_consistency`: the index and counter check as a report (lms_check_consistency() is the
//! structural page check).

use super::boundary::{boundary, copy_out, lms_bytes_free, out_ptr};
use super::env::{lms_db, store};
use std::ffi::c_int;

/// What lms_check_consistency() checked and found; release with lms_consistency_report_free().
#[repr(C)]
pub struct lms_consistency_report {
    /// Messages checked against the id, agent and session indexes.
    pub messages: u64,
    pub template_ids: u64,
    pub template_versions: u64,
    pub aliases: u64,
    /// How many problems were found; 0 means the store is consistent.
    pub problem_count: u32,
    /// The problems in words, UTF-8, one per line (each ends with '\n'), owned by the report;
    /// NULL when there are none.
    pub problems: *mut u8,
    pub problems_len: usize,
}

/// Checks every index against its records and every counter against a count (templates:
/// heads, versions, put order, aliases; conversations: message id and agent indexes, session
/// counts and activity), from one read snapshot, while readers and writers go on. It reads
/// records through the store (either engine); lms_verify() checks LMDB's pages beneath them.
///
/// @param db        Handle from lms_open().
/// @param[out] out  The report. Filled on LMS_OK, whether or not problems were found (see
///                  `problem_count`); cleared on failure. Free with lms_consistency_report_free().
/// @return LMS_OK when the check ran (problems are in the report, not in the status);
///         LMS_INVALID_ARGUMENT (db or out NULL); LMS_IO or LMS_CORRUPT when the check itself
///         could not read the store; LMS_INTERNAL (a bug).
/// @since 0.2
#[no_mangle]
pub unsafe extern "C" fn lms_check_consistency(
    db: *mut lms_db,
    out: *mut lms_consistency_report,
) -> c_int {
    boundary(|| {
        let out = out_ptr(out, "out")?;
        *out = lms_consistency_report {
            messages: 0,
            template_ids: 0,
            template_versions: 0,
            aliases: 0,
            problem_count: 0,
            problems: std::ptr::null_mut(),
            problems_len: 0,
        };
        // SAFETY: caller contract on db.
        let report = unsafe { store(db) }?.consistency_report()?;
        let mut text = String::new();
        for p in &report.problems {
            text.push_str(&p.replace('\n', " "));
            text.push('\n');
        }
        let (mut problems, mut problems_len) = (std::ptr::null_mut(), 0);
        if !text.is_empty() {
            copy_out(text.as_bytes(), &mut problems, &mut problems_len)?;
        }
        *out = lms_consistency_report {
            messages: report.messages,
            template_ids: report.template_ids,
            template_versions: report.template_versions,
            aliases: report.aliases,
            problem_count: report.problems.len() as u32,
            problems,
            problems_len,
        };
        Ok(())
    })
}

/// Frees the problem text of a report filled by lms_check_consistency() and clears it. NULL is a no-op;
/// freeing a cleared report again is harmless.
/// @since 0.2
#[no_mangle]
pub unsafe extern "C" fn lms_consistency_report_free(report: *mut lms_consistency_report) {
    // SAFETY: a non-NULL report points at an lms_consistency_report filled by lms_check_consistency().
    if let Some(r) = unsafe { report.as_mut() } {
        // SAFETY: r.problems came from copy_out (or is NULL) and is freed once, then cleared.
        unsafe { lms_bytes_free(r.problems, r.problems_len) };
        r.problems = std::ptr::null_mut();
        r.problems_len = 0;
        r.problem_count = 0;
    }
}
