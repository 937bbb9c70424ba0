// This repository's layer rules, checked over src/ by src/test-support/layer-rules.test.ts (src/README.md,
// "Layer rules", says why each holds). Changing a rule is changing this file and that README together.
import type { LayerRules } from './import-graph.js';

export const KEYLEDGER_LAYER_RULES: Omit<LayerRules, 'providerNames'> = {
  foundation: ['runtime', 'errors'],
  core: [
    'app',
    'audit',
    'cli',
    'db',
    'directory',
    'events',
    'git',
    'jobs',
    'lifecycle',
    'offboarding',
    'registry',
    'scan',
    'server',
    'telemetry',
    'web',
  ],
  adapterKinds: [
    { folder: 'providers', shared: ['http', 'test-support'] },
    { folder: 'secrets', shared: ['test-support'] },
    { folder: 'tickets', shared: ['test-support'] },
    { folder: 'audit-logs', shared: ['test-support'] },
    { folder: 'discovery-sources', shared: ['test-support'] },
    { folder: 'idp', shared: ['test-support'] },
    { folder: 'lifecycle/rotation/consumers', shared: [] },
  ],
  compositionRoots: [
    // Opens the configured stores, providers and services for the CLI and the server.
    'app/keyledger-app.ts',
    // Lists the HTTP surfaces (API, dashboard, metrics, SCIM and identity-provider webhooks) the server registers.
    'app/server-modules.ts',
    // The embedded store's own maintenance command (master-key status and rotation): it exists for that adapter.
    'cli/commands/master-key.ts',
  ],
  testPackages: ['vitest', 'fast-check'],
};
