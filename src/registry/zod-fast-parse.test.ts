import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { keyEntrySchema } from './key-entry-schema.js';
import { compileFastParse } from './zod-fast-parse.js';

/** The fast path either declines (undefined) or gives zod's own output, keys in zod's order. */
function expectAgreement<Schema extends z.ZodType>(schema: Schema, input: unknown): 'fast' | 'declined' {
  const fast = compileFastParse(schema)(structuredCloneSafe(input));
  const slow = schema.safeParse(structuredCloneSafe(input));
  if (fast === undefined) return 'declined';
  expect(slow.success, `fast path accepted what zod rejects: ${JSON.stringify(input)}`).toBe(true);
  expect(orderedJson(fast)).toBe(orderedJson(slow.data));
  return 'fast';
}

function structuredCloneSafe(value: unknown): unknown {
  return value === undefined ? undefined : structuredClone(value);
}

/** JSON that keeps key order and tells undefined and Dates apart, so the comparison is order-sensitive. */
function orderedJson(value: unknown): string {
  return JSON.stringify(value, (_key, item) => (item === undefined ? '<undefined>' : item));
}

describe('compileFastParse on the zod constructs the registry uses', () => {
  it('agrees with zod on objects: loose keeps extras, plain strips them, strict rejects them', () => {
    const shape = { a: z.string(), b: z.number().optional() };
    for (const input of [{ a: 'x' }, { a: 'x', b: 2 }, { a: 'x', extra: [1] }, { b: 2 }, { a: 1 }, null, [], 'a']) {
      expectAgreement(z.looseObject(shape), input);
      expectAgreement(z.object(shape), input);
      expectAgreement(z.strictObject(shape), input);
    }
    expect(compileFastParse(z.looseObject(shape))({ a: 'x', extra: 1 })).toEqual({ a: 'x', extra: 1 });
    expect(compileFastParse(z.object(shape))({ a: 'x', extra: 1 })).toEqual({ a: 'x' });
    expect(compileFastParse(z.strictObject(shape))({ a: 'x', extra: 1 })).toBeUndefined();
  });

  it('applies defaults, trims through zod’s own overwrite check, and runs refinements and transforms', () => {
    const schema = z.object({
      status: z.enum(['on', 'off']).default('on'),
      name: z.string().trim().min(1),
      count: z.union([z.string(), z.number().transform(String)]),
      even: z.number().refine((n) => n % 2 === 0),
      tagged: z.string().transform((value, ctx) => {
        if (value === 'bad') ctx.addIssue({ code: 'custom', message: 'bad' });
        return value.toUpperCase();
      }),
    });
    const parse = compileFastParse(schema);
    expect(parse({ name: '  x ', count: 7, even: 2, tagged: 'ok' })).toEqual({
      status: 'on',
      name: 'x',
      count: '7',
      even: 2,
      tagged: 'OK',
    });
    expect(parse({ name: '   ', count: 7, even: 2, tagged: 'ok' })).toBeUndefined();
    expect(parse({ name: 'x', count: 7, even: 3, tagged: 'ok' })).toBeUndefined();
    expect(parse({ name: 'x', count: 7, even: 2, tagged: 'bad' })).toBeUndefined();
    expect(parse({ status: 'maybe', name: 'x', count: 7, even: 2, tagged: 'ok' })).toBeUndefined();
  });

  it('runs a superRefine on the parsed object, as zod does', () => {
    const schema = z.looseObject({ a: z.string().optional(), b: z.string().optional() }).superRefine((value, ctx) => {
      if (value.a === undefined && value.b === undefined) ctx.addIssue({ code: 'custom', message: 'a or b' });
    });
    expect(compileFastParse(schema)({})).toBeUndefined();
    expect(compileFastParse(schema)({ b: 'x' })).toEqual({ b: 'x' });
  });

  it('declines what it does not model instead of guessing', () => {
    expect(compileFastParse(z.record(z.string(), z.number()))({ a: 1 })).toBeUndefined();
    expect(compileFastParse(z.coerce.number())('12')).toBeUndefined();
    expect(compileFastParse(z.union([z.string(), z.record(z.string(), z.string())]))('x')).toBeUndefined();
    expect(compileFastParse(z.object({ a: z.string().default('x').optional() }))({})).toBeUndefined();
  });
});

