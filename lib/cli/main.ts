/**
 * `npx nodeformer <command>`: translate, serve, train, eval, average, bench, info. Arguments are parsed by
 * commander; each command lives in its own file. Every failure a user can cause (a bad flag, a missing
 * file, a malformed TSV row) ends with exactly one line on stderr naming it and exit code 1, never a
 * stack trace.
 */
import { Command, CommanderError, Option } from 'commander';

import { NodeformerError } from '../errors.js';
import { attendCommand } from './attend.js';
import { averageCommand } from './average.js';
import { benchCommand } from './bench.js';
import { UsageError } from './errors.js';
import { evalCommand } from './eval.js';
import { infoCommand } from './info.js';
import { integer, number } from './parse.js';
import { addGenerateOptions } from './generate_options.js';
import { serveCommand } from './serve.js';
import { translateCommand } from './translate.js';
import { trainCommand } from './train.js';
import { version } from './version.js';

/** --quantize int8: decode with int8 weights (Transformer.quantize), quantized as the model loads. */
function quantizeOption(): Option {
  return new Option('--quantize <kind>', 'quantize the model as it loads: int8 weights, int8 GEMMs in decoding').choices(['int8']);
}

/** --no-quantize-generator: with --quantize, keep the generator (the output projection) in float32. */
function quantizeGeneratorOption(): Option {
  return new Option('--no-quantize-generator', 'with --quantize: keep the generator (output projection) in float32');
}

