//! Our own reader of LMDB's on-disk format (`data.mdb`), independent of LMDB: it reads the file
//! with `pread` into its own buffers (never a pointer into LMDB's map) and follows a page number
//! or an offset only after checking it (inside the file and the snapshot, not visited before,
//! of the expected page type, every size inside its page). That makes it safe on any file, so
//! it checks a store before LMDB maps it ([`check_before_open`], [`verify_file`]) and reads the
//! intact records of a damaged one without LMDB ([`Reader::read_table`], used by salvage).
//!
//! The layout (LMDB 0.9 / mdb.master, data version 1, 64-bit builds), from `mdb.c`:
//! pages 0 and 1 are meta pages (the one with the larger txn id is current); every other page
//! starts with a 16-byte header `pgno u64, pad u16, flags u16, lower u16, upper u16` (overflow
//! pages hold `pages u32` in place of lower/upper). Branch and leaf pages hold an array of u16
//! node offsets after the header; a node is `lo u16, hi u16, flags u16, ksize u16, key, data`,
//! where a branch node's child page is `lo | hi << 16 | flags << 32` and a leaf node's data
//! size is `lo | hi << 16`. The main database's leaves hold one `F_SUBDATA` node per named
//! table whose data is that table's 48-byte `MDB_db` record. Integers are in host byte order.

use crate::error::{Error, ErrorKind, Result};
use crate::storage::Table;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

const PAGE_HEADER: usize = 16;
const NODE_HEADER: usize = 8;
const DB_RECORD: usize = 48;
const META_END: usize = PAGE_HEADER + 136;
const MAGIC: u32 = 0xBEEF_C0DE;
const DATA_VERSION: u32 = 1;
const P_INVALID: u64 = u64::MAX;
/// LMDB's MDB_MAXKEYSIZE for the builds we link (511 unless MDB_DEVEL).
const MAX_KEY: usize = 511;
/// Far deeper than any B-tree a file this reader can address could be.
const MAX_DEPTH: u16 = 32;
/// Damage entries kept in a report; the rest are only counted.
const MAX_DAMAGE: usize = 1000;

const P_BRANCH: u16 = 0x01;
const P_LEAF: u16 = 0x02;
const P_OVERFLOW: u16 = 0x04;
const P_META: u16 = 0x08;

const F_BIGDATA: u16 = 0x01;
const F_SUBDATA: u16 = 0x02;
const F_DUPDATA: u16 = 0x04;

const MDB_REVERSEKEY: u16 = 0x02;
const MDB_DUPSORT: u16 = 0x04;
const MDB_INTEGERKEY: u16 = 0x08;

/// The name the free-page database is reported under.
pub const FREE_DB: &str = "(free pages)";
/// The name the main database (the table directory) is reported under.
pub const MAIN_DB: &str = "(main)";

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([b[at], b[at + 1]])
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_ne_bytes(w)
}

/// One database record (`MDB_db`): a B-tree's root and the counts LMDB keeps for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DbRecord {
    pub flags: u16,
    pub depth: u16,
    pub branch_pages: u64,
    pub leaf_pages: u64,
    pub overflow_pages: u64,
    pub entries: u64,
    pub root: u64,
}

impl DbRecord {
    fn parse(b: &[u8]) -> DbRecord {
        DbRecord {
            flags: u16_at(b, 4),
            depth: u16_at(b, 6),
            branch_pages: u64_at(b, 8),
            leaf_pages: u64_at(b, 16),
            overflow_pages: u64_at(b, 24),
            entries: u64_at(b, 32),
            root: u64_at(b, 40),
        }
    }
}

/// A meta page: the start of one snapshot.
#[derive(Debug, Clone, Copy)]
pub struct Meta {
    pub page: u64,
    pub page_size: u32,
    pub last_page: u64,
    pub txnid: u64,
    pub free: DbRecord,
    pub main: DbRecord,
}

/// One thing wrong with a file, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// The page concerned, when there is one.
    pub page: Option<u64>,
    /// The table (or `(main)`, `(free pages)`, `(file)`) the page belongs to.
    pub table: String,
    pub what: String,
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.page {
            Some(p) => write!(f, "page {p} ({}): {}", self.table, self.what),
            None => write!(f, "{}: {}", self.table, self.what),
        }
    }
}

/// What a walk of one table found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableSummary {
    pub name: String,
    /// Entries read from intact leaves.
    pub entries: u64,
    /// Entries the table's record says it holds.
    pub recorded_entries: u64,
    pub depth: u16,
    pub pages: u64,
}

/// The result of a full structural check.
#[derive(Debug, Clone, Default)]
pub struct VerifyReport {
    pub page_size: u32,
    pub last_page: u64,
    pub file_pages: u64,
    pub txnid: u64,
    pub tables: Vec<TableSummary>,
    pub free_pages: u64,
    /// Damage found (the first [`MAX_DAMAGE`]); empty when the file is sound.
    pub damage: Vec<Damage>,
    /// Damage found in all, including entries beyond the first [`MAX_DAMAGE`].
    pub damage_count: u64,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.damage_count == 0
    }

    /// The report as an error naming the first damage, or Ok when there is none.
    pub fn into_result(self, path: &Path) -> Result<VerifyReport> {
        match self.damage.first() {
            None => Ok(self),
            Some(first) => Err(Error::corrupt(format!(
                "{} is damaged: {first}{}",
                path.display(),
                match self.damage_count {
                    1 => String::new(),
                    n => format!(" (and {} more problems)", n - 1),
                }
            ))),
        }
    }
}

/// A value as a leaf holds it.
pub enum Value<'a> {
    Inline(&'a [u8]),
    /// Stored on overflow pages: the first page and the value's size.
    Overflow {
        page: u64,
        size: usize,
    },
    SubDb(DbRecord),
}

/// Called for each entry of an orphan leaf with (reader, page, key, value).
pub type OrphanVisitor<'a> = dyn FnMut(&mut Reader, u64, &[u8], Value<'_>) + 'a;

/// Which data file a store directory holds.
pub fn data_file(dir: &Path) -> std::path::PathBuf {
    dir.join("data.mdb")
}

