// npm run bench [-- matmul|attention|rows|elementwise|peak|transformer|decode|tokenizer|cuda|bible|precision|serve]: every bench
// table but bible (45 minutes of training), precision (3 × 10 minutes of training) and serve (minutes of HTTP load), or the
// named ones. Figures move ±30% between runs on a shared machine: read the ratios within one run.
import { backend } from '../lib/index.js';
import { benchBible } from './bible/bible.js';
import { benchPrecisionCurves } from './bible/precision.js';
import { benchCuda } from './cuda.js';
import { benchDecode } from './decode/decode.js';
import { benchAttention } from './ops/attention.js';
import { benchElementwise } from './ops/elementwise.js';
import { benchMatmul } from './ops/matmul.js';
import { benchTransformer } from './nn/transformer.js';
import { benchRows } from './ops/rows.js';
import { benchServe } from './serve/serve.js';
import { benchTokenizer } from './tokenizer/tokenizer.js';
import { measurePeaks, printPeaks } from './peak.js';

const only = process.argv.slice(2);
const want = (name: string) => only.length === 0 || only.includes(name);

const info = backend.info();
console.log(`nodeformer ${info.version}: simd ${info.simd}, ${info.threads} threads, node ${process.versions.node}`);
if (want('peak')) printPeaks(measurePeaks());
if (want('matmul')) await benchMatmul();
if (want('attention')) await benchAttention();
if (want('elementwise')) await benchElementwise();
if (want('rows')) await benchRows();
if (want('transformer')) await benchTransformer();
if (want('decode')) await benchDecode();
if (want('tokenizer')) await benchTokenizer();
if (want('cuda')) await benchCuda();
if (only.includes('bible')) await benchBible();
if (only.includes('precision')) await benchPrecisionCurves();
if (only.includes('serve')) await benchServe();
