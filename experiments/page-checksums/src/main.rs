//! Cost and catch of LMDB's page checksums (mdb.master3), on lmstore's access pattern:
//! message-like entries (41-byte keys, ~250-byte values), point gets and 50-entry ranges.
//!
//!   cargo run --release -- cost [entries]          # off vs CRC32C page checksums (master3)
//!   cargo run --release -- catch [trials]          # random byte flips, each read in a child
//!   cargo run --release --no-default-features --features plain -- cost   # mdb.master baseline
//!
//! Throwaway: not part of lmstore. Results are in docs/reliability.md.

#[cfg(feature = "master3")]
use lmdb_master3_sys as ffi;
#[cfg(all(feature = "plain", not(feature = "master3")))]
use lmdb_master_sys as ffi;

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::ptr;
use std::time::Instant;

fn check(rc: i32, what: &str) {
    if rc != 0 {
        panic!("{what}: rc {rc}");
    }
}

/// CRC32C with the SSE4.2 instruction, as a real deployment would use.
#[cfg(feature = "master3")]
unsafe extern "C" fn crc32c_sum(
    src: *const ffi::MDB_val,
    dst: *mut ffi::MDB_val,
    _key: *const ffi::MDB_val,
) {
    let s = std::slice::from_raw_parts((*src).mv_data as *const u8, (*src).mv_size);
    let crc = crc32c(s);
    std::ptr::copy_nonoverlapping(crc.to_le_bytes().as_ptr(), (*dst).mv_data as *mut u8, 4);
}

#[allow(dead_code)]
fn crc32c(data: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("sse4.2") {
            // SAFETY: the CPU supports SSE4.2 (checked above).
            return unsafe { crc32c_hw(data) };
        }
    }
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse4.2")]
unsafe fn crc32c_hw(data: &[u8]) -> u32 {
    use std::arch::x86_64::{_mm_crc32_u64, _mm_crc32_u8};
    let mut crc = !0u64;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        crc = _mm_crc32_u64(crc, u64::from_le_bytes(c.try_into().unwrap()));
    }
    let mut crc = crc as u32;
    for &b in chunks.remainder() {
        crc = _mm_crc32_u8(crc, b);
    }
    !crc
}

struct Env(*mut ffi::MDB_env, ffi::MDB_dbi);

/// How a variant opens LMDB: page checksums on or off, and MDB_REMAP_CHUNKS (the only mode in
/// which master3 verifies them on read: set_checksum alone computes them on write only).
#[derive(Clone, Copy)]
struct Variant {
    name: &'static str,
    sums: bool,
    remap: bool,
}

fn variants() -> Vec<Variant> {
    if cfg!(feature = "master3") {
        vec![
            Variant {
                name: "master3, no checksums",
                sums: false,
                remap: false,
            },
            Variant {
                name: "master3, checksums",
                sums: true,
                remap: false,
            },
            Variant {
                name: "master3, checksums + REMAP_CHUNKS",
                sums: true,
                remap: true,
            },
        ]
    } else {
        vec![Variant {
            name: "mdb.master (lmstore's LMDB)",
            sums: false,
            remap: false,
        }]
    }
}

fn open(dir: &Path, v: Variant, no_sync: bool) -> Result<Env, i32> {
    let sums = v.sums;
    let _ = sums;
    unsafe {
        let mut env = ptr::null_mut();
        check(ffi::mdb_env_create(&mut env), "create");
        check(ffi::mdb_env_set_mapsize(env, 1 << 30), "mapsize");
        check(ffi::mdb_env_set_maxdbs(env, 4), "maxdbs");
        #[cfg(feature = "master3")]
        if sums {
            check(
                ffi::mdb_env_set_checksum(env, Some(crc32c_sum), 4),
                "checksum",
            );
        }
        let path = CString::new(dir.to_str().unwrap()).unwrap();
        let mut flags = ffi::MDB_NOTLS;
        #[cfg(feature = "master3")]
        if v.remap {
            flags |= ffi::MDB_REMAP_CHUNKS;
        }
        if no_sync {
            flags |= ffi::MDB_NOSYNC;
        }
        let rc = ffi::mdb_env_open(env, path.as_ptr(), flags, 0o600);
        if rc != 0 {
            ffi::mdb_env_close(env);
            return Err(rc);
        }
        let mut txn = ptr::null_mut();
        let rc = ffi::mdb_txn_begin(env, ptr::null_mut(), 0, &mut txn);
        if rc != 0 {
            return Err(rc);
        }
        let name = CString::new("messages").unwrap();
        let mut dbi = 0;
        let rc = ffi::mdb_dbi_open(txn, name.as_ptr(), ffi::MDB_CREATE, &mut dbi);
        if rc != 0 {
            ffi::mdb_txn_abort(txn);
            return Err(rc);
        }
        check(ffi::mdb_txn_commit(txn), "commit");
        Ok(Env(env, dbi))
    }
}

