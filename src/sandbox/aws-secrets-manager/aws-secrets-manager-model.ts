// The rules of AWS Secrets Manager's secrets, versions and staging labels, as its API reference and rotation
// guide describe them: a label is on at most one version; AWSCURRENT can only be moved, and moving it labels the
// version it left AWSPREVIOUS; a version without labels is deprecated; a ClientRequestToken is a version id, so
// a retry with the same token and value is a no-op and with another value a ResourceExistsException.
import { randomBytes, randomUUID } from 'node:crypto';

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPREVIOUS = 'AWSPREVIOUS';
/** AWS keeps about this many versions; deprecated ones beyond it are removed, oldest first. */
const MAX_VERSIONS = 100;
const NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const TAG_PATTERN = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

export class SecretsManagerError extends Error {
  readonly type: string;
  readonly status: number;

  constructor(type: string, message: string, status = 400) {
    super(message);
    this.type = type;
    this.status = status;
  }
}

export interface SmVersion {
  versionId: string;
  secretString?: string;
  secretBinary?: string;
  stages: Set<string>;
  createdDate: Date;
  lastAccessedDate?: Date;
}

export interface SmTag {
  Key: string;
  Value: string;
}

export interface SmSecret {
  arn: string;
  name: string;
  description?: string;
  createdDate: Date;
  lastChangedDate: Date;
  deletedDate?: Date;
  tags: SmTag[];
  /** In creation order. */
  versions: SmVersion[];
}

export interface SmValue {
  secretString?: string;
  secretBinary?: string;
}

export class SecretsManagerModel {
  readonly #secrets = new Map<string, SmSecret>();
  readonly #region: string;
  readonly #accountId: string;
  readonly #now: () => Date;

  constructor(options: { region: string; accountId: string; now: () => Date }) {
    this.#region = options.region;
    this.#accountId = options.accountId;
    this.#now = options.now;
  }

  /** Finds a secret by name, full ARN, or ARN without its random suffix. */
  find(secretId: unknown, options: { allowDeleted?: boolean } = {}): SmSecret {
    if (typeof secretId !== 'string' || secretId === '')
      throw new SecretsManagerError('InvalidParameterException', 'You must provide a SecretId.');
    const secret =
      this.#secrets.get(secretId) ??
      [...this.#secrets.values()].find(
        (candidate) => candidate.arn === secretId || candidate.arn.slice(0, -7) === secretId,
      );
    if (!secret)
      throw new SecretsManagerError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    if (secret.deletedDate && !options.allowDeleted) {
      throw new SecretsManagerError(
        'InvalidRequestException',
        "You can't perform this operation on the secret because it was marked for deletion.",
      );
    }
    return secret;
  }

