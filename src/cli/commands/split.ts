// `keyledger split KEY_ID [--dry-run]`: one key per team that consumes a shared key, each team's consumers moved to
// their own key and confirmed on it, then the shared key revoked (src/lifecycle/key-split.ts). `--dry-run` prints
// the plan; a split that stops part-way is resumed by running the same command again.

import { UsageError } from '../../errors/keyledger-error.js';
import { KeySplitter, type SplitResult } from '../../lifecycle/key-split.js';
import { createConsumerConfirmers } from '../../lifecycle/rotation/consumers/consumer-confirmer-table.js';
import { printJson } from '../cli-context.js';
import type { RegisterCommand } from '../command-table.js';
import { actorFor, addSharedOptions, openAppFor, type SharedOptions } from '../common-options.js';
import { renderTable } from '../render/table.js';

interface SplitOptions extends SharedOptions {
  dryRun?: boolean;
  owner?: string[];
  confirmTimeout?: string;
}

export const registerSplitCommand: RegisterCommand = (program, context) => {
  addSharedOptions(program.command('split'))
    .description(
      'give each team that consumes a shared key its own key, move its consumers to it, then revoke the shared key (run again to resume)',
    )
    .argument('<key_id>', 'the shared key, as the registry names it')
    .option('--dry-run', 'print the plan: the teams, their new keys and consumers; change nothing')
    .option('--owner <team=email...>', "the owner of a team's new key (default: the shared key's owner)")
    .option('--confirm-timeout <seconds>', "how long each team's consumers get to report their new key", '900')
    .action(async (keyId: string, options: SplitOptions) => {
      const owners: Record<string, string> = {};
      for (const pair of options.owner ?? []) {
        const at = pair.indexOf('=');
        if (at <= 0) throw new UsageError(`--owner takes team=email, got ${JSON.stringify(pair)}`);
        owners[pair.slice(0, at)] = pair.slice(at + 1);
      }
      const timeoutSeconds = Number(options.confirmTimeout);
      if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0)
        throw new UsageError('--confirm-timeout takes a number of seconds');
      const app = await openAppFor(context, options);
      try {
        const splitter = new KeySplitter({
          db: app.operational.db,
          writer: app.writer,
          issuer: app.issuer(),
          revoker: app.revoker(),
          providers: (name) => app.provider(name),
          stores: (name) => app.secretStore(name),
          confirmers: createConsumerConfirmers({ clock: context.clock, env: context.env }),
          clock: context.clock,
          confirmTimeoutMs: timeoutSeconds * 1000,
          owners,
        });
        const result = await splitter.split(keyId, {
          actor: actorFor(context, options),
          ...(options.dryRun ? { dryRun: true } : {}),
        });
        if (options.json) printJson(context, result);
        else context.stdout.write(render(result));
      } finally {
        await app.close();
      }
    });
};

function render(result: SplitResult): string {
  const table = renderTable(
    ['TEAM', 'NEW KEY', 'OWNER', 'CONSUMERS', 'STATE'],
    result.teams.map((team) => [team.team, team.newKeyId, team.owner, team.consumers.join(', '), team.state]),
  );
  const tail = result.dryRun
    ? `\ndry run: nothing changed; \`keyledger split ${result.sharedKeyId}\` does the above, then revokes ${result.sharedKeyId}\n`
    : result.revoked
      ? `\n${result.sharedKeyId} split into ${result.teams.length} keys and revoked${result.resumed ? ' (resumed)' : ''}\n`
      : '\n';
  return `${table}${tail}`;
}
