// `keyledger discover`: lists every key each configured provider holds (src/audit/key-discovery.ts), records them,
// and classifies every key against the registry (src/audit/drift-classification.ts): healthy, unregistered, gone
// at the provider, owner left, no clear owner, shared, broad scope, unused, never used, overdue, expired.
// `--adopt` drafts entries for the unregistered keys on a branch of the registry for a person to confirm.
// `--source NAME` reads one of the places keys hide that are not providers instead (src/discovery-sources/,
// recorded by src/audit/key-observations.ts), with that source's `--source-option key=value` pairs.
import { AuditUsageStore } from '../../audit/audit-usage-store.js';
import { classifyKeys, DRIFT_CLASSES } from '../../audit/drift-classification.js';
import { draftAdoptionBranch } from '../../audit/key-adoption.js';
import { discoveredKeys, discoverKeys } from '../../audit/key-discovery.js';
import { keyObservations, observationScope, observeSource } from '../../audit/key-observations.js';
import { DISCOVERY_SOURCE_NAMES, loadDiscoverySource } from '../../discovery-sources/discovery-source-table.js';
import { UsageError } from '../../errors/keyledger-error.js';
import { compilePolicy } from '../../registry/policy/policy-engine.js';
import { parseInstant } from '../../registry/registry-dates.js';
import { loadRegistry } from '../../registry/registry-loader.js';
import { palette, printJson } from '../cli-context.js';
import type { RegisterCommand } from '../command-table.js';
import { addSharedOptions, openAppFor, type SharedOptions } from '../common-options.js';
import { renderTable } from '../render/table.js';

interface DiscoverOptions extends SharedOptions {
  provider?: string[];
  adopt?: boolean;
  listKeys?: boolean;
  source?: string;
  sourceOption?: string[];
  asOf?: string;
}

export const registerDiscoverCommand: RegisterCommand = (program, context) => {
  addSharedOptions(program.command('discover'))
    .description('list every key the configured providers hold, record it, and classify it against the registry')
    .option('--provider <name...>', 'only these providers (default: every configured one)')
    .option('--adopt', 'draft registry entries for unregistered keys on a branch, for a person to confirm')
    .option('--list-keys', 'print every classified key, not only the counts')
    .option('--as-of <date>', 'classify as of this date: unused, overdue and expired count from it (default: now)')
    .option('--source <name>', `read a place keys hide instead of the providers: ${DISCOVERY_SOURCE_NAMES.join(', ')}`)
    .option('--source-option <key=value...>', "the source's options (docs/cli.md, Discovery sources)")
    .action(async (options: DiscoverOptions) => {
      if (options.source !== undefined) {
        await discoverSource(context, options);
        return;
      }
      if (options.sourceOption) throw new UsageError('--source-option needs --source NAME');
      const asOf = options.asOf ? parseInstant(options.asOf)?.date : context.clock();
      if (!asOf) throw new UsageError(`--as-of: expected a date such as 2026-12-31, got "${options.asOf}"`);
      const app = await openAppFor(context, options);
      try {
        const configured = app.configuredProviders();
        const wanted = options.provider ?? configured;
        const unknown = wanted.filter((name) => !configured.includes(name));
        if (unknown.length > 0) {
          throw new UsageError(
            `not configured: ${unknown.join(', ')}; configured providers: ${configured.join(', ') || '(none: set KEYLEDGER_PROVIDERS_FILE or providers: in keyledger.config.yaml)'}`,
          );
        }
        const progress = context.stderr.isTTY && !options.json;
        const discovery = await discoverKeys({
          providers: wanted.map((name) => ({ name, provider: () => app.provider(name) })),
          db: app.operational.db,
          clock: context.clock,
          ...(progress
            ? {
                onProgress: (name: string, n: number, done: boolean) =>
                  context.stderr.write(`\r${name}: ${n} keys${done ? '\n' : ''}`),
              }
            : {}),
        });
        const loaded = await loadRegistry({
          root: app.workspace.root,
          config: app.workspace.config,
          applyPolicy: false,
          includeEntries: true,
          useCallingThread: true,
          cache: true,
        });
        const policy = compilePolicy(app.workspace.config.policy, asOf, app.workspace.people);
        const usage = new AuditUsageStore(app.operational.db);
        const lastUseReported = new Set<string>();
        for (const result of discovery) {
          if (
            !result.error &&
            !result.unsupported &&
            !result.lastUseIncomplete &&
            app.provider(result.provider).capabilities().lastUsed
          )
            lastUseReported.add(result.provider);
        }
        const { keys, summary } = classifyKeys({
          entries: loaded.entries.map(({ entry }) => entry),
          discovered: await discoveredKeys(app.operational.db),
          completeProviders: new Set(
            discovery.filter((result) => !result.error && !result.unsupported).map((result) => result.provider),
          ),
          lastUseReported,
          ...(app.workspace.people ? { people: app.workspace.people } : {}),
          asOf,
          isBroadPermission: policy.isForbiddenPermission,
          lastUse: await usage.lastUseByKey(),
          callerTeams: await usage.teamsOfUnregisteredCredentials(),
        });
        const adoption = options.adopt
          ? await draftAdoptionBranch({
              root: app.workspace.root,
              keys: keys.filter((key) => key.classes.includes('unregistered')),
              now: asOf,
              env: context.env,
            })
          : undefined;
        if (options.json) {
          printJson(context, { discovery, summary, ...(adoption ? { adoption } : {}), keys });
          return;
        }
        const colors = palette(context);
        context.stdout.write(
          renderTable(
            ['PROVIDER', 'KEYS', 'NEW', 'GONE', 'SECONDS', 'STATUS'],
            discovery.map((result) => [
              result.provider,
              String(result.listed),
              String(result.new),
              String(result.gone),
              result.seconds.toFixed(1),
              result.unsupported
                ? 'no list API'
                : result.error
                  ? colors.red(`${result.error.code}: ${result.error.message}`)
                  : 'complete',
            ]),
          ),
        );
        context.stdout.write('\n');
        context.stdout.write(
          renderTable(
            ['CLASS', 'KEYS'],
            DRIFT_CLASSES.filter((cls) => summary.byClass[cls] > 0).map((cls) => [cls, String(summary.byClass[cls])]),
          ),
        );
        if (options.listKeys) {
          context.stdout.write('\n');
          context.stdout.write(
            renderTable(
              ['PROVIDER', 'KEY', 'CLASSES', 'OWNER EVIDENCE'],
              keys.map((key) => [
                key.provider,
                key.keyId ?? `${key.providerKeyId}${key.account ? ` (${key.account})` : ''}`,
                key.classes.join(', '),
                key.ownerEvidence?.because.join('; ') ?? '',
              ]),
            ),
          );
        }
        if (adoption) {
          context.stdout.write(
            `\nadoption: ${adoption.drafted} draft entries on branch ${adoption.branch} (${adoption.commits} commits); review and merge it to register them\n`,
          );
        }
        if (discovery.some((result) => result.error)) context.exitCode = 2;
      } finally {
        await app.close();
      }
    });
};

