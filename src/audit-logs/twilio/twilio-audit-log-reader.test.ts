// The twilio reader on records re-typed from the provider's documentation (fixtures/SOURCE.md says where from),
// and on records it must refuse, each with its reason.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeFixtureCases } from '../test-support/audit-log-fixture-cases.js';
import { twilioAuditLogReader } from './twilio-audit-log-reader.js';

describe('twilio audit-log reader', () => {
  describeFixtureCases(fileURLToPath(new URL('./fixtures', import.meta.url)), () => twilioAuditLogReader);

  it('says why a record cannot be used instead of throwing', () => {
    expect(twilioAuditLogReader.read({ event_type: 'x', event_date: 'never' })).toBe(
      'event_date missing or not a time',
    );
    expect(twilioAuditLogReader.read({ event_date: '2026-01-01T00:00:00Z' })).toBe('event_type missing');
  });
});
