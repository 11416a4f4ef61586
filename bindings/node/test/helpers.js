'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const lmstore = require('..');

/** A fresh directory for one test, removed when the test ends. */
function tempDir(t, base = os.tmpdir()) {
  fs.mkdirSync(base, { recursive: true });
  const dir = fs.mkdtempSync(path.join(base, 'lmstore-node-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A store in a fresh directory, closed and removed when the test ends. */
function tempStore(t, options) {
  const dir = tempDir(t);
  const store = lmstore.open(dir, options);
  t.after(() => store.close());
  return store;
}

/** Asserts that fn throws (or the promise rejects with) an LmstoreError with this code. */
function isLmsError(code) {
  return (e) => {
    if (!(e instanceof lmstore.LmstoreError)) throw new Error(`expected LmstoreError ${code}, got ${e && e.stack}`);
    if (e.code !== code) throw new Error(`expected ${code}, got ${e.code}: ${e.message}`);
    return true;
  };
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

module.exports = { tempDir, tempStore, isLmsError, UUID_RE, lmstore };
