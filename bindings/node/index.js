'use strict';

const { native, libraryPath, ABI_VERSION } = require('./lib/ffi');
const { LmstoreError, STATUS } = require('./lib/errors');
const { Store, open } = require('./lib/store');
require('./lib/import').installImport(Store);
require('./lib/dictionary').installDictionary(Store);
const { renderPreview } = require('./lib/render');
const { toDate, fromDate, nowMicros, uuidString } = require('./lib/codec');

const version = native.version();
const versionNumber = native.version_number();
const abiVersion = ABI_VERSION;

module.exports = {
  open,
  Store,
  renderPreview,
  LmstoreError,
  STATUS,
  toDate,
  fromDate,
  nowMicros,
  uuidString,
  version,
  versionNumber,
  abiVersion,
  libraryPath,
};