  create(input: { name: unknown; description?: unknown; tags?: unknown; token?: unknown; value: SmValue }): {
    secret: SmSecret;
    version?: SmVersion;
  } {
    const name = input.name;
    if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
      throw new SecretsManagerError(
        'InvalidParameterException',
        'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
      );
    }
    const existing = this.#secrets.get(name);
    if (existing?.deletedDate) {
      throw new SecretsManagerError(
        'InvalidRequestException',
        "You can't create this secret because a secret with this name is already scheduled for deletion.",
      );
    }
    if (existing)
      throw new SecretsManagerError(
        'ResourceExistsException',
        `The operation failed because the secret ${name} already exists.`,
      );
    const now = this.#now();
    const secret: SmSecret = {
      arn: `arn:aws:secretsmanager:${this.#region}:${this.#accountId}:secret:${name}-${randomBytes(3).toString('hex')}`,
      name,
      ...(typeof input.description === 'string' ? { description: input.description } : {}),
      createdDate: now,
      lastChangedDate: now,
      tags: input.tags === undefined ? [] : validateTags(input.tags),
      versions: [],
    };
    this.#secrets.set(name, secret);
    if (input.value.secretString === undefined && input.value.secretBinary === undefined) return { secret };
    const version = this.putValue(secret, {
      token: input.token ?? randomUUID(),
      value: input.value,
      stages: [AWSCURRENT],
    });
    return { secret, version };
  }

  putValue(secret: SmSecret, input: { token: unknown; value: SmValue; stages?: unknown }): SmVersion {
    const token = input.token;
    if (typeof token !== 'string' || token.length < 32 || token.length > 64) {
      throw new SecretsManagerError(
        'ValidationException',
        "1 validation error detected: Value at 'clientRequestToken' failed to satisfy constraint: Member must have length between 32 and 64",
      );
    }
    if (input.value.secretString === undefined && input.value.secretBinary === undefined) {
      throw new SecretsManagerError(
        'InvalidParameterException',
        'You must provide either SecretString or SecretBinary.',
      );
    }
    if (input.value.secretString !== undefined && input.value.secretBinary !== undefined) {
      throw new SecretsManagerError(
        'InvalidParameterException',
        'You can provide either SecretString or SecretBinary, not both.',
      );
    }
    const stages = input.stages === undefined ? [AWSCURRENT] : input.stages;
    if (
      !Array.isArray(stages) ||
      stages.length > 20 ||
      stages.some((stage) => typeof stage !== 'string' || stage.length < 1 || stage.length > 256)
    ) {
      throw new SecretsManagerError(
        'InvalidParameterException',
        'VersionStages must be a list of 1 to 20 staging labels.',
      );
    }
    const earlier = secret.versions.find((version) => version.versionId === token);
    if (earlier) {
      // A retry: the same token and value is accepted without change; a different value is refused.
      if (earlier.secretString === input.value.secretString && earlier.secretBinary === input.value.secretBinary)
        return earlier;
      throw new SecretsManagerError(
        'ResourceExistsException',
        "You can't modify an existing version, you can only create a new version.",
      );
    }
    const version: SmVersion = {
      versionId: token,
      ...(input.value.secretString !== undefined ? { secretString: input.value.secretString } : {}),
      ...(input.value.secretBinary !== undefined ? { secretBinary: input.value.secretBinary } : {}),
      stages: new Set(),
      createdDate: this.#now(),
    };
    secret.versions.push(version);
    for (const stage of stages as string[]) this.#attach(secret, stage, version);
    secret.lastChangedDate = this.#now();
    this.#prune(secret);
    return version;
  }

  updateStage(secret: SmSecret, input: { stage: unknown; moveTo?: unknown; removeFrom?: unknown }): void {
    const stage = input.stage;
    if (typeof stage !== 'string' || stage === '')
      throw new SecretsManagerError('InvalidParameterException', 'You must provide a VersionStage.');
    const holder = secret.versions.find((version) => version.stages.has(stage));
    const removeFrom = input.removeFrom === undefined ? undefined : this.#version(secret, input.removeFrom);
    if (removeFrom && removeFrom !== holder) {
      throw new SecretsManagerError(
        'InvalidParameterException',
        `The staging label ${stage} is not attached to version ${removeFrom.versionId}.`,
      );
    }
    if (input.moveTo === undefined) {
      if (!removeFrom)
        throw new SecretsManagerError(
          'InvalidParameterException',
          'You must provide MoveToVersionId or RemoveFromVersionId.',
        );
      if (stage === AWSCURRENT) {
        throw new SecretsManagerError(
          'InvalidParameterException',
          `You can only move staging label ${AWSCURRENT} to a different secret version. It can't be completely removed.`,
        );
      }
      removeFrom.stages.delete(stage);
    } else {
      const moveTo = this.#version(secret, input.moveTo);
      if (holder && holder !== moveTo && removeFrom !== holder) {
        throw new SecretsManagerError(
          'InvalidParameterException',
          `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.versionId}, so you must explicitly reference that version in RemoveFromVersionId.`,
        );
      }
      this.#attach(secret, stage, moveTo);
    }
    secret.lastChangedDate = this.#now();
    this.#prune(secret);
  }

  /** Schedules deletion, or deletes at once with `force`. */
  delete(secret: SmSecret, options: { force: boolean; recoveryDays?: number }): Date {
    const now = this.#now();
    if (options.force) {
      this.#secrets.delete(secret.name);
      return now;
    }
    secret.deletedDate = now;
    return new Date(now.getTime() + (options.recoveryDays ?? 30) * 86_400_000);
  }

  tag(secret: SmSecret, tags: unknown): void {
    const incoming = validateTags(tags);
    for (const tag of incoming) {
      const existing = secret.tags.find((candidate) => candidate.Key === tag.Key);
      if (existing) existing.Value = tag.Value;
      else secret.tags.push(tag);
    }
    if (secret.tags.length > 50)
      throw new SecretsManagerError('ValidationException', 'A secret can have at most 50 tags.');
  }

  untag(secret: SmSecret, keys: unknown): void {
    if (!Array.isArray(keys)) throw new SecretsManagerError('InvalidParameterException', 'You must provide TagKeys.');
    secret.tags = secret.tags.filter((tag) => !keys.includes(tag.Key));
  }

  all(): SmSecret[] {
    return [...this.#secrets.values()];
  }

  /** Puts `stage` on `version`; moving AWSCURRENT labels the version it left AWSPREVIOUS. */
  #attach(secret: SmSecret, stage: string, version: SmVersion): void {
    const holder = secret.versions.find((candidate) => candidate.stages.has(stage));
    if (holder === version) return;
    holder?.stages.delete(stage);
    version.stages.add(stage);
    if (stage === AWSCURRENT && holder) {
      for (const candidate of secret.versions) candidate.stages.delete(AWSPREVIOUS);
      holder.stages.add(AWSPREVIOUS);
    }
  }

  #version(secret: SmSecret, versionId: unknown): SmVersion {
    const version = secret.versions.find((candidate) => candidate.versionId === versionId);
    if (!version)
      throw new SecretsManagerError(
        'ResourceNotFoundException',
        `Secrets Manager can't find the specified secret value for VersionId: ${String(versionId)}`,
      );
    return version;
  }

  #prune(secret: SmSecret): void {
    while (secret.versions.length > MAX_VERSIONS) {
      const index = secret.versions.findIndex((version) => version.stages.size === 0);
      if (index < 0) return;
      secret.versions.splice(index, 1);
    }
  }
}

function validateTags(tags: unknown): SmTag[] {
  if (!Array.isArray(tags))
    throw new SecretsManagerError('InvalidParameterException', 'Tags must be a list of Key and Value pairs.');
  return tags.map((tag) => {
    const { Key, Value } = (tag ?? {}) as Record<string, unknown>;
    if (
      typeof Key !== 'string' ||
      Key.length < 1 ||
      Key.length > 128 ||
      !TAG_PATTERN.test(Key) ||
      Key.toLowerCase().startsWith('aws:')
    ) {
      throw new SecretsManagerError(
        'ValidationException',
        'A tag key must be 1 to 128 characters of letters, digits, spaces and _ . : / = + - @, not starting with aws:.',
      );
    }
    if (typeof Value !== 'string' || Value.length > 256 || !TAG_PATTERN.test(Value)) {
      throw new SecretsManagerError(
        'ValidationException',
        `The value of tag ${Key} must be at most 256 characters of letters, digits, spaces and _ . : / = + - @.`,
      );
    }
    return { Key, Value };
  });
}
