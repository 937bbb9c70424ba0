// The import-graph check against fixture trees: a clean tree passes, and each kind of breach added to it is found
// and named — so the check in layer-rules.test.ts can fail.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkLayerRules, type LayerRules, type LayerViolation, readImportGraph } from './import-graph.js';

const RULES: LayerRules = {
  foundation: ['runtime'],
  core: ['lifecycle', 'scan', 'cli', 'app'],
  adapterKinds: [{ folder: 'providers', shared: ['http', 'test-support'] }],
  compositionRoots: ['app/app.ts'],
  testPackages: ['vitest'],
  providerNames: ['aws-iam', 'github'],
};

/** A small tree that keeps every rule: cli -> lifecycle -> providers (interface) -> runtime. */
const CLEAN_TREE: Record<string, string> = {
  'runtime/retry.ts': 'export const retry = 1;\n',
  'providers/provider.ts': "import { retry } from '../runtime/retry.js';\nexport const provider = retry;\n",
  'providers/provider-table.ts': "export const table = { 'aws-iam': () => import('./aws-iam/index.js') };\n",
  'providers/aws-iam/index.ts':
    "import { provider } from '../provider.js';\nimport { pace } from '../http/pace.js';\nexport const awsIam = provider + pace;\n",
  'providers/http/pace.ts': 'export const pace = 1;\n',
  'providers/test-support/contract.ts': "import { it } from 'vitest';\nexport const contract = it;\n",
  'providers/aws-iam/index.test.ts': "import { contract } from '../test-support/contract.js';\ncontract;\n",
  'lifecycle/rotate.ts':
    "import { table } from '../providers/provider-table.js';\n// aws-iam allows two keys: the capability says so, not a === 'aws-iam' here.\nexport const rotate = table;\n",
  'scan/scan.ts': "import { retry } from '../runtime/retry.js';\nexport const scan = retry;\n",
  'cli/main.ts':
    "import { rotate } from '../lifecycle/rotate.js';\nimport { scan } from '../scan/scan.js';\nexport const main = [rotate, scan];\n",
  'app/app.ts': "import { awsIam } from '../providers/aws-iam/index.js';\nexport const app = awsIam;\n",
};

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function violationsOf(extra: Record<string, string>): LayerViolation[] {
  const root = mkdtempSync(join(tmpdir(), 'keyledger-import-graph-'));
  roots.push(root);
  for (const [file, text] of Object.entries({ ...CLEAN_TREE, ...extra })) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }
  return checkLayerRules(readImportGraph(root), RULES);
}

describe('checkLayerRules', () => {
  it('passes a tree that keeps the rules', () => {
    expect(violationsOf({})).toEqual([]);
  });

  it('finds a cycle between folders, naming an import of each link', () => {
    const violations = violationsOf({
      'scan/progress.ts': "import type { Output } from '../cli/output.js';\nexport type P = Output;\n",
      'cli/output.ts': 'export type Output = string;\n',
    });
    expect(violations).toHaveLength(1);
    expect(violations[0]!.rule).toBe('folder-cycle');
    expect(violations[0]!.detail).toContain('cli/, scan/');
    expect(violations[0]!.detail).toContain('scan/progress.ts imports ../cli/output.js');
    expect(violations[0]!.detail).toContain('cli/main.ts imports ../scan/scan.js');
  });

  it('leaves a composition root out of the cycle check: it imports every layer by design', () => {
    expect(
      violationsOf({
        'app/app.ts': "import { scan } from '../scan/scan.js';\nexport const app = scan;\n",
        'scan/uses-app.ts': "import type { app } from '../app/app.js';\nexport type A = typeof app;\n",
      }).filter((violation) => violation.rule === 'folder-cycle'),
    ).toEqual([]);
    expect(
      violationsOf({
        'app/other.ts': "import { scan } from '../scan/scan.js';\nexport const other = scan;\n",
        'scan/uses-app.ts': "import type { other } from '../app/other.js';\nexport type A = typeof other;\n",
      }).map((violation) => violation.rule),
    ).toContain('folder-cycle');
  });

  it('finds a cycle through three folders', () => {
    const violations = violationsOf({
      'runtime/redact.ts': "import { scan } from '../scan/scan.js';\nexport const redact = scan;\n",
    });
    expect(violations.map((violation) => violation.rule).sort()).toEqual(['folder-cycle', 'foundation-imports-upward']);
    expect(violations.find((violation) => violation.rule === 'folder-cycle')!.detail).toContain('runtime/, scan/');
  });

  it('finds production code importing test-support/, a test file or vitest', () => {
    const violations = violationsOf({
      'lifecycle/uses-contract.ts':
        "import { contract } from '../providers/test-support/contract.js';\nexport const c = contract;\n",
      'scan/uses-vitest.ts': "import { expect } from 'vitest';\nexport const e = expect;\n",
      'scan/uses-test.ts': "import './scan.test.js';\n",
    });
    expect(violations.map((violation) => [violation.rule, violation.file]).sort()).toEqual([
      ['production-imports-test-code', 'lifecycle/uses-contract.ts'],
      ['production-imports-test-code', 'scan/uses-test.ts'],
      ['production-imports-test-code', 'scan/uses-vitest.ts'],
    ]);
  });

  it('finds the core importing an adapter folder, but not the composition root or the table', () => {
    const violations = violationsOf({
      'lifecycle/direct.ts': "import { awsIam } from '../providers/aws-iam/index.js';\nexport const direct = awsIam;\n",
    });
    expect(violations).toEqual([
      {
        rule: 'core-imports-adapter',
        file: 'lifecycle/direct.ts',
        detail: expect.stringContaining('../providers/aws-iam/index.js'),
      },
    ]);
  });

  it('finds an adapter importing another adapter', () => {
    const violations = violationsOf({
      'providers/github/index.ts': "import { awsIam } from '../aws-iam/index.js';\nexport const github = awsIam;\n",
    });
    expect(violations.map((violation) => [violation.rule, violation.file])).toEqual([
      ['adapter-imports-adapter', 'providers/github/index.ts'],
    ]);
  });

  it('finds the core comparing with a provider name in code, not in comments', () => {
    const violations = violationsOf({
      'lifecycle/calls.ts':
        "// once 'github' === x was here\nexport function calls(provider: { name: string }) {\n  return provider.name === 'aws-iam' ? 2 : 1;\n}\n",
      'scan/kinds.ts':
        "export function kind(name: string) {\n  switch (name) {\n    case 'github':\n      return 1;\n  }\n  return 0;\n}\n",
    });
    expect(violations.map((violation) => [violation.rule, violation.file])).toEqual([
      ['core-names-provider', 'lifecycle/calls.ts'],
      ['core-names-provider', 'scan/kinds.ts'],
    ]);
  });

  it('finds an import() of a computed path in production code, not in a test', () => {
    const violations = violationsOf({
      'scan/liveness.ts': "const path = '../providers/provider-table.js';\nexport const load = () => import(path);\n",
      'scan/liveness.test.ts': "const path = './liveness.js';\nawait import(path);\n",
      // Worker code in a template literal is text, not an import.
      'scan/worker.ts': 'export const code = `import(' + '$' + '{JSON.stringify("x")})`;\n',
    });
    expect(violations).toEqual([
      { rule: 'computed-import', file: 'scan/liveness.ts', detail: expect.stringContaining('line 2') },
    ]);
  });
});
