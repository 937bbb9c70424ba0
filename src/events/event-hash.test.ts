// The appender's hash (chainHashOfCanonicalData, the covered text put together around the data's canonical text)
// must equal the verifier's (chainHash, canonical JSON of every field), keyed and plain, for any data an event can
// hold: otherwise every appended row would fail `keyledger events verify`.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, type JsonObject } from './canonical-json.js';
import type { EventChainKey } from './event-chain-key.js';
import { type ChainedEventFields, chainHash, chainHashOfCanonicalData, GENESIS_HASH } from './event-hash.js';

const KEY: EventChainKey = { version: 'v1', key: randomBytes(32) };

const DATA: JsonObject[] = [
  {},
  { kind: 'unexpected-source', provider: 'aws-iam', credential: 'AKIA0001', source: '10.1.2.3', first_at: 'x' },
  { zeta: 1, alpha: [1, 2.5, -0, 1e21, null, true], nested: { b: 'two', a: { c: [] } } },
  { é: 'ü\u2028\u0000"\\', '\ud83d\ude00': 'emoji key', Z: 'upper sorts before lower', '': 'empty key' },
  { detail: 'a "quoted"\nline', count: 175_000, ratio: 0.1 + 0.2 },
];

describe('chainHashOfCanonicalData', () => {
  for (const [i, data] of DATA.entries()) {
    for (const chainKey of [null, KEY]) {
      it(`hashes data ${i} ${chainKey ? 'keyed' : 'plain'} exactly as chainHash does`, () => {
        const fields: ChainedEventFields = {
          seq: 12_345 + i,
          id: `0e7d1c5a-0000-4000-8000-00000000000${i}`,
          at: '2026-12-07T17:00:00.000Z',
          type: 'audit.anomaly',
          actor: i % 2 ? 'system:audit-log-ingest' : 'ann "the admin" <ann@example.com>',
          key_id: i % 2 ? `payments-aws-00${i}` : null,
          data,
          prev_hash: i === 0 ? GENESIS_HASH : 'ab'.repeat(32),
        };
        const { data: _data, ...rest } = fields;
        expect(chainHashOfCanonicalData(rest, canonicalJson(data), chainKey)).toBe(chainHash(fields, chainKey));
      });
    }
  }
});
