// `keyledger discover`: lists every key each configured provider holds (src/audit/key-discovery.ts), records them,
// and classifies every key against the registry (src/audit/drift-classification.ts): healthy, unregistered, gone
// at the provider, owner left, no clear owner, shared, broad scope, unused, never used, overdue, expired.
// `--adopt` drafts entries for the unregistered keys on a branch of the registry for a person to confirm.
import { AuditUsageStore } from '../../audit/audit-usage-store.js';
import { classifyKeys, DRIFT_CLASSES } from '../../audit/drift-classification.js';
import { draftAdoptionBranch } from '../../audit/key-adoption.js';
import { discoveredKeys, discoverKeys } from '../../audit/key-discovery.js';
import { UsageError } from '../../errors/keyledger-error.js';
import { compilePolicy } from '../../registry/policy/policy-engine.js';
import { loadRegistry } from '../../registry/registry-loader.js';
import { palette, printJson } from '../cli-context.js';
import type { RegisterCommand } from '../command-table.js';
import { addSharedOptions, openAppFor, type SharedOptions } from '../common-options.js';
import { renderTable } from '../render/table.js';

interface DiscoverOptions extends SharedOptions {
  provider?: string[];
  adopt?: boolean;
  listKeys?: boolean;
}

export const registerDiscoverCommand: RegisterCommand = (program, context) => {
  addSharedOptions(program.command('discover'))
    .description('list every key the configured providers hold, record it, and classify it against the registry')
    .option('--provider <name...>', 'only these providers (default: every configured one)')
    .option('--adopt', 'draft registry entries for unregistered keys on a branch, for a person to confirm')
    .option('--list-keys', 'print every classified key, not only the counts')
    .action(async (options: DiscoverOptions) => {
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
        });
        const asOf = context.clock();
        const policy = compilePolicy(app.workspace.config.policy, asOf, app.workspace.people);
        const lastUseReported = new Set<string>();
        for (const result of discovery) {
          if (!result.error && !result.unsupported && app.provider(result.provider).capabilities().lastUsed)
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
          lastUse: await new AuditUsageStore(app.operational.db).lastUseByKey(),
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
