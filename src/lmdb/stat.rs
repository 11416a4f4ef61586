//! What an operator asks of a live environment beyond the counters: per-table B-tree shape and
//! fill, the free list, the reader table (with stale slots of dead processes), and the last
//! committed transaction id, which a follower polls to notice another process's commit without
//! reading any data.

use super::env::Env;
use super::txn::RoTxn;
use super::{check, ffi};
use crate::error::Result;
use crate::storage::Table;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr;

/// The free list is LMDB's database 0, the main (table-of-tables) database is 1.
const FREE_DBI: ffi::MDB_dbi = 0;
const MAIN_DBI: ffi::MDB_dbi = 1;

/// The shape of one B-tree, as `mdb_stat` reports it, plus how full its pages are.
#[derive(Debug, Clone, Default)]
pub struct TableStat {
    pub name: String,
    pub entries: u64,
    pub depth: u32,
    pub branch_pages: u64,
    pub leaf_pages: u64,
    pub overflow_pages: u64,
    /// Key and value bytes stored (0 when the fill was not measured).
    pub payload_bytes: u64,
    /// `payload_bytes` over the bytes of the leaf and overflow pages (0..1); None when not
    /// measured or when the table has no pages.
    pub fill: Option<f64>,
}

impl TableStat {
    pub fn pages(&self) -> u64 {
        self.branch_pages + self.leaf_pages + self.overflow_pages
    }
}

/// One slot of LMDB's reader table.
#[derive(Debug, Clone)]
pub struct ReaderSlot {
    pub pid: i32,
    pub thread: String,
    /// The snapshot the reader holds; None for a slot kept between reads (our read pool).
    pub txn_id: Option<u64>,
    /// False when no process with this pid exists: the slot is stale and pins old pages.
    pub alive: bool,
}

/// A detailed picture of the environment, for `lmstore stat` and `doctor`.
#[derive(Debug, Clone, Default)]
pub struct EnvStat {
    pub page_size: u32,
    pub map_size: u64,
    /// Pages in use in the file (last page number + 1).
    pub pages_used: u64,
    pub last_txn_id: u64,
    pub max_readers: u32,
    pub tables: Vec<TableStat>,
    /// The database that names the tables.
    pub main: TableStat,
    /// The free list's own B-tree.
    pub free_db: TableStat,
    /// Pages listed as free (reusable once no reader holds an older snapshot).
    pub free_pages: u64,
    pub readers: Vec<ReaderSlot>,
}

/// `mdb_stat` of one database: its B-tree's entries, depth and pages.
pub(super) fn db_stat(txn: &RoTxn<'_>, dbi: ffi::MDB_dbi) -> Result<ffi::MDB_stat> {
    // SAFETY: a zeroed MDB_stat is a valid out-struct.
    let mut st: ffi::MDB_stat = unsafe { std::mem::zeroed() };
    // SAFETY: txn.raw is a live transaction and dbi an open database of its environment.
    check(unsafe { ffi::mdb_stat(txn.raw, dbi, &mut st) }, "mdb_stat")?;
    Ok(st)
}

fn table_stat(txn: &RoTxn<'_>, dbi: ffi::MDB_dbi, name: &str) -> Result<TableStat> {
    let st = db_stat(txn, dbi)?;
    Ok(TableStat {
        name: name.to_owned(),
        entries: st.ms_entries as u64,
        depth: st.ms_depth,
        branch_pages: st.ms_branch_pages as u64,
        leaf_pages: st.ms_leaf_pages as u64,
        overflow_pages: st.ms_overflow_pages as u64,
        payload_bytes: 0,
        fill: None,
    })
}

/// Pages on LMDB's free list: each free-list value is an array of page numbers whose first
/// word is its length.
pub(super) fn free_pages(txn: &RoTxn<'_>) -> Result<u64> {
    let mut pages = 0u64;
    walk(txn, FREE_DBI, |_, v| {
        const WORD: usize = std::mem::size_of::<usize>();
        if let Some(n) = v.get(..WORD) {
            let mut word = [0u8; WORD];
            word.copy_from_slice(n);
            pages += usize::from_ne_bytes(word) as u64;
        }
    })?;
    Ok(pages)
}

