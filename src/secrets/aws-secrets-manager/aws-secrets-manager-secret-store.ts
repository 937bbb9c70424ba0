// The AWS Secrets Manager store, using the rotation protocol's own staging labels: pending is AWSPENDING, current
// AWSCURRENT, previous AWSPREVIOUS. A put is PutSecretValue with VersionStages [label] and the idempotency token
// (as a UUID) for ClientRequestToken; promote moves AWSCURRENT with UpdateSecretVersionStage (AWS then labels the
// old version AWSPREVIOUS itself) and removes AWSPENDING. The value is the SecretString as is, so consumers read
// it unchanged; per-version metadata lives in secret tags `keyledger:v:<VersionId>` (base64 JSON).
import { createHash, randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  type SecretVersionsListEntry,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { redactSecrets } from '../../runtime/secret-redaction.js';
import { assertSecretPath } from '../secret-path.js';
import type { PutSecretOptions, SecretStage, SecretStore, SecretVersion, StoredSecret } from '../secret-store.js';
import { SecretStoreError, type SecretStoreErrorCode } from '../secret-store-error.js';
import { runWriteProbe } from '../secret-store-probe.js';
import { SecretValue } from '../secret-value.js';
import type { AwsSecretsManagerSecretStoreOptions } from './aws-secrets-manager-schemas.js';

const KIND = 'aws-secrets-manager';
const LABEL: Record<SecretStage, string> = { pending: 'AWSPENDING', current: 'AWSCURRENT', previous: 'AWSPREVIOUS' };
const STAGE_ORDER: SecretStage[] = ['pending', 'current', 'previous'];
const METADATA_TAG_PREFIX = 'keyledger:v:';
const TAG_VALUE_LIMIT = 256;

interface Described {
  arn: string;
  stagesById: Map<string, SecretStage[]>;
  metadataById: Map<string, Record<string, string>>;
  metadataTagKeys: string[];
  deleted: boolean;
}

export class AwsSecretsManagerSecretStore implements SecretStore {
  readonly kind = KIND;
  readonly #client: SecretsManagerClient;
  readonly #prefix: string;

  constructor(options: AwsSecretsManagerSecretStoreOptions) {
    this.#prefix = options.namePrefix;
    this.#client = new SecretsManagerClient({
      region: options.region,
      maxAttempts: options.maxAttempts,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: { ...options.credentials } } : {}),
    });
  }

  /** Closes the SDK's sockets. */
  close(): void {
    this.#client.destroy();
  }

  async put(path: string, value: SecretValue, options: PutSecretOptions): Promise<SecretVersion> {
    assertSecretPath(KIND, path);
    const name = this.#name(path);
    const metadata = { ...(options.metadata ?? {}) };
    const encodedMetadata = Buffer.from(JSON.stringify(metadata), 'utf8').toString('base64');
    if (encodedMetadata.length > TAG_VALUE_LIMIT) {
      throw new SecretStoreError(
        'E_SECRET_STORE_INVALID_REQUEST',
        KIND,
        `the metadata of a version at ${path} is too large for a Secrets Manager tag (${TAG_VALUE_LIMIT} characters as base64 JSON)`,
        { path },
      );
    }
    const token =
      options.idempotencyToken === undefined ? randomUUID() : clientRequestTokenFor(options.idempotencyToken);
    const putValue = () =>
      this.#client.send(
        new PutSecretValueCommand({
          SecretId: name,
          ClientRequestToken: token,
          SecretString: value.reveal(),
          VersionStages: [LABEL[options.stage]],
        }),
      );
    let written: Awaited<ReturnType<typeof putValue>>;
    try {
      written = await this.#call('PutSecretValue', path, putValue, [value]);
    } catch (error) {
      if (!(error instanceof SecretStoreError) || error.storeCode !== 'ResourceNotFoundException') throw error;
      // A first write: create the secret without a value, so the version gets exactly the stage asked for.
      await this.#call('CreateSecret', path, () => this.#client.send(new CreateSecretCommand({ Name: name }))).catch(
        (caught: unknown) => {
          if (!(caught instanceof SecretStoreError) || caught.storeCode !== 'ResourceExistsException') throw caught;
        },
      );
      written = await this.#call('PutSecretValue', path, putValue, [value]);
    }
    const versionId = written.VersionId ?? token;
    const described = await this.#describe(path);
    if (!described) throw notFound(path, 'it vanished while being written');
    // Tags of versions that no longer hold a stage are dropped, which keeps under AWS's 50-tag limit.
    const stale = described.metadataTagKeys.filter((key) => {
      const id = key.slice(METADATA_TAG_PREFIX.length);
      return id !== versionId && !described.stagesById.has(id);
    });
    if (stale.length > 0) {
      await this.#call('UntagResource', path, () =>
        this.#client.send(new UntagResourceCommand({ SecretId: name, TagKeys: stale })),
      );
    }
    if (Object.keys(metadata).length > 0) {
      await this.#call('TagResource', path, () =>
        this.#client.send(
          new TagResourceCommand({
            SecretId: name,
            Tags: [{ Key: `${METADATA_TAG_PREFIX}${versionId}`, Value: encodedMetadata }],
          }),
        ),
      );
    }
    const createdAt = await this.#createdDates(path).then((dates) => dates.get(versionId) ?? new Date());
    return { versionId, stages: described.stagesById.get(versionId) ?? [], createdAt, metadata };
  }

  async get(path: string, stage: SecretStage = 'current'): Promise<StoredSecret | null> {
    assertSecretPath(KIND, path);
    const name = this.#name(path);
    let answer: GetSecretValueCommandOutput;
    try {
      answer = await this.#call('GetSecretValue', path, () =>
        this.#client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: LABEL[stage] })),
      );
    } catch (error) {
      if (error instanceof SecretStoreError && error.storeCode === 'ResourceNotFoundException') return null;
      throw error;
    }
    if (answer.SecretString === undefined || answer.SecretString === '') {
      throw new SecretStoreError(
        'E_SECRET_STORE',
        KIND,
        `version ${answer.VersionId} of ${path} holds no SecretString (binary secrets are not supported)`,
        {
          path,
        },
      );
    }
    const value = new SecretValue(answer.SecretString);
    const described = await this.#describe(path);
    const versionId = answer.VersionId!;
    return {
      versionId,
      stages: described?.stagesById.get(versionId) ?? stagesFromLabels(answer.VersionStages ?? []),
      createdAt: answer.CreatedDate ?? new Date(0),
      metadata: described?.metadataById.get(versionId) ?? {},
      value,
    };
  }

  async promote(path: string): Promise<SecretVersion> {
    assertSecretPath(KIND, path);
    const name = this.#name(path);
    const described = await this.#describe(path);
    if (!described) throw notFound(path, 'there is no secret to promote');
    const holderOf = (stage: SecretStage) =>
      [...described.stagesById].find(([, stages]) => stages.includes(stage))?.[0];
    const pending = holderOf('pending');
    const current = holderOf('current');
    const target = pending ?? current;
    if (target === undefined) throw notFound(path, 'it has neither a pending nor a current version');
    if (pending !== undefined) {
      // Two calls, in the order AWS's rotation functions use; if the second never happens, the pending version
      // is already current and a repeated promote only removes its AWSPENDING label.
      if (pending !== current) {
        await this.#call('UpdateSecretVersionStage', path, () =>
          this.#client.send(
            new UpdateSecretVersionStageCommand({
              SecretId: name,
              VersionStage: LABEL.current,
              MoveToVersionId: pending,
              ...(current !== undefined ? { RemoveFromVersionId: current } : {}),
            }),
          ),
        );
      }
      await this.#call('UpdateSecretVersionStage', path, () =>
        this.#client.send(
          new UpdateSecretVersionStageCommand({
            SecretId: name,
            VersionStage: LABEL.pending,
            RemoveFromVersionId: pending,
          }),
        ),
      );
    }
    const dates = await this.#createdDates(path);
    const stages = pending !== undefined ? (['current'] as SecretStage[]) : (described.stagesById.get(target) ?? []);
    return {
      versionId: target,
      stages,
      createdAt: dates.get(target) ?? new Date(0),
      metadata: described.metadataById.get(target) ?? {},
    };
  }

  async discardPending(path: string): Promise<void> {
    assertSecretPath(KIND, path);
    const described = await this.#describe(path);
    const pending = described && [...described.stagesById].find(([, stages]) => stages.includes('pending'))?.[0];
    if (!pending) return;
    // The version loses its last label and becomes deprecated; Secrets Manager removes it in time.
    await this.#call('UpdateSecretVersionStage', path, () =>
      this.#client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: this.#name(path),
          VersionStage: LABEL.pending,
          RemoveFromVersionId: pending,
        }),
      ),
    );
  }

  async versions(path: string): Promise<SecretVersion[]> {
    assertSecretPath(KIND, path);
    const described = await this.#describe(path);
    if (!described || described.deleted) return [];
    const entries = await this.#listVersions(path);
    const versions = entries.map((entry) => ({
      versionId: entry.VersionId!,
      stages: described.stagesById.get(entry.VersionId!) ?? stagesFromLabels(entry.VersionStages ?? []),
      createdAt: entry.CreatedDate ?? new Date(0),
      metadata: described.metadataById.get(entry.VersionId!) ?? {},
    }));
    // Newest first; versions made within one timestamp tick are ordered by their stage, pending before current.
    const rank = (version: SecretVersion) =>
      Math.min(...version.stages.map((stage) => STAGE_ORDER.indexOf(stage)), STAGE_ORDER.length);
    return versions.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || rank(a) - rank(b));
  }

  async delete(path: string): Promise<void> {
    assertSecretPath(KIND, path);
    try {
      await this.#call('DeleteSecret', path, () =>
        this.#client.send(new DeleteSecretCommand({ SecretId: this.#name(path), ForceDeleteWithoutRecovery: true })),
      );
    } catch (error) {
      if (error instanceof SecretStoreError && error.storeCode === 'ResourceNotFoundException') return;
      throw error;
    }
  }

  async checkWritable(path: string): Promise<void> {
    assertSecretPath(KIND, path);
    await runWriteProbe(this, path);
  }

  async exists(path: string): Promise<boolean> {
    assertSecretPath(KIND, path);
    const described = await this.#describe(path);
    return (
      described !== null &&
      !described.deleted &&
      [...described.stagesById.values()].some((stages) => stages.includes('current'))
    );
  }

  #name(path: string): string {
    return `${this.#prefix}${path}`;
  }

  async #describe(path: string): Promise<Described | null> {
    let answer: DescribeSecretCommandOutput;
    try {
      answer = await this.#call('DescribeSecret', path, () =>
        this.#client.send(new DescribeSecretCommand({ SecretId: this.#name(path) })),
      );
    } catch (error) {
      if (error instanceof SecretStoreError && error.storeCode === 'ResourceNotFoundException') return null;
      throw error;
    }
    const stagesById = new Map<string, SecretStage[]>();
    for (const [id, labels] of Object.entries(answer.VersionIdsToStages ?? {})) {
      const stages = stagesFromLabels(labels);
      if (stages.length > 0) stagesById.set(id, stages);
    }
    const metadataById = new Map<string, Record<string, string>>();
    const metadataTagKeys: string[] = [];
    for (const tag of answer.Tags ?? []) {
      if (!tag.Key?.startsWith(METADATA_TAG_PREFIX)) continue;
      metadataTagKeys.push(tag.Key);
      try {
        metadataById.set(
          tag.Key.slice(METADATA_TAG_PREFIX.length),
          JSON.parse(Buffer.from(tag.Value ?? '', 'base64').toString('utf8')),
        );
      } catch {
        // A hand-edited tag is ignored rather than failing every read of the secret.
      }
    }
    return {
      arn: answer.ARN ?? '',
      stagesById,
      metadataById,
      metadataTagKeys,
      deleted: answer.DeletedDate !== undefined,
    };
  }

  async #listVersions(path: string): Promise<SecretVersionsListEntry[]> {
    const entries: SecretVersionsListEntry[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.#call('ListSecretVersionIds', path, () =>
        this.#client.send(
          new ListSecretVersionIdsCommand({
            SecretId: this.#name(path),
            MaxResults: 100,
            ...(nextToken ? { NextToken: nextToken } : {}),
          }),
        ),
      );
      entries.push(...(page.Versions ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
    return entries;
  }

  async #createdDates(path: string): Promise<Map<string, Date>> {
    const entries = await this.#listVersions(path);
    return new Map(entries.map((entry) => [entry.VersionId!, entry.CreatedDate ?? new Date(0)]));
  }

  /** Sends one call and turns an SDK failure into a typed error with AWS's code and redacted message. */
  async #call<T>(operation: string, path: string, send: () => Promise<T>, secrets: SecretValue[] = []): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw toStoreError(error, operation, path, secrets);
    }
  }
}

