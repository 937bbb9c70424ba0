// The openai audit-log reader, as the reader table (../audit-log-reader-table.ts) takes it.
export { openaiAuditLogReader } from './openai-audit-log-reader.js';