// Values that are valid for some registry field, and values that are valid for none.
const text = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom('payments', ' payments ', 'a-b_c.1', 'ünïcode', 'secret/payments/stripe') },
  { weight: 1, arbitrary: fc.constantFrom('', '   ') },
);
const instantText = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom('2026-04-01', '2026-04-01T10:00:00Z', '2026-04-01T10:00:00+02:00') },
  { weight: 1, arbitrary: fc.constantFrom('2027-02-30', 'tomorrow', '2026-13-01', '') },
);
const junk = fc.oneof(
  fc.constant(null),
  fc.integer({ min: -3, max: 400 }),
  fc.double({ noNaN: false }),
  fc.boolean(),
  fc.constant([]),
  fc.constant({}),
  fc.constant(new Date('2026-04-01T10:00:00Z')),
  fc.constant(new Date(Number.NaN)),
);
// Mostly well-formed, so that whole entries often are: about a third of the generated entries are valid.
const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.oneof({ weight: 30, arbitrary }, { weight: 1, arbitrary: junk });
const consumer = fc.oneof(
  text,
  fc.record(
    {
      kubernetes_secret: maybe(text),
      namespace: maybe(text),
      service: maybe(text),
      team: maybe(text),
      probe: maybe(fc.constant({ url: 'http://x' })),
      custom: junk,
    },
    { requiredKeys: [] },
  ),
  junk,
);
const rawEntry = fc.record(
  {
    key_id: maybe(text),
    description: maybe(text),
    purpose: maybe(text),
    owner_team: maybe(text),
    owner_individual: maybe(text),
    created_at: maybe(instantText),
    expiration: maybe(instantText),
    last_rotated: maybe(instantText),
    status: maybe(fc.constantFrom('active', 'rotating', 'revoked', 'retired', 'Active')),
    provider_key_id: maybe(fc.oneof(text, fc.integer({ min: 0, max: 999_999_999_999 }))),
    fingerprint: maybe(fc.constantFrom(`hmac-sha256:v1:${'ab'.repeat(32)}`, 'sha1:abc')),
    tags: maybe(fc.array(maybe(text), { maxLength: 3 })),
    justification: maybe(text),
    scope: maybe(
      fc.record(
        {
          provider: maybe(text),
          account_id: maybe(fc.oneof(text, fc.integer({ min: 0, max: 999_999_999_999 }))),
          permissions: maybe(fc.array(maybe(text), { maxLength: 3 })),
          webhook_endpoints: maybe(fc.array(text, { maxLength: 2 })),
          region: junk,
        },
        { requiredKeys: [] },
      ),
    ),
    // Any of the three may be missing: storage without vault_path or path fails zod's own superRefine.
    storage: maybe(
      fc.record({ vault_path: maybe(text), store: maybe(text), path: maybe(text), extra: junk }, { requiredKeys: [] }),
    ),
    consumed_by: maybe(fc.array(consumer, { maxLength: 3 })),
    audit: maybe(
      fc.record(
        {
          rotation_owner: maybe(text),
          rotation_frequency_days: maybe(fc.integer({ min: -2, max: 400 })),
          last_audit: maybe(instantText),
          cadence: junk,
        },
        { requiredKeys: [] },
      ),
    ),
    unknown_field: junk,
  },
  { requiredKeys: [] },
);

describe('compileFastParse(keyEntrySchema)', () => {
  it('gives exactly zod’s output for every entry zod accepts, and declines every entry zod rejects', () => {
    let fast = 0;
    let declined = 0;
    let missed = 0;
    fc.assert(
      fc.property(rawEntry, (raw) => {
        if (expectAgreement(keyEntrySchema, raw) === 'fast') fast++;
        else {
          declined++;
          // Declined although zod accepts: allowed (zod then parses), but it would cost the speed the path is for.
          if (keyEntrySchema.safeParse(raw).success) missed++;
        }
      }),
      { numRuns: 3_000 },
    );
    // Both paths were exercised: a generator that only ever produced invalid entries would prove nothing.
    expect(fast).toBeGreaterThan(20);
    expect(declined).toBeGreaterThan(20);
    expect(missed).toBe(0);
  });

  it('takes the fast path for a well-formed entry', () => {
    const entry = {
      key_id: 'payments-stripe-live-001',
      owner_team: 'payments',
      created_at: '2026-04-01T10:00:00Z',
      scope: { provider: 'stripe', account_id: 123456789012, permissions: ['charges:write'] },
      storage: { vault_path: 'secret/payments/stripe-live' },
      consumed_by: [{ kubernetes_secret: 'payments-stripe', namespace: 'payments' }, 'billing'],
      audit: { rotation_owner: 'payments-team', rotation_frequency_days: 90 },
    };
    expect(compileFastParse(keyEntrySchema)(entry)).toEqual({
      ...entry,
      status: 'active',
      scope: { ...entry.scope, account_id: '123456789012' },
    });
  });
});
