'use strict';

// A MessagePack reader for the two hot reads, pages of message records (rangeMessages()) and
// template records (getTemplate()). It builds each Message or Template object directly (no
// intermediate record object), turns bin-16 ids into UUID strings without a Buffer each,
// caches the repeating map keys, and decodes short ASCII strings in JS, where msgpackr pays a
// general decoder's price for every field. Measured on a 50-message page: 35 µs against 55 µs
// for msgpackr + mapping; on a ~430-byte template record about 0.5 µs against 1.4 µs.
// Anything it does not expect (extension types, a non-map record) throws Fallback and the
// caller uses msgpackr instead, so results are always what msgpackr would give.
//
// Input is `data[0, end)`, where `data` may be the store's reusable read buffer: nothing
// returned may alias it. Strings are always fresh JS strings, and binary values are copied
// (readBin); the msgpackr fallback is configured with `copyBuffers` for the same reason.
let buf, pos, end;
const fcc = String.fromCharCode;
function shortStr(len) {
  const b = buf, p = pos;
  // All-ASCII check first; fromCharCode with explicit arguments avoids concatenation.
  for (let i = 0; i < len; i++) if (b[p + i] >= 0x80) { pos += len; return b.utf8Slice(p, p + len); }
  pos += len;
  switch (len) {
    case 0: return '';
    case 1: return fcc(b[p]);
    case 2: return fcc(b[p], b[p + 1]);
    case 3: return fcc(b[p], b[p + 1], b[p + 2]);
    case 4: return fcc(b[p], b[p + 1], b[p + 2], b[p + 3]);
    case 5: return fcc(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4]);
    case 6: return fcc(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5]);
    case 7: return fcc(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6]);
    case 8: return fcc(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7]);
    default: {
      const a = fcc(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7]);
      pos = p + 8;
      const rest = shortStr(len - 8);
      return a + rest;
    }
  }
}
function readStr(len) {
  if (len > end - pos) throw new Fallback();
  if (len <= 16) return shortStr(len);
  const s = pos; pos += len; return buf.utf8Slice(s, pos);
}
// keys: compare against known byte patterns cheaply by length + first/last byte, cached.
// The record fields are cached as these literals, so the decoders' `switch`es match them by
// identity instead of comparing characters.
const KNOWN_KEYS = new Map([
  'id', 'version', 'template', 'description', 'inputs', 'metadata', 'created_at',
  'session_id', 'ts', 'role', 'agent_id', 'content', 'in_reply_to', 'updated_at',
].map((k) => [k, k]));
const keyCache = new Map();
function readKey(len) {
  const p = pos;
  const h = (len << 16) | (buf[p] << 8) | buf[p + len - 1];
  const hit = keyCache.get(h);
  if (hit !== undefined && hit.len === len) {
    let same = true;
    const kb = hit.bytes;
    for (let i = 1; i < len - 1; i++) if (kb[i] !== buf[p + i]) { same = false; break; }
    if (same) { pos += len; return hit.str; }
  }
  const str = readStr(len);
  if (hit === undefined) {
    const known = KNOWN_KEYS.get(str);
    keyCache.set(h, { len, bytes: Uint8Array.from(buf.subarray(p, p + len)), str: known === undefined ? str : known });
  }
  return str;
}
// Thrown without a stack: it is control flow, not an error.
class Fallback {}
function readMap(n) {
  // Every entry takes at least two bytes: a count beyond what is left is not ours to read
  // (and stale bytes of a reused buffer past `end` must never be taken for data).
  if (n > end - pos) throw new Fallback();
  const o = {};
  for (let i = 0; i < n; i++) {
    const t = buf[pos];
    let k;
    if (t >= 0xa0 && t <= 0xbf && t !== 0xa0) { pos++; k = readKey(t & 0x1f); } else { k = read(); if (typeof k !== 'string') k = String(k); }
    const v = read();
    // msgpackr's own answer to prototype pollution, kept so both paths agree.
    if (k === '__proto__') o.__proto_ = v;
    else o[k] = v;
  }
  return o;
}
function readArray(n) { if (n > end - pos) throw new Fallback(); const a = new Array(n); for (let i = 0; i < n; i++) a[i] = read(); return a; }
function readBin(len) { if (len > end - pos) throw new Fallback(); const b = Buffer.allocUnsafe(len); buf.copy(b, 0, pos, pos + len); pos += len; return b; }
function read() {
  const t = buf[pos++];
  if (t < 0x80) return t;
  if (t < 0x90) return readMap(t & 0x0f);
  if (t < 0xa0) return readArray(t & 0x0f);
  if (t < 0xc0) return readStr(t & 0x1f);
  if (t >= 0xe0) return t - 0x100;
  let v;
  switch (t) {
    case 0xc0: return null;
    case 0xc2: return false;
    case 0xc3: return true;
    case 0xc4: v = buf[pos]; pos += 1; return readBin(v);
    case 0xc5: v = buf.readUInt16BE(pos); pos += 2; return readBin(v);
    case 0xc6: v = buf.readUInt32BE(pos); pos += 4; return readBin(v);
    case 0xca: v = buf.readFloatBE(pos); pos += 4; return v;
    case 0xcb: v = buf.readDoubleBE(pos); pos += 8; return v;
    case 0xcc: return buf[pos++];
    case 0xcd: v = buf.readUInt16BE(pos); pos += 2; return v;
    case 0xce: v = buf.readUInt32BE(pos); pos += 4; return v;
    case 0xcf: v = buf.readUInt32BE(pos) * 4294967296 + buf.readUInt32BE(pos + 4); pos += 8; return v;
    case 0xd0: v = buf.readInt8(pos); pos += 1; return v;
    case 0xd1: v = buf.readInt16BE(pos); pos += 2; return v;
    case 0xd2: v = buf.readInt32BE(pos); pos += 4; return v;
    case 0xd3: v = buf.readInt32BE(pos) * 4294967296 + buf.readUInt32BE(pos + 4); pos += 8; return v;
    case 0xd9: v = buf[pos]; pos += 1; return readStr(v);
    case 0xda: v = buf.readUInt16BE(pos); pos += 2; return readStr(v);
    case 0xdb: v = buf.readUInt32BE(pos); pos += 4; return readStr(v);
    case 0xdc: v = buf.readUInt16BE(pos); pos += 2; return readArray(v);
    case 0xdd: v = buf.readUInt32BE(pos); pos += 4; return readArray(v);
    case 0xde: v = buf.readUInt16BE(pos); pos += 2; return readMap(v);
    case 0xdf: v = buf.readUInt32BE(pos); pos += 4; return readMap(v);
    default: throw new Fallback();
  }
}
// A UUID string in one fromCharCode call: one flat string, where 20 concatenations would
// build a tree of ConsStrings to be flattened at first use (57 ns against ~200 ns).
const HEX_HI = new Uint8Array(256);
const HEX_LO = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  HEX_HI[i] = '0123456789abcdef'.charCodeAt(i >> 4);
  HEX_LO[i] = '0123456789abcdef'.charCodeAt(i & 15);
}
function uuidAt(o) {
  const b = buf;
  const b0 = b[o], b1 = b[o + 1], b2 = b[o + 2], b3 = b[o + 3], b4 = b[o + 4], b5 = b[o + 5], b6 = b[o + 6], b7 = b[o + 7];
  const b8 = b[o + 8], b9 = b[o + 9], b10 = b[o + 10], b11 = b[o + 11], b12 = b[o + 12], b13 = b[o + 13], b14 = b[o + 14], b15 = b[o + 15];
  const H = HEX_HI, L = HEX_LO;
  return fcc(H[b0], L[b0], H[b1], L[b1], H[b2], L[b2], H[b3], L[b3], 45, H[b4], L[b4], H[b5], L[b5], 45,
    H[b6], L[b6], H[b7], L[b7], 45, H[b8], L[b8], H[b9], L[b9], 45, H[b10], L[b10], H[b11], L[b11],
    H[b12], L[b12], H[b13], L[b13], H[b14], L[b14], H[b15], L[b15]);
}
function readId() {
  if (buf[pos] === 0xc4 && buf[pos + 1] === 16) { const s = uuidAt(pos + 2); pos += 18; return s; }
  const v = read(); return v === null ? undefined : v;
}
// Within a page, session_id, role and agent_id mostly repeat: the two latest distinct values
// of each are remembered by their position in the page, and a value with the same bytes
// reuses the string instead of decoding a new one.
const SESSION = 0;
const ROLE = 2;
const AGENT = 4;
const seenAt = new Int32Array(6);
const seenLen = new Int32Array(6);
const seenStr = new Array(6);