/// Reads pages of one `data.mdb` through its own buffers.
pub struct Reader {
    file: File,
    file_len: u64,
    psize: usize,
    meta: Meta,
    /// Pages the snapshot may use: 0..=last_page.
    pages: u64,
    /// Who owns each page in this walk: 0 unseen, 1 + table index, or FREE_OWNER.
    owner: Vec<u8>,
    owner_names: Vec<String>,
    damage: Vec<Damage>,
    damage_count: u64,
    /// The leaf page whose entries a walk is visiting.
    leaf: u64,
    /// Overflow runs claimed so far (first page, pages).
    runs: Vec<(u64, u64)>,
    /// Leaf pages a walk reached but refused for their place in the tree (a key outside the
    /// range the parent gave, or the wrong level): the damage may be the parent's, so salvage
    /// reads them as orphans.
    misplaced: Vec<u64>,
}

const FREE_OWNER: u8 = 255;

fn damage(page: Option<u64>, table: &str, what: impl Into<String>) -> Damage {
    Damage {
        page,
        table: table.to_string(),
        what: what.into(),
    }
}

fn io_err(e: std::io::Error, what: String) -> Error {
    Error {
        kind: if e.kind() == std::io::ErrorKind::NotFound {
            ErrorKind::NotFound
        } else {
            ErrorKind::Io
        },
        message: format!("{what}: {e}"),
        os_code: e.raw_os_error().unwrap_or(0),
    }
}

/// Reads up to `buf.len()` bytes at `off`; returns how many the file had.
fn read_at(file: &File, buf: &mut [u8], off: u64) -> std::io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], off + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Parses meta page `slot` from its first bytes, or says what is wrong with it.
fn parse_meta(b: &[u8], slot: u64) -> std::result::Result<Meta, String> {
    if b.len() < META_END {
        return Err("the meta page is cut short by the end of the file".into());
    }
    let magic = u32_at(b, PAGE_HEADER);
    if magic != MAGIC {
        return Err(format!("bad magic 0x{magic:08x} (expected 0x{MAGIC:08x})"));
    }
    let version = u32_at(b, PAGE_HEADER + 4);
    if version != DATA_VERSION {
        return Err(format!(
            "data format version {version}; this LMDB reads version {DATA_VERSION}"
        ));
    }
    let txnid = u64_at(b, PAGE_HEADER + 128);
    if txnid != 0 && txnid % 2 != slot {
        return Err(format!(
            "records transaction {txnid}, which meta page {slot} never holds (transaction N writes meta page N % 2)"
        ));
    }
    let (pgno, flags) = (u64_at(b, 0), u16_at(b, 10));
    if pgno != slot || flags & P_META == 0 {
        return Err(format!(
            "page header says page {pgno} with flags 0x{flags:x}, not meta page {slot}"
        ));
    }
    let free = DbRecord::parse(&b[PAGE_HEADER + 24..]);
    let psize = u32_at(b, PAGE_HEADER + 24);
    if !psize.is_power_of_two() || !(512..=65536).contains(&psize) {
        return Err(format!(
            "page size {psize} is not a power of two in 512..65536"
        ));
    }
    Ok(Meta {
        page: slot,
        page_size: psize,
        last_page: u64_at(b, PAGE_HEADER + 120),
        txnid: u64_at(b, PAGE_HEADER + 128),
        free,
        main: DbRecord::parse(&b[PAGE_HEADER + 24 + DB_RECORD..]),
    })
}

/// Both meta pages of a file (each parsed or with what is wrong with it) and the file's size.
pub struct Metas {
    pub metas: [std::result::Result<Meta, String>; 2],
    pub file_len: u64,
}

impl Metas {
    pub fn read(path: &Path) -> Result<Metas> {
        let file =
            File::open(path).map_err(|e| io_err(e, format!("opening {}", path.display())))?;
        Self::read_file(&file, path)
    }

    fn read_file(file: &File, path: &Path) -> Result<Metas> {
        let file_len = file
            .metadata()
            .map_err(|e| io_err(e, format!("reading {}", path.display())))?
            .len();
        let mut first = vec![0u8; META_END];
        let n = read_at(file, &mut first, 0)
            .map_err(|e| io_err(e, format!("reading {}", path.display())))?;
        let m0 = parse_meta(&first[..n], 0);
        // Meta 1 sits one page in; when meta 0 cannot tell the page size, try every size.
        let sizes: Vec<u64> = match &m0 {
            Ok(m) => vec![m.page_size as u64],
            Err(_) => (9..=16).map(|s| 1u64 << s).collect(),
        };
        let mut m1 = Err("no meta page found one page into the file".to_string());
        for size in sizes {
            let mut b = vec![0u8; META_END];
            let n = read_at(file, &mut b, size)
                .map_err(|e| io_err(e, format!("reading {}", path.display())))?;
            m1 = parse_meta(&b[..n], 1);
            if let Ok(m) = &m1 {
                if m.page_size as u64 != size {
                    m1 = Err(format!(
                        "records page size {} but sits {size} bytes into the file",
                        m.page_size
                    ));
                }
            }
            if m1.is_ok() {
                break;
            }
        }
        Ok(Metas {
            metas: [m0, m1],
            file_len,
        })
    }

    /// The snapshot LMDB would open (the valid meta with the larger txn id), with every
    /// problem of the pair: a damaged meta page, or two that disagree on the page size.
    pub fn current(&self) -> (Option<Meta>, Vec<Damage>) {
        let mut found = Vec::new();
        for (slot, m) in self.metas.iter().enumerate() {
            if let Err(what) = m {
                found.push(damage(Some(slot as u64), "(meta)", what.clone()));
            }
        }
        let best = match (&self.metas[0], &self.metas[1]) {
            (Ok(a), Ok(b)) => {
                if a.page_size != b.page_size {
                    found.push(damage(
                        None,
                        "(meta)",
                        format!(
                            "the meta pages disagree on the page size ({} and {})",
                            a.page_size, b.page_size
                        ),
                    ));
                }
                // A new environment starts with both metas at transaction 0 (mdb_env_init_meta);
                // after that each commit writes the other slot, so only 0 may repeat.
                if a.txnid == b.txnid && a.txnid != 0 {
                    found.push(damage(
                        None,
                        "(meta)",
                        format!("both meta pages record transaction {}", a.txnid),
                    ));
                } else if a.txnid.abs_diff(b.txnid) > 1 {
                    // The two slots hold the last two commits (a copy's too), so their
                    // transactions are consecutive; a damaged id would make LMDB open an old
                    // snapshot, silently.
                    found.push(damage(
                        None,
                        "(meta)",
                        format!(
                            "the meta pages record transactions {} and {}, which are not consecutive",
                            a.txnid, b.txnid
                        ),
                    ));
                }
                Some(if a.txnid >= b.txnid { *a } else { *b })
            }
            (Ok(a), Err(_)) => Some(*a),
            (Err(_), Ok(b)) => Some(*b),
            (Err(_), Err(_)) => None,
        };
        (best, found)
    }
}

