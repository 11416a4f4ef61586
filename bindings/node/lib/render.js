'use strict';

// Rendering (lms_render_*_into): synchronous, because a render is CPU work of microseconds
// that a worker hop would only slow down. The text is written straight into the store's read
// buffer (one crossing) and decoded from it; the variables cross as one MessagePack map.

const { lib, native } = require('./ffi');
const { LmstoreError, STATUS, invalidArgument } = require('./errors');
const { pack } = require('./codec');
const { Store } = require('./store');

const render = {
  into: lib.func('int lms_render_into(lms_db *db, const char *id, size_t id_len, const char *version, size_t version_len, const uint8_t *vars, size_t vars_len, void *buf, size_t cap, void *out_len)'),
  alias_into: lib.func('int lms_render_by_alias_into(lms_db *db, const char *id, size_t id_len, const char *alias, size_t alias_len, const uint8_t *vars, size_t vars_len, void *buf, size_t cap, void *out_len)'),
  preview_into: lib.func('int lms_render_preview_into(const uint8_t *spec, size_t spec_len, const uint8_t *vars, size_t vars_len, void *buf, size_t cap, void *out_len)'),
};

const byteLength = Buffer.byteLength;
const LEN = Buffer.alloc(8);
const LEN32 = new Uint32Array(LEN.buffer, LEN.byteOffset, 2);
const EMPTY_MAP = Buffer.from([0x80]);
const PREVIEW_BUFFER = Buffer.allocUnsafeSlow(16 * 1024);

function packVars(op, vars) {
  if (vars === undefined || vars === null) return EMPTY_MAP;
  if (typeof vars !== 'object' || Array.isArray(vars) || Buffer.isBuffer(vars)) {
    throw invalidArgument(op, 'vars must be a plain object');
  }
  return pack(vars);
}

function fail(op, rc) {
  return new LmstoreError(rc, native.last_error() || native.strerror(rc), { op });
}

/** Runs `call(buf)` until the text fits; `grow(n)` gives a buffer of at least n bytes. */
function run(op, buf, grow, call) {
  let rc = call(buf);
  while (rc === STATUS.LMS_BUFFER_TOO_SMALL) {
    buf = grow(LEN32[0] + LEN32[1] * 4294967296);
    rc = call(buf);
  }
  if (rc !== 0) throw fail(op, rc);
  return buf.toString('utf8', 0, LEN32[0] + LEN32[1] * 4294967296);
}

/**
 * Renders template `id` with `vars` (its latest version, or `{version}` / `{alias}`), as
 * Jinja2 renders it in promptlightning's environment. Throws an LmstoreError with code
 * LMS_INPUT (missing or mistyped input), LMS_RENDER (the template failed) or LMS_NOT_FOUND.
 */
Store.prototype.render = function renderTemplate(id, vars, selector) {
  const op = 'render';
  const db = this._handle(op);
  if (typeof id !== 'string') throw invalidArgument(op, 'id must be a string');
  let fn = render.into;
  let sel = null;
  if (selector !== undefined && selector !== null) {
    const { version, alias } = selector;
    if (version !== undefined && alias !== undefined) throw invalidArgument(op, 'give a version or an alias, not both');
    sel = version !== undefined ? version : alias !== undefined ? alias : null;
    if (alias !== undefined) fn = render.alias_into;
    if (sel !== null && (typeof sel !== 'string' || sel === '')) {
      throw invalidArgument(op, 'version and alias must be non-empty strings');
    }
  }
  const packed = packVars(op, vars);
  const idLen = byteLength(id);
  const selLen = sel === null ? 0 : byteLength(sel);
  return run(op, this._read.buf, (n) => this._read.atLeast(n),
    (buf) => fn(db, id, idLen, sel, selLen, packed, packed.length, buf, buf.length, LEN));
};

/** Renders a template spec that is not stored, as `render` would once it is put. */
function renderPreview(spec, vars) {
  const op = 'renderPreview';
  if (!spec || typeof spec !== 'object') throw invalidArgument(op, 'the template spec must be an object');
  const { createdAt, ...rest } = spec;
  const body = pack(rest);
  const packed = packVars(op, vars);
  return run(op, PREVIEW_BUFFER, (n) => Buffer.allocUnsafeSlow(n),
    (buf) => render.preview_into(body, body.length, packed, packed.length, buf, buf.length, LEN));
}

module.exports = { renderPreview };
