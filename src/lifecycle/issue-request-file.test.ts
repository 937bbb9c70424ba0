// The request file of `issue --from`: YAML and CSV rows become issue requests; every bad row is reported with its
// file, line and field, all at once.
import { describe, expect, it } from 'vitest';
import { detectIssueRequestFormat, IssueRequestFileError, parseIssueRequestFile } from './issue-request-file.js';

function problemsOf(content: string, file: string) {
  try {
    parseIssueRequestFile(content, file);
  } catch (error) {
    expect(error).toBeInstanceOf(IssueRequestFileError);
    expect(error).toMatchObject({ code: 'E_ISSUE_FILE_INVALID', category: 'input' });
    return (error as IssueRequestFileError).problems.map(({ line, row, field, message }) => ({
      line,
      row,
      field,
      message,
    }));
  }
  throw new Error('expected the file to be refused');
}

describe('parseIssueRequestFile', () => {
  it('reads a YAML list with the issue flags as fields (kebab or snake case), lists as sequences or commas', () => {
    const rows = parseIssueRequestFile(
      `# two keys
- provider: internal
  team: payments
  owner: alice@example.com
  purpose: Webhook signing
  scope: [webhooks:write, events:read]
  expires: 90d
  store: vault:secret/payments/webhooks
  key_id: payments-webhooks-001
  rotate-every: 30
  consumer: payments-api, billing-worker
  tag: [pci]
  idempotency-key: req-1
- provider: internal
  team: search
  owner: bob@example.com
  purpose: Index writer
`,
      'keys.yaml',
    );
    expect(rows).toEqual([
      {
        row: 1,
        line: 2,
        fieldLines: expect.objectContaining({ provider: 2, scope: 6, 'key-id': 9, 'idempotency-key': 13 }),
        request: {
          provider: 'internal',
          team: 'payments',
          owner: 'alice@example.com',
          purpose: 'Webhook signing',
          permissions: ['webhooks:write', 'events:read'],
          expiresInDays: 90,
          store: { name: 'vault', path: 'secret/payments/webhooks' },
          keyId: 'payments-webhooks-001',
          rotationFrequencyDays: 30,
          consumers: ['payments-api', 'billing-worker'],
          tags: ['pci'],
          idempotencyKey: 'req-1',
        },
      },
      {
        row: 2,
        line: 14,
        fieldLines: expect.any(Object),
        request: {
          provider: 'internal',
          team: 'search',
          owner: 'bob@example.com',
          purpose: 'Index writer',
          permissions: [],
        },
      },
    ]);
    // A `keys:` mapping holding the list reads the same.
    expect(
      parseIssueRequestFile('keys:\n  - {provider: internal, team: t, owner: o@x.io, purpose: p}\n', 'k.yml'),
    ).toHaveLength(1);
  });

  it('reads a CSV table: header names the fields, empty cells are absent, quoted cells hold commas', () => {
    const rows = parseIssueRequestFile(
      'provider,team,owner,purpose,scope,expires,key-id\n' +
        'internal,payments,alice@example.com,"Signing, EU","a:read,b:write",12w,\n' +
        '\n' +
        'internal,search,bob@example.com,Index writer,,,search-001\n',
      'keys.csv',
    );
    expect(rows.map((row) => [row.row, row.line, row.request])).toEqual([
      [
        1,
        2,
        {
          provider: 'internal',
          team: 'payments',
          owner: 'alice@example.com',
          purpose: 'Signing, EU',
          permissions: ['a:read', 'b:write'],
          expiresInDays: 84,
        },
      ],
      [
        2,
        4,
        {
          provider: 'internal',
          team: 'search',
          owner: 'bob@example.com',
          purpose: 'Index writer',
          permissions: [],
          keyId: 'search-001',
        },
      ],
    ]);
  });

  it('reports every bad row at once: file, line, field', () => {
    expect(
      problemsOf(
        `- provider: internal
  team: payments
  purpose: no owner
- provider: internal
  team: payments
  owner: a@example.com
  purpose: bad values
  expires: soon
  store: nocolon
  colour: red
- just a string
`,
        'keys.yaml',
      ),
    ).toEqual([
      { line: 1, row: 1, field: 'owner', message: 'required' },
      { line: 8, row: 2, field: 'expires', message: expect.stringContaining('30d, 12w, 6m or 1y, got "soon"') },
      { line: 9, row: 2, field: 'store', message: expect.stringContaining('<store>:<path>') },
      { line: 10, row: 2, field: 'colour', message: expect.stringContaining('unknown field') },
      { line: 11, row: 3, field: 'row', message: 'expected a mapping of issue fields' },
    ]);
    expect(
      problemsOf('provider,team,owner,purpose,rotate_every\ninternal,t,o@x.io,p,0\ninternal,,o@x.io,p,\n', 'k.csv'),
    ).toEqual([
      { line: 2, row: 1, field: 'rotate-every', message: expect.stringContaining('got "0"') },
      { line: 3, row: 2, field: 'team', message: 'required' },
    ]);
  });

  it('refuses what is not a list of requests, and an empty file', () => {
    expect(problemsOf('provider: internal\n', 'k.yaml')[0]).toMatchObject({ field: 'file', line: 1 });
    expect(problemsOf('- [unclosed\n', 'k.yaml')[0]).toMatchObject({ field: 'file', message: /invalid YAML/ });
    expect(problemsOf('provider,team\n', 'k.csv')[0]).toMatchObject({ message: 'holds no requests' });
    expect(problemsOf('a,b\n1,2,3\n', 'k.csv')[0]).toMatchObject({ field: 'file', message: /invalid CSV/ });
  });

  it('tells YAML from CSV by extension, and by the first line for stdin', () => {
    expect(detectIssueRequestFormat('', 'x.CSV')).toBe('csv');
    expect(detectIssueRequestFormat('a,b', 'x.yml')).toBe('yaml');
    expect(detectIssueRequestFormat('# requests\n- provider: internal\n', '<stdin>')).toBe('yaml');
    expect(detectIssueRequestFormat('keys:\n  - {}\n', '<stdin>')).toBe('yaml');
    expect(detectIssueRequestFormat('provider,team,owner,purpose\n', '<stdin>')).toBe('csv');
  });
});
