// The hash that chains each event to the one before, over the canonical JSON of every field except the hash itself,
// so changing any of them (the sequence number included) changes it. Keyed rows carry HMAC-SHA256 under the chain
// key (event-chain-key.ts), written `hmac-sha256:<key version>:<hex>`; rows written before a log was keyed carry
// plain SHA-256 as 64 hex digits, which anyone who can write the table can recompute.
import { createHash, createHmac } from 'node:crypto';
import { canonicalJson, type JsonObject } from './canonical-json.js';
import type { EventChainKey } from './event-chain-key.js';

/** The `prev_hash` of the first event. */
export const GENESIS_HASH = '0'.repeat(64);

export const KEYED_HASH_PREFIX = 'hmac-sha256:';

export interface ChainedEventFields {
  seq: number;
  id: string;
  at: string;
  type: string;
  actor: string;
  key_id: string | null;
  data: JsonObject;
  prev_hash: string;
}

/** How a stored hash was made: plain SHA-256, HMAC under the named key version, or neither form. */
export type ChainHashForm = { kind: 'plain' } | { kind: 'keyed'; version: string } | { kind: 'unknown' };

const PLAIN_HASH_PATTERN = /^[0-9a-f]{64}$/;
const KEYED_HASH_PATTERN = /^hmac-sha256:([a-z0-9][a-z0-9-]{0,15}):[0-9a-f]{64}$/;

export function chainHashForm(hash: string): ChainHashForm {
  if (PLAIN_HASH_PATTERN.test(hash)) return { kind: 'plain' };
  const keyed = KEYED_HASH_PATTERN.exec(hash);
  return keyed ? { kind: 'keyed', version: keyed[1] as string } : { kind: 'unknown' };
}

/** True for a hash as a row, an anchor or `--anchor SEQ:HASH` may hold. */
export function isChainHash(hash: string): boolean {
  return chainHashForm(hash).kind !== 'unknown';
}

/** Lower-case hex SHA-256 of canonical JSON of {seq, id, at, type, actor, key_id, data, prev_hash}. */
export function hashEvent(fields: ChainedEventFields): string {
  return createHash('sha256').update(coveredText(fields), 'utf8').digest('hex');
}

/** `hmac-sha256:<version>:<hex>`: HMAC-SHA256 under the chain key of the same canonical JSON as hashEvent. */
export function keyedHashEvent(fields: ChainedEventFields, chainKey: EventChainKey): string {
  const digest = createHmac('sha256', chainKey.key).update(coveredText(fields), 'utf8').digest('hex');
  return `${KEYED_HASH_PREFIX}${chainKey.version}:${digest}`;
}

/** The keyed hash when a key is given, the plain one otherwise. */
export function chainHash(fields: ChainedEventFields, chainKey: EventChainKey | null): string {
  return chainKey ? keyedHashEvent(fields, chainKey) : hashEvent(fields);
}

/**
 * The same hash as chainHash for an event whose data is given as its canonical JSON text (what the log stores):
 * the covered text is put together around that text instead of writing the data a second time, which was the
 * larger part of appending an event (docs/audit.md, "Performance"). `dataText` must be canonicalJson of the data.
 */
export function chainHashOfCanonicalData(
  fields: Omit<ChainedEventFields, 'data'>,
  dataText: string,
  chainKey: EventChainKey | null,
): string {
  // The keys in canonicalJson's order (sorted by UTF-16 code units), each value as it writes them.
  const text =
    `{"actor":${JSON.stringify(fields.actor)},"at":${JSON.stringify(fields.at)},"data":${dataText},` +
    `"id":${JSON.stringify(fields.id)},"key_id":${fields.key_id === null ? 'null' : JSON.stringify(fields.key_id)},` +
    `"prev_hash":${JSON.stringify(fields.prev_hash)},"seq":${JSON.stringify(fields.seq)},"type":${JSON.stringify(fields.type)}}`;
  if (!chainKey) return createHash('sha256').update(text, 'utf8').digest('hex');
  const digest = createHmac('sha256', chainKey.key).update(text, 'utf8').digest('hex');
  return `${KEYED_HASH_PREFIX}${chainKey.version}:${digest}`;
}

function coveredText(fields: ChainedEventFields): string {
  const covered: ChainedEventFields = {
    seq: fields.seq,
    id: fields.id,
    at: fields.at,
    type: fields.type,
    actor: fields.actor,
    key_id: fields.key_id,
    data: fields.data,
    prev_hash: fields.prev_hash,
  };
  return canonicalJson(covered);
}