/// Walks a database with a raw cursor, handing each (key, value) to `f`. Raw on purpose: the
/// stat counts stored bytes, whatever the layers above put in them.
pub(super) fn walk(
    txn: &RoTxn<'_>,
    dbi: ffi::MDB_dbi,
    mut f: impl FnMut(&[u8], &[u8]),
) -> Result<()> {
    let mut cursor: *mut ffi::MDB_cursor = ptr::null_mut();
    check(
        // SAFETY: txn.raw is live; dbi belongs to its environment; cursor is an out-pointer.
        unsafe { ffi::mdb_cursor_open(txn.raw, dbi, &mut cursor) },
        "mdb_cursor_open",
    )?;
    let mut k = ffi::MDB_val {
        mv_size: 0,
        mv_data: ptr::null_mut(),
    };
    let mut v = ffi::MDB_val {
        mv_size: 0,
        mv_data: ptr::null_mut(),
    };
    let mut op = ffi::MDB_FIRST;
    let result = loop {
        // SAFETY: the cursor is open on the live transaction; k and v are filled by LMDB.
        let rc = unsafe { ffi::mdb_cursor_get(cursor, &mut k, &mut v, op) };
        if rc == ffi::MDB_NOTFOUND {
            break Ok(());
        }
        if let Err(e) = check(rc, "mdb_cursor_get") {
            break Err(e);
        }
        // SAFETY: LMDB points k and v at mv_size readable bytes of the map, valid in this txn.
        let (key, value) = unsafe {
            (
                slice_of(k.mv_data as *const u8, k.mv_size),
                slice_of(v.mv_data as *const u8, v.mv_size),
            )
        };
        f(key, value);
        op = ffi::MDB_NEXT;
    };
    // SAFETY: the cursor was opened above and is closed once.
    unsafe { ffi::mdb_cursor_close(cursor) };
    result
}

/// # Safety
/// `p` must point at `len` readable bytes (or `len` be 0).
unsafe fn slice_of<'a>(p: *const u8, len: usize) -> &'a [u8] {
    if len == 0 || p.is_null() {
        &[]
    } else {
        // SAFETY: per the function contract.
        unsafe { std::slice::from_raw_parts(p, len) }
    }
}

pub(super) fn env_of(txn: &RoTxn<'_>) -> *mut ffi::MDB_env {
    // SAFETY: txn.raw is a live transaction; its environment outlives it.
    unsafe { ffi::mdb_txn_env(txn.raw) }
}

pub(super) fn env_info(env: *mut ffi::MDB_env) -> Result<(ffi::MDB_envinfo, ffi::MDB_stat)> {
    // SAFETY: zeroed structs are valid out-params; env is open (we are inside a transaction,
    // under the resize lock, so the map cannot be remapped while LMDB reads its meta pages).
    unsafe {
        let mut info: ffi::MDB_envinfo = std::mem::zeroed();
        let mut st: ffi::MDB_stat = std::mem::zeroed();
        check(ffi::mdb_env_info(env, &mut info), "mdb_env_info")?;
        check(ffi::mdb_env_stat(env, &mut st), "mdb_env_stat")?;
        Ok((info, st))
    }
}

unsafe extern "C" fn collect_line(msg: *const c_char, ctx: *mut c_void) -> c_int {
    // SAFETY: ctx is the &mut String passed to mdb_reader_list below; msg is NUL-terminated.
    unsafe {
        let out = &mut *(ctx as *mut String);
        out.push_str(&CStr::from_ptr(msg).to_string_lossy());
    }
    0
}

/// The callback in the form each binding declares: lmdb-master-sys an `Option<fn>`, lmdb-sys a
/// `*mut fn` (its typedef is already a pointer, so the C function pointer is passed as that).
#[cfg(all(feature = "lmdb-master", not(feature = "lmdb-legacy")))]
fn reader_line_fn() -> ffi::MDB_msg_func {
    Some(collect_line)
}

