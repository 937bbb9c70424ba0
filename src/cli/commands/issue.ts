// `keyledger issue` and `keyledger revoke`: programmatic issuance and revocation (src/lifecycle/README.md), as one
// unit each. The secret is never printed, except with --reveal to a terminal.
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { openKeyledgerApp } from '../../app/keyledger-app.js';
import { UsageError } from '../../errors/keyledger-error.js';
import type { IssueKeyRequest } from '../../lifecycle/key-issuance.js';
import { type CliContext, printJson } from '../cli-context.js';
import type { RegisterCommand } from '../command-table.js';
import { parseDays, parsePositiveInt } from '../option-parsers.js';

interface IssueOptions {
  provider: string;
  team: string;
  owner: string;
  purpose: string;
  scope?: string;
  account?: string;
  expires?: number;
  store?: string;
  keyId?: string;
  rotateEvery?: number;
  consumer?: string[];
  tag?: string[];
  justification?: string;
  idempotencyKey?: string;
  registry: string;
  actor?: string;
  reveal?: boolean;
  json?: boolean;
}

export const registerIssueCommand: RegisterCommand = (program, context) => {
  program
    .command('issue')
    .description('mint a key at its provider, store it, register it (one git commit) and log the event, as one unit')
    .requiredOption('--provider <name>', 'the provider (scope.provider), e.g. internal, aws-iam, datadog')
    .requiredOption('--team <team>', 'the owning team')
    .requiredOption('--owner <email>', 'the owning individual')
    .requiredOption('--purpose <text>', 'why the key exists')
    .option('--scope <permissions>', 'permissions, comma-separated: charges:write,customers:read')
    .option('--account <id>', 'the provider account the key belongs to (AWS user, project id...)')
    .option('--expires <duration>', 'lifetime: 90d, 12w, 6m, 1y (default: the policy maximum)', parseDays)
    .option(
      '--store <store:path>',
      'where the secret goes, e.g. vault:secret/payments/stripe-live (default: default:<team>/<key_id>)',
    )
    .option('--key-id <id>', 'the registry key_id (default: <team>-<provider>-<purpose>-<4 hex>)')
    .option('--rotate-every <days>', 'audit.rotation_frequency_days', parsePositiveInt)
    .option('--consumer <name>', 'a consuming team or service (repeatable)', collect, [])
    .option('--tag <tag>', 'a tag (repeatable)', collect, [])
    .option('--justification <text>', 'why broad permissions are needed')
    .option('--idempotency-key <key>', 'makes a retried command return the first result instead of minting again')
    .option('-r, --registry <dir>', 'the registry repository', '.')
    .option('--actor <who>', 'who is acting, for the event log (default: cli:<user>)')
    .option('--reveal', 'print the secret (only to a terminal)')
    .option('--json', 'print JSON')
    .action(async (options: IssueOptions) => {
      if (options.reveal && !context.stdout.isTTY) {
        throw new UsageError(
          '--reveal prints the secret only to a terminal: stdout is not one (a pipe or a file would keep it)',
        );
      }
      const request: IssueKeyRequest = {
        provider: options.provider,
        team: options.team,
        owner: options.owner,
        purpose: options.purpose,
        permissions: parseScope(options.scope),
        actor: options.actor ?? defaultActor(),
        ...(options.account ? { account: options.account } : {}),
        ...(options.expires !== undefined ? { expiresInDays: options.expires } : {}),
        ...(options.store ? { store: parseStore(options.store) } : {}),
        ...(options.keyId ? { keyId: options.keyId } : {}),
        ...(options.rotateEvery ? { rotationFrequencyDays: options.rotateEvery } : {}),
        ...(options.consumer?.length ? { consumers: options.consumer } : {}),
        ...(options.tag?.length ? { tags: options.tag } : {}),
        ...(options.justification ? { justification: options.justification } : {}),
        ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
      };
      const app = await openApp(context, options.registry);
      try {
        const issuer = app.issuer();
        const issued = await issuer.issue(request);
        if (options.json) {
          printJson(context, issued);
        } else {
          context.stdout.write(
            `${issued.replayed ? 'Already issued (same idempotency key)' : 'Issued'} ${issued.keyId}\n`,
          );
          context.stdout.write(`  provider      ${issued.provider} (key ${issued.providerKeyId})\n`);
          context.stdout.write(`  secret        ${issued.store}:${issued.path}\n`);
          context.stdout.write(`  registry      ${issued.file} (commit ${issued.commit.slice(0, 12)})\n`);
          context.stdout.write(`  expires       ${issued.expiresAt}\n`);
          context.stdout.write(`  fingerprint   ${issued.fingerprint}\n`);
        }
        if (options.reveal) {
          const stored = await app.secretStore(issued.store).get(issued.path, 'current');
          if (stored) context.stdout.write(`  secret value  ${stored.value.reveal()}\n`);
        }
      } finally {
        await app.close();
      }
    });

  program
    .command('revoke')
    .description('revoke a key at its provider, delete its secret, mark it revoked in the registry, log the event')
    .argument('<key_id>', 'the registry key_id')
    .option('--reason <text>', 'why, for the commit and the event log')
    .option('--keep-secret', 'leave the secret in its store (forensics)')
    .option('-r, --registry <dir>', 'the registry repository', '.')
    .option('--actor <who>', 'who is acting (default: cli:<user>)')
    .option('--json', 'print JSON')
    .action(
      async (
        keyId: string,
        options: { reason?: string; keepSecret?: boolean; registry: string; actor?: string; json?: boolean },
      ) => {
        const app = await openApp(context, options.registry);
        try {
          const revoked = await app.revoker().revoke({
            keyId,
            actor: options.actor ?? defaultActor(),
            ...(options.reason ? { reason: options.reason } : {}),
            ...(options.keepSecret ? { keepSecret: true } : {}),
          });
          if (options.json) {
            printJson(context, revoked);
            return;
          }
          context.stdout.write(`Revoked ${revoked.keyId}\n`);
          for (const step of revoked.steps) context.stdout.write(`  - ${step}\n`);
        } finally {
          await app.close();
        }
      },
    );
};

function openApp(context: CliContext, registry: string) {
  return openKeyledgerApp({
    registryDir: resolve(context.cwd, registry),
    env: context.env,
    cwd: context.cwd,
    clock: context.clock,
    ...(context.logger ? { logger: context.logger } : {}),
  });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseScope(scope: string | undefined): string[] {
  if (!scope) return [];
  return scope
    .split(',')
    .map((permission) => permission.trim())
    .filter(Boolean);
}

function parseStore(text: string): { name: string; path: string } {
  const colon = text.indexOf(':');
  if (colon <= 0 || colon === text.length - 1)
    throw new UsageError(`--store expects <store>:<path>, e.g. vault:secret/payments/stripe-live; got "${text}"`);
  return { name: text.slice(0, colon), path: text.slice(colon + 1) };
}

function defaultActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli:unknown';
  }
}
