import fc from 'fast-check';
import jsYaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { readBlockYaml } from './block-yaml-reader.js';
import { SEED_EXAMPLE } from './test-support/registry-fixtures.js';

function jsYamlLoad(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA }) };
  } catch {
    return { ok: false };
  }
}

/** Whenever the reader answers, js-yaml must accept the text and agree exactly. */
function expectAgreement(text: string): boolean {
  const fast = readBlockYaml(text);
  if (!fast) return false;
  const reference = jsYamlLoad(text);
  expect(reference.ok, `js-yaml refuses what the reader accepted:\n${text}`).toBe(true);
  expect(fast.value, text).toEqual((reference as { value: unknown }).value);
  expect(Object.keys(fast.value), text).toEqual(Object.keys((reference as { value: object }).value));
  return true;
}

const scalars = [
  'payments',
  'alice@example.com',
  '2026-04-01T10:00:00Z',
  '2026-04-01',
  '2027-02-30',
  '365',
  '0',
  '-7',
  '+1',
  '1_000',
  '0x1F',
  '0o17',
  '012',
  '1e3',
  '.5',
  '1.0',
  '.inf',
  '-.Inf',
  '.NaN',
  'null',
  'Null',
  '~',
  'true',
  'False',
  'yes',
  'no',
  'on',
  'https://api.example.com/hook',
  'a#b',
  'x #comment',
  '"quoted # not a comment"',
  "'it''s'",
  '"a: b"',
  "'x' # c",
  '"esc\\"aped"',
  'a: b',
  '- dash',
  '&anchor',
  '*alias',
  '!tag x',
  '|',
  '>',
  '{a: 1}',
  '[]',
  '[a, "b"]',
  '["charges:write", "customers:read"]',
  '[1, 2.5, null, true]',
  '[a, [b]]',
  '[a,]',
  "['q', x]",
  '@at',
  '`tick`',
  'trailing:',
  'C:\\path',
  'ünïcode',
  '12:30',
  '1:20:00',
  '-',
  '#',
];
const keys = [
  'key_id',
  'owner_team',
  'scope',
  'provider',
  'permissions',
  'audit',
  'x',
  '"quoted key"',
  "'single'",
  'a.b',
  'null',
  '1',
  'true',
  'dup',
  'dup',
  '__proto__',
  'with space',
  'k-1',
];

type Node =
  | { kind: 'scalar'; text: string }
  | { kind: 'map'; pairs: [string, Node][] }
  | { kind: 'seq'; items: Node[]; sameIndent: boolean };

const nodeArbitrary = fc.letrec<{ node: Node; map: Node }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...scalars).map((text): Node => ({ kind: 'scalar', text })),
    tie('map'),
    fc
      .record({ items: fc.array(tie('node'), { minLength: 1, maxLength: 4 }), sameIndent: fc.boolean() })
      .map(({ items, sameIndent }): Node => ({ kind: 'seq', items, sameIndent })),
  ),
  map: fc
    .array(fc.tuple(fc.constantFrom(...keys), tie('node')), { minLength: 1, maxLength: 5 })
    .map((pairs): Node => ({ kind: 'map', pairs })),
}));

function render(node: Node, indent: number, step: number): string[] {
  const pad = ' '.repeat(indent);
  if (node.kind !== 'map') throw new Error('render a mapping');
  const lines: string[] = [];
  for (const [key, value] of node.pairs) {
    if (value.kind === 'scalar') lines.push(`${pad}${key}: ${value.text}`);
    else if (value.kind === 'map') lines.push(`${pad}${key}:`, ...render(value, indent + step, step));
    else {
      lines.push(`${pad}${key}:`);
      const itemIndent = value.sameIndent ? indent : indent + step;
      for (const item of value.items) {
        const itemPad = ' '.repeat(itemIndent);
        if (item.kind === 'scalar') lines.push(`${itemPad}- ${item.text}`);
        else if (item.kind === 'map') {
          const [first, ...rest] = render(item, itemIndent + 2, step);
          lines.push(`${itemPad}- ${first!.trimStart()}`, ...rest);
        } else
          lines.push(`${itemPad}-`, ...render({ kind: 'map', pairs: [['nested', item]] }, itemIndent + step, step));
      }
    }
  }
  return lines;
}

const documentArbitrary: fc.Arbitrary<string> = fc
  .tuple(nodeArbitrary.map, fc.constantFrom(2, 3, 4), fc.boolean())
  .map(([root, step, comment]) => `${comment ? '# entry\n' : ''}${render(root, 0, step).join('\n')}\n`);

describe('readBlockYaml', () => {
  it('reads the article’s example exactly as js-yaml does', () => {
    expect(expectAgreement(SEED_EXAMPLE)).toBe(true);
  });

  it('reads nested blocks, block and flow sequences, sequences of mappings and comments', () => {
    const text = [
      '# entry',
      'key_id: k-1  # trailing comment',
      'scope:',
      '    provider: aws-iam',
      '    permissions:',
      '    - s3:GetObject',
      '    - "s3:PutObject"',
      'consumed_by:',
      '  - payments',
      '  - kubernetes_secret: creds',
      '    namespace: payments',
      '  -',
      '    team: search',
      'audit:',
      '  rotation_frequency_days: 90',
      '  empty:',
      "  note: 'it''s fine'",
      'tags: []',
      '',
    ].join('\n');
    expect(expectAgreement(text)).toBe(true);
  });

  it.each([
    ['anchors', 'a: &x 1\nb: *x\n'],
    ['flow mappings', 'scope: {provider: x}\n'],
    ['block scalars', 'description: |\n  two\n  lines\n'],
    ['multi-line plain scalars', 'description: one\n  two\n'],
    ['escapes', 'a: "tab\\there"\n'],
    ['duplicate keys', 'a: 1\na: 2\n'],
    ['tabs', 'a:\n\tb: 1\n'],
    ['several documents', '---\na: 1\n'],
    ['a root that is not a mapping', '- a\n'],
    ['keys js-yaml would retype', '1.0: x\n'],
  ])('leaves %s to js-yaml', (_label, text) => {
    expect(readBlockYaml(text)).toBeUndefined();
  });

  it('agrees with js-yaml on every document it accepts (generated)', () => {
    let answered = 0;
    fc.assert(
      fc.property(documentArbitrary, (text) => {
        if (expectAgreement(text)) answered += 1;
      }),
      { numRuns: 4000 },
    );
    // The generator must exercise the reader, not only its refusals.
    expect(answered).toBeGreaterThan(150);
  });

  it('agrees with js-yaml on damaged registry entries (generated)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: SEED_EXAMPLE.length }),
        fc.integer({ min: 0, max: 12 }),
        fc.string({ maxLength: 8 }),
        (at, cut, insert) => {
          expectAgreement(SEED_EXAMPLE.slice(0, at) + insert + SEED_EXAMPLE.slice(at + cut));
        },
      ),
      { numRuns: 4000 },
    );
  });
});
