// The dotenv source on a real folder: nested .env files found, node_modules and .git skipped, values matched by
// fingerprint and never reported.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { observeAll, summarise } from '../test-support/discovery-source-harness.js';
import { dotenvDiscoverySource, parseDotenv } from './dotenv-discovery-source.js';

const STRIPE = 'sk_live_CANARYdotenv0000000000000000';
const OPENAI = 'sk-proj-CANARYdotenv11111111111111';

describe('dotenv discovery source', () => {
  it('parses export prefixes, quotes and comments', () => {
    expect(
      parseDotenv('export A=1\nB="two words"\nC=\'single\' \nD=plain # comment\n# E=ignored\nF=\nG="a\\nb"\n'),
    ).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: 'two words' },
      { name: 'C', value: 'single' },
      { name: 'D', value: 'plain' },
      { name: 'G', value: 'a\nb' },
    ]);
  });

  it('reports registered keys by fingerprint and secret-named variables, skipping node_modules and .git', async () => {
    const root = mkdtempSync(join(tmpdir(), 'keyledger-dotenv-'));
    mkdirSync(join(root, 'services/billing'), { recursive: true });
    mkdirSync(join(root, 'node_modules/pkg'), { recursive: true });
    mkdirSync(join(root, '.git'), { recursive: true });
    writeFileSync(join(root, '.env'), `PAYMENTS=${STRIPE}\nLOG_LEVEL=debug\n`);
    writeFileSync(join(root, 'services/billing/.env.production'), `OPENAI_API_KEY="${OPENAI}"\nDB_PASSWORD=hunter2\n`);
    writeFileSync(join(root, 'node_modules/pkg/.env'), `X=${STRIPE}\n`);
    writeFileSync(join(root, '.git/.env'), `X=${STRIPE}\n`);
    writeFileSync(join(root, 'README.md'), `X=${STRIPE}\n`);
    const seen = await observeAll(
      dotenvDiscoverySource,
      { path: root },
      { 'payments-stripe': STRIPE, 'ml-openai': OPENAI },
    );
    expect(summarise(seen)).toEqual([
      '.env PAYMENTS -> payments-stripe',
      'services/billing/.env.production DB_PASSWORD -> -',
      'services/billing/.env.production OPENAI_API_KEY -> ml-openai',
    ]);
    expect(seen.every((o) => o.updatedAt !== undefined)).toBe(true);
  });
});
