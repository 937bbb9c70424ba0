import { describe, expect, it } from 'vitest';
import { daysBetween, formatInstant, parseDurationDays, parseInstant } from './registry-dates.js';

describe('parseInstant', () => {
  it('reads a UTC timestamp', () => {
    expect(parseInstant('2026-04-01T10:00:00Z')?.date.toISOString()).toBe('2026-04-01T10:00:00.000Z');
  });

  it('applies a numeric zone offset', () => {
    expect(parseInstant('2026-04-01T12:00:00+02:00')?.date.toISOString()).toBe('2026-04-01T10:00:00.000Z');
    expect(parseInstant('2026-04-01T05:30:00-0430')?.date.toISOString()).toBe('2026-04-01T10:00:00.000Z');
    expect(parseInstant('2026-04-01T10:00:00+05')?.date.toISOString()).toBe('2026-04-01T05:00:00.000Z');
  });

  it('reads a timestamp without a zone as UTC and says so', () => {
    const parsed = parseInstant('2026-04-01T10:00:00');
    expect(parsed?.date.toISOString()).toBe('2026-04-01T10:00:00.000Z');
    expect(parsed?.hadZone).toBe(false);
  });

  it('reads a bare date as midnight UTC', () => {
    const parsed = parseInstant('2026-04-01');
    expect(parsed?.date.toISOString()).toBe('2026-04-01T00:00:00.000Z');
    expect(parsed?.dateOnly).toBe(true);
  });

  it('accepts fractional seconds and the space separator of YAML 1.1', () => {
    expect(parseInstant('2026-04-01 10:00:00.5Z')?.date.toISOString()).toBe('2026-04-01T10:00:00.500Z');
  });

  it('accepts Date objects from YAML 1.1 parsers', () => {
    expect(parseInstant(new Date('2026-04-01T10:00:00Z'))?.date.getTime()).toBe(Date.UTC(2026, 3, 1, 10));
  });

  it.each([
    '2026-02-30',
    '2026-13-01',
    '2026-04-01T25:00:00Z',
    'next tuesday',
    '',
    '2026-4-1',
    '2026-04-01T10:00:00+24:00',
  ])('rejects %j', (text) => {
    expect(parseInstant(text)).toBeNull();
  });

  it('knows leap days', () => {
    expect(parseInstant('2028-02-29')).not.toBeNull();
    expect(parseInstant('2027-02-29')).toBeNull();
  });
});

describe('daysBetween', () => {
  it('counts 366 days across a leap day and 365 otherwise', () => {
    const across = daysBetween(parseInstant('2028-01-01T00:00:00Z')!.date, parseInstant('2029-01-01T00:00:00Z')!.date);
    const plain = daysBetween(parseInstant('2026-04-01T10:00:00Z')!.date, parseInstant('2027-04-01T10:00:00Z')!.date);
    expect(across).toBe(366);
    expect(plain).toBe(365);
  });

  it('is exact across zones', () => {
    expect(
      daysBetween(parseInstant('2026-04-01T00:00:00+02:00')!.date, parseInstant('2026-04-01T00:00:00Z')!.date),
    ).toBeCloseTo(2 / 24);
  });
});

describe('parseDurationDays', () => {
  it.each([
    ['180d', 180],
    ['180', 180],
    ['12w', 84],
    ['6m', 180],
    ['1y', 365],
  ])('%s is %i days', (text, days) => {
    expect(parseDurationDays(text)).toBe(days);
  });

  it('rejects nonsense', () => {
    expect(parseDurationDays('soon')).toBeNull();
    expect(parseDurationDays('-5d')).toBeNull();
  });
});

it('formatInstant writes second-precision UTC', () => {
  expect(formatInstant(new Date('2026-04-01T10:00:00.123Z'))).toBe('2026-04-01T10:00:00Z');
});
