// C side of import.go: the progress trampoline into Go and wrappers that pass a cgo.Handle as
// the callback context and read lms_last_error() in the same C call that failed (a goroutine may
// change OS threads between two cgo calls, and the message is thread-local).
#include <stdint.h>
#include <string.h>
#include "lmstore.h"
#include "_cgo_export.h"

static void lmsgo_progress(void *ctx, uint64_t done, uint64_t known) {
	lmsgoProgress((uintptr_t)ctx, done, known);
}

static int lmsgo_err(int rc, char *err, size_t cap, size_t *err_len) {
	*err_len = 0;
	if (rc != LMS_OK) {
		const char *m = lms_last_error();
		size_t n = m ? strlen(m) : 0;
		if (n > cap) n = cap;
		if (n) memcpy(err, m, n);
		*err_len = n;
	}
	return rc;
}

int lmsgo_import_folder(lms_db *db, const char *path, size_t path_len, uint32_t flags,
		uintptr_t handle, uint8_t **out, size_t *out_len, char *err, size_t cap, size_t *err_len) {
	return lmsgo_err(lms_import_folder(db, path, path_len, flags, handle ? lmsgo_progress : NULL,
		(void *)handle, out, out_len), err, cap, err_len);
}

int lmsgo_verify_import(lms_db *db, const char *path, size_t path_len, uint8_t **out,
		size_t *out_len, char *err, size_t cap, size_t *err_len) {
	return lmsgo_err(lms_verify_import(db, path, path_len, out, out_len), err, cap, err_len);
}

int lmsgo_export_folder(lms_db *db, const char *path, size_t path_len, uint8_t **out,
		size_t *out_len, char *err, size_t cap, size_t *err_len) {
	return lmsgo_err(lms_export_folder(db, path, path_len, out, out_len), err, cap, err_len);
}

int lmsgo_migrate(lms_db *db, uint32_t kind, const char *src, size_t src_len, const char *side,
		size_t side_len, uintptr_t handle, uint8_t **out, size_t *out_len, char *err, size_t cap,
		size_t *err_len) {
	return lmsgo_err(lms_migrate(db, kind, src, src_len, side, side_len,
		handle ? lmsgo_progress : NULL, (void *)handle, out, out_len), err, cap, err_len);
}
