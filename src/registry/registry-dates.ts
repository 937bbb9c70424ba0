// Dates in registry entries. YAML writes them three ways — a full timestamp with a zone, a timestamp without one,
// and a bare date — and parsers hand them over as strings or Date objects. We keep one rule: a timestamp without
// a zone and a bare date are read as UTC, so the same file means the same instant on every machine.

const DAY_MS = 86_400_000;

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;

export interface ParsedInstant {
  date: Date;
  /** False for a bare date or a timestamp written without a zone: read as UTC. */
  hadZone: boolean;
  dateOnly: boolean;
}

// Registries repeat the same timestamps across thousands of entries and the rules read each several times, so
// parses are remembered (bounded). Callers must not mutate the Date they get back.
const parsedCache = new Map<string, ParsedInstant | null>();
const PARSED_CACHE_LIMIT = 50_000;

/** Parses a registry timestamp; returns null for text that is not one, or for an impossible date (Feb 30). */
export function parseInstant(value: unknown): ParsedInstant | null {
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? null : { date: value, hadZone: true, dateOnly: false };
  }
  if (typeof value !== 'string') return null;
  const cached = parsedCache.get(value);
  if (cached !== undefined) return cached;
  const parsed = parseInstantText(value);
  if (parsedCache.size >= PARSED_CACHE_LIMIT) parsedCache.clear();
  parsedCache.set(value, parsed);
  return parsed;
}

function parseInstantText(value: string): ParsedInstant | null {
  const match = TIMESTAMP.exec(value.trim());
  if (!match) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = h === undefined ? 0 : Number(h);
  const minute = mi === undefined ? 0 : Number(mi);
  const second = s === undefined ? 0 : Number(s);
  const millis = frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1000);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return null;
  const base = Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59), millis);
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return null;
  let offsetMinutes = 0;
  if (zone && zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const zh = Number(digits.slice(0, 2));
    const zm = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (zh > 23 || zm > 59) return null;
    offsetMinutes = sign * (zh * 60 + zm);
  }
  return {
    date: new Date(base - offsetMinutes * 60_000),
    hadZone: zone !== undefined,
    dateOnly: h === undefined,
  };
}

/** Whole and fractional days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: Date, to: Date): number {
  return (to.getTime() - from.getTime()) / DAY_MS;
}

export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * DAY_MS);
}

/**
 * Parses a duration such as `180d`, `12w`, `6m` (months of 30 days), `1y` (365 days) or a bare number of days,
 * into days. Returns null for anything else.
 */
export function parseDurationDays(text: string): number | null {
  const match = /^\s*(\d+)\s*(d|w|m|y)?\s*$/i.exec(text);
  if (!match) return null;
  const amount = Number(match[1]);
  switch ((match[2] ?? 'd').toLowerCase()) {
    case 'd':
      return amount;
    case 'w':
      return amount * 7;
    case 'm':
      return amount * 30;
    case 'y':
      return amount * 365;
    default:
      return null;
  }
}

/** ISO 8601 in UTC with second precision, the form the writer puts in entries. */
export function formatInstant(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function formatDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}
