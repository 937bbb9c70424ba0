// openKeyedEventLog as the app uses it: the chain key created in the data folder on first use (or not, for a
// command that must leave nothing behind), rows keyed, and the anchorer's last check on close.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { forEachBackend } from '../db/test-support/test-databases.js';
import { makeRegistry } from '../registry/test-support/registry-fixtures.js';
import { fixedClock } from '../runtime/clock.js';
import { latestEventAnchor } from './event-anchors.js';
import { eventChainKeyFile, openKeyedEventLog } from './keyed-event-log.js';

forEachBackend((backend) => {
  it('creates the chain key on first use, keys the rows and anchors on close', async () => {
    const { db } = await backend.sharedStore();
    await db.deleteFrom('events').execute();
    const dataDir = mkdtempSync(join(tmpdir(), 'keyledger-keyed-log-'));
    const repository = await makeRegistry({}, { git: true });
    const clock = fixedClock('2026-04-01T10:00:00.000Z');

    const readOnly = await openKeyedEventLog({ db, clock, env: {}, dataDir, repository, createKey: false });
    expect(readOnly).toMatchObject({ chainKey: null, anchorer: null });
    expect(existsSync(eventChainKeyFile(dataDir))).toBe(false);

    const { events, chainKey, anchorer } = await openKeyedEventLog({ db, clock, env: {}, dataDir, repository });
    expect(chainKey?.version).toBe('v1');
    expect(existsSync(eventChainKeyFile(dataDir))).toBe(true);
    const event = await events.append({ type: 'issued', actor: 'alice' });
    expect(event.hash).toMatch(/^hmac-sha256:v1:/);
    await anchorer?.close();
    expect(await latestEventAnchor(repository)).toMatchObject({ seq: 1, hash: event.hash });
    // The keyless log opened before the key existed cannot downgrade the keyed one now.
    await expect(readOnly.events.append({ type: 'issued', actor: 'mallory' })).rejects.toMatchObject({
      code: 'E_EVENT_CHAIN_KEY',
    });
  });
});
