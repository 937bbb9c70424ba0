// The Prometheus text exposition format (version 0.0.4), written by hand rather than through prom-client's
// registry: the per-key families hold 100,000 series, and building them as prom-client objects on every rebuild
// costs more than the text itself. The builder yields to the event loop every `chunk` samples, so a rebuild never
// holds a scrape (or any other request) behind it (src/telemetry/cached-exposition.ts).
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

export type MetricType = 'counter' | 'gauge';

export interface Sample {
  labels: Readonly<Record<string, string>>;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: Iterable<Sample>;
}

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const NEEDS_ESCAPE = /[\\"\n]/;

/** Label values escape backslash, double quote and newline (the format's three). */
export function escapeLabelValue(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

export function formatSample(name: string, sample: Sample): string {
  let labels = '';
  for (const label in sample.labels) {
    labels += `${labels ? ',' : ''}${label}="${escapeLabelValue(sample.labels[label] as string)}"`;
  }
  return labels ? `${name}{${labels}} ${formatValue(sample.value)}\n` : `${name} ${formatValue(sample.value)}\n`;
}

/** Checks a family's names once, before its samples are written: a bad name is a programming error. */
function checkNames(family: MetricFamily): void {
  if (!METRIC_NAME.test(family.name)) throw new Error(`invalid metric name ${JSON.stringify(family.name)}`);
  if (family.type === 'counter' && !family.name.endsWith('_total'))
    throw new Error(`counter ${family.name} must end in _total`);
  if (family.type === 'gauge' && family.name.endsWith('_total'))
    throw new Error(`gauge ${family.name} must not end in _total`);
}

export interface RenderOptions {
  /** Samples written between two yields to the event loop. */
  chunk?: number;
}

/** Writes the families as one exposition, yielding to the event loop between chunks of samples. */
export async function renderExposition(
  families: Iterable<MetricFamily>,
  options: RenderOptions = {},
): Promise<{ text: string; series: number }> {
  const chunk = options.chunk ?? 1_000;
  const parts: string[] = [];
  let series = 0;
  let sinceYield = 0;
  for (const family of families) {
    checkNames(family);
    parts.push(`# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}\n`);
    let block = '';
    const checkedLabels = new Set<string>();
    for (const sample of family.samples) {
      for (const label in sample.labels) {
        if (checkedLabels.has(label)) continue;
        if (!LABEL_NAME.test(label)) throw new Error(`invalid label name ${JSON.stringify(label)} on ${family.name}`);
        checkedLabels.add(label);
      }
      block += formatSample(family.name, sample);
      series += 1;
      sinceYield += 1;
      if (sinceYield >= chunk) {
        parts.push(block);
        block = '';
        sinceYield = 0;
        await yieldToEventLoop();
      }
    }
    parts.push(block);
  }
  return { text: parts.join(''), series };
}
