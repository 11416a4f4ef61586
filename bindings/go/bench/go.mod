module github.com/lmstore/lmstore/bindings/go/bench

go 1.25.0

require (
	github.com/lmstore/lmstore/bindings/go v0.0.0
	github.com/mattn/go-sqlite3 v1.14.53
	github.com/vmihailenco/msgpack/v5 v5.4.1
	go.etcd.io/bbolt v1.5.0
)

require (
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
	golang.org/x/sys v0.45.0 // indirect
)

// The benchmarks measure the package in this repository, not a published copy.
replace github.com/lmstore/lmstore/bindings/go => ../
