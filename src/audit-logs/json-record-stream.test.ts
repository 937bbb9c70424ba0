// The record cutter on every layout it accepts, on input cut at every possible chunk boundary, and on a hostile
// corpus (truncated, unbalanced, deep, huge, binary, raw newlines in strings): it must never throw, never hang,
// and keep reading after a bad record.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type JsonRecordItem, jsonRecords } from './json-record-stream.js';

const OPTIONS = { envelopeKeys: ['Records', 'data', 'value'] };

async function cut(text: string | Buffer, size = 1 << 20, options = {}): Promise<JsonRecordItem[]> {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  async function* chunks() {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  }
  const items: JsonRecordItem[] = [];
  for await (const item of jsonRecords(chunks(), { ...OPTIONS, ...options })) items.push(item);
  return items;
}

const values = (items: JsonRecordItem[]) => items.map((item) => ('value' in item ? item.value : { error: item.error }));

describe('jsonRecords', () => {
  it('cuts an envelope, a top-level array, JSON lines and pretty-printed concatenated objects', async () => {
    expect(values(await cut('{"Records":[{"a":1},{"b":[2,{"c":"}]"}]}]}'))).toEqual([
      { a: 1 },
      { b: [2, { c: '}]' }] },
    ]);
    expect(values(await cut('{"object":"list","data":[{"a":1}],"has_more":false}'))).toEqual([{ a: 1 }]);
    expect(values(await cut('[{"a":1},\n {"b":2}\n]'))).toEqual([{ a: 1 }, { b: 2 }]);
    expect(values(await cut('{"a":1}\n{"b":"x\\"y"}\n\n{"c":3}'))).toEqual([{ a: 1 }, { b: 'x"y' }, { c: 3 }]);
    expect(values(await cut('{\n "a": 1\n}\n{\n "b": [1]\n}\n'))).toEqual([{ a: 1 }, { b: [1] }]);
    // A top-level object whose arrays are not an envelope is a record itself.
    expect(values(await cut('{"tags":["x"],"n":1}'))).toEqual([{ tags: ['x'], n: 1 }]);
  });

  it('gives the same records whatever the chunk boundaries', async () => {
    const documents = [
      '{"Records":[{"k":"a\\\\"},{"k":"\\"}"},{"k":"é€😀"}]}',
      '[{"a":"\\\\\\""},{"b":{}}]',
      '{"x":"1"}\n{"y":"\\\\"}\n{"z":[{"w":"]"}]}\n',
    ];
    for (const document of documents) {
      const whole = values(await cut(document));
      for (let size = 1; size <= 9; size += 1) expect(values(await cut(document, size))).toEqual(whole);
    }
  });

  it('numbers records and their lines', async () => {
    const items = await cut('{"a":1}\n{"b":2}\n{"c":3}\n');
    expect(items.map((item) => [item.index, item.line])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
  });

  it('reports a truncated document after the records it holds', async () => {
    const items = await cut('{"Records":[{"a":1},{"b":2},{"c":');
    expect(values(items)).toEqual([{ a: 1 }, { b: 2 }, { error: 'input ends inside a record (truncated)' }]);
  });

  it('reads past a broken JSON line, a raw newline inside a string and garbage at the top', async () => {
    const items = await cut('{"a":1}\n{"b":2,,}\n{"c":"broken\nstring"}\n{"d":4}\nnot json\n{"e":5}\n');
    const got = values(items);
    expect(got).toContainEqual({ a: 1 });
    expect(got).toContainEqual({ d: 4 });
    expect(got).toContainEqual({ e: 5 });
    expect(got.filter((item) => 'error' in (item as object)).length).toBeGreaterThanOrEqual(3);
  });

  it('reports scalars where records belong, and unbalanced brackets, then goes on', async () => {
    expect(values(await cut('[1,"two",{"a":1},null]'))).toEqual([
      { error: 'record is not a JSON object' },
      { error: 'record is not a JSON object' },
      { a: 1 },
      { error: 'record is not a JSON object' },
    ]);
    expect(values(await cut('}]\n{"Records":[{"a":1}]}'))).toContainEqual({ a: 1 });
  });

  it('refuses a record larger than the limit or nested too deep, and reads the next one', async () => {
    const big = `{"Records":[{"x":"${'a'.repeat(5000)}"},{"ok":true}]}`;
    expect(values(await cut(big, 1000, { maxRecordBytes: 2000 }))).toEqual([
      { error: 'record larger than 2000 bytes' },
      { ok: true },
    ]);
    const deep = `{"Records":[${'['.repeat(100000)}${']'.repeat(100000)},{"ok":1}]}`;
    const items = values(await cut(deep, 65536, { maxDepth: 64 }));
    expect(items[0]).toEqual({ error: 'nested deeper than 64' });
    expect(items).toContainEqual({ ok: 1 });
  });

  it('keeps __proto__ as data and pollutes nothing', async () => {
    const [item] = values(await cut('{"__proto__":{"polluted":true},"a":1}\n'));
    expect(Object.hasOwn(item as object, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('skips a byte-order mark and reads nothing from empty or blank input', async () => {
    expect(
      values(await cut(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"Records":[{"a":1}]}')]))),
    ).toEqual([{ a: 1 }]);
    expect(await cut('')).toEqual([]);
    expect(await cut(' \n\t\n')).toEqual([]);
  });

  it('never throws on random bytes or on a valid file truncated or corrupted anywhere', async () => {
    const valid = Buffer.from(
      '{"Records":[{"eventTime":"2024-01-01T00:00:00Z","userIdentity":{"accessKeyId":"AKIAEXAMPLE"},"a":[1,2,{"b":"c\\"d"}]},{"x":1}]}',
    );
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), fc.integer({ min: 1, max: 64 }), async (bytes, size) => {
        const items = await cut(Buffer.from(bytes), size);
        for (const item of items) expect(item.index).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: valid.length }),
        fc.uint8Array({ maxLength: 8 }),
        fc.integer({ min: 1, max: 32 }),
        async (at, insert, size) => {
          const corrupted = Buffer.concat([valid.subarray(0, at), Buffer.from(insert), valid.subarray(at)]);
          await cut(corrupted, size);
          await cut(valid.subarray(0, at), size);
        },
      ),
      { numRuns: 300 },
    );
  });
});
