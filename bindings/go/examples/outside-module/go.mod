module example.com/lmstore-outside

go 1.23

require github.com/lmstore/lmstore/bindings/go v0.0.0

require (
	github.com/vmihailenco/msgpack/v5 v5.4.1 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
)

// A Go user outside this repository points this at their clone (or drops it and builds with
// -tags lmstore_pkgconfig against an installed liblmstore). test.sh rewrites it to an
// absolute path after copying this module out of the repository.
replace github.com/lmstore/lmstore/bindings/go => ../..
