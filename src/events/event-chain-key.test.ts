// Loading the event chain key: created once with mode 0600, read back, taken from the environment, never created
// by a reader, and refused with E_EVENT_CHAIN_KEY (naming the source, not the text) when malformed.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { EVENT_CHAIN_KEY_VARIABLE, loadEventChainKey } from './event-chain-key.js';

const folder = () => mkdtempSync(join(tmpdir(), 'keyledger-chain-key-'));

it('creates the key file with mode 0600 on first use and reads the same key back', async () => {
  const keyFile = join(folder(), 'nested', 'event-chain.key');
  expect(await loadEventChainKey({ env: {}, keyFile, create: false })).toBeNull();
  const created = await loadEventChainKey({ env: {}, keyFile });
  expect(created?.version).toBe('v1');
  expect(created?.key.length).toBe(32);
  expect(statSync(keyFile).mode & 0o777).toBe(0o600);
  expect(readFileSync(keyFile, 'utf8')).toMatch(/^v1:[A-Za-z0-9+/]+=*\n$/);
  const again = await loadEventChainKey({ env: {}, keyFile });
  expect(again?.key.equals(created?.key as Buffer)).toBe(true);
});

it('prefers KEYLEDGER_EVENT_CHAIN_KEY, with an optional version label, and creates no file then', async () => {
  const keyFile = join(folder(), 'event-chain.key');
  const hex = 'ab'.repeat(32);
  const fromEnv = await loadEventChainKey({ env: { [EVENT_CHAIN_KEY_VARIABLE]: `k2:${hex}` }, keyFile });
  expect(fromEnv).toEqual({ version: 'k2', key: Buffer.from(hex, 'hex') });
  expect(() => statSync(keyFile)).toThrow();
});

it('refuses a short or mislabelled key without echoing it', async () => {
  const keyFile = join(folder(), 'event-chain.key');
  writeFileSync(keyFile, 'v1:c2hvcnQ=\n');
  await expect(loadEventChainKey({ env: {}, keyFile })).rejects.toMatchObject({
    code: 'E_EVENT_CHAIN_KEY',
    message: expect.stringContaining('at least 32 bytes'),
  });
  const secretish = `BAD LABEL:${'cd'.repeat(32)}`;
  const refused = await loadEventChainKey({ env: { [EVENT_CHAIN_KEY_VARIABLE]: secretish }, keyFile }).catch(
    (error: Error) => error,
  );
  expect(refused).toMatchObject({ code: 'E_EVENT_CHAIN_KEY' });
  expect((refused as Error).message).not.toContain('cdcd');
});
