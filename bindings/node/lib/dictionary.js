'use strict';

// Compression dictionaries (lms_train_dictionary, lms_list_dictionaries in include/lmstore.h).
//
// Training samples up to 4 MiB of the store's newest messages and trains zstd on them: a
// second or two, so it is run like an import (lib/import.js): trainDictionarySync() on this
// thread, trainDictionary() as a job on a worker thread, where the library's thread-local
// error words are read too (koffi's .async would leave them on a pool thread). It is no
// lms_write_batch operation, so it does not go through the write queue; to keep the queue's
// promise that calls take effect in the order they were made, both forms start after the
// writes called before them have committed. Listing is a quick read on this thread.
// Added to the Store class by installDictionary().

const { koffi, native, DICTIONARY_INFO_SIZE } = require('./ffi');
const { OUT_LEN, lastError, outLen } = require('./call');
const { options, u32Of } = require('./args');
const { runInWorker } = require('./import');

/** struct lms_dictionary_info -> the DictionaryInfo of index.d.ts. */
function infoOf(d) {
  return { version: d.version, zstdId: d.zstd_id, bytes: Number(d.bytes), minBody: d.min_body };
}

/** The job of trainDictionary, checked and in plain data (it crosses to a worker as is). */
function trainJob(op, opts) {
  const o = options(op, opts, ['minBody']);
  // 0 is the library's default (256 bytes); 1 to 31 are refused by the library, in its words.
  return { op, kind: 'train_dictionary', minBody: u32Of(op, 'minBody', o.minBody, 0) };
}

/** Runs a training job on the calling thread (`db` is the handle's address); throws LmstoreError. */
function runTrain(db, job) {
  const out = {};
  const rc = native.train_dictionary(db, job.minBody, out);
  if (rc !== 0) throw lastError(job.op, rc);
  return infoOf(out);
}

const methods = {
  /**
   * Trains a zstd dictionary from the store's newest messages and makes it current (see
   * index.d.ts); on a worker thread, after the writes called before it have committed.
   */
  trainDictionary(opts) {
    try {
      const job = trainJob('trainDictionary', opts);
      return runInWorker(this, job, null, this._writer.drained());
    } catch (e) {
      return Promise.reject(e);
    }
  },

  trainDictionarySync(opts) {
    const op = 'trainDictionarySync';
    const db = this._handle(op);
    const job = trainJob(op, opts);
    this._writer.drainSync();
    return runTrain(koffi.address(db), job);
  },

  /** The store's dictionaries, oldest first (the current one last); [] if never trained. */
  dictionaries() {
    const op = 'dictionaries';
    const db = this._handle(op);
    // Into the store's read buffer (room for thousands): one crossing. Should a training
    // add more in between, the count says how many, and the buffer grows.
    let buf = this._read.buf;
    for (;;) {
      const cap = Math.floor(buf.length / DICTIONARY_INFO_SIZE);
      const rc = native.list_dictionaries(db, buf, cap, OUT_LEN);
      if (rc !== 0) throw lastError(op, rc);
      const n = outLen();
      if (n <= cap) {
        const list = new Array(n);
        for (let i = 0; i < n; i++) list[i] = infoOf(koffi.decode(buf, i * DICTIONARY_INFO_SIZE, 'lms_dictionary_info'));
        return list;
      }
      buf = this._read.atLeast(n * DICTIONARY_INFO_SIZE);
    }
  },
};

/** Adds the methods above to the Store class. */
function installDictionary(Store) {
  Object.assign(Store.prototype, methods);
}

module.exports = { installDictionary, runTrain };
