//! Compression dictionaries trained from a store's own messages, so short chat messages
//! compress too (a plain zstd frame needs about 1 KiB before it gains). Training reads one
//! snapshot and stores the result in one write transaction: a training cut short (kill -9)
//! leaves the store as it was, and readers and writers go on meanwhile.

use crate::conversations::record;
use crate::error::{Error, Result};
use crate::meta::{self, DictionaryInfo};
use crate::storage::{ReadTxn, Start, Table};
use crate::Store;

/// The largest dictionary trained: zstd's guidance is samples of about 100× its size, and the
/// samples are capped below; a larger one gained little on chat messages (docs/format.md).
const DICTIONARY_BYTES: usize = 32 << 10;

/// Bytes of message bodies sampled, newest messages first.
const SAMPLE_BYTES: usize = 4 << 20;

/// Fewer bodies than this make a dictionary that fits them rather than the store.
pub const MIN_SAMPLES: usize = 500;

/// The body size from which new bodies use the dictionary when the caller passes 0: the
/// typical chat message of a few dozen words (measured: a 300-byte body stores in about a
/// quarter of its size, and inflating it costs about 0.7 µs per message read).
pub const DEFAULT_MIN_BODY: u32 = 256;

/// Below this a body gains nothing against the frame's own header.
const SMALLEST_MIN_BODY: u32 = 32;

impl Store {
    /// Trains a zstd dictionary from the newest messages' bodies (content and metadata, up to
    /// 4 MiB of them), stores it under the next version and makes it current: from then on,
    /// new and updated bodies of `min_body` bytes and more (0: 256) are compressed with it.
    /// Records written before keep the dictionary (or none) they name, so nothing is rewritten.
    pub fn train_dictionary(&self, min_body: u32) -> Result<DictionaryInfo> {
        let min_body = match min_body {
            0 => DEFAULT_MIN_BODY,
            n if n < SMALLEST_MIN_BODY => {
                return Err(Error::invalid(format!(
                    "min_body {n} is below {SMALLEST_MIN_BODY} bytes, where compression cannot gain (0 picks the default, {DEFAULT_MIN_BODY})"
                )))
            }
            n => n,
        };
        self.check_writable()?;
        let samples = self.read(|txn| samples(txn))?;
        if samples.len() < MIN_SAMPLES {
            return Err(Error::invalid(format!(
                "too few messages to train a dictionary: {} found, at least {MIN_SAMPLES} needed",
                samples.len()
            )));
        }
        let trained = zstd::dict::from_samples(&samples, DICTIONARY_BYTES).map_err(|e| {
            Error::invalid(format!(
                "zstd could not train a dictionary from {} messages: {e}",
                samples.len()
            ))
        })?;
        self.write(|txn| meta::add_dictionary(txn, &trained, min_body))
    }

    /// The store's compression dictionaries, oldest first; the current one has `min_body`.
    pub fn dictionaries(&self) -> Result<Vec<DictionaryInfo>> {
        self.read(|txn| meta::dictionaries(txn))
    }
}

/// Message bodies as given, newest ids first (UUIDv7 ids sort by time), up to SAMPLE_BYTES.
fn samples(txn: &impl ReadTxn) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut total = 0usize;
    txn.scan(Table::MessageIds, Start::Edge, true, &mut |_, key| {
        let stored = txn
            .get(Table::Messages, key)?
            .ok_or_else(|| Error::corrupt("message id index points at a missing message"))?;
        let mut body = Vec::new();
        record::plain_body(txn, key, stored, &mut body)?;
        total += body.len();
        out.push(body);
        Ok(total < SAMPLE_BYTES)
    })?;
    Ok(out)
}
