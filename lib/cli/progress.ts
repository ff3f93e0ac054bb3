/**
 * Progress of a training run. On a terminal: one bar (cli-progress) with the step, epoch, loss, learning
 * rate, target tokens/s, ETA and the last BLEU. Piped: a plain line every few seconds (and at each
 * evaluation and at the end) with no carriage returns or escape codes, each containing `loss <number>`.
 */
import { SingleBar } from 'cli-progress';

import type { EvalEntry, StepEntry } from '../train/trainer.js';

export interface Limits {
  maxSteps?: number;
  minutes?: number;
}

const LINE_EVERY_MS = 3000;

export class Progress {
  readonly #bar: SingleBar | null;
  readonly #limits: Limits;
  readonly #write: (line: string) => void;
  #lastLine = -Infinity;
  #lastBleu: number | null = null;
  #last: StepEntry | null = null;
  #rate = 0;

  constructor(limits: Limits, tty: boolean, write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)) {
    this.#limits = limits;
    this.#write = write;
    this.#bar = tty
      ? new SingleBar({
          format: ' {bar} {percentage}% | step {step} | epoch {epoch} | loss {loss} | lr {lr} | {tps} tok/s | ETA {eta_text} | BLEU {bleu}',
          barsize: 24, hideCursor: true, clearOnComplete: false, stream: process.stdout, fps: 5,
        })
      : null;
    this.#bar?.start(1000, 0, this.#payload());
  }

  step(e: StepEntry): void {
    this.#last = e;
    // Tokens/s smoothed over recent steps: one step's figure jumps with its batch's shape.
    this.#rate = this.#rate === 0 ? e.tokensPerSecond : 0.9 * this.#rate + 0.1 * e.tokensPerSecond;
    if (this.#bar !== null) {
      this.#bar.update(Math.round(1000 * this.#fraction()), this.#payload());
      return;
    }
    const now = performance.now();
    if (now - this.#lastLine >= LINE_EVERY_MS) {
      this.#lastLine = now;
      this.#write(this.#line());
    }
  }

  eval(e: EvalEntry): void {
    if (e.bleu !== null) this.#lastBleu = e.bleu;
    const text = `eval step ${e.step}: valid loss ${e.validLoss.toFixed(4)}, perplexity ${e.perplexity.toFixed(2)}` +
      (e.bleu === null ? '' : `, BLEU ${e.bleu.toFixed(2)}`) + ` (${e.evalSeconds.toFixed(1)} s)`;
    if (this.#bar !== null) {
      this.#bar.update(this.#payload());
      // Above the bar, which redraws below.
      process.stdout.write(`\r\x1b[2K${text}\n`);
      this.#bar.render();
    } else this.#write(text);
  }

  /** Ends the display; the last line states where the run stopped. */
  stop(): void {
    if (this.#bar !== null) {
      this.#bar.update(this.#payload());
      this.#bar.stop();
    } else if (this.#last !== null) this.#write(this.#line());
  }

  #fraction(): number {
    const e = this.#last;
    if (e === null) return 0;
    const { maxSteps, minutes } = this.#limits;
    const bySteps = maxSteps === undefined ? 0 : e.step / maxSteps;
    const byTime = minutes === undefined ? 0 : e.trainSeconds / (60 * minutes);
    return Math.min(1, Math.max(bySteps, byTime));
  }

  #eta(): string {
    const e = this.#last, f = this.#fraction();
    if (e === null || f <= 0 || (this.#limits.maxSteps === undefined && this.#limits.minutes === undefined)) return '—';
    const s = Math.round(Math.max(0, (e.trainSeconds * (1 - f)) / f));
    const two = (n: number) => String(n).padStart(2, '0');
    return s >= 3600 ? `${Math.floor(s / 3600)}h${two(Math.floor((s % 3600) / 60))}m` : `${Math.floor(s / 60)}m${two(s % 60)}s`;
  }

  #payload(): Record<string, string | number> {
    const e = this.#last;
    return {
      step: e?.step ?? 0, epoch: e === null ? 0 : e.epoch + 1, loss: e === null ? '—' : e.loss.toFixed(4), lr: e === null ? '—' : e.lr.toExponential(2),
      tps: Math.round(this.#rate), eta_text: this.#eta(), bleu: this.#lastBleu === null ? '—' : this.#lastBleu.toFixed(2),
    };
  }

  #line(): string {
    const p = this.#payload();
    return `step ${p.step} epoch ${p.epoch} loss ${p.loss} lr ${p.lr} ${p.tps} tok/s ETA ${p.eta_text} BLEU ${p.bleu}`;
  }
}
