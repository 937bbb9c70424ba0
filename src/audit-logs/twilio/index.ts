// The twilio audit-log reader, as the reader table (../audit-log-reader-table.ts) takes it.
export { twilioAuditLogReader } from './twilio-audit-log-reader.js';
