//! zstd for message bodies. A body (content and metadata, as the MessagePack they are stored
//! as) is compressed when it is large enough to gain, and kept raw otherwise; the record names
//! the dictionary it was compressed with (0: none), so a store can change dictionaries without
//! rewriting old records. Decompression happens here, in the core: callers see plain records.
//!
//! Dictionaries are trained from a store's own messages (`Store::train_dictionary`) and kept
//! in its `meta` table under their version (see `meta::add_dictionary`). Once prepared they live
//! for the process, found by the id zstd derives from their content: they are immutable and
//! few (one per training), and a frame names the id it needs, so a prepared dictionary can
//! never be applied to a frame of another one.

use crate::error::{Error, Result};
use std::cell::RefCell;
use std::sync::Mutex;
use zstd::zstd_safe::{CCtx, CDict, CParameter, DCtx, DDict};

/// Without a dictionary, bodies below this many bytes stay raw: decompressing costs more read
/// time than their bytes cost space (measured in benches/conversations.rs, see docs/format.md).
pub(crate) const COMPRESS_MIN: usize = 1024;

/// The zstd level for bodies: fast enough for batched appends, most of the gain of higher ones.
const LEVEL: i32 = 3;

/// The largest body we will inflate: a frame claiming more is damaged, not data (a value can
/// never exceed what one LMDB map holds, and 1 GiB is far above any message).
const MAX_BODY: u64 = 1 << 30;

/// No dictionary: a plain zstd frame.
pub(crate) const NO_DICTIONARY: u32 = 0;

/// Where the dictionaries named by a store's records are found (its `meta` table).
pub trait DictionarySource {
    /// The dictionary stored under `version`, as trained.
    fn dictionary_bytes(&self, version: u32) -> Result<Option<&[u8]>>;
}

/// For reading records outside a store (tests, tools): no record may name a dictionary.
pub struct NoDictionaries;

impl DictionarySource for NoDictionaries {
    fn dictionary_bytes(&self, _version: u32) -> Result<Option<&[u8]>> {
        Ok(None)
    }
}

/// A trained dictionary, digested once for compressing and once for inflating.
pub struct Prepared {
    id: u32,
    cdict: CDict<'static>,
    ddict: DDict<'static>,
}

/// The dictionary that new bodies are compressed with, and from what size on.
#[derive(Clone, Copy)]
pub struct Packing {
    pub version: u32,
    pub min_body: usize,
    dict: &'static Prepared,
}

/// Every dictionary prepared by this process, by zstd id (see the module comment).
static PREPARED: Mutex<Vec<&'static Prepared>> = Mutex::new(Vec::new());

fn cached(id: u32) -> Option<&'static Prepared> {
    let list = PREPARED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    list.iter().copied().find(|p| p.id == id)
}

/// The zstd id of a trained dictionary; None when `bytes` is not one.
pub fn dictionary_id(bytes: &[u8]) -> Option<u32> {
    zstd::zstd_safe::get_dict_id_from_dict(bytes).map(|id| id.get())
}

/// Prepares the dictionary stored as `version`, whose zstd id must be `id`.
fn prepare(bytes: &[u8], version: u32, id: u32) -> Result<&'static Prepared> {
    if dictionary_id(bytes) != Some(id) {
        return Err(Error::corrupt(format!(
            "compression dictionary {version} is damaged: its zstd id is not the one its records and the store name"
        )));
    }
    let mut list = PREPARED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(p) = list.iter().copied().find(|p| p.id == id) {
        return Ok(p);
    }
    let damaged = || Error::corrupt(format!("compression dictionary {version} is damaged"));
    let prepared: &'static Prepared = Box::leak(Box::new(Prepared {
        id,
        cdict: CDict::try_create(bytes, LEVEL).ok_or_else(damaged)?,
        ddict: DDict::try_create(bytes).ok_or_else(damaged)?,
    }));
    list.push(prepared);
    Ok(prepared)
}

/// The dictionary `version` (zstd id `id`) of the store behind `dicts`, prepared.
fn dictionary(
    dicts: &(impl DictionarySource + ?Sized),
    version: u32,
    id: u32,
) -> Result<&'static Prepared> {
    if let Some(p) = cached(id) {
        return Ok(p);
    }
    let bytes = dicts.dictionary_bytes(version)?.ok_or_else(|| {
        Error::corrupt(format!(
            "message body names compression dictionary {version}, which this store does not hold"
        ))
    })?;
    prepare(bytes, version, id)
}