/** AWS wants 32 to 64 characters; a UUID derived from the token keeps retries landing on the same version. */
export function clientRequestTokenFor(idempotencyToken: string): string {
  const hex = createHash('sha256').update(`keyledger:${idempotencyToken}`, 'utf8').digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function stagesFromLabels(labels: string[]): SecretStage[] {
  return STAGE_ORDER.filter((stage) => labels.includes(LABEL[stage]));
}

const CODE_BY_AWS_ERROR: Record<string, SecretStoreErrorCode> = {
  ResourceNotFoundException: 'E_SECRET_NOT_FOUND',
  ResourceExistsException: 'E_SECRET_CONFLICT',
  InvalidParameterException: 'E_SECRET_STORE_INVALID_REQUEST',
  InvalidRequestException: 'E_SECRET_STORE_INVALID_REQUEST',
  ValidationException: 'E_SECRET_STORE_INVALID_REQUEST',
  LimitExceededException: 'E_SECRET_STORE_INVALID_REQUEST',
  UnrecognizedClientException: 'E_SECRET_STORE_AUTH',
  InvalidSignatureException: 'E_SECRET_STORE_AUTH',
  IncompleteSignatureException: 'E_SECRET_STORE_AUTH',
  MissingAuthenticationTokenException: 'E_SECRET_STORE_AUTH',
  AccessDeniedException: 'E_SECRET_STORE_AUTH',
  ExpiredTokenException: 'E_SECRET_STORE_AUTH',
  DecryptionFailure: 'E_SECRET_STORE_AUTH',
  ThrottlingException: 'E_SECRET_STORE_UNAVAILABLE',
  InternalServiceError: 'E_SECRET_STORE_UNAVAILABLE',
};

function toStoreError(error: unknown, operation: string, path: string, secrets: SecretValue[]): SecretStoreError {
  const failure = error as {
    name?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
    $fault?: string;
  };
  const status = failure.$metadata?.httpStatusCode;
  const awsCode = failure.name ?? 'Error';
  const message = redactSecrets(String(failure.message ?? ''), secrets);
  // No HTTP status means the call never got an answer: the endpoint is down or the network failed.
  const code =
    CODE_BY_AWS_ERROR[awsCode] ??
    (status === undefined || failure.$fault === 'server' || status >= 500
      ? 'E_SECRET_STORE_UNAVAILABLE'
      : 'E_SECRET_STORE');
  // The SDK's error is not kept as the cause: it holds the raw response, and a careless server may echo a value.
  return new SecretStoreError(
    code,
    KIND,
    `Secrets Manager answered ${awsCode} to ${operation} for ${path}: ${message}`,
    {
      path,
      storeCode: awsCode,
      ...(status !== undefined ? { status } : {}),
    },
  );
}

function notFound(path: string, why: string): SecretStoreError {
  return new SecretStoreError('E_SECRET_NOT_FOUND', KIND, `cannot promote ${path}: ${why}`, { path });
}
