// Builds the prebuilt addons that the tarball ships, one per Linux architecture:
//   prebuilds/linux-x64/nodeformer.node     (scalar + AVX2 + AVX-512 kernels, chosen at load)
//   prebuilds/linux-arm64/nodeformer.node   (scalar + NEON kernels), cross-compiled on an x64 host
// `npm pack` and `npm publish` run it through `prepack`, so a tarball can never leave an architecture out:
// a missing compiler is an error of one line that says what to install, never a skipped build.
//
//   node scripts/prebuildify.cjs                     (= npm run prebuildify) both architectures
//   NODEFORMER_PREBUILD_ARCHES=x64 npm pack          only the listed ones (comma- or space-separated): a
//                                                    tarball for local experiments; `npm publish` refuses it
//   NODEFORMER_PREBUILD_JOBS=n                       compile jobs per build (default: the CPU cores shared
//                                                    among the builds, at least 1)
//
// Each architecture is built by prebuildify (node-gyp, N-API, stripped) in its own copy of binding.gyp and
// native/ under the system's temp folder, all at once: the package's own build/ (a developer's CUDA build,
// say) is left alone. binding.gyp picks the ISA libraries from target_arch; a foreign architecture gets
// Debian's cross toolchain through CC/CXX/LINK/AR and prebuildify's --arch and --strip-bin. Before it is
// copied into prebuilds/, every result is checked: an ELF shared object for the right machine that exports
// napi_register_module_v1, built from objects of that machine only (no x86 object in the arm64 addon).
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const NAME = 'nodeformer';
/** Debian's name for each architecture's toolchain: the tool prefix, its package, and the ELF e_machine. */
const ARCHES = {
  x64: { prefix: 'x86_64-linux-gnu-', apt: 'g++-x86-64-linux-gnu', machine: 62, isaLibs: ['nodeformer_avx2', 'nodeformer_avx512', 'nodeformer_avx512bf16', 'nodeformer_avx512vnni'] },
  arm64: { prefix: 'aarch64-linux-gnu-', apt: 'g++-aarch64-linux-gnu', machine: 183, isaLibs: ['nodeformer_neon'] },
};
const ALL = Object.keys(ARCHES);
const ESCAPE = 'NODEFORMER_PREBUILD_ARCHES';
/** Staging folders, removed however the script ends (die() exits at once). */
const staged = [];
process.on('exit', () => {
  for (const dir of staged) fs.rmSync(dir, { recursive: true, force: true });
});
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) process.on(signal, () => process.exit(code));

/** One line on stderr, then exit 1: what failed and what to do about it. */
function die(message) {
  console.error(`nodeformer prebuilds: ${message}`);
  process.exit(1);
}

function onPath(tool) {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir || '.', tool), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function requestedArches() {
  const raw = process.env[ESCAPE];
  if (raw === undefined || raw.trim() === '') return ALL;
  const arches = [...new Set(raw.split(/[\s,]+/).filter(Boolean))];
  for (const a of arches) {
    if (!ALL.includes(a)) die(`Expected architectures from ${ALL.join(', ')} in ${ESCAPE} but received '${a}'`);
  }
  const missing = ALL.filter((a) => !arches.includes(a));
  if (missing.length > 0) {
    // npm sets npm_command for lifecycle scripts: a published tarball must have every architecture. prepack
    // runs this file with node, not through `npm run`, which would set npm_command to 'run'.
    if (process.env.npm_command === 'publish') {
      die(`${ESCAPE}=${raw} leaves out ${missing.join(', ')}; unset it to publish (it is for local tarballs only)`);
    }
    console.error(`nodeformer prebuilds: ${ESCAPE}=${raw}: this tarball has no ${missing.join(', ')} prebuild; do not publish it`);
  }
  return arches;
}

/** The environment and prebuildify flags of one architecture's build, or a line saying what to install. */
function toolchain(arch) {
  const { prefix, apt } = ARCHES[arch];
  if (arch === os.arch()) {
    const missing = ['make', 'g++', 'strip'].filter((t) => !onPath(t));
    if (missing.length > 0) return { error: `the linux-${arch} prebuild needs ${missing.join(', ')}: apt-get install g++ make` };
    return { env: {}, args: [] };
  }
  const tools = { CC: `${prefix}gcc`, CXX: `${prefix}g++`, LINK: `${prefix}g++`, AR: `${prefix}ar` };
  const strip = `${prefix}strip`;
  const missing = [...new Set([...Object.values(tools), strip])].filter((t) => !onPath(t));
  if (missing.length > 0) {
    return {
      error: `the linux-${arch} prebuild needs Debian's cross compiler (${missing[0]} not found): apt-get install ${apt}`
        + ` (or ${ESCAPE}=${os.arch()} for a local tarball that cannot be published)`,
    };
  }
  if (!onPath('make')) return { error: `the linux-${arch} prebuild needs make: apt-get install make` };
  return { env: tools, args: ['--arch', arch, '--strip-bin', strip] };
}

