// The Bitwarden source on an export shaped as `bw export --format json` writes it (fields as Bitwarden's
// "Export vault data" help page lists them; values made up).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { observeAll, summarise } from '../test-support/discovery-source-harness.js';
import { bitwardenJsonDiscoverySource } from './bitwarden-discovery-source.js';

const TWILIO = 'SKCANARYbitwarden000000000000000:CANARYsecretbw';
const SENDGRID = 'SG.CANARYbitwarden.1111111111111111111111111111111111111111';

function exportFile(body: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'keyledger-bw-')), 'bitwarden_export.json');
  writeFileSync(file, JSON.stringify(body));
  return file;
}

describe('bitwarden-json discovery source', () => {
  it('matches passwords, hidden fields and notes by fingerprint and never reports a value', async () => {
    const file = exportFile({
      encrypted: false,
      folders: [{ id: 'f1', name: 'Platform' }],
      items: [
        {
          id: 'i1',
          organizationId: null,
          folderId: 'f1',
          type: 1,
          reprompt: 0,
          name: 'Twilio prod',
          notes: null,
          favorite: false,
          login: {
            uris: [{ match: null, uri: 'https://console.twilio.com' }],
            username: 'ops',
            password: TWILIO,
            totp: null,
          },
          collectionIds: null,
          revisionDate: '2026-03-01T10:00:00.000Z',
          creationDate: '2025-11-20T09:30:00.000Z',
        },
        {
          id: 'i2',
          folderId: null,
          type: 2,
          name: 'mail notes',
          notes: SENDGRID,
          secureNote: { type: 0 },
          fields: [
            { name: 'region', value: 'eu', type: 0, linkedId: null },
            { name: 'backup', value: 'not-registered', type: 1, linkedId: null },
          ],
          revisionDate: '2026-01-01T00:00:00.000Z',
          creationDate: '2026-01-01T00:00:00.000Z',
        },
      ],
    });
    const seen = await observeAll(
      bitwardenJsonDiscoverySource,
      { file },
      { 'ops-twilio': TWILIO, 'mail-sendgrid': SENDGRID },
    );
    expect(summarise(seen)).toEqual([
      'Platform/Twilio prod password -> ops-twilio',
      'mail notes field:backup -> -',
      'mail notes notes -> mail-sendgrid',
    ]);
    expect(seen.find((o) => o.name === 'password')).toMatchObject({
      createdAt: '2025-11-20T09:30:00.000Z',
      updatedAt: '2026-03-01T10:00:00.000Z',
    });
  });

  it('refuses an encrypted export and a file that is not one, naming the file only', async () => {
    await expect(
      observeAll(bitwardenJsonDiscoverySource, {
        file: exportFile({ encrypted: true, encKeyValidation_DO_NOT_EDIT: 'x' }),
      }),
    ).rejects.toThrow(/encrypted export/);
    const broken = exportFile({});
    writeFileSync(broken, `{"items":[{"login":{"password":"${TWILIO}"`);
    const failure = observeAll(bitwardenJsonDiscoverySource, { file: broken });
    await expect(failure).rejects.toThrow(/not a Bitwarden JSON export/);
    await expect(failure).rejects.not.toThrow(TWILIO.slice(0, 10));
  });
});
