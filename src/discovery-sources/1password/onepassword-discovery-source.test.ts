// The 1Password sources on exports shaped as 1Password documents them ("1PUX format": export.data inside a zip;
// the CSV export's columns). The zip is written here byte by byte (local headers, central directory, end record,
// deflate from node:zlib) so the reader is checked against the zip specification, not against itself.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { observeAll, summarise } from '../test-support/discovery-source-harness.js';
import { onePassword1puxDiscoverySource, onePasswordCsvDiscoverySource } from './onepassword-discovery-source.js';
import { readZipEntry } from './zip-entry.js';

const DATADOG = 'CANARYdatadog0123456789abcdef012';
const CLOUDFLARE = 'CANARYcloudflareToken_abcdefghijklmnopq';
const OLD_GITHUB = 'github_pat_CANARYold_0000000000000000000000';

function zip(files: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(files)) {
    const data = Buffer.from(text);
    const packed = deflateRawSync(data);
    const nameBytes = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc32(data), 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc32(data), 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, packed);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + packed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const EXPORT_DATA = {
  accounts: [
    {
      attrs: {
        accountName: 'Acme',
        name: 'Ops',
        email: 'ops@acme.example',
        uuid: 'A1',
        domain: 'https://acme.1password.com/',
      },
      vaults: [
        {
          attrs: { uuid: 'V1', desc: '', avatar: '', name: 'Shared Ops', type: 'U' },
          items: [
            {
              uuid: 'item1',
              favIndex: 0,
              createdAt: 1735689600,
              updatedAt: 1767225600,
              state: 'active',
              categoryUuid: '112',
              details: {
                loginFields: [],
                notesPlain: '',
                sections: [
                  {
                    title: '',
                    name: 'Section_1',
                    fields: [
                      { title: 'type', id: 'type', value: { menu: 'bearer' }, indexAtSource: 0, guarded: false },
                      {
                        title: 'credential',
                        id: 'credential',
                        value: { concealed: DATADOG },
                        indexAtSource: 1,
                        guarded: true,
                      },
                    ],
                  },
                ],
                passwordHistory: [],
              },
              overview: {
                subtitle: '',
                urls: [],
                title: 'Datadog API key',
                url: '',
                ps: 0,
                pbe: 0,
                pgrng: false,
                tags: [],
              },
            },
            {
              uuid: 'item2',
              createdAt: 1735689600,
              updatedAt: 1735689600,
              state: 'archived',
              categoryUuid: '001',
              details: {
                loginFields: [
                  { value: 'ops', id: '', name: 'username', fieldType: 'T', designation: 'username' },
                  { value: CLOUDFLARE, id: '', name: 'password', fieldType: 'P', designation: 'password' },
                ],
                notesPlain: 'rotated quarterly',
                sections: [],
                passwordHistory: [{ value: OLD_GITHUB, time: 1730000000 }],
              },
              overview: { title: 'Cloudflare login', url: 'https://dash.cloudflare.com', tags: [] },
            },
          ],
        },
      ],
    },
  ],
};

describe('1password-1pux discovery source', () => {
  it('reads export.data out of a .1pux zip and matches concealed fields, passwords and history', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyledger-1pux-'));
    const file = join(dir, 'export.1pux');
    writeFileSync(file, zip({ 'export.attributes': '{"version":3}', 'export.data': JSON.stringify(EXPORT_DATA) }));
    const seen = await observeAll(
      onePassword1puxDiscoverySource,
      { file },
      { 'obs-datadog': DATADOG, 'edge-cloudflare': CLOUDFLARE, 'ci-github-old': OLD_GITHUB },
    );
    expect(summarise(seen)).toEqual([
      'Shared Ops/Cloudflare login login:password -> edge-cloudflare',
      'Shared Ops/Cloudflare login password-history:1 -> ci-github-old',
      'Shared Ops/Datadog API key field:credential -> obs-datadog',
    ]);
    expect(seen.find((o) => o.name === 'field:credential')).toMatchObject({
      createdAt: '2025-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      detail: { state: 'active' },
    });
  });

  it('refuses truncated and hostile archives with a clear error', async () => {
    const good = zip({ 'export.data': JSON.stringify(EXPORT_DATA) });
    expect(() => readZipEntry(good.subarray(0, good.length - 30), 'export.data')).toThrow(/zip/);
    expect(() => readZipEntry(Buffer.from('PK not really'), 'export.data')).toThrow(/not a zip/);
    const lying = Buffer.from(good);
    lying.writeUInt32LE(0x7fffffff, lying.length - 6); // central directory offset past the end
    expect(() => readZipEntry(lying, 'export.data')).toThrow(/truncated|corrupt/);
    const dir = mkdtempSync(join(tmpdir(), 'keyledger-1pux-'));
    writeFileSync(join(dir, 'empty.1pux'), zip({ 'other.txt': 'x' }));
    await expect(observeAll(onePassword1puxDiscoverySource, { file: join(dir, 'empty.1pux') })).rejects.toThrow(
      /no export.data/,
    );
  });
});

describe('1password-csv discovery source', () => {
  it('matches any column by fingerprint and always reports the password column', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'keyledger-1p-csv-')), '1PasswordExport.csv');
    writeFileSync(
      file,
      [
        'Title,Url,Username,Password,OTPAuth,Favorite,Archived,Tags,Notes',
        `"Datadog API key",,,,,false,false,,"${DATADOG}"`,
        `"Cloudflare login",https://dash.cloudflare.com,ops,${CLOUDFLARE},,false,false,,`,
        '"Wiki",https://wiki.example,ops,correct-horse,,false,false,,"nothing here"',
      ].join('\n'),
    );
    const seen = await observeAll(
      onePasswordCsvDiscoverySource,
      { file },
      { 'obs-datadog': DATADOG, 'edge-cloudflare': CLOUDFLARE },
    );
    expect(summarise(seen)).toEqual([
      '1PasswordExport.csv#Cloudflare login password -> edge-cloudflare',
      '1PasswordExport.csv#Datadog API key notes -> obs-datadog',
      '1PasswordExport.csv#Wiki password -> -',
    ]);
  });
});
