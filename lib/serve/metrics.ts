/**
 * Prometheus' text exposition format (version 0.0.4), by hand: a registry of metric families, each
 * read when scraped. Counters and histograms that this process keeps are {@link LabelledCounter} and
 * {@link Buckets}; values kept elsewhere (a queue's depth, the decoder's batch sizes) are read where they live.
 *
 * @example
 * const registry = new Registry();
 * const requests = new LabelledCounter();
 * registry.counter('app_requests_total', 'Requests by status', () => requests.samples());
 * requests.inc({ status: '200' });
 * registry.render(); // '# HELP app_requests_total Requests by status\n# TYPE app_requests_total counter\napp_requests_total{status="200"} 1\n'
 */
import { InvalidArgumentError } from '../errors.js';

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  labels: Labels;
  value: number;
}

/** Observations per bucket: `counts[i]` falls in (le[i-1], le[i]], NOT cumulative; `le` ends with Infinity. */
export interface HistogramSnapshot {
  le: readonly number[];
  counts: readonly number[];
  sum: number;
  count: number;
}

type Family =
  | { kind: 'counter' | 'gauge'; name: string; help: string; read: () => readonly Sample[] }
  | { kind: 'histogram'; name: string; help: string; read: () => HistogramSnapshot | undefined };

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export class Registry {
  readonly #families: Family[] = [];

  counter(name: string, help: string, read: () => readonly Sample[]): void {
    this.#add({ kind: 'counter', name, help, read });
  }

  gauge(name: string, help: string, read: () => readonly Sample[]): void {
    this.#add({ kind: 'gauge', name, help, read });
  }

  /** A histogram; when `read` returns undefined (nothing to report) the family is left out of the page. */
  histogram(name: string, help: string, read: () => HistogramSnapshot | undefined): void {
    this.#add({ kind: 'histogram', name, help, read });
  }

  /** Every family, in registration order, as one exposition page. */
  render(): string {
    let out = '';
    for (const f of this.#families) {
      const lines = f.kind === 'histogram' ? histogramLines(f.name, f.read()) : f.read().map((s) => line(f.name, s.labels, s.value));
      if (lines === null) continue;
      out += `# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${f.name} ${f.kind}\n`;
      for (const l of lines) out += `${l}\n`;
    }
    return out;
  }

  #add(f: Family): void {
    if (!METRIC_NAME.test(f.name)) throw new InvalidArgumentError(`Expected a Prometheus metric name for name but received ${JSON.stringify(f.name)}`);
    if (this.#families.some((g) => g.name === f.name)) throw new InvalidArgumentError(`The metric ${f.name} is already registered`);
    this.#families.push(f);
  }
}

/** A counter kept in this process, one value per label set. */
export class LabelledCounter {
  readonly #values = new Map<string, Sample>();

  inc(labels: Labels = {}, by = 1): void {
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const s = this.#values.get(key);
    if (s === undefined) this.#values.set(key, { labels, value: by });
    else s.value += by;
  }

  samples(): Sample[] {
    return [...this.#values.values()].map((s) => ({ labels: s.labels, value: s.value }));
  }
}

/** Observations counted into fixed buckets, as a histogram reads them. */
export class Buckets {
  readonly #le: number[];
  readonly #counts: number[];
  #sum = 0;
  #count = 0;

  /** `le`: increasing upper bounds; +Inf is added when missing. */
  constructor(le: readonly number[]) {
    if (le.some((x, i) => Number.isNaN(x) || (i > 0 && x <= le[i - 1]!))) {
      throw new InvalidArgumentError(`Expected increasing bucket bounds for le but received [${le.join(', ')}]`);
    }
    this.#le = le.at(-1) === Infinity ? [...le] : [...le, Infinity];
    this.#counts = this.#le.map(() => 0);
  }

  observe(value: number): void {
    const i = this.#le.findIndex((le) => value <= le);
    // NaN lands in no bucket but +Inf's, as in Prometheus' clients.
    this.#counts[i < 0 ? this.#counts.length - 1 : i]!++;
    this.#sum += value;
    this.#count++;
  }

  snapshot(): HistogramSnapshot {
    return { le: [...this.#le], counts: [...this.#counts], sum: this.#sum, count: this.#count };
  }
}

function histogramLines(name: string, h: HistogramSnapshot | undefined): string[] | null {
  if (h === undefined) return null;
  const lines: string[] = [];
  let cumulative = 0;
  h.le.forEach((le, i) => {
    cumulative += h.counts[i] ?? 0;
    lines.push(line(`${name}_bucket`, { le: number(le) }, cumulative));
  });
  if (h.le.at(-1) !== Infinity) lines.push(line(`${name}_bucket`, { le: '+Inf' }, h.count));
  lines.push(line(`${name}_sum`, {}, h.sum), line(`${name}_count`, {}, h.count));
  return lines;
}

function line(name: string, labels: Labels, value: number): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return `${name} ${number(value)}`;
  const body = entries.map(([k, v]) => {
    if (!LABEL_NAME.test(k)) throw new InvalidArgumentError(`Expected a Prometheus label name in ${name} but received ${JSON.stringify(k)}`);
    return `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
  });
  return `${name}{${body.join(',')}} ${number(value)}`;
}

function number(x: number): string {
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  return String(x);
}
