// The sendgrid reader on records re-typed from the provider's documentation (fixtures/SOURCE.md says where from),
// and on records it must refuse, each with its reason.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeFixtureCases } from '../test-support/audit-log-fixture-cases.js';
import { sendgridAuditLogReader } from './sendgrid-audit-log-reader.js';

describe('sendgrid audit-log reader', () => {
  describeFixtureCases(fileURLToPath(new URL('./fixtures', import.meta.url)), () => sendgridAuditLogReader);

  it('says why a record cannot be used instead of throwing', () => {
    expect(sendgridAuditLogReader.read({ allowed: true, auth_method: 'basic' })).toBe('last_at missing or not a time');
    expect(sendgridAuditLogReader.read({ auth_method: 'basic', last_at: 1767225600 })).toBe('allowed missing');
  });
});