/** ELF checks on a built file: a 64-bit little-endian shared object for `machine`. Returns a reason or null. */
function elfProblem(file, machine, wantShared) {
  const b = fs.readFileSync(file);
  if (b.length < 20 || b.readUInt32BE(0) !== 0x7f454c46) return 'not an ELF file';
  if (b[4] !== 2 || b[5] !== 1) return 'not a 64-bit little-endian ELF file';
  if (wantShared && b.readUInt16LE(16) !== 3) return `ELF type ${b.readUInt16LE(16)}, not a shared object (3)`;
  if (b.readUInt16LE(18) !== machine) return `ELF machine ${b.readUInt16LE(18)}, expected ${machine}`;
  if (wantShared && !b.includes('napi_register_module_v1')) return 'no napi_register_module_v1 symbol';
  return null;
}

function objectsUnder(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.o')) out.push(path.join(e.parentPath ?? e.path, e.name));
  }
  return out;
}

/** Copies what node-gyp needs into a fresh folder; node_modules (node-addon-api's headers) is linked. */
function stage(arch) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${NAME}-prebuild-${arch}-`));
  staged.push(dir);
  for (const p of ['package.json', 'binding.gyp', 'native', 'scripts/native-sources.cjs']) {
    fs.cpSync(path.join(ROOT, p), path.join(dir, p), { recursive: true });
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

function build(arch, tc, jobs) {
  const dir = stage(arch);
  const args = [require.resolve('prebuildify/bin.js', { paths: [ROOT] }), '--napi', '--strip', ...tc.args];
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: dir,
      env: { ...process.env, ...tc.env, JOBS: String(jobs) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (d) => { log += d; });
    child.stderr.on('data', (d) => { log += d; });
    child.on('error', (err) => resolve({ arch, dir, error: err.message, log }));
    child.on('close', (code) => resolve({ arch, dir, error: code === 0 ? null : `prebuildify exited with ${code}`, log, ms: Date.now() - started }));
  });
}

/** Checks a finished build in its staging folder; returns the path of its .node or throws. */
function verify(result) {
  const { arch, dir } = result;
  const { machine, isaLibs } = ARCHES[arch];
  const file = path.join(dir, 'prebuilds', `linux-${arch}`, `${NAME}.node`);
  if (!fs.existsSync(file)) throw new Error(`prebuildify gave no ${path.relative(dir, file)}`);
  const problem = elfProblem(file, machine, true);
  if (problem) throw new Error(`prebuilds/linux-${arch}/${NAME}.node: ${problem}`);
  const objDir = path.join(dir, 'build', 'Release', 'obj.target');
  const objects = objectsUnder(objDir);
  if (objects.length === 0) throw new Error(`no object files under build/Release/obj.target for ${arch}`);
  for (const o of objects) {
    const p = elfProblem(o, machine, false);
    if (p) throw new Error(`${path.relative(dir, o)} in the linux-${arch} build: ${p}`);
  }
  const libs = fs.readdirSync(objDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name !== NAME).map((e) => e.name).sort();
  if (libs.join() !== [...isaLibs].sort().join()) {
    throw new Error(`the linux-${arch} build compiled the ISA libraries [${libs}], expected [${isaLibs}]`);
  }
  return file;
}

async function main() {
  if (process.platform !== 'linux') die(`the Linux prebuilds are built on Linux, not ${process.platform}`);
  if (!fs.existsSync(path.join(ROOT, 'node_modules', 'node-addon-api'))) die('node_modules/node-addon-api is missing: run npm install first');
  const arches = requestedArches();
  const toolchains = arches.map((a) => [a, toolchain(a)]);
  const missing = toolchains.find(([, tc]) => tc.error);
  if (missing) die(missing[1].error);

  const jobs = Number(process.env.NODEFORMER_PREBUILD_JOBS)
    || Math.max(1, Math.floor(os.availableParallelism() / arches.length));
  const results = await Promise.all(toolchains.map(([a, tc]) => build(a, tc, jobs)));
  // Nothing is written into prebuilds/ unless every architecture built and passed its checks.
  const files = [];
  for (const r of results) {
    if (r.error) {
      console.error(r.log.split('\n').slice(-40).join('\n'));
      die(`the linux-${r.arch} build failed: ${r.error} (its last output is above)`);
    }
    try {
      files.push([r, verify(r)]);
    } catch (err) {
      die(err.message);
    }
  }
  for (const [r, file] of files) {
    const dest = path.join(ROOT, 'prebuilds', `linux-${r.arch}`);
    fs.rmSync(dest, { recursive: true, force: true });
    fs.mkdirSync(dest, { recursive: true });
    fs.copyFileSync(file, path.join(dest, `${NAME}.node`));
    const kb = Math.round(fs.statSync(file).size / 1024);
    console.error(`nodeformer prebuilds: prebuilds/linux-${r.arch}/${NAME}.node, ${kb} KiB, built in ${(r.ms / 1000).toFixed(1)} s (${jobs} job${jobs > 1 ? 's' : ''})`);
  }
}

main().catch((err) => die(err.stack ?? String(err)));
