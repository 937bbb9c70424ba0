// The slack audit-log reader, as the reader table (../audit-log-reader-table.ts) takes it.
export { slackAuditLogReader } from './slack-audit-log-reader.js';