impl Reader {
    /// Opens `data.mdb` at `path` on the snapshot of `meta` (normally [`Metas::current`]).
    /// Fails (corrupt) only when the snapshot's own numbers make no sense for this file.
    pub fn open(path: &Path, meta: Meta) -> Result<Reader> {
        let file =
            File::open(path).map_err(|e| io_err(e, format!("opening {}", path.display())))?;
        let file_len = file
            .metadata()
            .map_err(|e| io_err(e, format!("reading {}", path.display())))?
            .len();
        let psize = meta.page_size as usize;
        // A snapshot may end past the file only by pages its free list holds, each of which
        // costs 8 bytes of that list; anything longer is not a store we can have written.
        let file_pages = file_len / psize as u64;
        if meta.last_page < 1 || meta.last_page.saturating_sub(file_pages) > file_len / 8 + 1 {
            return Err(Error::corrupt(format!(
                "{}: the snapshot (transaction {}) records last page {} but the file holds {} pages of {} bytes",
                path.display(),
                meta.txnid,
                meta.last_page,
                file_pages,
                psize
            )));
        }
        let pages = meta.last_page + 1;
        Ok(Reader {
            file,
            file_len,
            psize,
            meta,
            pages,
            owner: Vec::new(),
            owner_names: Vec::new(),
            damage: Vec::new(),
            damage_count: 0,
            leaf: 0,
            runs: Vec::new(),
            misplaced: Vec::new(),
        })
    }

    /// A reader for a file whose meta pages are both unreadable: no snapshot to walk, every
    /// page of the file open to [`Reader::orphan_leaves`].
    pub fn without_meta(path: &Path, page_size: u32) -> Result<Reader> {
        let len = std::fs::metadata(path)
            .map_err(|e| io_err(e, format!("reading {}", path.display())))?
            .len();
        let empty = DbRecord {
            root: P_INVALID,
            ..Default::default()
        };
        let meta = Meta {
            page: 0,
            page_size,
            last_page: (len / page_size as u64).max(2) - 1,
            txnid: 0,
            free: empty,
            main: empty,
        };
        Reader::open(path, meta)
    }

    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    pub fn page_size(&self) -> usize {
        self.psize
    }

    /// Pages wholly inside the file.
    pub fn file_pages(&self) -> u64 {
        self.file_len / self.psize as u64
    }

    /// The leaf page holding the entry a walk's visitor is called for.
    pub fn leaf_page(&self) -> u64 {
        self.leaf
    }

    /// Records damage a visitor found in an entry (a record failing its checksum).
    pub fn note_damage(&mut self, page: Option<u64>, table: &str, what: impl Into<String>) {
        self.note(damage(page, table, what));
    }

    fn note(&mut self, d: Damage) {
        self.damage_count += 1;
        if self.damage.len() < MAX_DAMAGE {
            self.damage.push(d);
        }
    }

    /// Damage found so far, and its total count.
    pub fn take_damage(&mut self) -> (Vec<Damage>, u64) {
        let count = std::mem::take(&mut self.damage_count);
        (std::mem::take(&mut self.damage), count)
    }

    /// Reads page `pgno` (checked against the snapshot and the file) into `buf`.
    fn read_page(&self, pgno: u64, buf: &mut Vec<u8>) -> std::result::Result<(), String> {
        if pgno < 2 || pgno >= self.pages {
            return Err(format!(
                "page number {pgno} is outside the snapshot (pages 2..{})",
                self.pages
            ));
        }
        if pgno >= self.file_pages() {
            return Err(format!(
                "page {pgno} lies past the end of the file ({} bytes)",
                self.file_len
            ));
        }
        buf.resize(self.psize, 0);
        match read_at(&self.file, buf, pgno * self.psize as u64) {
            Ok(n) if n == self.psize => Ok(()),
            Ok(_) => Err(format!("page {pgno} is cut short by the end of the file")),
            Err(e) => Err(format!("reading page {pgno}: {e}")),
        }
    }

    /// Marks `pgno` as owned by `owner`; says who had it when it was taken already.
    fn claim(&mut self, pgno: u64, owner: u8) -> std::result::Result<(), String> {
        if self.owner.is_empty() {
            self.owner = vec![0; self.pages as usize];
        }
        let Some(slot) = self.owner.get_mut(pgno as usize) else {
            return Err(format!("page number {pgno} is outside the snapshot"));
        };
        if *slot != 0 {
            let had = *slot;
            return Err(format!(
                "page {pgno} is reached twice (already used by {})",
                self.owner_name(had)
            ));
        }
        *slot = owner;
        Ok(())
    }

    fn owner_name(&self, owner: u8) -> String {
        match owner {
            FREE_OWNER => FREE_DB.to_string(),
            n => self
                .owner_names
                .get(n as usize - 1)
                .cloned()
                .unwrap_or_else(|| "?".into()),
        }
    }

    fn owner_of(&mut self, table: &str) -> u8 {
        if table == FREE_DB {
            return FREE_OWNER;
        }
        if let Some(i) = self.owner_names.iter().position(|n| n == table) {
            return i as u8 + 1;
        }
        if self.owner_names.len() >= FREE_OWNER as usize - 1 {
            return FREE_OWNER - 1;
        }
        self.owner_names.push(table.to_string());
        self.owner_names.len() as u8
    }

