/*
 * A minimal MessagePack reader and writer for the C tests: just enough to build specs and
 * batches and to inspect the arrays and maps lmstore returns. Deliberately independent of the
 * library under test, so a bug there cannot hide itself.
 */
#ifndef LMS_TEST_MP_H
#define LMS_TEST_MP_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>

/* ---- writer: a fixed buffer; overflow sets err so tests can assert it never happens ---- */

typedef struct mpw {
    uint8_t buf[8192];
    size_t len;
    int err;
} mpw;

static void mpw_raw(mpw *w, const void *p, size_t n)
{
    if (w->len + n > sizeof w->buf) {
        w->err = 1;
        return;
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static void mpw_byte(mpw *w, uint8_t b) { mpw_raw(w, &b, 1); }

static void mpw_be(mpw *w, uint64_t v, int bytes)
{
    int i;
    for (i = bytes - 1; i >= 0; i--) mpw_byte(w, (uint8_t)(v >> (8 * i)));
}

static void mpw_map(mpw *w, uint32_t n)
{
    if (n < 16) mpw_byte(w, (uint8_t)(0x80 | n));
    else { mpw_byte(w, 0xde); mpw_be(w, n, 2); }
}

static void mpw_array(mpw *w, uint32_t n)
{
    if (n < 16) mpw_byte(w, (uint8_t)(0x90 | n));
    else { mpw_byte(w, 0xdc); mpw_be(w, n, 2); }
}

static void mpw_strn(mpw *w, const char *s, size_t n)
{
    if (n < 32) mpw_byte(w, (uint8_t)(0xa0 | n));
    else if (n < 256) { mpw_byte(w, 0xd9); mpw_be(w, n, 1); }
    else { mpw_byte(w, 0xda); mpw_be(w, n, 2); }
    mpw_raw(w, s, n);
}

static void mpw_str(mpw *w, const char *s) { mpw_strn(w, s, strlen(s)); }

static void mpw_bin(mpw *w, const uint8_t *p, size_t n)
{
    mpw_byte(w, 0xc4);
    mpw_be(w, n, 1);
    mpw_raw(w, p, n);
}

static void mpw_int(mpw *w, int64_t v)
{
    if (v >= 0 && v < 128) mpw_byte(w, (uint8_t)v);
    else { mpw_byte(w, 0xd3); mpw_be(w, (uint64_t)v, 8); }
}

static void mpw_bool(mpw *w, int b) { mpw_byte(w, b ? 0xc3 : 0xc2); }

/* ---- reader: a cursor over a buffer; every function returns 0 on success, -1 on error ---- */

typedef struct mpr {
    const uint8_t *p, *end;
} mpr;

static mpr mpr_of(const uint8_t *p, size_t n)
{
    mpr r;
    r.p = p;
    r.end = p + n;
    return r;
}

static int mpr_be(mpr *r, int bytes, uint64_t *v)
{
    int i;
    if (r->end - r->p < bytes) return -1;
    *v = 0;
    for (i = 0; i < bytes; i++) *v = *v << 8 | r->p[i];
    r->p += bytes;
    return 0;
}

static int mpr_len(mpr *r, int bytes, size_t *n)
{
    uint64_t v;
    if (mpr_be(r, bytes, &v) != 0) return -1;
    *n = (size_t)v;
    return 0;
}

static int mpr_array(mpr *r, size_t *n)
{
    if (r->p >= r->end) return -1;
    if ((*r->p & 0xf0) == 0x90) { *n = *r->p++ & 0x0f; return 0; }
    if (*r->p == 0xdc) { r->p++; return mpr_len(r, 2, n); }
    if (*r->p == 0xdd) { r->p++; return mpr_len(r, 4, n); }
    return -1;
}

static int mpr_map(mpr *r, size_t *n)
{
    if (r->p >= r->end) return -1;
    if ((*r->p & 0xf0) == 0x80) { *n = *r->p++ & 0x0f; return 0; }
    if (*r->p == 0xde) { r->p++; return mpr_len(r, 2, n); }
    if (*r->p == 0xdf) { r->p++; return mpr_len(r, 4, n); }
    return -1;
}

/* Strings and binaries both come back as (pointer, length). On failure r is not moved. */
static int mpr_bytes(mpr *r, const char **s, size_t *n)
{
    mpr q = *r;
    uint8_t t;
    if (q.p >= q.end) return -1;
    t = *q.p++;
    if ((t & 0xe0) == 0xa0) *n = t & 0x1f;
    else if (t == 0xd9 || t == 0xc4) { if (mpr_len(&q, 1, n)) return -1; }
    else if (t == 0xda || t == 0xc5) { if (mpr_len(&q, 2, n)) return -1; }
    else if (t == 0xdb || t == 0xc6) { if (mpr_len(&q, 4, n)) return -1; }
    else return -1;
    if ((size_t)(q.end - q.p) < *n) return -1;
    *s = (const char *)q.p;
    r->p = q.p + *n;
    return 0;
}

static int mpr_int_at(mpr *r, int64_t *v);

/* On failure r is not moved. */
static int mpr_int(mpr *r, int64_t *v)
{
    mpr q = *r;
    if (mpr_int_at(&q, v)) return -1;
    *r = q;
    return 0;
}

static int mpr_int_at(mpr *r, int64_t *v)
{
    uint64_t u;
    uint8_t t;
    if (r->p >= r->end) return -1;
    t = *r->p++;
    if (t < 0x80) { *v = t; return 0; }
    if (t >= 0xe0) { *v = (int8_t)t; return 0; }
    switch (t) {
    case 0xcc: if (mpr_be(r, 1, &u)) return -1; *v = (int64_t)u; return 0;
    case 0xcd: if (mpr_be(r, 2, &u)) return -1; *v = (int64_t)u; return 0;
    case 0xce: if (mpr_be(r, 4, &u)) return -1; *v = (int64_t)u; return 0;
    case 0xcf: if (mpr_be(r, 8, &u)) return -1; *v = (int64_t)u; return 0;
    case 0xd0: if (mpr_be(r, 1, &u)) return -1; *v = (int8_t)u; return 0;
    case 0xd1: if (mpr_be(r, 2, &u)) return -1; *v = (int16_t)u; return 0;
    case 0xd2: if (mpr_be(r, 4, &u)) return -1; *v = (int32_t)u; return 0;
    case 0xd3: if (mpr_be(r, 8, &u)) return -1; *v = (int64_t)u; return 0;
    default: return -1;
    }
}

static int mpr_skip(mpr *r)
{
    size_t n, i;
    const char *s;
    int64_t v;
    uint8_t t;
    if (r->p >= r->end) return -1;
    t = *r->p;
    if (t == 0xc0 || t == 0xc2 || t == 0xc3) { r->p++; return 0; }
    if (mpr_array(r, &n) == 0) {
        for (i = 0; i < n; i++) if (mpr_skip(r)) return -1;
        return 0;
    }
    if (mpr_map(r, &n) == 0) {
        for (i = 0; i < 2 * n; i++) if (mpr_skip(r)) return -1;
        return 0;
    }
    if (mpr_bytes(r, &s, &n) == 0) return 0;
    if (mpr_int(r, &v) == 0) return 0;
    if (t == 0xca) { r->p += 5; return r->p <= r->end ? 0 : -1; }
    if (t == 0xcb) { r->p += 9; return r->p <= r->end ? 0 : -1; }
    return -1;
}

/* Positions `out` at the value of `key` in the map `r` points at (r is not advanced). */
static int mpr_find(mpr r, const char *key, mpr *out)
{
    size_t n, i, kl;
    const char *k;
    if (mpr_map(&r, &n)) return -1;
    for (i = 0; i < n; i++) {
        if (mpr_bytes(&r, &k, &kl)) return -1;
        if (kl == strlen(key) && memcmp(k, key, kl) == 0) {
            *out = r;
            return 0;
        }
        if (mpr_skip(&r)) return -1;
    }
    return -1;
}

static int mpr_find_int(mpr map, const char *key, int64_t *v)
{
    mpr at;
    return mpr_find(map, key, &at) ? -1 : mpr_int(&at, v);
}

/* 1 if map[key] is the string s, else 0. */
static int mpr_find_streq(mpr map, const char *key, const char *s)
{
    mpr at;
    const char *v;
    size_t n;
    if (mpr_find(map, key, &at) || mpr_bytes(&at, &v, &n)) return 0;
    return n == strlen(s) && memcmp(v, s, n) == 0;
}

#endif
