// Builders for registry tests: the example entry of docs/registry.md as text, and temporary registries (optionally git
// repositories with a pinned identity, so tests work on machines without a git user configured).
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runGit } from '../../git/git-command.js';

export const SEED_EXAMPLE = `# api-key-registry/keys/payments-stripe-live.yaml
key_id: payments-stripe-live-001
description: "Stripe live API key for payments service"
owner_team: payments
owner_individual: alice@example.com
created_at: 2026-04-01T10:00:00Z
expiration: 2027-04-01T10:00:00Z
last_rotated: 2026-04-01T10:00:00Z
scope:
  provider: stripe
  account_id: acct_xxx
  permissions: ["charges:write", "customers:read"]
  webhook_endpoints: ["https://api.example.com/stripe-webhook"]
storage:
  vault_path: "secret/payments/stripe-live"
consumed_by:
  - kubernetes_secret: "payments-stripe-credentials"
    namespace: payments
audit:
  rotation_owner: payments-team
  rotation_frequency_days: 365
  last_audit: 2026-04-01
`;

export function seedExampleWith(keyId: string, replacements: [string, string][] = []): string {
  let text = SEED_EXAMPLE.replace('key_id: payments-stripe-live-001', `key_id: ${keyId}`);
  for (const [from, to] of replacements) {
    if (!text.includes(from)) throw new Error(`fixture does not contain ${from}`);
    text = text.replace(from, to);
  }
  return text;
}

export const GIT_TEST_ENV: NodeJS.ProcessEnv = {
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.com',
  GIT_COMMITTER_NAME: 'Test Committer',
  GIT_COMMITTER_EMAIL: 'committer@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
};

export async function makeRegistry(files: Record<string, string>, options: { git?: boolean } = {}): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'keyledger-registry-'));
  for (const [file, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, file)), { recursive: true });
    await writeFile(join(root, file), content);
  }
  if (options.git) {
    await runGit(['init', '--quiet', '--initial-branch=main'], { cwd: root, env: GIT_TEST_ENV });
    await runGit(['add', '-A'], { cwd: root, env: GIT_TEST_ENV });
    await runGit(['commit', '--quiet', '--allow-empty', '-m', 'initial'], { cwd: root, env: GIT_TEST_ENV });
  }
  return root;
}
