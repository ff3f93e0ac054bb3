// The Prometheus text format of lib/serve/metrics.ts against pages written out by hand.
import { describe, expect, it } from 'vitest';

import { InvalidArgumentError } from '../../lib/errors.js';
import { Buckets, LabelledCounter, Registry } from '../../lib/serve/metrics.js';

describe('Registry.render', () => {
  it('writes HELP and TYPE lines, then the samples, families in registration order', () => {
    const r = new Registry();
    const requests = new LabelledCounter();
    r.counter('app_requests_total', 'Requests by status', () => requests.samples());
    r.gauge('app_queue_depth', 'Waiting', () => [{ labels: {}, value: 3 }]);
    requests.inc({ status: '200' });
    requests.inc({ status: '400' });
    requests.inc({ status: '200' }, 2);
    expect(r.render()).toBe([
      '# HELP app_requests_total Requests by status',
      '# TYPE app_requests_total counter',
      'app_requests_total{status="200"} 3',
      'app_requests_total{status="400"} 1',
      '# HELP app_queue_depth Waiting',
      '# TYPE app_queue_depth gauge',
      'app_queue_depth 3',
      '',
    ].join('\n'));
  });

  it('makes histogram buckets cumulative, ends them with +Inf, and adds _sum and _count', () => {
    const r = new Registry();
    const latency = new Buckets([0.25, 1]);
    r.histogram('app_seconds', 'Latency', () => latency.snapshot());
    // Binary fractions: the sum is exact. 0.25 falls in le="0.25" (upper bounds are inclusive).
    for (const x of [0.125, 0.25, 0.5, 2, 0.0625]) latency.observe(x);
    // An outside snapshot with non-cumulative counts, already ending with Infinity.
    r.histogram('app_rows', 'Rows', () => ({ le: [1, 4, Infinity], counts: [2, 0, 5], sum: 60, count: 7 }));
    r.histogram('app_absent', 'Not reported yet', () => undefined);
    expect(r.render()).toBe([
      '# HELP app_seconds Latency',
      '# TYPE app_seconds histogram',
      'app_seconds_bucket{le="0.25"} 3',
      'app_seconds_bucket{le="1"} 4',
      'app_seconds_bucket{le="+Inf"} 5',
      'app_seconds_sum 2.9375',
      'app_seconds_count 5',
      '# HELP app_rows Rows',
      '# TYPE app_rows histogram',
      'app_rows_bucket{le="1"} 2',
      'app_rows_bucket{le="4"} 2',
      'app_rows_bucket{le="+Inf"} 7',
      'app_rows_sum 60',
      'app_rows_count 7',
      '',
    ].join('\n'));
  });

  it('escapes label values (\\, ", newline) and HELP text (\\, newline)', () => {
    const r = new Registry();
    r.gauge('app_info', 'Line one\nback\\slash "quoted"', () => [{ labels: { path: 'C:\\dir\n"x"', b: 'plain' }, value: 1 }]);
    expect(r.render()).toBe([
      '# HELP app_info Line one\\nback\\\\slash "quoted"',
      '# TYPE app_info gauge',
      'app_info{path="C:\\\\dir\\n\\"x\\"",b="plain"} 1',
      '',
    ].join('\n'));
  });

  it('writes special values as Prometheus spells them', () => {
    const r = new Registry();
    r.gauge('app_values', 'Values', () => [Infinity, -Infinity, NaN, 1e-7].map((value, i) => ({ labels: { i: String(i) }, value })));
    expect(r.render().split('\n').slice(2, 6)).toEqual(['app_values{i="0"} +Inf', 'app_values{i="1"} -Inf', 'app_values{i="2"} NaN', 'app_values{i="3"} 1e-7']);
  });

  it('refuses bad metric names, bad label names, duplicates and unsorted buckets', () => {
    const r = new Registry();
    expect(() => r.gauge('app-bad', 'x', () => [])).toThrow(InvalidArgumentError);
    r.gauge('app_ok', 'x', () => []);
    expect(() => r.counter('app_ok', 'x', () => [])).toThrow(/already registered/);
    r.gauge('app_labels', 'x', () => [{ labels: { 'bad-label': 'v' }, value: 1 }]);
    expect(() => r.render()).toThrow(/bad-label/);
    expect(() => new Buckets([1, 1])).toThrow(InvalidArgumentError);
  });
});
