#!/bin/sh
# Makes liblmstore.a safe to link beside a program's own LMDB (or another Rust staticlib): the
# archive cargo builds exports LMDB's mdb_* and Rust's symbols, which would bind the program's
# mdb_* calls to lmstore's copy of LMDB. This links every member into one relocatable object
# (ld -r), makes every global symbol but lms_* local (objcopy), and archives that object.
# The .llvmbc/.llvmcmd sections (bitcode Rust's std embeds) are dropped: merged by ld -r they
# are no valid bitcode, and binutils' LLVM plugin aborts on them.
# usage: localize-static.sh IN.a OUT.a
set -eu
in=$1 out=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ld -r --whole-archive "$in" -o "$tmp/lmstore-all.o"
objcopy -w --remove-section=.llvmbc --remove-section=.llvmcmd \
    --keep-global-symbol='lms_*' "$tmp/lmstore-all.o" "$tmp/lmstore.o"
others=$(nm -g --defined-only "$tmp/lmstore.o" | awk '$3 !~ /^lms_/ { print $3 }')
if [ -n "$others" ]; then
    echo "localize-static.sh: symbols other than lms_* are still global:" >&2
    echo "$others" >&2
    exit 1
fi
rm -f "$out"
ar rcs "$out" "$tmp/lmstore.o"
