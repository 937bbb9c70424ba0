// Reading fields out of a parsed audit-log record that nobody validated: every accessor returns undefined rather
// than throwing on a missing or wrongly typed field, so a hostile or half-written record can only be skipped.
import { isIP } from 'node:net';

export type JsonRecord = Record<string, unknown>;

/**
 * The value at a dotted path (`protoPayload.authenticationInfo.principalEmail`); own properties only. A key that
 * holds the dots itself wins (GitLab's `api_json.log` writes `"meta.user"`, flattened exports `"metadata.api_key.id"`).
 */
export function fieldAt(record: unknown, path: string): unknown {
  if (typeof record === 'object' && record !== null && Object.hasOwn(record, path)) return (record as JsonRecord)[path];
  let value: unknown = record;
  for (const part of partsOf(path)) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    if (!Object.hasOwn(value, part)) return undefined;
    value = (value as JsonRecord)[part];
  }
  return value;
}

/** Readers ask for the same few paths for every record: each is split once. */
const pathParts = new Map<string, readonly string[]>();
function partsOf(path: string): readonly string[] {
  let parts = pathParts.get(path);
  if (!parts) {
    parts = path.split('.');
    // Paths come from readers and mappings (a handful), but a mapping is user input: keep the memo bounded.
    if (pathParts.size >= 1024) pathParts.clear();
    pathParts.set(path, parts);
  }
  return parts;
}

/** A non-empty string at `path` (numbers are turned into their decimal text: ids are often numeric). */
export function textAt(record: unknown, path: string): string | undefined {
  const value = fieldAt(record, path);
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

export function objectAt(record: unknown, path: string): JsonRecord | undefined {
  const value = fieldAt(record, path);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonRecord) : undefined;
}

/** An IP address, or undefined for anything else (service names, `private`, `gce-internal-ip`). */
export function ipAt(record: unknown, path: string): string | undefined {
  const value = textAt(record, path);
  return value !== undefined && isIP(value) !== 0 ? value : undefined;
}

/**
 * A timestamp as ISO-8601 UTC: ISO strings (any number of fraction digits, as GCP writes nanoseconds), or epoch
 * numbers in seconds or milliseconds (GitHub writes ms, OpenAI seconds), or their decimal text.
 */
export function timestampAt(record: unknown, path: string): string | undefined {
  const value = fieldAt(record, path);
  if (typeof value !== 'string') return timestampOf(value);
  // A log's records share their timestamps (a second, an hour), and the regex, Date.parse and toISOString behind
  // each were the largest share of a reader's time: the same text gives the same answer, so it is kept.
  const known = recentTimestamps.get(value);
  if (known !== undefined || recentTimestamps.has(value)) return known;
  if (recentTimestamps.size >= RECENT_TIMESTAMPS) recentTimestamps.clear();
  const parsed = timestampOf(value);
  recentTimestamps.set(value, parsed);
  return parsed;
}

/** Bound of the timestamp memo: cleared whole when full, so memory stays constant whatever the input. */
const RECENT_TIMESTAMPS = 4096;
const recentTimestamps = new Map<string, string | undefined>();

function timestampOf(value: unknown): string | undefined {
  let ms: number;
  if (typeof value === 'number' || (typeof value === 'string' && /^\d{9,16}(\.\d+)?$/.test(value))) {
    const n = Number(value);
    ms = n >= 1e11 ? n : n * 1000;
  } else if (typeof value === 'string') {
    // Trim fraction digits beyond milliseconds, which Date.parse does not promise to read.
    ms = Date.parse(value.replace(/(\.\d{3})\d+/, '$1'));
  } else {
    return undefined;
  }
  if (!Number.isFinite(ms)) return undefined;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
