'use strict';

// Puts the repository's release build of liblmstore into prebuilds/<platform>-<arch>/, so
// that `npm pack` ships it and an installed package needs no Rust toolchain. Run by
// `prepack`; LMSTORE_LIB, when set, names the library to ship instead.

const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const source = process.env.LMSTORE_LIB || path.join(root, '..', '..', 'target', 'release', 'liblmstore.so');
const destDir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
const dest = path.join(destDir, 'liblmstore.so');

if (!fs.existsSync(source)) {
  console.error(`copy-lib: ${source} does not exist; run \`cargo build --release\` at the repository root first`);
  process.exit(1);
}
fs.mkdirSync(destDir, { recursive: true });
fs.copyFileSync(source, dest);
fs.chmodSync(dest, 0o755);
console.error(`copy-lib: ${source} -> ${path.relative(root, dest)}`);
