// The gitlab audit-log reader, as the reader table (../audit-log-reader-table.ts) takes it.
export { gitlabAuditLogReader } from './gitlab-audit-log-reader.js';