    /// Reads page `pgno` as a tree page without claiming it: its type (branch or leaf) and
    /// every node offset and size checked.
    fn tree_page(&self, pgno: u64, buf: &mut Vec<u8>) -> std::result::Result<TreePage, String> {
        self.read_page(pgno, buf)?;
        let header_pgno = u64_at(buf, 0);
        if header_pgno != pgno {
            return Err(format!("the page header says page {header_pgno}"));
        }
        let flags = u16_at(buf, 10);
        let branch = match flags & !0x10 {
            P_BRANCH => true,
            P_LEAF => false,
            other => {
                return Err(format!(
                    "page type 0x{other:x} where a branch or leaf page belongs"
                ))
            }
        };
        let (lower, upper) = (u16_at(buf, 12) as usize, u16_at(buf, 14) as usize);
        if lower < PAGE_HEADER
            || lower > upper
            || upper > self.psize
            || (lower - PAGE_HEADER) % 2 != 0
        {
            return Err(format!(
                "free-space bounds lower {lower}, upper {upper} do not fit a {}-byte page",
                self.psize
            ));
        }
        let count = (lower - PAGE_HEADER) / 2;
        if count == 0 {
            return Err("the page holds no entries".into());
        }
        let mut nodes = Vec::with_capacity(count);
        for i in 0..count {
            let at = u16_at(buf, PAGE_HEADER + 2 * i) as usize;
            if at < upper || at % 2 != 0 || at + NODE_HEADER > self.psize {
                return Err(format!(
                    "entry {i} has offset {at}, outside the page's node area"
                ));
            }
            let ksize = u16_at(buf, at + 6) as usize;
            let nflags = u16_at(buf, at + 4);
            let key_end = at + NODE_HEADER + ksize;
            if ksize > MAX_KEY || key_end > self.psize {
                return Err(format!(
                    "entry {i} has a {ksize}-byte key that does not fit"
                ));
            }
            let lo_hi = u16_at(buf, at) as u64 | (u16_at(buf, at + 2) as u64) << 16;
            let node = if branch {
                Node {
                    key: (at + NODE_HEADER, key_end),
                    flags: 0,
                    child: lo_hi | (nflags as u64) << 32,
                    data: (key_end, key_end),
                    size: 0,
                }
            } else {
                let size = lo_hi as usize;
                let stored = if nflags & F_BIGDATA != 0 { 8 } else { size };
                if nflags & !(F_BIGDATA | F_SUBDATA | F_DUPDATA) != 0 {
                    return Err(format!("entry {i} has unknown flags 0x{nflags:x}"));
                }
                if nflags & F_SUBDATA != 0 && (size != DB_RECORD || nflags & F_BIGDATA != 0) {
                    return Err(format!(
                        "entry {i} is a table record of {size} bytes, not {DB_RECORD}"
                    ));
                }
                if key_end + stored > self.psize {
                    return Err(format!(
                        "entry {i} has {stored} bytes of data that run past the page"
                    ));
                }
                Node {
                    key: (at + NODE_HEADER, key_end),
                    flags: nflags,
                    child: 0,
                    data: (key_end, key_end + stored),
                    size,
                }
            };
            nodes.push(node);
        }
        Ok(TreePage { branch, nodes })
    }

