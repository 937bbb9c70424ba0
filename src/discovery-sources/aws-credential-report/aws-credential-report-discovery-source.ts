// AWS IAM credential report through the AWS SDK: GenerateCredentialReport (repeated while IAM answers STARTED or
// GetCredentialReport answers ReportInProgress), then GetCredentialReport, whose Content is the base64 CSV AWS
// documents (`user`, `arn`, `access_key_1_active`, `access_key_1_last_rotated`, `access_key_1_last_used_date`, ...;
// see src/sandbox/providers/aws-iam/aws-credential-report.ts). One observation per key slot that holds a key,
// the root account's included (root access keys are a finding of their own). The report names no access key ids:
// slots are tied to users, not to entries.
import {
  GenerateCredentialReportCommand,
  GetCredentialReportCommand,
  IAMClient,
  type IAMClientConfig,
} from '@aws-sdk/client-iam';
import { parse } from 'csv-parse/sync';
import { ConfigError } from '../../errors/keyledger-error.js';
import { realSleep } from '../../runtime/retry-policy.js';
import type { DiscoverySource, SecretObservation } from '../discovery-source.js';

const POLL_MS = 2_000;
const MAX_POLLS = 60;

export const awsCredentialReportDiscoverySource: DiscoverySource = {
  name: 'aws-credential-report',
  description: "the AWS IAM credential report: every user's access key slots, with rotation and last-use dates",
  options: {
    url: { description: "the IAM endpoint (default: the SDK's, https://iam.amazonaws.com)" },
    region: { description: 'the signing region (default us-east-1)' },
    'access-key-env': { description: 'the variable holding the access key id (default AWS_ACCESS_KEY_ID)' },
    'secret-key-env': { description: 'the variable holding the secret access key (default AWS_SECRET_ACCESS_KEY)' },
  },
  async *observe(context) {
    const accessKeyId = context.env[context.options['access-key-env'] ?? 'AWS_ACCESS_KEY_ID'];
    const secretAccessKey = context.env[context.options['secret-key-env'] ?? 'AWS_SECRET_ACCESS_KEY'];
    if (!accessKeyId || !secretAccessKey)
      throw new ConfigError(
        'no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or name other variables)',
      );
    const config: IAMClientConfig = {
      region: context.options.region ?? 'us-east-1',
      credentials: {
        accessKeyId,
        secretAccessKey,
        ...(context.env.AWS_SESSION_TOKEN ? { sessionToken: context.env.AWS_SESSION_TOKEN } : {}),
      },
      ...(context.options.url ? { endpoint: context.options.url } : {}),
    };
    const iam = new IAMClient(config);
    try {
      const csv = await credentialReport(iam);
      const rows: Record<string, string>[] = parse(csv, { columns: true, skip_empty_lines: true });
      for (const row of rows) {
        for (const slot of [1, 2]) {
          const prefix = `access_key_${slot}`;
          const rotated = row[`${prefix}_last_rotated`];
          if (row[`${prefix}_active`] !== 'true' && !isDate(rotated)) continue;
          const lastUsed = row[`${prefix}_last_used_date`];
          const user = row.user ?? '?';
          const observation: SecretObservation = {
            location: row.arn ?? user,
            name: prefix,
            provider: 'aws-iam',
            principal: user,
            ...(isDate(row.user_creation_time) ? { createdAt: iso(row.user_creation_time) } : {}),
            ...(isDate(rotated) ? { updatedAt: iso(rotated) } : {}),
            ...(isDate(lastUsed) ? { lastUsedAt: iso(lastUsed) } : {}),
            detail: {
              active: row[`${prefix}_active`] === 'true',
              root: user === '<root_account>',
              lastUsedService: row[`${prefix}_last_used_service`] ?? null,
            },
          };
          yield observation;
        }
      }
    } finally {
      iam.destroy();
    }
  },
};

async function credentialReport(iam: IAMClient): Promise<string> {
  for (let poll = 0; poll < MAX_POLLS; poll += 1) {
    // STARTED or INPROGRESS: the report may still be ready at once (IAM builds small ones in a second), so ask.
    await iam.send(new GenerateCredentialReportCommand({}));
    try {
      const report = await iam.send(new GetCredentialReportCommand({}));
      if (report.Content) return Buffer.from(report.Content).toString('utf8');
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name !== 'CredentialReportNotReadyException' && name !== 'ReportInProgress') throw error;
    }
    await realSleep(POLL_MS);
  }
  throw new ConfigError(`the credential report was not ready after ${(MAX_POLLS * POLL_MS) / 1000} s`);
}

function isDate(value: string | undefined): value is string {
  return value !== undefined && /^\d{4}-\d{2}-\d{2}T/.test(value) && Number.isFinite(Date.parse(value));
}

function iso(value: string): string {
  return new Date(value).toISOString();
}
