//! The committed header is the contract C, Go and Node build against: it must be exactly what
//! cbindgen generates from the code today.

#[test]
fn header_is_fresh() {
    let generated = include_str!(concat!(env!("OUT_DIR"), "/lmstore.h"));
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/lmstore.h"))
            .unwrap_or_default();
    assert!(
        generated == committed,
        "include/lmstore.h is stale: run `LMSTORE_UPDATE_HEADER=1 cargo build` and commit it with the Rust change"
    );
}

#[test]
fn header_versions_match_the_library() {
    let header = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/include/lmstore.h"));
    let version = std::ffi::CStr::from_bytes_until_nul(unsafe_free_version())
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let parts: Vec<u32> = version.split('.').map(|p| p.parse().unwrap()).collect();
    for (name, value) in [
        ("LMS_VERSION_MAJOR", parts[0]),
        ("LMS_VERSION_MINOR", parts[1]),
        ("LMS_VERSION_PATCH", parts[2]),
    ] {
        assert!(
            header.contains(&format!("#define {name} {value}\n")),
            "{name} in the header differs from {version}"
        );
    }
    assert_eq!(
        lmstore::capi::lms_version_number(),
        parts[0] * 10000 + parts[1] * 100 + parts[2]
    );
    assert!(header.contains(&format!(
        "#define LMS_ABI_VERSION {}\n",
        lmstore::capi::lms_abi_version()
    )));
}

fn unsafe_free_version() -> &'static [u8] {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()
}
