// `keyledger init`: scaffolds a registry repository — config, an example entry, a people directory, a CI workflow
// and a pre-commit hook that run `keyledger validate` — so a team starts from a working, validated registry.
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { KeyledgerError } from '../errors/keyledger-error.js';
import { identityFallbackArgs, isGitWorkTree, runGit } from '../git/git-command.js';
import { installedKeyledger } from '../runtime/installed-keyledger.js';
import { addDays, formatDate, formatInstant } from './registry-dates.js';
import { renderNewEntry } from './registry-writer.js';

export interface ScaffoldResult {
  root: string;
  created: string[];
  gitInitialised: boolean;
  commit?: string;
}

export async function scaffoldRegistry(options: {
  root: string;
  now: Date;
  force?: boolean;
  commit?: boolean;
  env?: NodeJS.ProcessEnv;
}): Promise<ScaffoldResult> {
  const files = scaffoldFiles(options.now);
  if (!options.force) {
    const existing: string[] = [];
    for (const file of Object.keys(files)) {
      if (
        await stat(join(options.root, file)).then(
          () => true,
          () => false,
        )
      )
        existing.push(file);
    }
    if (existing.length > 0) {
      throw new KeyledgerError('E_INIT_EXISTS', `refusing to overwrite ${existing.join(', ')} (use --force)`, {
        category: 'conflict',
      });
    }
  }
  await mkdir(options.root, { recursive: true });
  for (const [file, content] of Object.entries(files)) {
    await mkdir(dirname(join(options.root, file)), { recursive: true });
    await writeFile(join(options.root, file), content);
  }
  const gitOptions = { cwd: options.root, ...(options.env ? { env: options.env } : {}) };
  let gitInitialised = false;
  if (!(await isGitWorkTree(options.root))) {
    await runGit(['init', '--quiet'], gitOptions);
    gitInitialised = true;
  }
  const result: ScaffoldResult = { root: options.root, created: Object.keys(files), gitInitialised };
  if (options.commit !== false) {
    await runGit(['add', '--', ...Object.keys(files)], gitOptions);
    const identity = await identityFallbackArgs(gitOptions, { name: 'keyledger', email: 'keyledger@localhost' });
    await runGit(
      [...identity, 'commit', '--quiet', '--no-verify', '-m', 'keyledger: init registry', '--', ...Object.keys(files)],
      gitOptions,
    );
    result.commit = (await runGit(['rev-parse', 'HEAD'], gitOptions)).trim();
  }
  return result;
}

function scaffoldFiles(now: Date): Record<string, string> {
  const { version } = installedKeyledger();
  const example = renderNewEntry({
    key_id: 'example-service-internal-001',
    description: 'Example: internal API key for the example service (replace or delete)',
    purpose: 'Lets the example service call the internal billing API',
    owner_team: 'platform',
    owner_individual: 'owner@example.com',
    created_at: formatInstant(now),
    expiration: formatInstant(addDays(now, 180)),
    last_rotated: formatInstant(now),
    status: 'active',
    scope: { provider: 'internal', account_id: 'billing-api', permissions: ['invoices:read'] },
    storage: { store: 'default', path: 'platform/example-service/billing-api' },
    consumed_by: [{ kubernetes_secret: 'example-service-credentials', namespace: 'platform' }],
    audit: { rotation_owner: 'platform', rotation_frequency_days: 90, last_audit: formatDate(now) },
  });
  return {
    'keyledger.config.yaml': CONFIG_TEMPLATE,
    'people.csv': 'email,name,team,status,left_at\nowner@example.com,Example Owner,platform,active,\n',
    'keys/example-service-internal-001.yaml': `# One file per API key. Schema: keyledger's docs/registry.md.\n${example}`,
    '.github/workflows/keyledger.yaml': workflowTemplate(`keyledger@${version}`),
    '.pre-commit-config.yaml': preCommitTemplate(version),
    // The operational store and the local keys (master, fingerprint) live in .keyledger/ when keyledger runs here.
    '.gitignore': '.keyledger/\n',
  };
}

const CONFIG_TEMPLATE = `# keyledger registry configuration. Every field is optional; these are the defaults unless noted.
registry:
  keys: "keys/**/*.yaml"          # where the entries are, relative to this file

policy:
  max_lifetime_days: 365           # expiration - created_at, at most
  max_lifetime_days_by_provider:   # stricter limits per provider (scope.provider)
    aws-iam: 90
  # forbidden_permissions: [...]   # RE2 patterns; default: *, x:*, admin, cluster-wide, full-access, root
  # allowed_teams: [platform, payments]
  key_id_pattern: "^[a-z0-9]+(-[a-z0-9]+)*$"
  people_directory: people.csv     # email,name,team,status,left_at (an HR export); owners must be active here
  expiry_warning_days: 30
  rules:                           # per-rule severity: error, warning or off
    shared-key: warning
    rotation-overdue: warning

# Secret stores that entries' \`storage\` points into; validate checks each path exists.
# stores:
#   vault: { kind: vault, address: "https://vault.example.com", mount: secret, auth: { method: token } }

git:
  author_name: keyledger
  author_email: keyledger@example.com
`;

/**
 * The CI workflow runs the keyledger release that wrote it: a pinned install step (`npm install --global` of
 * KEYLEDGER_PACKAGE, this version) and then `keyledger` itself, never `npx keyledger`, which resolved whatever the
 * registry had under that name or failed with a 404 in the middle of the check. A failed install says what to set.
 */
export function workflowTemplate(keyledgerPackage: string): string {
  return `# Validates the registry on every pull request (changed files) and on main (everything), with the keyledger
# that \`keyledger init\` wrote this for. KEYLEDGER_PACKAGE is any \`npm install\` spec: keyledger@<version> from
# your npm registry, or the URL of a keyledger release tarball (\`npm pack\`); change it to move to another release.
name: keyledger
on:
  pull_request:
  push:
    branches: [main]
env:
  KEYLEDGER_PACKAGE: ${keyledgerPackage}
jobs:
  validate:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - uses: actions/setup-node@v4
        with:
          node-version: 20
      - name: install keyledger
        run: |
          if ! npm install --global --no-audit --no-fund "$KEYLEDGER_PACKAGE"; then
            echo "::error::could not install $KEYLEDGER_PACKAGE (npm's error is above): set KEYLEDGER_PACKAGE in this workflow to a keyledger release your npm registry has, or to a release tarball's URL"
            exit 1
          fi
          keyledger --version
      - name: keyledger validate
        run: |
          if [ "\${{ github.event_name }}" = "pull_request" ]; then
            keyledger validate --changed-since "origin/\${{ github.base_ref }}"
          else
            keyledger validate
          fi
`;
}

/** pre-commit framework hooks at the release that wrote them (the framework installs that tag from git). */
function preCommitTemplate(version: string): string {
  return `# pre-commit framework hooks (https://pre-commit.com): validate the registry before each commit.
minimum_pre_commit_version: "3.2.0"
repos:
  - repo: https://github.com/keyledger/keyledger
    rev: v${version}
    hooks:
      - id: keyledger-validate
`;
}
