// The github reader on records re-typed from the provider's documentation (fixtures/SOURCE.md says where from).
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';
import { describeFixtureCases } from '../test-support/audit-log-fixture-cases.js';
import { githubAuditLogReader } from './github-audit-log-reader.js';

describe('github audit-log reader', () => {
  describeFixtureCases(fileURLToPath(new URL('./fixtures', import.meta.url)), () => githubAuditLogReader);
});
