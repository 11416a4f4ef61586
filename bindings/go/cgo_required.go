//go:build !cgo

package lmstore

// This package is a thin layer over liblmstore, the C library (Rust + LMDB), which it calls
// through cgo and links statically. Without cgo there is nothing to call, so a build with
// CGO_ENABLED=0 stops here with this identifier in its first error:
//
//	undefined: lmstore_requires_cgo__build_with_CGO_ENABLED_1_and_a_C_compiler
//
// Build with CGO_ENABLED=1 and a C compiler (gcc or clang) on the PATH; see README.md,
// "Building against it".
var _ = lmstore_requires_cgo__build_with_CGO_ENABLED_1_and_a_C_compiler
