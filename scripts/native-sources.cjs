// Prints the native sources of one group, for binding.gyp (CMakeLists.txt applies the same rule with
// file(GLOB)): a file named *_<isa>.cc under native/kernels is built only into that ISA's library, with
// that ISA's compiler flags; every other .cc under native/ is built with baseline flags.
//   node scripts/native-sources.cjs base|avx2|avx512|avx512bf16|avx512vnni|neon
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const ISAS = ['avx2', 'avx512', 'avx512bf16', 'avx512vnni', 'neon'];
const group = process.argv[2];
if (group !== 'base' && !ISAS.includes(group)) {
  console.error(`usage: native-sources.cjs base|${ISAS.join('|')}`);
  process.exit(2);
}
const root = path.join(__dirname, '..');
const out = [];
(function walk(dir) {
  for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) walk(rel);
    else if (entry.name.endsWith('.cc')) {
      const isa = ISAS.find((i) => entry.name.endsWith(`_${i}.cc`));
      if ((isa ?? 'base') === group) out.push(rel);
    }
  }
})('native');
console.log(out.sort().join(' '));
