//! Generates the C header with cbindgen into OUT_DIR. The committed copy in include/ is what C,
//! Go and Node build against; `LMSTORE_UPDATE_HEADER=1 cargo build` refreshes it, and the test
//! `header_is_fresh` fails while the two differ.

use std::path::PathBuf;

fn main() {
    // cbindgen reads every module (a `pub const` anywhere lands in the header), so any source
    // change can change the header.
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=LMSTORE_UPDATE_HEADER");
    // A SONAME carrying the ABI major lets installed programs keep loading a compatible library.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,liblmstore.so.0");
    let crate_dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is valid");
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen can parse the C ABI");
    bindings.write_to_file(out_dir.join("lmstore.h"));
    if std::env::var_os("LMSTORE_UPDATE_HEADER").is_some_and(|v| v == "1") {
        bindings.write_to_file(crate_dir.join("include/lmstore.h"));
    }
}
