// `keyledger revoke KEY_ID`: revoke a key at its provider, delete its secret, mark it revoked in the registry and
// log the event, as one unit (src/lifecycle/key-revocation.ts): everything checkable is checked first, and a revoke
// that stops half-way stays pending until the same command or `keyledger revoke --resume` finishes it.
import { UsageError } from '../../errors/keyledger-error.js';
import type { RevokedKey } from '../../lifecycle/key-revocation.js';
import { printJson } from '../cli-context.js';
import type { RegisterCommand } from '../command-table.js';
import { actorFor, addSharedOptions, openAppFor, type SharedOptions } from '../common-options.js';
import { EXIT_ERROR, errorJson } from '../exit-codes.js';

interface RevokeOptions extends SharedOptions {
  reason?: string;
  keepSecret?: boolean;
  resume?: boolean;
}

export const registerRevokeCommand: RegisterCommand = (program, context) => {
  addSharedOptions(program.command('revoke'))
    .description(
      'revoke a key at its provider, delete its secret, mark it revoked in the registry, log the event; --resume finishes revokes left pending',
    )
    .argument('[key_id]', 'the registry key_id')
    .option('--reason <text>', 'why, for the commit and the event log')
    .option('--keep-secret', 'leave the secret in its store (forensics)')
    .option('--resume', 'finish every revoke a failure or a crash left pending in the journal')
    .action(async (keyId: string | undefined, options: RevokeOptions) => {
      if ((keyId === undefined) === (options.resume !== true))
        throw new UsageError('give a KEY_ID to revoke, or --resume to finish the revokes left pending');
      if (options.resume && (options.reason || options.keepSecret))
        throw new UsageError('--resume finishes revokes as they were started: drop --reason and --keep-secret');
      const app = await openAppFor(context, options);
      try {
        const revoker = app.revoker();
        if (options.resume) {
          const { finished, failed } = await revoker.resumeAll();
          if (failed.length > 0) context.exitCode = EXIT_ERROR;
          if (options.json) {
            printJson(context, {
              finished,
              failed: failed.map(({ keyId: failedKey, error }) => ({ keyId: failedKey, ...errorJson(error) })),
            });
            return;
          }
          if (finished.length === 0 && failed.length === 0)
            context.stdout.write('Nothing to resume: no revoke is pending.\n');
          for (const revoked of finished) printRevoked(revoked);
          for (const failure of failed) context.stdout.write(`${failure.keyId}: ${failure.error.message}\n`);
          return;
        }
        const revoked = await revoker.revoke({
          keyId: keyId!,
          actor: actorFor(context, options),
          ...(options.reason ? { reason: options.reason } : {}),
          ...(options.keepSecret ? { keepSecret: true } : {}),
        });
        if (options.json) printJson(context, revoked);
        else printRevoked(revoked);
      } finally {
        await app.close();
      }
    });

  function printRevoked(revoked: RevokedKey): void {
    context.stdout.write(`${revoked.resumed ? 'Finished revoking' : 'Revoked'} ${revoked.keyId}\n`);
    for (const step of revoked.steps) context.stdout.write(`  - ${step}\n`);
  }
};