    /// Walks the B-tree of `db` (named `table`), checking every page, and hands each entry of
    /// every intact leaf to `visit` in key order. Damaged subtrees are recorded and skipped.
    /// Returns what the walk counted.
    pub fn walk(
        &mut self,
        table: &str,
        db: &DbRecord,
        integer_keys: bool,
        visit: &mut dyn FnMut(&mut Reader, &[u8], Value<'_>),
    ) -> TableSummary {
        let mut summary = TableSummary {
            name: table.to_string(),
            recorded_entries: db.entries,
            depth: db.depth,
            ..Default::default()
        };
        if db.root == P_INVALID {
            if db.depth != 0 || db.entries != 0 || db.leaf_pages != 0 {
                self.note(damage(
                    None,
                    table,
                    format!(
                        "the table is recorded empty but with depth {} and {} entries",
                        db.depth, db.entries
                    ),
                ));
            }
            return summary;
        }
        if db.depth == 0 || db.depth > MAX_DEPTH {
            self.note(damage(
                Some(db.root),
                table,
                format!("tree depth {} is impossible", db.depth),
            ));
            return summary;
        }
        if db.flags & MDB_DUPSORT != 0 {
            self.note(damage(
                None,
                table,
                "uses sorted duplicates, which lmstore never writes",
            ));
            return summary;
        }
        let owner = self.owner_of(table);
        let cmp = KeyOrder {
            integer: integer_keys || db.flags & MDB_INTEGERKEY != 0,
            reverse: db.flags & MDB_REVERSEKEY != 0,
        };
        let mut counts = Counts::default();
        let mut ctx = WalkCtx {
            table,
            owner,
            depth: db.depth,
            cmp,
            counts: &mut counts,
        };
        self.walk_page(&mut ctx, db.root, 1, None, None, visit);
        summary.entries = counts.entries;
        summary.pages = counts.branch + counts.leaf + counts.overflow;
        let complete = counts.damaged == 0;
        if complete {
            let pairs = [
                ("branch pages", counts.branch, db.branch_pages),
                ("leaf pages", counts.leaf, db.leaf_pages),
                ("overflow pages", counts.overflow, db.overflow_pages),
                ("entries", counts.entries, db.entries),
            ];
            for (what, found, recorded) in pairs {
                if found != recorded {
                    self.note(damage(
                        Some(db.root),
                        table,
                        format!("the table records {recorded} {what} but its tree holds {found}"),
                    ));
                }
            }
        }
        summary
    }

    fn walk_page(
        &mut self,
        ctx: &mut WalkCtx<'_, '_>,
        pgno: u64,
        level: u16,
        low: Option<&[u8]>,
        high: Option<&[u8]>,
        visit: &mut dyn FnMut(&mut Reader, &[u8], Value<'_>),
    ) {
        let table = ctx.table;
        let mut buf = Vec::new();
        let page = match self.tree_page(pgno, &mut buf) {
            Ok(p) => p,
            Err(what) => {
                ctx.counts.damaged += 1;
                return self.note(damage(Some(pgno), table, what));
            }
        };
        if let Err(what) = self.claim(pgno, ctx.owner) {
            ctx.counts.damaged += 1;
            return self.note(damage(Some(pgno), table, what));
        }
        let want_leaf = level == ctx.depth;
        if page.branch == want_leaf {
            ctx.counts.damaged += 1;
            if !page.branch {
                self.misplaced.push(pgno);
            }
            let (is, want) = if page.branch {
                ("branch", "leaf")
            } else {
                ("leaf", "branch")
            };
            return self.note(damage(
                Some(pgno),
                table,
                format!(
                    "a {is} page at level {level} of {}, where a {want} page belongs",
                    ctx.depth
                ),
            ));
        }
        // Keys must ascend inside the page and stay within the range the parent gave it.
        // The first key of a branch page is not used by LMDB, so it is not compared.
        let first = usize::from(page.branch);
        let mut prev: Option<&[u8]> = None;
        for (i, node) in page.nodes.iter().enumerate().skip(first) {
            let key = &buf[node.key.0..node.key.1];
            let bad = match prev {
                Some(p) => ctx.cmp.cmp(p, key) != std::cmp::Ordering::Less,
                None => low.is_some_and(|l| ctx.cmp.cmp(key, l) == std::cmp::Ordering::Less),
            } || high.is_some_and(|h| ctx.cmp.cmp(key, h) != std::cmp::Ordering::Less)
                || (ctx.cmp.integer && key.len() != 8 && key.len() != 4);
            if bad {
                ctx.counts.damaged += 1;
                if !page.branch {
                    self.misplaced.push(pgno);
                }
                return self.note(damage(
                    Some(pgno),
                    table,
                    format!("key {i} is out of order for its place in the tree"),
                ));
            }
            prev = Some(key);
        }
        if page.branch {
            ctx.counts.branch += 1;
            for i in 0..page.nodes.len() {
                let node = &page.nodes[i];
                let lo = if i == 0 {
                    low
                } else {
                    Some(&buf[node.key.0..node.key.1])
                };
                let hi = match page.nodes.get(i + 1) {
                    Some(next) => Some(&buf[next.key.0..next.key.1]),
                    None => high,
                };
                let (lo, hi) = (lo.map(<[u8]>::to_vec), hi.map(<[u8]>::to_vec));
                self.walk_page(
                    ctx,
                    node.child,
                    level + 1,
                    lo.as_deref(),
                    hi.as_deref(),
                    visit,
                );
            }
            return;
        }
        ctx.counts.leaf += 1;
        for node in &page.nodes {
            let key = &buf[node.key.0..node.key.1];
            let data = &buf[node.data.0..node.data.1];
            let value = if node.flags & F_BIGDATA != 0 {
                let first = u64_at(data, 0);
                match self.claim_overflow(first, node.size, ctx.owner) {
                    Ok(n) => ctx.counts.overflow += n,
                    Err(what) => {
                        ctx.counts.damaged += 1;
                        self.note(damage(Some(first), table, what));
                        continue;
                    }
                }
                Value::Overflow {
                    page: first,
                    size: node.size,
                }
            } else if node.flags & F_SUBDATA != 0 {
                if node.flags & F_DUPDATA != 0 {
                    ctx.counts.damaged += 1;
                    self.note(damage(
                        Some(pgno),
                        table,
                        "holds sorted duplicates, which lmstore never writes",
                    ));
                    continue;
                }
                Value::SubDb(DbRecord::parse(data))
            } else if node.flags & F_DUPDATA != 0 {
                ctx.counts.damaged += 1;
                self.note(damage(
                    Some(pgno),
                    table,
                    "holds sorted duplicates, which lmstore never writes",
                ));
                continue;
            } else {
                Value::Inline(data)
            };
            ctx.counts.entries += 1;
            self.leaf = pgno;
            visit(self, key, value);
        }
    }

    /// Checks the overflow run of a `size`-byte value starting at `first` and claims its pages.
    fn claim_overflow(
        &mut self,
        first: u64,
        size: usize,
        owner: u8,
    ) -> std::result::Result<u64, String> {
        let count = self.check_overflow(first, size)?;
        for p in first..first + count {
            self.claim(p, owner)?;
        }
        self.runs.push((first, count));
        Ok(count)
    }

    /// Checks the header and length of the overflow run of a `size`-byte value at `first`;
    /// returns its page count.
    fn check_overflow(&self, first: u64, size: usize) -> std::result::Result<u64, String> {
        let mut buf = Vec::new();
        self.read_page(first, &mut buf)?;
        let (pgno, flags) = (u64_at(&buf, 0), u16_at(&buf, 10));
        if pgno != first || flags & !0x10 != P_OVERFLOW {
            return Err(format!(
                "an overflow page is expected here, the header says page {pgno} with flags 0x{flags:x}"
            ));
        }
        let count = u32_at(&buf, 12) as u64;
        let needed = (PAGE_HEADER - 1 + size) as u64 / self.psize as u64 + 1;
        let end = first.saturating_add(count);
        if count < needed || end > self.pages || end > self.file_pages() {
            return Err(format!(
                "an overflow run of {count} pages for a {size}-byte value (needs {needed}) does not fit the file"
            ));
        }
        Ok(count)
    }

    /// Visits the entries of every intact leaf page that no walk so far reached (not in a
    /// table, not listed free) or that a walk refused for its place in the tree: the leaves
    /// below a damaged branch page, for salvage. Each page is checked as a walk would,
    /// except for its place in a tree.
    pub fn orphan_leaves(&mut self, visit: &mut OrphanVisitor<'_>) -> u64 {
        let end = self.pages.min(self.file_pages());
        if self.owner.is_empty() {
            self.owner = vec![0; self.pages as usize];
        }
        let mut found = 0;
        let mut buf = Vec::new();
        for pgno in 2..end {
            if self.owner[pgno as usize] != 0 && !self.misplaced.contains(&pgno) {
                continue;
            }
            let Ok(page) = self.tree_page(pgno, &mut buf) else {
                continue;
            };
            if page.branch {
                continue;
            }
            found += 1;
            for node in &page.nodes {
                let key = &buf[node.key.0..node.key.1];
                let data = &buf[node.data.0..node.data.1];
                let value = if node.flags & F_BIGDATA != 0 {
                    let first = u64_at(data, 0);
                    if self.check_overflow(first, node.size).is_err() {
                        continue;
                    }
                    Value::Overflow {
                        page: first,
                        size: node.size,
                    }
                } else if node.flags & (F_SUBDATA | F_DUPDATA) != 0 {
                    continue;
                } else {
                    Value::Inline(data)
                };
                visit(self, pgno, key, value);
            }
        }
        found
    }

    /// Looks `key` up in the tree of `db` without claiming pages (a point read, for the few
    /// values the checks need before the walk, such as the schema version). None when the
    /// key is absent or the path to it is damaged (the walk then reports where).
    pub fn lookup(&self, db: &DbRecord, key: &[u8]) -> Option<Vec<u8>> {
        let mut pgno = db.root;
        let mut buf = Vec::new();
        for _ in 0..db.depth.min(MAX_DEPTH) {
            let page = self.tree_page(pgno, &mut buf).ok()?;
            if page.branch {
                // The last child whose separator is <= key (the first separator is unused).
                let i = page.nodes[1..]
                    .iter()
                    .take_while(|n| &buf[n.key.0..n.key.1] <= key)
                    .count();
                pgno = page.nodes[i].child;
                continue;
            }
            let node = page.nodes.iter().find(|n| &buf[n.key.0..n.key.1] == key)?;
            let data = &buf[node.data.0..node.data.1];
            return match node.flags {
                0 => Some(data.to_vec()),
                F_BIGDATA => {
                    let first = u64_at(data, 0);
                    self.check_overflow(first, node.size).ok()?;
                    self.read_overflow(first, node.size).ok()
                }
                _ => None,
            };
        }
        None
    }

    /// Reads a value that lives on overflow pages (checked by the walk that produced it).
    pub fn read_overflow(&self, page: u64, size: usize) -> Result<Vec<u8>> {
        let mut out = vec![0u8; size];
        let off = page * self.psize as u64 + PAGE_HEADER as u64;
        match read_at(&self.file, &mut out, off) {
            Ok(n) if n == size => Ok(out),
            Ok(_) => Err(Error::corrupt(format!(
                "the value on overflow page {page} is cut short"
            ))),
            Err(e) => Err(io_err(e, format!("reading overflow page {page}"))),
        }
    }

    /// Walks the main database and returns the named tables it lists (name, record).
    pub fn tables(&mut self) -> Vec<(String, DbRecord)> {
        let main = self.meta.main;
        let mut out = Vec::new();
        self.walk(MAIN_DB, &main, false, &mut |r, key, value| match value {
            Value::SubDb(db) => out.push((String::from_utf8_lossy(key).into_owned(), db)),
            _ => r.note(damage(
                None,
                MAIN_DB,
                format!(
                    "entry '{}' of the main database is not a table record",
                    String::from_utf8_lossy(key)
                ),
            )),
        });
        out
    }

    /// Walks the free-page database, claiming every page it lists; returns how many it lists.
    pub fn free_pages(&mut self) -> u64 {
        let free = self.meta.free;
        let mut listed = Vec::new();
        self.walk(FREE_DB, &free, true, &mut |r, key, value| {
            let bytes = match value {
                Value::Inline(b) => b.to_vec(),
                Value::Overflow { page, size } => match r.read_overflow(page, size) {
                    Ok(b) => b,
                    Err(e) => return r.note(damage(Some(page), FREE_DB, e.message)),
                },
                Value::SubDb(_) => return r.note(damage(None, FREE_DB, "holds a table record")),
            };
            let txn = if key.len() == 8 { u64_at(key, 0) } else { 0 };
            let count = if bytes.len() >= 8 {
                u64_at(&bytes, 0)
            } else {
                u64::MAX
            };
            if count.checked_add(1).and_then(|n| n.checked_mul(8)) != Some(bytes.len() as u64) {
                return r.note(damage(
                    None,
                    FREE_DB,
                    format!(
                        "the free list of transaction {txn} has a bad length ({} bytes)",
                        bytes.len()
                    ),
                ));
            }
            for i in 1..=count as usize {
                listed.push((txn, u64_at(&bytes, i * 8)));
            }
        });
        let total = listed.len() as u64;
        for (txn, pgno) in listed {
            if pgno < 2 || pgno >= self.pages {
                self.note(damage(
                    Some(pgno),
                    FREE_DB,
                    format!("transaction {txn} lists free page {pgno}, outside the snapshot"),
                ));
            } else if let Err(what) = self.claim(pgno, FREE_OWNER) {
                self.note(damage(Some(pgno), FREE_DB, what));
            }
        }
        total
    }

    /// Pages of the snapshot neither used by a table nor listed free (after a full walk).
    fn unreferenced(&self) -> Vec<u64> {
        (2..self.pages)
            .filter(|&p| self.owner.get(p as usize).is_none_or(|&o| o == 0))
            .collect()
    }
}

struct Node {
    key: (usize, usize),
    flags: u16,
    child: u64,
    data: (usize, usize),
    /// A leaf value's real size (for overflow values, larger than what the node holds).
    size: usize,
}

struct TreePage {
    branch: bool,
    nodes: Vec<Node>,
}

#[derive(Default)]
struct Counts {
    branch: u64,
    leaf: u64,
    overflow: u64,
    entries: u64,
    damaged: u64,
}

struct WalkCtx<'a, 'c> {
    table: &'a str,
    owner: u8,
    depth: u16,
    cmp: KeyOrder,
    counts: &'c mut Counts,
}

/// LMDB's key orders: bytes (shorter first on a tie), bytes from the end, or native integers.
#[derive(Clone, Copy)]
struct KeyOrder {
    integer: bool,
    reverse: bool,
}

impl KeyOrder {
    fn cmp(self, a: &[u8], b: &[u8]) -> std::cmp::Ordering {
        if self.integer && a.len() == b.len() {
            return match a.len() {
                8 => u64_at(a, 0).cmp(&u64_at(b, 0)),
                4 => u32_at(a, 0).cmp(&u32_at(b, 0)),
                _ => a.cmp(b),
            };
        }
        if self.reverse {
            return a.iter().rev().cmp(b.iter().rev());
        }
        a.cmp(b)
    }
}

/// Whether a file without a readable meta page still holds LMDB pages (so it is a damaged
/// store, not another program's file): page 2 names itself as a branch, leaf or overflow page,
/// at any of the page sizes LMDB may use.
fn looks_like_lmdb(path: &Path) -> bool {
    let Ok(file) = File::open(path) else {
        return false;
    };
    (9..=16).any(|shift| {
        let size = 1u64 << shift;
        let mut header = [0u8; PAGE_HEADER];
        matches!(read_at(&file, &mut header, 2 * size), Ok(PAGE_HEADER))
            && u64_at(&header, 0) == 2
            && matches!(u16_at(&header, 10) & !0x10, P_BRANCH | P_LEAF | P_OVERFLOW)
    })
}

/// What [`check_before_open`] looks at: the meta pages, the page size, the file's length
/// against the snapshot's last page, and the roots of every table. A few reads, no walk.
fn cheap_check(path: &Path) -> Result<()> {
    let metas = Metas::read(path)?;
    if metas.file_len == 0 {
        // LMDB creates data.mdb and only then writes its two meta pages, so a process killed
        // in between (kill -9 during the very first open) leaves an empty file. Nothing was
        // ever committed to it, so nothing can be lost: LMDB initializes it as a new store.
        // (A store truncated to exactly nothing looks the same and opens empty; every other
        // truncation is caught below.)
        return Ok(());
    }
    let (current, mut found) = metas.current();
    let Some(meta) = current else {
        let why = format!(
            "meta page 0: {}; meta page 1: {}",
            found.first().map(|d| d.what.as_str()).unwrap_or("?"),
            found.get(1).map(|d| d.what.as_str()).unwrap_or("?"),
        );
        if looks_like_lmdb(path) {
            return Err(Error::corrupt(format!(
                "{} is damaged: both meta pages are unreadable ({why}); lms_salvage can still \
                 read its records",
                path.display()
            )));
        }
        return Err(Error::new(
            ErrorKind::NotAStore,
            format!(
                "{} is not an lmstore database: it is not an LMDB file ({why}); left untouched",
                path.display()
            ),
        ));
    };
    let mut reader = Reader::open(path, meta)?;
    let file_pages = reader.file_pages();
    if found.is_empty() && meta.last_page >= file_pages {
        // LMDB never writes a page that was freed in the transaction that allocated it, so the
        // file may end before the last page, but only by pages that are listed free.
        reader.free_pages();
        let (free_damage, _) = reader.take_damage();
        let missing = (file_pages..=meta.last_page)
            .find(|&p| reader.owner.get(p as usize) != Some(&FREE_OWNER));
        if let Some(p) = missing.or((!free_damage.is_empty()).then_some(file_pages)) {
            found.push(damage(
                Some(p),
                "(file)",
                format!(
                    "the file is truncated: it ends at {} bytes ({file_pages} pages of {}) but the snapshot uses pages up to {}",
                    metas.file_len, meta.page_size, meta.last_page
                ),
            ));
        }
    }
    for (name, db) in [(FREE_DB, meta.free), (MAIN_DB, meta.main)] {
        if db.root != P_INVALID && (db.root < 2 || db.root > meta.last_page) {
            found.push(damage(
                Some(db.root),
                name,
                format!(
                    "the root page {} is outside the snapshot (last page {})",
                    db.root, meta.last_page
                ),
            ));
        }
    }
    if found.is_empty() && meta.main.root != P_INVALID {
        // The directory of tables is one small leaf: check it and each table's root page.
        let mut buf = Vec::new();
        match reader.tree_page(meta.main.root, &mut buf) {
            Err(what) => found.push(damage(Some(meta.main.root), MAIN_DB, what)),
            Ok(page) if !page.branch => {
                for node in &page.nodes {
                    if node.flags & F_SUBDATA == 0 {
                        continue;
                    }
                    let db = DbRecord::parse(&buf[node.data.0..node.data.1]);
                    let name = String::from_utf8_lossy(&buf[node.key.0..node.key.1]).into_owned();
                    if db.root == P_INVALID {
                        continue;
                    }
                    let mut page_buf = Vec::new();
                    if let Err(what) = reader.tree_page(db.root, &mut page_buf) {
                        found.push(damage(Some(db.root), &name, format!("root page: {what}")));
                    }
                }
            }
            Ok(_) => {}
        }
    }
    match found.first() {
        None => Ok(()),
        Some(first) => Err(Error::corrupt(format!(
            "{} is damaged: {first}",
            path.display()
        ))),
    }
}

/// Checks a store's `data.mdb` before LMDB maps it, so a damaged file is `LMS_CORRUPT` naming
/// what and where instead of a crash inside LMDB: always the cheap checks, and the full walk
/// of every page when `full`. A missing or empty file passes (LMDB creates it).
///
/// Another process may be committing while we read; a problem is reported only if it is still
/// there when the file is read again after that process's commit.
pub fn check_before_open(dir: &Path, full: bool) -> Result<()> {
    let path = data_file(dir);
    if !path.exists() {
        return Ok(());
    }
    let mut last_txn = None;
    for attempt in 0..3 {
        let outcome = cheap_check(&path).and_then(|()| match full {
            true => verify_file(&path).and_then(|r| r.into_result(&path).map(|_| ())),
            false => Ok(()),
        });
        let Err(e) = outcome else { return Ok(()) };
        if e.kind != ErrorKind::Corrupt || attempt == 2 {
            return Err(e);
        }
        let now = Metas::read(&path)
            .ok()
            .and_then(|m| m.current().0.map(|m| m.txnid));
        if now.is_none() || now == last_txn {
            return Err(e);
        }
        last_txn = now;
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    Ok(())
}

/// Walks every page of every table of `data.mdb` at `path` and reports what is damaged, where.
/// An I/O error (the file cannot be read) is an error; damage is in the report. The file may be
/// in use by writers: damage is reported only if it is still there after their commit.
pub fn verify_file(path: &Path) -> Result<VerifyReport> {
    let mut report = verify_snapshot(path, None)?.unwrap_or_default();
    for _ in 0..3 {
        if report.is_ok() || Metas::read(path)?.current().0.map(|m| m.txnid) == Some(report.txnid) {
            break;
        }
        report = verify_snapshot(path, None)?.unwrap_or_default();
    }
    Ok(report)
}

impl super::Env {
    /// Verifies every page of the snapshot a read transaction of this environment holds, so
    /// LMDB reuses none of its pages during the walk while writers go on.
    pub fn verify_pages(&self) -> Result<VerifyReport> {
        let path = data_file(self.path());
        for _ in 0..5 {
            let found = self.read(|txn| {
                // SAFETY: txn.raw is a live read transaction for the whole closure.
                let id = unsafe { super::ffi::mdb_txn_id(txn.raw) } as u64;
                verify_snapshot(&path, Some(id))
            })?;
            if let Some(report) = found {
                return Ok(report);
            }
        }
        Err(Error::new(
            ErrorKind::Internal,
            "the store changed faster than it could be verified (five snapshots in a row were overwritten)",
        ))
    }
}

/// Verifies the snapshot of transaction `want` (None: the current one); None when neither meta
/// page records `want` any more.
fn verify_snapshot(path: &Path, want: Option<u64>) -> Result<Option<VerifyReport>> {
    let metas = Metas::read(path)?;
    let (mut current, found) = metas.current();
    if let Some(want) = want {
        current = metas
            .metas
            .iter()
            .flatten()
            .find(|m| m.txnid == want)
            .copied();
        if current.is_none() {
            return Ok(None);
        }
    }
    let mut report = VerifyReport {
        file_pages: metas.file_len / 4096,
        ..Default::default()
    };
    for d in found {
        report.damage_count += 1;
        report.damage.push(d);
    }
    let Some(meta) = current else {
        return Ok(Some(report));
    };
    report.page_size = meta.page_size;
    report.last_page = meta.last_page;
    report.txnid = meta.txnid;
    report.file_pages = metas.file_len / meta.page_size as u64;
    let mut reader = match Reader::open(path, meta) {
        Ok(r) => r,
        Err(e) if e.kind == ErrorKind::Corrupt => {
            report.damage_count += 1;
            report.damage.push(damage(None, "(file)", e.message));
            return Ok(Some(report));
        }
        Err(e) => return Err(e),
    };
    let mut tables = reader.tables();
    tables.sort_by(|a, b| a.0.cmp(&b.0));
    let main = reader.meta.main;
    report.tables.push(TableSummary {
        name: MAIN_DB.into(),
        entries: tables.len() as u64,
        recorded_entries: main.entries,
        depth: main.depth,
        pages: main.branch_pages + main.leaf_pages + main.overflow_pages,
    });
    // Schema 2 keeps a CRC32C over key and value at the end of every value: check them all,
    // so damaged record bytes are found here too, not only by the read that meets them.
    let checksums = tables
        .iter()
        .find(|(name, _)| name == Table::Meta.name())
        .and_then(|(_, db)| reader.lookup(db, super::checksum::SCHEMA_KEY))
        .is_some_and(|v| !super::checksum::is_legacy(Some(&v)));
    for (name, db) in &tables {
        let table = Table::ALL.into_iter().find(|t| t.name() == name);
        let summary = reader.walk(name, db, false, &mut |r, key, value| {
            let Some(table) = table.filter(|_| checksums) else {
                return;
            };
            let bytes = match value {
                Value::Inline(b) => b.to_vec(),
                Value::Overflow { page, size } => match r.read_overflow(page, size) {
                    Ok(b) => b,
                    Err(e) => return r.note_damage(Some(page), table.name(), e.message),
                },
                Value::SubDb(_) => {
                    let page = r.leaf_page();
                    return r.note_damage(Some(page), table.name(), "holds a table record");
                }
            };
            if let Err(e) = super::checksum::open(table, key, &bytes) {
                let page = r.leaf_page();
                r.note_damage(Some(page), table.name(), e.message);
            }
        });
        report.tables.push(summary);
    }
    report.free_pages = reader.free_pages();
    if reader.damage_count == 0 {
        let lost = reader.unreferenced();
        if let Some(&first) = lost.first() {
            reader.note(damage(
                Some(first),
                "(file)",
                format!(
                    "{} pages are neither used by a table nor listed free (the first is page {first})",
                    lost.len()
                ),
            ));
        }
    }
    let (mut walk_damage, count) = reader.take_damage();
    report.damage.append(&mut walk_damage);
    report.damage.truncate(MAX_DAMAGE);
    report.damage_count += count;
    Ok(Some(report))
}

/// What one page of a file holds, as a full walk of its current snapshot sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageUse {
    /// The table (or `(main)`, `(free pages)`, `(meta)`); empty for a page nothing reaches.
    pub table: String,
    /// The page type from its header (branch 1, leaf 2, overflow 4, meta 8); 0 when unread.
    pub flags: u16,
    /// Where the page's node area starts (a tree page's `upper`), or its data (overflow).
    pub data_start: usize,
}

/// Maps every page of a sound `data.mdb` to its table and type: what a damaged byte hits.
pub fn page_map(path: &Path) -> Result<Vec<PageUse>> {
    let metas = Metas::read(path)?;
    let meta = metas
        .current()
        .0
        .ok_or_else(|| Error::corrupt("no readable meta page"))?;
    let mut reader = Reader::open(path, meta)?;
    for (name, db) in reader.tables() {
        reader.walk(&name, &db, false, &mut |_, _, _| {});
    }
    reader.free_pages();
    let mut out = Vec::new();
    let mut buf = Vec::new();
    for pgno in 0..reader.file_pages() {
        let table = match pgno {
            0 | 1 => "(meta)".to_string(),
            p => match reader.owner.get(p as usize) {
                Some(0) | None => String::new(),
                Some(&o) => reader.owner_name(o),
            },
        };
        buf.resize(reader.psize, 0);
        let n = read_at(&reader.file, &mut buf, pgno * reader.psize as u64).unwrap_or(0);
        let (flags, data_start) = if n < PAGE_HEADER {
            (0, 0)
        } else {
            let flags = u16_at(&buf, 10) & (P_BRANCH | P_LEAF | P_OVERFLOW | P_META);
            let start = match flags {
                P_BRANCH | P_LEAF => u16_at(&buf, 14) as usize,
                _ => PAGE_HEADER,
            };
            (flags, start)
        };
        // Pages inside an overflow run have no header: what looks like one is value bytes.
        let in_run = reader
            .runs
            .iter()
            .any(|&(first, count)| pgno >= first && pgno < first + count);
        let (flags, data_start) = if in_run {
            (
                P_OVERFLOW,
                if flags == P_OVERFLOW { PAGE_HEADER } else { 0 },
            )
        } else {
            (flags, data_start)
        };
        out.push(PageUse {
            table,
            flags,
            data_start,
        });
    }
    Ok(out)
}

/// The keys on leaf page `pgno` of the current snapshot of `path` (None when it is not a
/// sound leaf page): which records a damaged page takes with it.
pub fn leaf_keys(path: &Path, pgno: u64) -> Option<Vec<Vec<u8>>> {
    let meta = Metas::read(path).ok()?.current().0?;
    let reader = Reader::open(path, meta).ok()?;
    let mut buf = Vec::new();
    let page = reader.tree_page(pgno, &mut buf).ok()?;
    if page.branch {
        return None;
    }
    Some(
        page.nodes
            .iter()
            .map(|n| buf[n.key.0..n.key.1].to_vec())
            .collect(),
    )
}
