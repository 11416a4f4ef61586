package lmstore

// Rendering: a stored template and Go variables to the text Jinja2 would give (see the C
// header's lms_render). Its cgo shim lives here rather than in capi.go so the feature stays in
// its own file; it follows capi.go's rules (the error text is read inside the failing call).

/*
#include <string.h>
#include "lmstore.h"

#cgo noescape lmsgo_render_into
#cgo nocallback lmsgo_render_into

// mode 0: id + version ("" = latest), 1: id + alias, 2: preview of spec.
static int lmsgo_render_into(lms_db *db, int mode, const char *id, size_t id_len,
		const char *name, size_t name_len, const uint8_t *spec, size_t spec_len,
		const uint8_t *vars, size_t vars_len, char *buf, size_t cap, size_t *out_len,
		char *err, size_t err_cap, size_t *err_len) {
	int rc;
	if (mode == 0)
		rc = lms_render_into(db, id, id_len, name, name_len, vars, vars_len, buf, cap, out_len);
	else if (mode == 1)
		rc = lms_render_by_alias_into(db, id, id_len, name, name_len, vars, vars_len, buf, cap,
		                              out_len);
	else
		rc = lms_render_preview_into(spec, spec_len, vars, vars_len, buf, cap, out_len);
	*err_len = 0;
	if (rc != LMS_OK && rc != LMS_BUFFER_TOO_SMALL) {
		const char *m = lms_last_error();
		size_t n = m ? strlen(m) : 0;
		if (n > err_cap) n = err_cap;
		if (n) memcpy(err, m, n);
		*err_len = n;
	}
	return rc;
}
*/
import "C"

import (
	"sync"
	"unsafe"
)

const renderErrMax = 1024

var renderBufs = sync.Pool{New: func() any { b := make([]byte, 4096); return &b }}

// render runs one render mode into a pooled buffer, growing it once when the text is larger.
func render(db *DB, op string, mode C.int, id, name string, spec []byte, vars map[string]any) (string, error) {
	w := getWriter()
	defer putWriter(w)
	if len(vars) == 0 {
		w.b = append(w.b, 0x80)
	} else if err := w.any(vars); err != nil {
		return "", errInvalid(op, "vars: "+err.Error())
	}
	var h unsafe.Pointer
	if db != nil || mode != 2 {
		var err error
		if h, err = db.acquire(op); err != nil {
			return "", err
		}
		defer db.release()
	}
	bp := renderBufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 1<<20 {
			renderBufs.Put(bp)
		}
	}()
	var errBuf [renderErrMax]byte
	for {
		buf := *bp
		var n, errLen C.size_t
		ip, il := str(id)
		np, nl := str(name)
		sp, sl := bin(spec)
		vp, vl := bin(w.b)
		rc := C.lmsgo_render_into((*C.lms_db)(h), mode, ip, il, np, nl, sp, sl, vp, vl,
			(*C.char)(unsafe.Pointer(unsafe.SliceData(buf))), C.size_t(len(buf)), &n,
			(*C.char)(unsafe.Pointer(&errBuf[0])), renderErrMax, &errLen)
		switch {
		case rc == C.LMS_OK:
			return string(buf[:n]), nil
		case rc == C.LMS_BUFFER_TOO_SMALL && int(n) > len(buf):
			*bp = make([]byte, growTo(int(n)))
		default:
			return "", newError(op, Code(rc), string(errBuf[:errLen]))
		}
	}
}

// Render renders the latest version of template id with vars, as Jinja2 renders it in
// promptlightning's environment: only declared inputs reach the template, missing ones take
// their default, values coerce to the declared types. Errors match ErrInput (a missing or
// mistyped input), ErrRender (the template failed), ErrNotFound. Values in vars are what the
// package's MessagePack encoder takes: nil, bool, integers, floats, string, slices, maps.
func (db *DB) Render(id string, vars map[string]any) (string, error) {
	return render(db, "Render", 0, id, "", nil, vars)
}

// RenderVersion renders exactly version of template id.
func (db *DB) RenderVersion(id, version string, vars map[string]any) (string, error) {
	if version == "" {
		return "", errInvalid("RenderVersion", "version is empty (use Render for the latest)")
	}
	return render(db, "RenderVersion", 0, id, version, nil, vars)
}

// RenderAlias renders the version of template id that alias points at.
func (db *DB) RenderAlias(id, alias string, vars map[string]any) (string, error) {
	if alias == "" {
		return "", errInvalid("RenderAlias", "alias is empty")
	}
	return render(db, "RenderAlias", 1, id, alias, nil, vars)
}

// RenderPreview renders a template that is not stored, exactly as Render would once it is
// put. It needs no DB.
func RenderPreview(t Template, vars map[string]any) (string, error) {
	w := getWriter()
	defer putWriter(w)
	if err := t.encode(w, false); err != nil {
		return "", errInvalid("RenderPreview", err.Error())
	}
	spec := append([]byte(nil), w.b...)
	return render(nil, "RenderPreview", 2, "", "", spec, vars)
}
