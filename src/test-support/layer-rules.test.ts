// The layer rules of src/README.md, checked over the import graph of src/ on every `npm test`: no import cycle
// between folders, runtime/ and errors/ import nothing above them, production code imports no test code, the core
// reaches adapters only through their tables and never compares with a provider's name.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { providerNames } from '../providers/provider-table.js';
import { checkLayerRules, describeViolations, readImportGraph } from './import-graph.js';
import { KEYLEDGER_LAYER_RULES } from './layer-rules.js';

const SOURCE_ROOT = fileURLToPath(new URL('..', import.meta.url));

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
