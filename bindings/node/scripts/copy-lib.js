'use strict';

// Puts the repository's release build of liblmstore into prebuilds/<platform>-<arch>/ so that
// `npm pack` ships it and an installed package needs no Rust toolchain (run by `prepack`;
// LMSTORE_LIB, when set, names the library to ship instead). `--clean` (run by `postpack`)
// removes it again, so a development checkout keeps loading the fresh cargo build.

const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const prebuilds = path.join(root, 'prebuilds');
const destDir = path.join(prebuilds, `${process.platform}-${process.arch}`);
const dest = path.join(destDir, 'liblmstore.so');

if (process.argv.includes('--clean')) {
  // Unlinking is safe even if a running process has the file mapped.
  fs.rmSync(prebuilds, { recursive: true, force: true });
  process.exit(0);
}

const source = process.env.LMSTORE_LIB || path.join(root, '..', '..', 'target', 'release', 'liblmstore.so');
if (!fs.existsSync(source)) {
  console.error(`copy-lib: ${source} does not exist; run \`cargo build --release\` at the repository root first`);
  process.exit(1);
}
fs.mkdirSync(destDir, { recursive: true });
// Write a new file and rename it over the old one: rewriting a shared library in place
// corrupts the code of any process that has it loaded (it crashes with SIGSEGV).
const tmp = `${dest}.${process.pid}.tmp`;
fs.copyFileSync(source, tmp);
fs.chmodSync(tmp, 0o755);
fs.renameSync(tmp, dest);
console.error(`copy-lib: ${source} -> ${path.relative(root, dest)}`);
