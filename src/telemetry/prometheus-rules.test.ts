// The shipped Prometheus rules and Grafana dashboard (deploy/): `promtool check rules` and `promtool test rules`
// pass, and every series a rule or a dashboard panel reads is one /metrics exports (metric-families.ts) or a
// recording rule produces. promtool comes from Debian's `prometheus` package; without it these tests fail and say
// how to install it (test-support/promtool.ts).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { AuditMetrics } from '../audit/audit-metrics.js';
import { RotationMetrics } from '../lifecycle/rotation/rotation-metrics.js';
import { exportedMetricNames } from './metric-families.js';
import { promqlMetricNames } from './promql-names.js';
import { PROMTOOL_MISSING, promtool, requirePromtool } from './test-support/promtool.js';

const PROMETHEUS_DIR = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url));
const DASHBOARD = fileURLToPath(new URL('../../deploy/grafana/keyledger-dashboard.json', import.meta.url));

interface RuleFile {
  groups: { name: string; rules: { record?: string; alert?: string; expr: string }[] }[];
}

async function rules(file: string): Promise<RuleFile> {
  return parse(await readFile(`${PROMETHEUS_DIR}${file}`, 'utf8')) as RuleFile;
}

/** The article's series names (docs/metrics.md maps each): exported natively or recorded. */
const ARTICLE_SERIES = [
  'api_key_total',
  'api_key_age_days',
  'api_key_due_for_rotation_total',
  'api_key_rotation_success_total',
  'api_key_rotation_failure_total',
  'api_key_secret_scanner_findings_total',
  'api_key_unauthorized_use_detected_total',
];

describe('Prometheus rules', () => {
  it('pass promtool check rules', async () => {
    const result = await promtool(
      ['check', 'rules', 'recording-rules.yaml', 'alert-rules.yaml'],
      undefined,
      PROMETHEUS_DIR,
    );
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  it('pass their unit tests (promtool test rules)', async () => {
    const result = await promtool(['test', 'rules', 'alert-rules.test.yaml'], undefined, PROMETHEUS_DIR);
    expect(result.stdout + result.stderr).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  it("produce every one of the article's series, natively or by a recording rule", async () => {
    const recorded = (await rules('recording-rules.yaml')).groups.flatMap((group) =>
      group.rules.flatMap((rule) => (rule.record ? [rule.record] : [])),
    );
    const available = new Set([...exportedMetricNames(), ...recorded]);
    expect(ARTICLE_SERIES.filter((name) => !available.has(name))).toEqual([]);
    // A rule never records a name /metrics already exports: the two would collide in Prometheus.
    expect(recorded.filter((name) => exportedMetricNames().includes(name))).toEqual([]);
  });

  it('read only series that /metrics exports or a recording rule records', async () => {
    const recordingRules = await rules('recording-rules.yaml');
    const alertRules = await rules('alert-rules.yaml');
    const available = new Set([
      ...exportedMetricNames(),
      ...recordingRules.groups.flatMap((group) => group.rules.flatMap((rule) => (rule.record ? [rule.record] : []))),
    ]);
    const read = [...recordingRules.groups, ...alertRules.groups].flatMap((group) =>
      group.rules.flatMap((rule) => promqlMetricNames(rule.expr)),
    );
    expect(read.length).toBeGreaterThan(10);
    expect(read.filter((name) => !available.has(name))).toEqual([]);
  });

  it('fail with how to install promtool when it is missing', () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(() => requirePromtool()).toThrow(PROMTOOL_MISSING);
    } finally {
      process.env.PATH = path;
    }
    expect(PROMTOOL_MISSING).toMatch(/apt-get install -y prometheus/);
  });
});

describe('in-process registries merged into /metrics', () => {
  it('pass promtool check metrics (rotation-metrics.ts, audit-metrics.ts)', async () => {
    const rotation = new RotationMetrics();
    rotation.success.inc({ provider: 'stripe' });
    rotation.failure.inc({ reason: 'consumer-timeout' });
    rotation.rolledBack.inc({ reason: 'consumer-timeout' });
    rotation.due.set({ trigger: 'schedule' }, 3);
    rotation.ticketsOpened.inc({ sink: 'markdown' });
    rotation.rollbackPending.set({ provider: 'stripe' }, 1);
    rotation.rollbackStuck.inc({ provider: 'stripe' });
    const audit = new AuditMetrics();
    audit.unauthorisedUse.inc({ key_id: 'k1' });
    audit.recordsIngested.inc({ format: 'cloudtrail' });
    for (const registry of [rotation.registry, audit.registry]) {
      const text = await registry.metrics();
      expect(text.match(/^# TYPE /gm)?.length).toBeGreaterThan(1);
      const result = await promtool(['check', 'metrics'], text);
      expect(result.stdout + result.stderr).toBe('');
      expect(result.code).toBe(0);
    }
  });
});

describe('Grafana dashboard', () => {
  interface Panel {
    title: string;
    targets?: { expr: string }[];
  }

  it('is valid JSON whose every expression names a series we export or record', async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as {
      uid: string;
      panels: Panel[];
      templating: { list: { definition: string }[] };
    };
    expect(dashboard.uid).toBe('keyledger-api-keys');
    const recorded = (await rules('recording-rules.yaml')).groups.flatMap((group) =>
      group.rules.flatMap((rule) => (rule.record ? [rule.record] : [])),
    );
    const available = new Set([...exportedMetricNames(), ...recorded]);
    const expressions = [
      ...dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr)),
      // label_values(api_key_registered, owner_team): its first argument is a series.
      ...dashboard.templating.list.map((variable) => variable.definition.replace(/^label_values\((\w+),.*$/, '$1')),
    ];
    expect(expressions.length).toBeGreaterThan(15);
    const unknown = expressions.flatMap((expression) =>
      promqlMetricNames(expression)
        .filter((name) => !available.has(name))
        .map((name) => `${name} in ${expression}`),
    );
    expect(unknown).toEqual([]);
    // Every panel reads something.
    expect(dashboard.panels.filter((panel) => !panel.targets?.length).map((panel) => panel.title)).toEqual([]);
  });
});

describe('promqlMetricNames', () => {
  it('keeps metric names and drops functions, labels, ranges, groupings, keywords and numbers', () => {
    expect(
      promqlMetricNames(
        'sum by (owner_team) (increase(api_key_x_total{a="b c",d=~"$team"}[1h] offset 5m)) > 7 * 86400 or absent(up) unless on (k) other_metric / 1e9',
      ).sort(),
    ).toEqual(['api_key_x_total', 'other_metric', 'up']);
  });
});
