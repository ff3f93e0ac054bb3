// A mutation run for the C++ addon: plants each bug of test/mutation/native_mutants.json (realistic
// mistakes in native/) and checks that the vitest files it names catch it. Stryker (npm run mutate) only
// mutates TypeScript; this is its counterpart for native/, with a hand-written list rather than generated
// operators, because a mutant must compile and a C++ compiler rejects most blind edits.
//
//   node scripts/mutate-native.cjs               every mutant
//   node scripts/mutate-native.cjs id1 id2 ...   only these
//   NODEFORMER_MUTATE_TIMEOUT_S=n                seconds a mutant's tests may run (default 1200); a hang is
//                                                a detection, so a mutant that times out counts as killed
//
// The work happens in a copy of the working tree (tracked files, plus untracked ones git does not ignore:
// new sources must build too) under the system's temp folder, so the repository is never touched and its
// build/ is left alone. The copy is built once (node-gyp rebuild, ~2-3 min); each mutant then costs an
// incremental node-gyp build, which recompiles only what includes the mutated file, and its tests against
// that addon (NODEFORMER_ADDON). The tests of the selected mutants first run once unmutated: if they fail
// there, every "killed" would mean nothing.
//
// Results: one line per mutant as it goes, then a table and the score killed / (killed + survived), also
// written to reports/mutation/native.json. Exit status 1 when the baseline fails or a mutant does not
// build (a defect of the list, to fix there); survivors are gaps in the tests, reported, not an error.
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const LIST = path.join(ROOT, 'test/mutation/native_mutants.json');
const REPORT = path.join(ROOT, 'reports/mutation/native.json');
const TIMEOUT_S = Number(process.env.NODEFORMER_MUTATE_TIMEOUT_S) || 1200;
// node-gyp finds Node's headers here rather than downloading them (no network on CI machines).
const ENV = { ...process.env, npm_config_nodedir: process.env.npm_config_nodedir || '/usr' };

let work = null; // the copy, removed however the script ends
let child = null; // the running build or vitest, killed with its process group on a signal
process.on('exit', () => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
  process.on(signal, () => {
    if (child) killGroup(child);
    process.exit(code);
  });
}

function die(message) {
  console.error(`mutate-native: ${message}`);
  process.exit(1);
}

