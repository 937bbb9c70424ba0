// The github audit-log reader, as the reader table (../audit-log-reader-table.ts) takes it.
export { githubAuditLogReader } from './github-audit-log-reader.js';