fn key(i: u64) -> Vec<u8> {
    let mut k = vec![8u8];
    k.extend_from_slice(format!("sess{:04}", i % 1000).as_bytes());
    k.extend_from_slice(&(1_700_000_000_000_000 + i).to_be_bytes());
    k.extend_from_slice(&i.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes());
    k.extend_from_slice(&i.to_be_bytes());
    k
}

fn value(i: u64) -> Vec<u8> {
    format!(
        "{{role: user, content: message {i} {}}}",
        "lorem ipsum ".repeat(18 + (i % 5) as usize)
    )
    .into_bytes()
}

fn val(b: &[u8]) -> ffi::MDB_val {
    ffi::MDB_val {
        mv_size: b.len(),
        mv_data: b.as_ptr() as *mut _,
    }
}

fn fill(env: &Env, n: u64) {
    unsafe {
        for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
            let mut txn = ptr::null_mut();
            check(
                ffi::mdb_txn_begin(env.0, ptr::null_mut(), 0, &mut txn),
                "begin",
            );
            for &i in chunk {
                let (k, v) = (key(i), value(i));
                check(
                    ffi::mdb_put(txn, env.1, &mut val(&k), &mut val(&v), 0),
                    "put",
                );
            }
            check(ffi::mdb_txn_commit(txn), "commit");
        }
    }
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn cost(n: u64) {
    for v in variants() {
        let name = v.name;
        let dir = tempdir(name);
        let env = open(&dir, v, true).unwrap();
        let t = Instant::now();
        fill(&env, n);
        let put = t.elapsed().as_secs_f64() * 1e6 / n as f64;
        let mut rng = Rng(7);
        let gets = 400_000u64;
        let t = Instant::now();
        let mut bytes = 0usize;
        unsafe {
            for _ in 0..gets / 100 {
                let mut txn = ptr::null_mut();
                check(
                    ffi::mdb_txn_begin(env.0, ptr::null_mut(), ffi::MDB_RDONLY, &mut txn),
                    "begin",
                );
                for _ in 0..100 {
                    let k = key(rng.next() % n);
                    let mut v = val(&[]);
                    check(ffi::mdb_get(txn, env.1, &mut val(&k), &mut v), "get");
                    bytes += v.mv_size;
                }
                ffi::mdb_txn_abort(txn);
            }
        }
        let get = t.elapsed().as_secs_f64() * 1e6 / gets as f64;
        let ranges = 40_000u64;
        let t = Instant::now();
        unsafe {
            for _ in 0..ranges {
                let mut txn = ptr::null_mut();
                check(
                    ffi::mdb_txn_begin(env.0, ptr::null_mut(), ffi::MDB_RDONLY, &mut txn),
                    "begin",
                );
                let mut cur = ptr::null_mut();
                check(ffi::mdb_cursor_open(txn, env.1, &mut cur), "cursor");
                let k = key(rng.next() % n);
                let mut kv = val(&k);
                let mut v = val(&[]);
                let mut rc = ffi::mdb_cursor_get(cur, &mut kv, &mut v, ffi::MDB_SET_RANGE);
                let mut got = 0;
                while rc == 0 && got < 50 {
                    bytes += v.mv_size;
                    got += 1;
                    rc = ffi::mdb_cursor_get(cur, &mut kv, &mut v, ffi::MDB_NEXT);
                }
                ffi::mdb_cursor_close(cur);
                ffi::mdb_txn_abort(txn);
            }
        }
        let range = t.elapsed().as_secs_f64() * 1e6 / ranges as f64;
        let size = std::fs::metadata(dir.join("data.mdb"))
            .map(|m| m.len())
            .unwrap_or(0);
        println!(
            "{name:34} put {put:6.2} µs/entry (batches of 1000, no sync)  get {get:6.2} µs  range of 50 {range:7.2} µs  file {:.1} MB  ({bytes} bytes read)",
            size as f64 / 1e6
        );
        unsafe { ffi::mdb_env_close(env.0) };
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "page-checksums-{}-{}",
        std::process::id(),
        name.replace(|c: char| !c.is_alphanumeric(), "")
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// In a child: read every entry; exit 0 (all correct), 10 (an error, printed), 20 (wrong data).
fn read_all(dir: &Path, v: Variant, n: u64) -> i32 {
    let env = match open(dir, v, false) {
        Ok(e) => e,
        Err(rc) => {
            println!("open rc {rc}");
            return 10;
        }
    };
    unsafe {
        let mut txn = ptr::null_mut();
        let rc = ffi::mdb_txn_begin(env.0, ptr::null_mut(), ffi::MDB_RDONLY, &mut txn);
        if rc != 0 {
            println!("begin rc {rc}");
            return 10;
        }
        let mut cur = ptr::null_mut();
        check(ffi::mdb_cursor_open(txn, env.1, &mut cur), "cursor");
        let (mut k, mut v) = (val(&[]), val(&[]));
        let mut rc = ffi::mdb_cursor_get(cur, &mut k, &mut v, ffi::MDB_FIRST);
        let mut seen = 0u64;
        let mut wrong = false;
        while rc == 0 {
            let kb = std::slice::from_raw_parts(k.mv_data as *const u8, k.mv_size);
            let vb = std::slice::from_raw_parts(v.mv_data as *const u8, v.mv_size);
            let i = kb
                .get(kb.len().saturating_sub(8)..)
                .map(|t| u64::from_be_bytes(t.try_into().unwrap_or([0; 8])));
            if i.is_none_or(|i| i >= n || key(i) != kb || value(i) != vb) {
                wrong = true;
            }
            seen += 1;
            rc = ffi::mdb_cursor_get(cur, &mut k, &mut v, ffi::MDB_NEXT);
        }
        if rc != ffi::MDB_NOTFOUND {
            println!("scan rc {rc}");
            return 10;
        }
        if wrong || seen != n {
            return 20;
        }
        0
    }
}

fn catch(trials: u64) {
    let n = 20_000u64;
    for (vi, v) in variants().into_iter().enumerate() {
        let name = v.name;
        let src = tempdir(&format!("src{name}"));
        {
            let env = open(&src, v, false).unwrap();
            fill(&env, n);
            unsafe { ffi::mdb_env_close(env.0) };
        }
        let sound = std::fs::read(src.join("data.mdb")).unwrap();
        let case = tempdir(&format!("case{name}"));
        let mut rng = Rng(0x1234_5678);
        let mut counts = std::collections::BTreeMap::<String, u64>::new();
        let exe = std::env::current_exe().unwrap();
        let t = Instant::now();
        for _ in 0..trials {
            let mut bytes = sound.clone();
            // Data pages only (the meta pages are the same for both variants).
            let at = 8192 + (rng.next() as usize) % (bytes.len() - 8192);
            bytes[at] ^= 1 + (rng.next() % 255) as u8;
            std::fs::write(case.join("data.mdb"), &bytes).unwrap();
            let _ = std::fs::remove_file(case.join("lock.mdb"));
            let out = std::process::Command::new(&exe)
                .args([
                    "read",
                    case.to_str().unwrap(),
                    &vi.to_string(),
                    &n.to_string(),
                ])
                .output()
                .unwrap();
            use std::os::unix::process::ExitStatusExt;
            let class = match (out.status.code(), out.status.signal()) {
                (Some(0), _) => "unaffected".to_string(),
                (Some(10), _) => {
                    let text = String::from_utf8_lossy(&out.stdout);
                    if text.contains(&ffi_bad_checksum().to_string()) {
                        "error: bad checksum".into()
                    } else {
                        "error: other".into()
                    }
                }
                (Some(20), _) => "silently wrong".into(),
                (_, Some(sig)) => format!("crash (signal {sig})"),
                (code, _) => format!("exit {code:?}"),
            };
            *counts.entry(class).or_default() += 1;
        }
        println!(
            "{name:34} {trials} single-byte flips: {counts:?} ({:.1} s)",
            t.elapsed().as_secs_f64()
        );
        let _ = std::fs::remove_dir_all(&src);
        let _ = std::fs::remove_dir_all(&case);
    }
}

fn ffi_bad_checksum() -> i32 {
    #[cfg(feature = "master3")]
    return ffi::MDB_BAD_CHECKSUM;
    #[cfg(not(feature = "master3"))]
    return i32::MIN;
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("cost") => cost(args.get(2).and_then(|v| v.parse().ok()).unwrap_or(100_000)),
        Some("catch") => catch(args.get(2).and_then(|v| v.parse().ok()).unwrap_or(300)),
        Some("read") => std::process::exit(read_all(
            Path::new(&args[2]),
            variants()[args[3].parse::<usize>().unwrap()],
            args[4].parse().unwrap(),
        )),
        _ => eprintln!("usage: page-checksums cost [entries] | catch [trials]"),
    }
}
