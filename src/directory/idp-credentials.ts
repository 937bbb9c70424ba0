// The secrets identity providers present to us: the SCIM bearer token, the Okta event hook's Authorization
// header value. Created by `keyledger idp token create` (src/cli/commands/idp.ts), printed once, stored only as a
// SHA-256 (the secret is 256 random bits, so a plain hash is enough: nothing to brute-force); checked in constant
// time by the SCIM and event-hook modules (src/idp/scim/, src/idp/okta-event-hook/).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { OperationalSchema } from '../db/operational-schema.js';
import { UsageError } from '../errors/keyledger-error.js';
import type { Clock } from '../runtime/clock.js';

/** The integrations that authenticate with a secret of ours. */
export const IDP_CREDENTIAL_NAMES = ['scim', 'okta-event-hook'] as const;
export type IdpCredentialName = (typeof IDP_CREDENTIAL_NAMES)[number];

export function isIdpCredentialName(name: string): name is IdpCredentialName {
  return (IDP_CREDENTIAL_NAMES as readonly string[]).includes(name);
}

/** A new secret for `name`, replacing any earlier one; returns it (the only time it exists outside the caller). */
export async function createIdpCredential(
  db: Kysely<OperationalSchema>,
  name: string,
  options: { clock: Clock; actor: string },
): Promise<{ secret: string; createdAt: string }> {
  if (!isIdpCredentialName(name)) {
    throw new UsageError(`unknown identity-provider integration "${name}"; one of ${IDP_CREDENTIAL_NAMES.join(', ')}`);
  }
  const secret = `kl_idp_${randomBytes(32).toString('base64url')}`;
  const createdAt = options.clock().toISOString();
  const row = { name, secret_sha256: sha256Hex(secret), created_at: createdAt, created_by: options.actor };
  await db
    .insertInto('idp_credentials')
    .values(row)
    .onConflict((conflict) =>
      conflict.column('name').doUpdateSet({
        secret_sha256: row.secret_sha256,
        created_at: row.created_at,
        created_by: row.created_by,
      }),
    )
    .execute();
  return { secret, createdAt };
}

/** Whether `presented` is the current secret of `name`; false when none was created. Constant time in the secret. */
export async function verifyIdpCredential(
  db: Kysely<OperationalSchema>,
  name: IdpCredentialName,
  presented: string,
): Promise<boolean> {
  const row = await db
    .selectFrom('idp_credentials')
    .select('secret_sha256')
    .where('name', '=', name)
    .executeTakeFirst();
  const presentedHash = Buffer.from(sha256Hex(presented), 'hex');
  // Compared whether or not a secret exists, so the answer's timing says nothing either way.
  const storedHash = Buffer.from(row?.secret_sha256 ?? '0'.repeat(64), 'hex');
  return timingSafeEqual(presentedHash, storedHash) && row !== undefined;
}

export async function idpCredentialExists(db: Kysely<OperationalSchema>, name: IdpCredentialName): Promise<boolean> {
  return (
    (await db.selectFrom('idp_credentials').select('name').where('name', '=', name).executeTakeFirst()) !== undefined
  );
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
