// The kinds of event the log records. A known list for the actions keyledger itself takes, open to extension: any
// lower-case dotted or snake_case name is accepted, so an adapter can log `vault.lease_renewed` without a change here.

export const KNOWN_EVENT_TYPES = [
  'issued',
  'stored',
  'registered',
  'verified',
  'rotation_started',
  'rotated',
  'rotation_failed',
  'rolled_back',
  'revoked',
  'reassigned',
  'offboarded',
  'expired',
  'finding',
  'login',
  'event_chain.keyed',
] as const;

/** The row that switches a log begun with plain SHA-256 rows to HMAC'd ones (src/events/event-log.ts). */
export const EVENT_CHAIN_KEYED_TYPE = 'event_chain.keyed';

export type KnownEventType = (typeof KNOWN_EVENT_TYPES)[number];

/** A known type, or any other name of the same shape (`string & {}` keeps editor completion for the known ones). */
export type EventType = KnownEventType | (string & {});

const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9]*(?:[._:-][a-z0-9]+)*$/;
export const MAX_EVENT_TYPE_LENGTH = 64;

export function isKnownEventType(type: string): type is KnownEventType {
  return (KNOWN_EVENT_TYPES as readonly string[]).includes(type);
}

/** True for a name the log accepts: lower case letters and digits, joined by `.`, `_`, `:` or `-`. */
export function isValidEventType(type: string): boolean {
  return type.length <= MAX_EVENT_TYPE_LENGTH && EVENT_TYPE_PATTERN.test(type);
}
