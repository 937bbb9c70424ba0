// `keyledger token create|list`: API tokens for the HTTP API (src/server/auth/api-tokens.ts). A token is a registry
// key of the `internal` provider with a grant (team, role, scopes); `create` prints it once — it is never shown
// again — and it is listed, rotated, revoked and audited like any key (`keyledger revoke <key_id>` ends it).
import { UsageError } from '../../errors/keyledger-error.js';
import { ROLES, type Role } from '../../server/access.js';
import { API_TOKEN_SCOPES, ApiTokens } from '../../server/auth/api-tokens.js';
import { printJson } from '../cli-context.js';
import type { RegisterCommand } from '../command-table.js';
import { actorFor, addSharedOptions, openAppFor, type SharedOptions } from '../common-options.js';
import { parseDays } from '../option-parsers.js';
import { renderTable } from '../render/table.js';

interface TokenCreateOptions extends SharedOptions {
  team: string;
  role: string;
  scopes: string;
  expires: number;
  owner: string;
  justification?: string;
}

export const registerTokenCommand: RegisterCommand = (program, context) => {
  const token = program.command('token').description('API tokens for the HTTP API: create (shown once) and list');
  addSharedOptions(token.command('create'), {
    json: 'print {keyId, token, expiresAt, team, role, scopes} (the token, once)',
  })
    .description('create an API token: a registry key of the internal provider with a team, a role and scopes')
    .requiredOption('--team <team>', 'the team the token acts for (and its registry owner_team)')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .requiredOption('--owner <email>', 'the person who answers for the token (its owner_individual)')
    .option('--scopes <list>', `comma-separated, of ${API_TOKEN_SCOPES.join(', ')}`, 'keys:read')
    .option('--expires <duration>', 'lifetime: 90d, 12w, 6m, 1y', parseDays, 90)
    .option('--justification <text>', 'why broad scopes (`*`) are needed; the policy asks for one')
    .action(async (options: TokenCreateOptions) => {
      if (!(ROLES as readonly string[]).includes(options.role))
        throw new UsageError(`--role must be one of ${ROLES.join(', ')}; got "${options.role}"`);
      const scopes = options.scopes
        .split(',')
        .map((scope) => scope.trim())
        .filter(Boolean);
      const app = await openAppFor(context, options);
      try {
        const created = await new ApiTokens(app, context.clock).create({
          team: options.team,
          role: options.role as Role,
          scopes,
          expiresInDays: options.expires,
          owner: options.owner,
          ...(options.justification ? { justification: options.justification } : {}),
          actor: actorFor(context, options),
        });
        const shown = {
          keyId: created.keyId,
          token: created.token.reveal(),
          expiresAt: created.expiresAt,
          team: created.team,
          role: created.role,
          scopes: created.scopes,
        };
        if (options.json) {
          printJson(context, shown);
          return;
        }
        context.stdout.write(
          `Created API token ${shown.keyId} (${shown.role} of ${shown.team}; ${shown.scopes.join(', ')}; expires ${shown.expiresAt}).\n` +
            'The token is shown once, now — keep it in your secret manager:\n\n' +
            `  ${shown.token}\n\n` +
            `Use it as \`Authorization: Bearer <token>\`. End it with \`keyledger revoke ${shown.keyId}\`.\n`,
        );
      } finally {
        await app.close();
      }
    });

  addSharedOptions(token.command('list'), { json: 'print the grants as JSON' })
    .description('list API tokens and their grants (never the tokens)')
    .action(async (options: SharedOptions) => {
      const app = await openAppFor(context, options);
      try {
        const grants = await new ApiTokens(app, context.clock).list();
        if (options.json) {
          printJson(context, { tokens: grants });
          return;
        }
        if (grants.length > 0)
          context.stdout.write(
            renderTable(
              ['KEY_ID', 'TEAM', 'ROLE', 'SCOPES', 'CREATED', 'BY'],
              grants.map((grant) => [
                grant.keyId,
                grant.team,
                grant.role,
                grant.scopes.join(','),
                grant.createdAt.slice(0, 10),
                grant.createdBy,
              ]),
            ),
          );
        context.stdout.write(`${grants.length} API token(s)\n`);
      } finally {
        await app.close();
      }
    });
};
