// Parsers for commander option values, raising usage errors that name the bad value.
import { UsageError } from '../errors/keyledger-error.js';
import { parseDurationDays } from '../registry/registry-dates.js';

export function parsePositiveInt(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0)
    throw new UsageError(`expected a positive whole number, got "${value}"`);
  return number;
}

export function parseNonNegativeInt(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new UsageError(`expected a whole number, got "${value}"`);
  return number;
}

/** `30`, `30d`, `4w`, `6m`, `1y` -> days. */
export function parseDays(value: string): number {
  const days = parseDurationDays(value);
  if (days === null) throw new UsageError(`expected a duration such as 30d, 12w, 6m or 1y, got "${value}"`);
  return days;
}
