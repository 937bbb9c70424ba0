import { describe, expect, it } from 'vitest';
import { escapeLabelValue, formatSample, type MetricFamily, renderExposition } from './prometheus-text.js';

describe('renderExposition', () => {
  it('writes HELP, TYPE and samples with escaped label values', async () => {
    const { text, series } = await renderExposition([
      {
        name: 'api_key_registered',
        help: 'Keys.\nBy team.',
        type: 'gauge',
        samples: [{ labels: { owner_team: 'a"b\\c\nd' }, value: 2 }],
      },
      { name: 'x_total', help: 'x', type: 'counter', samples: [{ labels: {}, value: Number.POSITIVE_INFINITY }] },
    ]);
    expect(series).toBe(2);
    expect(text).toBe(
      [
        '# HELP api_key_registered Keys.\\nBy team.',
        '# TYPE api_key_registered gauge',
        'api_key_registered{owner_team="a\\"b\\\\c\\nd"} 2',
        '# HELP x_total x',
        '# TYPE x_total counter',
        'x_total +Inf',
        '',
      ].join('\n'),
    );
  });

  it('refuses a counter without _total, a gauge with it, and bad names', async () => {
    const family = (name: string, type: MetricFamily['type'], label = 'a'): MetricFamily => ({
      name,
      help: 'h',
      type,
      samples: [{ labels: { [label]: 'v' }, value: 1 }],
    });
    await expect(renderExposition([family('rotations', 'counter')])).rejects.toThrow(/must end in _total/);
    await expect(renderExposition([family('due_total', 'gauge')])).rejects.toThrow(/must not end in _total/);
    await expect(renderExposition([family('bad-name', 'gauge')])).rejects.toThrow(/invalid metric name/);
    await expect(renderExposition([family('ok', 'gauge', 'bad-label')])).rejects.toThrow(/invalid label name/);
  });

  it('yields to the event loop between chunks, so other work runs during a large render', async () => {
    let ticks = 0;
    const timer = setInterval(() => {
      ticks += 1;
    }, 0);
    function* samples() {
      for (let index = 0; index < 200_000; index += 1) yield { labels: { key_id: `k-${index}` }, value: index };
    }
    const rendering = renderExposition(
      [{ name: 'api_key_age_seconds', help: 'h', type: 'gauge', samples: samples() }],
      {
        chunk: 1_000,
      },
    );
    const { series } = await rendering;
    clearInterval(timer);
    expect(series).toBe(200_000);
    // 200 chunks: the interval had turns in between (a render in one go would leave it at 0 or 1).
    expect(ticks).toBeGreaterThan(20);
  });
});

describe('formatSample', () => {
  it('writes a bare name without labels', () => {
    expect(formatSample('up', { labels: {}, value: 1 })).toBe('up 1\n');
    expect(escapeLabelValue('plain')).toBe('plain');
  });
});
