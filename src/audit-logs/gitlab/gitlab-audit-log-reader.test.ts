// The gitlab reader on records re-typed from the provider's documentation (fixtures/SOURCE.md says where from).
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';
import { describeFixtureCases } from '../test-support/audit-log-fixture-cases.js';
import { gitlabAuditLogReader } from './gitlab-audit-log-reader.js';

describe('gitlab audit-log reader', () => {
  describeFixtureCases(fileURLToPath(new URL('./fixtures', import.meta.url)), () => gitlabAuditLogReader);
});
