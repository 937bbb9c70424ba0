// `keyledger issue`: programmatic issuance (src/lifecycle/README.md), as one unit (`revoke` is commands/revoke.ts).
// The secret is never printed, except with --reveal to a terminal.
import { UsageError } from '../../errors/keyledger-error.js';
import type { IssueKeyRequest } from '../../lifecycle/key-issuance.js';
import { printJson } from '../cli-context.js';
import type { RegisterCommand } from '../command-table.js';
import { actorFor, addSharedOptions, openAppFor, type SharedOptions } from '../common-options.js';
import { parseDays, parsePositiveInt } from '../option-parsers.js';
import { issueFromFile } from './issue-from-file.js';

interface IssueOptions extends SharedOptions {
  provider: string;
  team: string;
  owner: string;
  purpose: string;
  from?: string;
  dryRun?: boolean;
  concurrency?: number;
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
  reveal?: boolean;
}

export const registerIssueCommand: RegisterCommand = (program, context) => {
  addSharedOptions(program.command('issue'))
    .description('mint a key at its provider, store it, register it (one git commit) and log the event, as one unit')
    .option('--provider <name>', 'the provider (scope.provider), e.g. internal, aws-iam, datadog')
    .option('--team <team>', 'the owning team')
    .option('--owner <email>', 'the owning individual')
    .option('--purpose <text>', 'why the key exists')
    .option('--from <file>', 'issue every request in a YAML or CSV file (- for stdin), fields named as these flags')
    .option('--dry-run', 'with --from: check every request and show what would be issued; mint nothing')
    .option('--concurrency <n>', 'with --from: keys minted at once (default 16)', parsePositiveInt)
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
    .option('--reveal', 'print the secret (only to a terminal)')
    .action(async (options: IssueOptions) => {
      if (options.from) {
        return issueFromFile(context, () => openAppFor(context, options), {
          ...options,
          from: options.from,
          actor: actorFor(context, options),
        });
      }
      const missing = (['provider', 'team', 'owner', 'purpose'] as const).find((name) => !options[name]);
      if (missing) throw new UsageError(`required option '--${missing}' not specified (or give --from FILE)`);
      if (options.dryRun || options.concurrency)
        throw new UsageError('--dry-run and --concurrency go with --from FILE');
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
        actor: actorFor(context, options),
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
      const app = await openAppFor(context, options);
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
};

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