function resetSeen() {
  seenLen.fill(-1);
}

function readRepeated(slot) {
  const t = buf[pos];
  let len;
  let start;
  if (t >= 0xa0 && t <= 0xbf) {
    len = t & 0x1f;
    start = pos + 1;
  } else if (t === 0xd9) {
    len = buf[pos + 1];
    start = pos + 2;
  } else {
    return read();
  }
  for (let k = slot; k < slot + 2; k++) {
    if (seenLen[k] !== len) continue;
    const at = seenAt[k];
    let same = true;
    for (let i = 0; i < len; i++) {
      if (buf[at + i] !== buf[start + i]) {
        same = false;
        break;
      }
    }
    if (same) {
      pos = start + len;
      return seenStr[k];
    }
  }
  pos = start;
  const str = readStr(len);
  // The newer value goes first; the older one moves to the second place.
  seenAt[slot + 1] = seenAt[slot];
  seenLen[slot + 1] = seenLen[slot];
  seenStr[slot + 1] = seenStr[slot];
  seenAt[slot] = start;
  seenLen[slot] = len;
  seenStr[slot] = str;
  return str;
}

function readMessage() {
  const t0 = buf[pos];
  if (t0 < 0x80 || t0 > 0x8f) throw new Fallback();
  pos++;
  const n = t0 & 0x0f;
  let id, sessionId, ts, role, agentId, content, inReplyTo, metadata, createdAt, updatedAt;
  for (let i = 0; i < n; i++) {
    const t = buf[pos];
    if (t < 0xa1 || t > 0xbf) throw new Fallback();
    pos++;
    switch (readKey(t & 0x1f)) {
      case 'id': id = readId(); break;
      case 'session_id': sessionId = readRepeated(SESSION); break;
      case 'ts': ts = read(); break;
      case 'role': role = readRepeated(ROLE); break;
      case 'agent_id': agentId = readRepeated(AGENT); if (agentId === null) agentId = undefined; break;
      case 'content': content = read(); break;
      case 'in_reply_to': inReplyTo = readId(); break;
      case 'metadata': metadata = read(); break;
      case 'created_at': createdAt = read(); break;
      case 'updated_at': updatedAt = read(); break;
      default: read();
    }
  }
  return { id, sessionId, ts, role, agentId, content, inReplyTo, metadata, createdAt, updatedAt };
}
function pageOfMessages(data, len) {
  buf = data; pos = 0; end = len;
  resetSeen();
  const t = buf[pos];
  let n;
  if (t >= 0x90 && t <= 0x9f) { n = t & 0x0f; pos++; }
  else if (t === 0xdc) { n = buf.readUInt16BE(1); pos = 3; }
  else if (t === 0xdd) { n = buf.readUInt32BE(1); pos = 5; }
  else throw new Fallback();
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = readMessage();
  if (pos !== end) throw new Fallback();
  return out;
}

