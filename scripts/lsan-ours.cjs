#!/usr/bin/env node
// Reads LeakSanitizer reports (the files of ASAN_OPTIONS=log_path) and fails if any leak was allocated
// through the addon: a frame in nodeformer.node, which the symbolizer shows as a source file under native/
// when the build has debug information (scripts/sanitize.sh's does). Node's own allocations that it never
// frees, by design, are counted and ignored. Used by scripts/sanitize.sh.
'use strict';
const { readFileSync } = require('node:fs');

const OURS = /nodeformer\.node|\/native\/[\w/]+\.(cc|h)\b/;
const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('lsan-ours: no report files (did the process run under ASan with detect_leaks=1?)');
  process.exit(1);
}
let others = 0;
const ours = [];
for (const f of files) {
  for (const block of readFileSync(f, 'utf8').split(/\n(?=(?:Direct|Indirect) leak)/)) {
    if (!/^(Direct|Indirect) leak/.test(block)) continue;
    if (OURS.test(block)) ours.push(block);
    else others++;
  }
}
console.log(`lsan-ours: ${ours.length} leak(s) through the addon, ${others} of Node's own ignored`);
for (const b of ours) console.log(b);
process.exit(ours.length === 0 ? 0 : 1);
