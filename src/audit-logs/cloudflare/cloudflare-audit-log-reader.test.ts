// The cloudflare reader on records re-typed from the provider's documentation (fixtures/SOURCE.md says where from),
// and on records it must refuse, each with its reason.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeFixtureCases } from '../test-support/audit-log-fixture-cases.js';
import { cloudflareAuditLogReader } from './cloudflare-audit-log-reader.js';

describe('cloudflare audit-log reader', () => {
  describeFixtureCases(fileURLToPath(new URL('./fixtures', import.meta.url)), () => cloudflareAuditLogReader);

  it('says why a record cannot be used instead of throwing', () => {
    expect(cloudflareAuditLogReader.read({ action: { type: 'x' }, actor: {} })).toBe('when missing or not a time');
    expect(cloudflareAuditLogReader.read({ action: { time: 'soon', type: 'x' }, actor: {} })).toBe(
      'action.time is not a time',
    );
    expect(cloudflareAuditLogReader.read({ action: { time: '2024-01-01T00:00:00Z' }, actor: {} })).toBe(
      'action.type missing',
    );
    expect(cloudflareAuditLogReader.recognises({ action: 1, actor: {}, when: 'x' })).toBe(false);
  });
});
