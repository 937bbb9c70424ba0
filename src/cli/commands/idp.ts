// `keyledger idp token create --source scim|okta-event-hook`: makes the secret an identity provider presents to
// us (the SCIM bearer token; the Okta event hook's Authorization header value), prints it once, and keeps only its
// SHA-256 (src/directory/idp-credentials.ts), with an `idp-token-created` event. A new token replaces the old one at once: configure the provider
// right after running it.
import { createIdpCredential, IDP_CREDENTIAL_NAMES } from '../../directory/idp-credentials.js';
import { UsageError } from '../../errors/keyledger-error.js';
import { printJson } from '../cli-context.js';
import type { RegisterCommand } from '../command-table.js';
import { actorFor, addSharedOptions, openAppFor, type SharedOptions } from '../common-options.js';

export const registerIdpCommand: RegisterCommand = (program, context) => {
  const idp = program.command('idp').description('identity-provider integrations (SCIM, Okta event hooks)');
  const token = idp.command('token').description("the secrets identity providers present to keyledger's server");
  addSharedOptions(token.command('create'), { json: 'print {source, token, createdAt} as JSON (errors too)' })
    .description('make a new secret for an integration, print it once, keep only its SHA-256')
    .requiredOption('--source <integration>', `which integration: ${IDP_CREDENTIAL_NAMES.join(', ')}`)
    .action(async (options: SharedOptions & { source: string }) => {
      if (!(IDP_CREDENTIAL_NAMES as readonly string[]).includes(options.source)) {
        throw new UsageError(`--source must be one of ${IDP_CREDENTIAL_NAMES.join(', ')}, got "${options.source}"`);
      }
      const app = await openAppFor(context, options);
      try {
        const actor = actorFor(context, options);
        const created = await createIdpCredential(app.operational.db, options.source, { clock: context.clock, actor });
        // The event names the integration, never the token.
        await app.events.append({ type: 'idp-token-created', actor, data: { source: options.source } });
        if (options.json) {
          printJson(context, { source: options.source, token: created.secret, createdAt: created.createdAt });
          return;
        }
        const where =
          options.source === 'scim'
            ? 'the SCIM bearer token (Okta: "API Token"; Entra: "Secret Token")'
            : "the event hook's Authorization header value in Okta";
        context.stdout.write(
          `${created.secret}\n\nThis is ${where}. It is shown once and kept only as a hash; a new one replaces it.\n`,
        );
      } finally {
        await app.close();
      }
    });
};