function killGroup(c) {
  try {
    process.kill(-c.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * Runs a command in the copy, output captured. In its own process group, so that a timeout or a signal
 * also ends what it started (vitest's workers, make's compilers). Resolves { code, output, timedOut }.
 */
function run(cmd, args, { env = ENV, timeoutS = 0 } = {}) {
  return new Promise((resolve) => {
    const chunks = [];
    child = spawn(cmd, args, { cwd: work, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => chunks.push(d));
    child.stderr.on('data', (d) => chunks.push(d));
    let timedOut = false;
    const c = child;
    const timer =
      timeoutS > 0
        ? setTimeout(() => {
            timedOut = true;
            killGroup(c);
          }, timeoutS * 1000)
        : null;
    c.on('error', (e) => chunks.push(Buffer.from(`${cmd}: ${e.message}\n`))); // then 'close' with no code
    c.on('close', (code) => {
      if (timer) clearTimeout(timer);
      child = null;
      resolve({ code: code ?? 1, output: Buffer.concat(chunks).toString('utf8'), timedOut });
    });
  });
}

const tail = (text, lines = 40) => text.trimEnd().split('\n').slice(-lines).join('\n');
const seconds = (t0) => Math.round((Date.now() - t0) / 1000);
const occurrences = (text, find) => text.split(find).length - 1;

/** The failing test files and cases vitest names, so the report says what caught a mutant. */
function failures(output) {
  const lines = output.split('\n').map((l) => l.trim());
  return [...new Set(lines.filter((l) => /^(FAIL|×)\s/.test(l)))].slice(0, 5);
}

function loadMutants(ids) {
  const all = JSON.parse(fs.readFileSync(LIST, 'utf8'));
  const byId = new Map();
  for (const m of all) {
    for (const key of ['id', 'file', 'find', 'replace', 'why', 'tests'])
      if (!(key in m)) die(`${LIST}: mutant ${m.id ?? JSON.stringify(m)} has no "${key}"`);
    if (byId.has(m.id)) die(`${LIST}: two mutants named ${m.id}`);
    byId.set(m.id, m);
  }
  const unknown = ids.filter((id) => !byId.has(id));
  if (unknown.length) die(`no mutant named ${unknown.join(', ')} in ${path.relative(ROOT, LIST)}`);
  const chosen = ids.length ? ids.map((id) => byId.get(id)) : all;
  // Checked before the long build: a stale `find` is a defect of the list, not something to discover
  // twenty minutes in.
  for (const m of chosen) {
    const n = occurrences(fs.readFileSync(path.join(ROOT, m.file), 'utf8'), m.find);
    if (n !== 1) die(`${m.id}: "find" occurs ${n} times in ${m.file} (must be exactly once)`);
    for (const t of m.tests) if (!fs.existsSync(path.join(ROOT, t))) die(`${m.id}: no test file ${t}`);
  }
  return chosen;
}

function copyTree() {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'nodeformer-mutate-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT })
    .toString('utf8')
    .split('\0')
    .filter(Boolean);
  for (const rel of files) {
    const from = path.join(ROOT, rel);
    const stat = fs.lstatSync(from, { throwIfNoEntry: false });
    if (!stat || stat.isDirectory()) continue; // deleted in the working tree, or a submodule
    fs.mkdirSync(path.dirname(path.join(work, rel)), { recursive: true });
    fs.cpSync(from, path.join(work, rel), { verbatimSymlinks: true });
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(work, 'node_modules'), 'dir');
  return files.length;
}

async function build(full) {
  return run('npx', ['node-gyp', full ? 'rebuild' : 'build']);
}

async function test(files, timeoutS) {
  const env = { ...ENV, NO_COLOR: '1', NODEFORMER_ADDON: path.join(work, 'build/Release/nodeformer.node') };
  return run('npx', ['vitest', 'run', ...files], { env, timeoutS });
}

/** Plants one mutant, builds, tests, and puts the file back whatever happens. */
async function runMutant(m) {
  const file = path.join(work, m.file);
  const original = fs.readFileSync(file, 'utf8');
  const t0 = Date.now();
  const result = { id: m.id, file: m.file, why: m.why, tests: m.tests };
  try {
    const n = occurrences(original, m.find);
    if (n !== 1) throw new Error(`"find" occurs ${n} times in the copy of ${m.file}`);
    const at = original.indexOf(m.find);
    fs.writeFileSync(file, original.slice(0, at) + m.replace + original.slice(at + m.find.length));
    const b = await build(false);
    result.buildSeconds = seconds(t0);
    if (b.code !== 0) {
      result.result = 'build error';
      result.detail = tail(b.output);
      return result;
    }
    const t = await test(m.tests, TIMEOUT_S);
    result.result = t.code === 0 && !t.timedOut ? 'survived' : 'killed';
    result.detail = t.timedOut ? [`timed out after ${TIMEOUT_S} s`] : failures(t.output);
    return result;
  } finally {
    fs.writeFileSync(file, original);
    if (fs.readFileSync(file, 'utf8') !== original) die(`${m.file}: could not restore the copy`);
    result.seconds = seconds(t0);
  }
}

function table(results) {
  const rows = [['id', 'file', 'result', 'seconds'], ...results.map((r) => [r.id, r.file, r.result, String(r.seconds)])];
  const width = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(width[c])).join('  ').trimEnd()).join('\n');
}

async function main() {
  const mutants = loadMutants(process.argv.slice(2));
  const start = Date.now();
  console.log(`mutate-native: ${mutants.length} mutant(s); copying the working tree`);
  const count = copyTree();
  console.log(`  ${count} files into ${work}; building the addon (node-gyp rebuild)`);
  let t0 = Date.now();
  const b = await build(true);
  if (b.code !== 0) die(`the unmutated copy does not build:\n${tail(b.output)}`);
  console.log(`  built in ${seconds(t0)} s`);

  const allTests = [...new Set(mutants.flatMap((m) => m.tests))].sort();
  console.log(`  baseline: ${allTests.length} test file(s), unmutated`);
  t0 = Date.now();
  const base = await test(allTests, TIMEOUT_S);
  if (base.code !== 0 || base.timedOut) die(`the tests fail without any mutant (${seconds(t0)} s):\n${tail(base.output)}`);
  console.log(`  baseline passes in ${seconds(t0)} s`);

  const results = [];
  for (const [i, m] of mutants.entries()) {
    const r = await runMutant(m);
    results.push(r);
    const why = r.result === 'build error' ? `\n${r.detail}` : r.detail.length ? `  ${r.detail[0]}` : '';
    console.log(`[${i + 1}/${mutants.length}] ${r.id}: ${r.result} in ${r.seconds} s (build ${r.buildSeconds} s)${why}`);
  }

  const killed = results.filter((r) => r.result === 'killed').length;
  const survived = results.filter((r) => r.result === 'survived').length;
  const buildErrors = results.filter((r) => r.result === 'build error').length;
  const score = killed + survived > 0 ? killed / (killed + survived) : null;
  console.log(`\n${table(results)}\n`);
  console.log(
    `score ${score === null ? 'n/a' : `${(100 * score).toFixed(1)}%`}: ${killed} killed, ${survived} survived` +
      `${buildErrors ? `, ${buildErrors} build error(s) (fix the list)` : ''}; ${seconds(start)} s in all`,
  );
  let commit = null;
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT }).toString().trim();
  } catch {
    // not a git checkout: the report just has no commit
  }
  fs.mkdirSync(path.dirname(REPORT), { recursive: true });
  const report = { date: new Date().toISOString(), commit, killed, survived, buildErrors, score, mutants: results };
  fs.writeFileSync(REPORT, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`report: ${path.relative(ROOT, REPORT)}`);
  process.exit(buildErrors ? 1 : 0);
}

main().catch((e) => die(e.stack || String(e)));