#[cfg(feature = "lmdb-legacy")]
fn reader_line_fn() -> *mut ffi::MDB_msg_func {
    collect_line as *const () as *mut ffi::MDB_msg_func
}

fn pid_alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists; nothing is delivered.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Parses `mdb_reader_list`'s text: a header line, then `pid thread txnid` per slot ("-" for a
/// slot without a snapshot), or "(no active readers)".
fn parse_readers(text: &str) -> Vec<ReaderSlot> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.split_whitespace();
            let pid = parts.next()?.parse::<i32>().ok()?;
            let thread = parts.next()?.to_owned();
            let txn_id = parts.next().and_then(|t| t.parse::<u64>().ok());
            Some(ReaderSlot {
                pid,
                thread,
                txn_id,
                alive: pid_alive(pid),
            })
        })
        .collect()
}

impl Env {
    /// Everything `mdb_stat -aefr` would print, from one read snapshot. `measure_fill` walks
    /// every table to count stored bytes (a full read of the store).
    pub fn detailed_stat(&self, measure_fill: bool) -> Result<EnvStat> {
        self.read(|txn| {
            let env = env_of(txn);
            let (info, est) = env_info(env)?;
            let psize = est.ms_psize as u64;
            let mut tables = Vec::with_capacity(Table::ALL.len());
            for table in Table::ALL {
                let dbi = txn.ctx.dbis[table as usize];
                let mut st = table_stat(txn, dbi, table.name())?;
                if measure_fill {
                    let mut bytes = 0u64;
                    walk(txn, dbi, |k, v| bytes += (k.len() + v.len()) as u64)?;
                    st.payload_bytes = bytes;
                    let room = (st.leaf_pages + st.overflow_pages) * psize;
                    st.fill = (room > 0).then(|| bytes as f64 / room as f64);
                }
                tables.push(st);
            }
            let main = table_stat(txn, MAIN_DBI, "(main)")?;
            let free_db = table_stat(txn, FREE_DBI, "(free)")?;
            let free_pages = free_pages(txn)?;
            let mut text = String::new();
            // SAFETY: env is open; collect_line only appends to `text`, which outlives the call.
            let rc = unsafe {
                ffi::mdb_reader_list(
                    env,
                    reader_line_fn(),
                    &mut text as *mut String as *mut c_void,
                )
            };
            if rc < 0 {
                check(rc, "mdb_reader_list")?;
            }
            Ok(EnvStat {
                page_size: est.ms_psize,
                map_size: info.me_mapsize as u64,
                pages_used: info.me_last_pgno as u64 + 1,
                last_txn_id: info.me_last_txnid as u64,
                max_readers: info.me_maxreaders,
                tables,
                main,
                free_db,
                free_pages,
                readers: parse_readers(&text),
            })
        })
    }

    /// The id of the last committed write transaction, by this or any other process. Reading it
    /// touches only LMDB's meta page (in memory), so polling it is cheap.
    pub fn last_txn_id(&self) -> Result<u64> {
        self.read(|txn| Ok(env_info(env_of(txn))?.0.me_last_txnid as u64))
    }

    /// Clears reader slots whose process is gone; returns how many were cleared.
    pub fn clear_stale_readers(&self) -> Result<u32> {
        self.read(|txn| {
            let mut dead: c_int = 0;
            check(
                // SAFETY: env is open; dead is an out-int.
                unsafe { ffi::mdb_reader_check(env_of(txn), &mut dead) },
                "mdb_reader_check",
            )?;
            Ok(dead.max(0) as u32)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_reader_list() {
        let text = "    pid     thread     txnid\n   4242 7f00aa 17\n   4243 7f00bb -\n";
        let r = parse_readers(text);
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].pid, r[0].txn_id), (4242, Some(17)));
        assert_eq!((r[1].pid, r[1].txn_id), (4243, None));
        assert!(parse_readers("(no active readers)\n").is_empty());
    }
}
