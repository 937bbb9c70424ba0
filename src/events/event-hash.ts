// The hash that chains each event to the one before: SHA-256 over the canonical JSON of every field except the
// hash itself, so changing any of them (the sequence number included) changes it.
import { createHash } from 'node:crypto';
import { canonicalJson, type JsonObject } from './canonical-json.js';

/** The `prev_hash` of the first event. */
export const GENESIS_HASH = '0'.repeat(64);

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

/** Lower-case hex SHA-256 of canonical JSON of {seq, id, at, type, actor, key_id, data, prev_hash}. */
export function hashEvent(fields: ChainedEventFields): string {
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
  return createHash('sha256').update(canonicalJson(covered), 'utf8').digest('hex');
}