function parseSourceOptions(pairs: readonly string[]): Record<string, string> {
  const options: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--source-option takes key=value, got ${JSON.stringify(pair)}`);
    options[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return options;
}

async function discoverSource(context: Parameters<RegisterCommand>[1], options: DiscoverOptions): Promise<void> {
  const sourceOptions = parseSourceOptions(options.sourceOption ?? []);
  // Checked before anything opens: a misspelt option is an error, not an empty run.
  const source = await loadDiscoverySource(options.source!, sourceOptions);
  const app = await openAppFor(context, options);
  try {
    const loaded = await loadRegistry({
      root: app.workspace.root,
      config: app.workspace.config,
      applyPolicy: false,
      includeEntries: true,
      useCallingThread: true,
      cache: true,
    });
    const result = await observeSource({
      source,
      options: sourceOptions,
      env: context.env,
      entries: loaded.entries.map(({ entry }) => entry),
      fingerprintKey: app.fingerprintKey,
      db: app.operational.db,
      clock: context.clock,
    });
    const scope = observationScope(sourceOptions);
    const observations = (await keyObservations(app.operational.db, source.name)).filter((row) => row.scope === scope);
    if (options.json) {
      printJson(context, { source: result, observations });
    } else {
      const colors = palette(context);
      context.stdout.write(
        renderTable(
          ['SOURCE', 'OBSERVED', 'MATCHED', 'NEW', 'GONE', 'SECONDS', 'STATUS'],
          [
            [
              result.source,
              String(result.observed),
              String(result.matched),
              String(result.new),
              String(result.gone),
              result.seconds.toFixed(1),
              result.error ? colors.red(`${result.error.code}: ${result.error.message}`) : 'complete',
            ],
          ],
        ),
      );
      if (options.listKeys) {
        context.stdout.write('\n');
        context.stdout.write(
          renderTable(
            ['LOCATION', 'NAME', 'KEY', 'UPDATED', 'LAST USED'],
            observations.map((row) => [
              row.location,
              row.name,
              row.key_id ?? (row.principal ? `(${row.principal})` : ''),
              row.updated_at ?? '',
              row.last_used_at ?? '',
            ]),
          ),
        );
      }
    }
    if (result.error) context.exitCode = 2;
  } finally {
    await app.close();
  }
}