function program(): Command {
  const p = new Command('nodeformer')
    .description('A fast, real Transformer for Node.js: translate, train and evaluate sequence-to-sequence models')
    .version(version(), '-v, --version')
    .exitOverride()
    .configureOutput({ outputError: () => undefined })
    .showSuggestionAfterError(true);

  addGenerateOptions(
    p.command('translate')
      .description('translate text (the arguments, or one line of stdin per translation) with a model folder, by default the shipped English→Spanish model')
      .argument('[text...]', 'texts to translate; none: read stdin, one text per line')
      .option('-m, --model <dir>', 'a translator folder (default: the model that ships in the package)')
      .addOption(quantizeOption()).addOption(quantizeGeneratorOption()),
  ).action(translateCommand);

  p.command('serve')
    .description('serve a model over HTTP: POST /translate (JSON or Server-Sent Events), GET /health, GET /metrics (Prometheus); SIGTERM drains')
    .option('-m, --model <dir>', 'a translator folder (default: the shipped model)')
    .addOption(quantizeOption()).addOption(quantizeGeneratorOption())
    .option('--port <n>', 'TCP port (0: any free port, printed when listening)', integer('--port', 0, 65535), 8080)
    .option('--host <h>', 'address to listen on', '127.0.0.1')
    .option('--max-batch-tokens <n>', 'tokens (rows × (source + max length)) decoding at once', integer('--max-batch-tokens', 1))
    .option('--max-batch-requests <n>', 'requests decoding at once', integer('--max-batch-requests', 1))
    .option('--max-wait-ms <ms>', 'how long a first request waits for others to batch with', number('--max-wait-ms', 0, 60_000))
    .option('--max-queue <n>', 'requests waiting for a decode slot; more are answered 429', integer('--max-queue', 0))
    .option('--no-batching', 'decode one request at a time')
    .action(serveCommand);

  addGenerateOptions(
    p.command('attend')
      .description('translate one text and draw its cross-attention as <prefix>.svg and <prefix>.png (stdout: the translation; stderr: the two paths)')
      .argument('<text>', 'the text to translate')
      .option('-m, --model <dir>', 'a translator folder (default: the shipped model)')
      .addOption(quantizeOption()).addOption(quantizeGeneratorOption())
      .option('--out <prefix>', 'where the pictures go: <prefix>.svg and <prefix>.png', 'attention')
      .option('--layer <n>', 'draw this decoder layer (0-based; default: the mean over every layer)', integer('--layer', 0))
      .option('--head <n>', 'draw this head of --layer (0-based; default: the mean over its heads)', integer('--head', 0)),
  ).action(attendCommand);

  p.command('train')
    .description('train a translator on a TSV (header row) or JSONL file; resumes when --out holds a run')
    .requiredOption('--data <file>', 'training pairs (.tsv with a header row, or .jsonl)')
    .option('--valid <file>', 'validation pairs (same columns): loss, perplexity and BLEU during training')
    .requiredOption('--src-column <name>', 'the source column (TSV header name or JSONL key)')
    .requiredOption('--tgt-column <name>', 'the target column')
    .requiredOption('--out <dir>', 'output folder: the translator, checkpoints/ (and history.json), curves.svg and curves.png')
    .option('--minutes <m>', 'stop after this many minutes of training (evaluation excluded)', number('--minutes', 0))
    .option('--max-steps <n>', 'stop after this many optimiser steps', integer('--max-steps', 1))
    .option('--epochs <n>', 'stop after this many epochs (default when no limit is given: 1)', integer('--epochs', 1))
    .option('--vocab <n>', 'vocabulary size of the tokenizer(s) trained on the data', integer('--vocab', 8), 8000)
    .addOption(new Option('--tokenizer <kind>', 'tokenizer trained on the data').choices(['bpe', 'wordpiece', 'word', 'char']).default('bpe'))
    .option('--separate-vocab', 'one vocabulary per side instead of a shared one')
    .option('--d-model <n>', 'model width', integer('--d-model', 1), 256)
    .option('--heads <n>', 'attention heads', integer('--heads', 1), 4)
    .option('--layers <n>', 'encoder and decoder layers', integer('--layers', 1), 3)
    .option('--ffn <n>', 'feed-forward width', integer('--ffn', 1), 1024)
    .option('--dropout <p>', 'dropout', number('--dropout', 0, 1), 0.1)
    .option('--norm-first', 'pre-norm layers (x + f(LN(x))) instead of the paper\'s post-norm')
    .option('--tie-embeddings', 'share the target embedding with the output projection')
    .option('--max-length <n>', 'longest pair kept, in tokens per side (longer ones are dropped and counted)', integer('--max-length', 3), 128)
    .option('--lr <x>', 'learning rate factor (Noam\'s lr; the peak for constant and cosine)', number('--lr', 0), 2)
    .option('--warmup <n>', 'warm-up steps', integer('--warmup', 0), 4000)
    .addOption(new Option('--schedule <name>', 'learning-rate schedule').choices(['noam', 'constant', 'cosine']).default('noam'))
    .option('--label-smoothing <e>', 'label smoothing', number('--label-smoothing', 0, 1), 0.1)
    .option('--batch-tokens <n>', 'padded tokens per batch', integer('--batch-tokens', 1), 4000)
    .option('--accumulate <n>', 'batches per optimiser step', integer('--accumulate', 1), 1)
    .option('--eval-every <n>', 'evaluate (and checkpoint) every n steps', integer('--eval-every', 1), 500)
    .option('--eval-every-minutes <m>', 'also evaluate and checkpoint after every m minutes of training', number('--eval-every-minutes', 0))
    .option('--bleu-samples <n>', 'validation pairs translated for BLEU at each evaluation', integer('--bleu-samples', 0), 200)
    .option('--keep <n>', 'checkpoints kept besides the best', integer('--keep', 1), 3)
    .option('--seed <n>', 'seed of the weights, the batch order and dropout', integer('--seed', 0), 0)
    .option('--threads <n>', 'compute threads (default: every core)', integer('--threads', 1))
    .addOption(new Option('--precision <p>', 'GEMM precision: medium trains with bf16 GEMMs (float32 weights, twice as fast with AVX512_BF16)').choices(['highest', 'high', 'medium']).default('high'))
    .action(trainCommand);

  addGenerateOptions(
    p.command('eval')
      .description('translate every row of a TSV/JSONL file and score it: BLEU, chrF, ROUGE, perplexity')
      .option('-m, --model <dir>', 'a translator folder (default: the shipped model)')
      .addOption(quantizeOption()).addOption(quantizeGeneratorOption())
      .requiredOption('--data <file>', 'test pairs (.tsv with a header row, or .jsonl)')
      .requiredOption('--src-column <name>', 'the source column')
      .requiredOption('--tgt-column <name>', 'the reference column'),
  ).action(evalCommand);

  p.command('average')
    .description('average the weights of several checkpoints of one run into a translator folder')
    .requiredOption('--out <dir>', 'the averaged translator folder')
    .addOption(new Option('--dtype <type>', 'how the weights are stored').choices(['f32', 'f16', 'bf16']).default('f32'))
    .argument('<checkpoints...>', 'checkpoint folders (run/checkpoints/step-…)')
    .action(averageCommand);

  p.command('bench').description('time the fused kernels against their naive references on this machine').action(benchCommand);
  p.command('info').description('the package, the native addon, the CPU features and the shipped model').action(infoCommand);
  return p;
}

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await program().parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      process.stderr.write(`nodeformer: ${err.message.replace(/^error: /, '').split('\n')[0]}\n`);
      return 1;
    }
    process.stderr.write(`nodeformer: ${oneLine(err)}\n`);
    return 1;
  }
}

/** The first line of an error's message: ours are written for the user; others get their class name. */
function oneLine(err: unknown): string {
  if (err instanceof NodeformerError || err instanceof UsageError) return err.message.split('\n')[0]!;
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return `${code ?? err.name}: ${err.message.split('\n')[0]}`;
  }
  return String(err);
}
