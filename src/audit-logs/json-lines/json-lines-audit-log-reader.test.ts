// The mapped JSON-lines reader: fixtures with their mapping, and the mapping's own validation.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeFixtureCases } from '../test-support/audit-log-fixture-cases.js';
import { jsonLinesAuditLogReader, parseAuditLogMapping } from './json-lines-audit-log-reader.js';

describe('json-lines audit-log reader', () => {
  describeFixtureCases(fileURLToPath(new URL('./fixtures', import.meta.url)), (caseDir) =>
    jsonLinesAuditLogReader(
      parseAuditLogMapping(JSON.parse(readFileSync(join(caseDir, 'mapping.json'), 'utf8')), 'mapping.json'),
    ),
  );

  it('refuses a mapping that names nobody who acted, or has unknown fields, naming the field', () => {
    expect(() => parseAuditLogMapping({ provider: 'internal', at: 'ts' }, 'm.yaml')).toThrow(
      /key_id, hashed_token or principal/,
    );
    expect(() => parseAuditLogMapping({ provider: 'internal', at: 'ts', key_id: 'k', ip: 'x' }, 'm.yaml')).toThrow(
      /m\.yaml: .*ip/,
    );
    expect(() => parseAuditLogMapping({ at: 'ts', key_id: 'k' }, 'm.yaml')).toThrow(/m\.yaml: provider/);
  });
});
