// The datadog reader on records re-typed from the provider's documentation (fixtures/SOURCE.md says where from).
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';
import { describeFixtureCases } from '../test-support/audit-log-fixture-cases.js';
import { datadogAuditLogReader } from './datadog-audit-log-reader.js';

describe('datadog audit-log reader', () => {
  describeFixtureCases(fileURLToPath(new URL('./fixtures', import.meta.url)), () => datadogAuditLogReader);
});
