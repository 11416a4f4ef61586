//! zstd for message bodies. A body (content and metadata, as the MessagePack they are stored
//! as) is compressed when it is large enough to gain, and kept raw otherwise; the record names
//! the dictionary it was compressed with (0: none), so a store can change dictionaries without
//! rewriting old records. Decompression happens here, in the core: callers see plain records.

use crate::error::{Error, Result};
use std::cell::RefCell;

/// Bodies below this many bytes stay raw: decompressing costs more read time than their bytes
/// cost space (measured in benches/conversations.rs, see docs/format.md).
pub(crate) const COMPRESS_MIN: usize = 1024;

/// The zstd level for bodies: fast enough for batched appends, most of the gain of higher ones.
const LEVEL: i32 = 3;

/// The largest body we will inflate: a frame claiming more is damaged, not data (a value can
/// never exceed what one LMDB map holds, and 1 GiB is far above any message).
const MAX_BODY: u64 = 1 << 30;

/// No dictionary: a plain zstd frame.
pub(crate) const NO_DICTIONARY: u32 = 0;

/// Compresses `body` if that saves at least an eighth of it; returns (dictionary, frame).
pub fn pack(body: &[u8]) -> Option<(u32, Vec<u8>)> {
    if body.len() < COMPRESS_MIN {
        return None;
    }
    let frame = CCTX.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let mut c = zstd::bulk::Compressor::new(LEVEL).ok()?;
            // The frame's own checksum: a damaged frame is refused by zstd even where our
            // record checksum is not there to catch it (salvage, tools reading raw pages).
            c.set_parameter(zstd::zstd_safe::CParameter::ChecksumFlag(true))
                .ok()?;
            *slot = Some(c);
        }
        slot.as_mut()?.compress(body).ok()
    })?;
    (frame.len() + body.len() / 8 <= body.len()).then_some((NO_DICTIONARY, frame))
}

thread_local! {
    static CCTX: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static DCTX: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// Inflates a stored frame into `out` (cleared first). A frame that is damaged, claims no or an
/// absurd size, or names a dictionary this store does not have, is Corrupt.
pub fn unpack(dictionary: u32, frame: &[u8], out: &mut Vec<u8>) -> Result<()> {
    if dictionary != NO_DICTIONARY {
        return Err(Error::corrupt(format!(
            "message body names compression dictionary {dictionary}, which this store does not hold"
        )));
    }
    let size = match zstd::zstd_safe::get_frame_content_size(frame) {
        Ok(Some(n)) if n <= MAX_BODY => n as usize,
        _ => {
            return Err(Error::corrupt(
                "compressed message body has a damaged frame header",
            ))
        }
    };
    out.clear();
    out.reserve(size);
    DCTX.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(
                zstd::bulk::Decompressor::new()
                    .map_err(|e| Error::corrupt(format!("zstd: {e}")))?,
            );
        }
        let Some(dctx) = slot.as_mut() else {
            return Err(Error::corrupt("zstd decompressor unavailable"));
        };
        let n = dctx
            .decompress_to_buffer(frame, out)
            .map_err(|e| Error::corrupt(format!("compressed message body is damaged: {e}")))?;
        if n != size {
            return Err(Error::corrupt(
                "compressed message body inflates to another size than its header says",
            ));
        }
        Ok(())
    })
}