function oneMessage(data, len) {
  buf = data; pos = 0; end = len;
  resetSeen();
  const m = readMessage();
  if (pos !== end) throw new Fallback();
  return m;
}

// A template record (id, version, template, description?, inputs, metadata, created_at)
// straight into the Template object getTemplate() returns, as templateFromRecord() maps it.
function oneTemplate(data, len) {
  buf = data; pos = 0; end = len;
  const t0 = buf[pos];
  let n;
  if (t0 >= 0x80 && t0 <= 0x8f) { n = t0 & 0x0f; pos++; }
  else if (t0 === 0xde) { n = buf.readUInt16BE(1); pos = 3; }
  else throw new Fallback();
  let id, version, template, description, inputs, metadata, createdAt;
  for (let i = 0; i < n; i++) {
    const t = buf[pos];
    if (t < 0xa1 || t > 0xbf) throw new Fallback();
    pos++;
    switch (readKey(t & 0x1f)) {
      case 'id': id = read(); break;
      case 'version': version = read(); break;
      case 'template': template = read(); break;
      case 'description': description = read(); if (description === null) description = undefined; break;
      case 'inputs': inputs = read(); break;
      case 'metadata': metadata = read(); break;
      case 'created_at': createdAt = read(); break;
      default: read();
    }
  }
  if (pos !== end) throw new Fallback();
  return { id, version, template, description, inputs, metadata, createdAt };
}

function guarded(fast, data, len, slow) {
  try {
    return fast(data, len);
  } catch (e) {
    if (!(e instanceof Fallback) && !(e instanceof RangeError)) throw e;
    return slow(data, len);
  } finally {
    buf = undefined;
  }
}

/**
 * A page (MessagePack array of message records) in `data[0, len)` -> Message[].
 * @param {Buffer} data  JS-owned bytes (possibly a reused buffer: nothing returned aliases it).
 * @param {number} len   Bytes of `data` that hold the page.
 * @param {(data: Buffer, len: number) => object[]} slow  msgpackr-based equivalent.
 */
const decodeMessages = (data, len, slow) => guarded(pageOfMessages, data, len, slow);
/** One message record in `data[0, len)` -> Message. */
const decodeMessage = (data, len, slow) => guarded(oneMessage, data, len, slow);
/** One template record in `data[0, len)` -> Template. */
const decodeTemplate = (data, len, slow) => guarded(oneTemplate, data, len, slow);

module.exports = { decodeMessages, decodeMessage, decodeTemplate };
