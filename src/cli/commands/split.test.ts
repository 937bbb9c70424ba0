// `keyledger split` through the CLI: the dry run's plan as JSON (teams, new keys, owners, consumers), nothing
// written; a key one team uses refused as a JSON error with exit 2.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { GIT_TEST_ENV, makeRegistry, seedExampleWith } from '../../registry/test-support/registry-fixtures.js';
import { runCli } from '../test-support/run-cli.js';

let registry: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  const consumers = (teams: string[]) =>
    ['consumed_by:', ...teams.flatMap((team) => [`  - service: ${team}-app`, `    team: ${team}`]), 'audit:'].join(
      '\n',
    );
  registry = await makeRegistry(
    {
      'keys/shared.yaml': seedExampleWith('orders-shared-001', [
        [
          'consumed_by:\n  - kubernetes_secret: "payments-stripe-credentials"\n    namespace: payments\naudit:',
          consumers(['payments', 'growth', 'search']),
        ],
      ]),
      'keys/solo.yaml': seedExampleWith('orders-solo-001', [
        [
          'consumed_by:\n  - kubernetes_secret: "payments-stripe-credentials"\n    namespace: payments\naudit:',
          consumers(['payments']),
        ],
      ]),
    },
    { git: true },
  );
  env = { ...GIT_TEST_ENV, KEYLEDGER_DATA_DIR: mkdtempSync(join(tmpdir(), 'keyledger-split-cli-')) };
});

const run = (args: string[]) =>
  runCli(['split', ...args, '--registry', registry, '--json'], { cwd: registry, env, now: '2026-12-07T00:00:00Z' });

describe('keyledger split', () => {
  it('prints the plan on --dry-run and changes nothing', async () => {
    const dry = await run(['orders-shared-001', '--dry-run', '--owner', 'growth=gus@example.com']);
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout);
    expect(plan).toMatchObject({ sharedKeyId: 'orders-shared-001', provider: 'stripe', dryRun: true, revoked: false });
    expect(plan.teams).toEqual([
      {
        team: 'growth',
        newKeyId: 'orders-shared-001-growth',
        owner: 'gus@example.com',
        consumers: ['growth-app'],
        path: 'growth/orders-shared-001-growth',
        state: 'planned',
      },
      {
        team: 'payments',
        newKeyId: 'orders-shared-001-payments',
        owner: 'alice@example.com',
        consumers: ['payments-app'],
        path: 'payments/orders-shared-001-payments',
        state: 'planned',
      },
      {
        team: 'search',
        newKeyId: 'orders-shared-001-search',
        owner: 'alice@example.com',
        consumers: ['search-app'],
        path: 'search/orders-shared-001-search',
        state: 'planned',
      },
    ]);
    const again = await run(['orders-shared-001', '--dry-run']);
    expect(JSON.parse(again.stdout).teams.every((t: { state: string }) => t.state === 'planned')).toBe(true);
  });

  it('refuses a key only one team consumes, and a bad --owner', async () => {
    const solo = await run(['orders-solo-001']);
    expect(solo.code).toBe(2);
    expect(JSON.parse(solo.stdout).error.message).toMatch(/one team only \(payments\)/);
    const owner = await run(['orders-shared-001', '--dry-run', '--owner', 'growth']);
    expect(JSON.parse(owner.stdout).error.message).toMatch(/--owner takes team=email/);
  });
});
