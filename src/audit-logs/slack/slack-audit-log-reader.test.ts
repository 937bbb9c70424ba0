// The slack reader on records re-typed from the provider's documentation (fixtures/SOURCE.md says where from),
// and on records it must refuse, each with its reason.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeFixtureCases } from '../test-support/audit-log-fixture-cases.js';
import { slackAuditLogReader } from './slack-audit-log-reader.js';

describe('slack audit-log reader', () => {
  describeFixtureCases(fileURLToPath(new URL('./fixtures', import.meta.url)), () => slackAuditLogReader);

  it('says why a record cannot be used instead of throwing', () => {
    expect(slackAuditLogReader.read({ action: 'x', actor: {}, date_create: null })).toBe(
      'date_create missing or not a time',
    );
    expect(slackAuditLogReader.read({ actor: {}, date_create: 1521214343 })).toBe('action missing');
  });
});
