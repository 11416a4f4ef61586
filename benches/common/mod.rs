//! What both benchmarks share: the environment knobs, deterministic randomness, medians, and
//! the checks that turn a failed call into a panic with the library's own message.
#![allow(dead_code)]

use lmdb_master_sys as ffi;
use lmstore::capi::*;
use std::ffi::CStr;

pub fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// The knobs every benchmark reads: LMSTORE_BENCH_SCALE (a factor, or `smoke`),
/// LMSTORE_BENCH_ROUNDS and LMSTORE_BENCH_ONLY.
pub struct Run {
    pub scale: f64,
    pub smoke: bool,
    pub rounds: usize,
    pub only: Option<Vec<String>>,
}

impl Run {
    /// `smoke_scale` is the factor a smoke run applies to the full sizes.
    pub fn from_env(smoke_scale: f64) -> Run {
        let raw = std::env::var("LMSTORE_BENCH_SCALE").unwrap_or_default();
        let smoke = raw.trim() == "smoke";
        Run {
            scale: if smoke {
                smoke_scale
            } else {
                raw.trim().parse().unwrap_or(1.0)
            },
            smoke,
            rounds: env_usize("LMSTORE_BENCH_ROUNDS")
                .unwrap_or(if smoke { 1 } else { 5 })
                .max(1),
            only: std::env::var("LMSTORE_BENCH_ONLY")
                .ok()
                .map(|v| v.split(',').map(|s| s.trim().to_owned()).collect()),
        }
    }

    /// `n` scaled, but never below `min`.
    pub fn scaled(&self, n: f64, min: usize) -> usize {
        ((n * self.scale) as usize).max(min)
    }

    /// Whether LMSTORE_BENCH_ONLY (if set) names `part`.
    pub fn runs(&self, part: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|o| o.iter().any(|m| m == part))
    }
}

/// xorshift64*: deterministic, dependency-free randomness for access patterns.
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub fn last_error() -> String {
    // SAFETY: lms_last_error never returns NULL and the string stays valid until the next call.
    unsafe { CStr::from_ptr(lms_last_error()) }
        .to_string_lossy()
        .into_owned()
}

pub fn lms_check(rc: i32, what: &str) {
    assert_eq!(rc, LMS_OK, "{what} failed ({rc}): {}", last_error());
}

pub fn mdb_check(rc: i32, what: &str) {
    if rc != 0 {
        // SAFETY: mdb_strerror returns a static string for any code.
        let msg = unsafe { CStr::from_ptr(ffi::mdb_strerror(rc)) };
        panic!("{what} failed ({rc}): {}", msg.to_string_lossy());
    }
}

pub fn val(b: &[u8]) -> ffi::MDB_val {
    ffi::MDB_val {
        mv_size: b.len(),
        mv_data: b.as_ptr() as *mut libc::c_void,
    }
}

pub fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "NOT met"
    }
}