impl Packing {
    /// The packing of dictionary `version` (zstd id `id`), new bodies of `min_body` bytes
    /// and more compressed with it.
    pub fn new(
        dicts: &(impl DictionarySource + ?Sized),
        version: u32,
        id: u32,
        min_body: usize,
    ) -> Result<Packing> {
        Ok(Packing {
            version,
            min_body,
            dict: dictionary(dicts, version, id)?,
        })
    }
}

thread_local! {
    static CCTX: RefCell<Option<CCtx<'static>>> = const { RefCell::new(None) };
    static DCTX: RefCell<Option<DCtx<'static>>> = const { RefCell::new(None) };
}

/// Compresses `body` if that saves at least an eighth of it: with `packing`'s dictionary from
/// its `min_body` on, without one from [`COMPRESS_MIN`] on. Returns (dictionary, frame).
pub fn pack(body: &[u8], packing: Option<&Packing>) -> Option<(u32, Vec<u8>)> {
    let dict = packing.filter(|p| body.len() >= p.min_body);
    if dict.is_none() && body.len() < COMPRESS_MIN {
        return None;
    }
    let mut frame = Vec::with_capacity(zstd::zstd_safe::compress_bound(body.len()));
    CCTX.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let mut c = CCtx::try_create()?;
            // The frame's own checksum: a damaged frame is refused by zstd even where our
            // record checksum is not there to catch it (salvage, tools reading raw pages).
            c.set_parameter(CParameter::ChecksumFlag(true)).ok()?;
            c.set_parameter(CParameter::CompressionLevel(LEVEL)).ok()?;
            *slot = Some(c);
        }
        let cctx = slot.as_mut()?;
        match dict {
            Some(p) => cctx.ref_cdict(&p.dict.cdict).ok()?,
            None => cctx.disable_dictionary().ok()?,
        };
        cctx.compress2(&mut frame, body).ok()
    })?;
    let version = dict.map_or(NO_DICTIONARY, |p| p.version);
    (frame.len() + body.len() / 8 <= body.len()).then_some((version, frame))
}

/// Inflates a stored frame into `out` (cleared first). A frame that is damaged, claims no or an
/// absurd size, or names a dictionary this store does not hold, is Corrupt.
pub fn unpack(
    dicts: &(impl DictionarySource + ?Sized),
    dictionary_version: u32,
    frame: &[u8],
    out: &mut Vec<u8>,
) -> Result<()> {
    let size = match zstd::zstd_safe::get_frame_content_size(frame) {
        Ok(Some(n)) if n <= MAX_BODY => n as usize,
        _ => {
            return Err(Error::corrupt(
                "compressed message body has a damaged frame header",
            ))
        }
    };
    let frame_id = zstd::zstd_safe::get_dict_id_from_frame(frame).map(|id| id.get());
    let prepared = match (dictionary_version, frame_id) {
        (NO_DICTIONARY, None) => None,
        (version, Some(id)) if version != NO_DICTIONARY => Some(dictionary(dicts, version, id)?),
        _ => {
            return Err(Error::corrupt(format!(
                "compressed message body names dictionary {dictionary_version}, but its frame says otherwise"
            )))
        }
    };
    out.clear();
    out.reserve(size);
    DCTX.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(
                DCtx::try_create()
                    .ok_or_else(|| Error::corrupt("zstd decompressor unavailable"))?,
            );
        }
        let Some(dctx) = slot.as_mut() else {
            return Err(Error::corrupt("zstd decompressor unavailable"));
        };
        let n = match prepared {
            Some(p) => dctx.decompress_using_ddict(out, frame, &p.ddict),
            None => dctx.decompress(out, frame),
        }
        .map_err(|code| {
            Error::corrupt(format!(
                "compressed message body is damaged: {}",
                zstd::zstd_safe::get_error_name(code)
            ))
        })?;
        if n != size {
            return Err(Error::corrupt(
                "compressed message body inflates to another size than its header says",
            ));
        }
        Ok(())
    })
}

/// Forgets every prepared dictionary, so the next record that names one loads it from its
/// store again, as a fresh process would: for tests of stored dictionaries. (The prepared
/// dictionaries themselves are leaked, as they are meant to live for the process.)
#[doc(hidden)]
pub fn forget_prepared_dictionaries() {
    PREPARED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clear();
}
