// Every audit-log reader by format name. A missing entry fails to compile (Record over the format names); to add a
// reader: a folder `audit-logs/<format>/` with `<format>-audit-log-reader.ts`, its test and fixtures, an
// `index.ts`, and one line here.
import type { AuditLogReader } from './audit-log-reader.js';
import { cloudflareAuditLogReader } from './cloudflare/index.js';
import { cloudtrailAuditLogReader } from './cloudtrail/index.js';
import { datadogAuditLogReader } from './datadog/index.js';
import { entraAuditLogReader } from './entra/index.js';
import { gcpAuditLogReader } from './gcp/index.js';
import { githubAuditLogReader } from './github/index.js';
import { gitlabAuditLogReader } from './gitlab/index.js';
import { openaiAuditLogReader } from './openai/index.js';
import { sendgridAuditLogReader } from './sendgrid/index.js';
import { slackAuditLogReader } from './slack/index.js';
import { twilioAuditLogReader } from './twilio/index.js';

// The mapped reader is built per mapping, not a table entry; callers reach it through this module.
export { type AuditLogMapping, jsonLinesAuditLogReader, parseAuditLogMapping } from './json-lines/index.js';

export const BUILTIN_AUDIT_LOG_FORMATS = [
  'cloudtrail',
  'github',
  'gcp',
  'entra',
  'datadog',
  'openai',
  'gitlab',
  'cloudflare',
  'twilio',
  'sendgrid',
  'slack',
] as const;
export type BuiltinAuditLogFormat = (typeof BUILTIN_AUDIT_LOG_FORMATS)[number];

export const auditLogReaderTable: Readonly<Record<BuiltinAuditLogFormat, AuditLogReader>> = {
  cloudtrail: cloudtrailAuditLogReader,
  github: githubAuditLogReader,
  gcp: gcpAuditLogReader,
  entra: entraAuditLogReader,
  datadog: datadogAuditLogReader,
  openai: openaiAuditLogReader,
  gitlab: gitlabAuditLogReader,
  cloudflare: cloudflareAuditLogReader,
  twilio: twilioAuditLogReader,
  sendgrid: sendgridAuditLogReader,
  slack: slackAuditLogReader,
};

export function isBuiltinAuditLogFormat(name: string): name is BuiltinAuditLogFormat {
  return (BUILTIN_AUDIT_LOG_FORMATS as readonly string[]).includes(name);
}

/** The envelope keys of every reader: with `--format auto` a file's envelope is recognised before its records. */
export function allEnvelopeKeys(readers: readonly AuditLogReader[]): string[] {
  return [...new Set(readers.flatMap((reader) => reader.envelopeKeys))];
}
