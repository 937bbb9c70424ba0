// The layer rules of src/README.md, checked over the import graph of src/ on every `npm test`: no import cycle
// between folders, runtime/ and errors/ import nothing above them, production code imports no test code, the core
// reaches adapters only through their tables and never compares with a provider's name.
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { providerNames } from '../providers/provider-table.js';
import { checkLayerRules, describeViolations, isTestCode, readImportGraph } from './import-graph.js';
import { KEYLEDGER_LAYER_RULES } from './layer-rules.js';

const SOURCE_ROOT = fileURLToPath(new URL('..', import.meta.url));
const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('the layer rules over src/', () => {
  const graph = readImportGraph(SOURCE_ROOT);

  it('reads the whole tree', () => {
    expect(graph.files).toContain('providers/provider-table.ts');
    expect(graph.edges.some((edge) => edge.from === 'cli/main.ts')).toBe(true);
  });

  it('holds: no folder cycle, no upward import, no test code in production, no adapter or provider name in the core', () => {
    const violations = checkLayerRules(graph, { ...KEYLEDGER_LAYER_RULES, providerNames: providerNames() });
    expect(describeViolations(violations)).toBe('');
  });
});

describe('the build (tsconfig.build.json, what `npm run build` writes to dist/)', () => {
  it('compiles no test code: no *.test.ts, *.fixture.ts or test-support/ file', () => {
    const configFile = ts.readConfigFile(`${PACKAGE_ROOT}tsconfig.build.json`, ts.sys.readFile);
    const config = ts.parseJsonConfigFileContent(configFile.config, ts.sys, PACKAGE_ROOT);
    const compiled = config.fileNames.map((file) => relative(SOURCE_ROOT, file).split('\\').join('/'));
    expect(compiled).toContain('cli/main.ts');
    expect(compiled.filter(isTestCode)).toEqual([]);
  });
});
