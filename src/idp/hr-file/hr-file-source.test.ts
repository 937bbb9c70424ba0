// The HR file as a source, fed into the directory on both engines: `left` is a dated departure, a re-run adds
// nothing, and a stale `active` row never brings back someone a provider deprovisioned.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { forEachBackend } from '../../db/test-support/test-databases.js';
import { DirectoryStore } from '../../directory/directory-store.js';
import { fixedClock } from '../../runtime/clock.js';
import { createIdentitySource } from '../identity-source-table.js';

async function peopleFile(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'keyledger-hr-'));
  await writeFile(join(dir, 'people.csv'), text);
  return dir;
}

const CSV = `email,name,team,status,left_at
ada@example.com,Ada,platform,active,
bob@example.com,Bob,payments,left,2026-10-01
okta-gone@example.com,Gone,data,active,
`;

forEachBackend((backend) => {
  it('feeds the people file into the directory through the source table', async () => {
    const store = await backend.open();
    const clock = fixedClock('2026-12-07T10:00:00.000Z');
    const directory = new DirectoryStore({ db: store.db, clock });
    const departed: string[] = [];
    directory.onDeparture(async (person) => {
      departed.push(person.email);
    });
    // Okta said this person left before the HR export was next read.
    await directory.apply({
      signalId: 'okta:1',
      source: 'okta',
      email: 'okta-gone@example.com',
      status: 'deprovisioned',
      at: '2026-12-06T00:00:00Z',
    });
    const cwd = await peopleFile(CSV);
    const source = createIdentitySource('hr-file', { file: 'people.csv' }, { env: {}, cwd, clock, db: store.db });
    const listed = [];
    for await (const person of source.listPeople()) listed.push(person);
    expect(listed.find((person) => person.email === 'bob@example.com')).toMatchObject({
      status: 'deprovisioned',
      statusChangedAt: '2026-10-01T00:00:00.000Z',
      source: 'hr-file',
    });

    const { syncHrFile } = await import('./hr-file-source.js');
    expect(await syncHrFile(source, directory, clock)).toEqual({ people: 3, departed: 1 });
    expect(await syncHrFile(source, directory, clock)).toEqual({ people: 3, departed: 0 });
    expect(departed).toEqual(['okta-gone@example.com', 'bob@example.com']);
    expect((await directory.find('okta-gone@example.com'))?.status).toBe('deprovisioned');
    expect(await directory.find('ada@example.com')).toMatchObject({ status: 'active', team: 'platform' });
    expect(await directory.find('bob@example.com')).toMatchObject({
      status: 'deprovisioned',
      statusChangedAt: '2026-10-01T00:00:00.000Z',
    });
  });

  it('names the missing option and unknown sources as configuration errors', async () => {
    const store = await backend.open();
    const context = { env: {}, cwd: tmpdir(), clock: fixedClock('2026-12-07T10:00:00Z'), db: store.db };
    expect(() => createIdentitySource('hr-file', {}, context)).toThrow(/needs `file`/);
    expect(() => createIdentitySource('ldap', {}, context)).toThrow(
      /unknown identity source "ldap"; one of hr-file, scim/,
    );
  });
});
