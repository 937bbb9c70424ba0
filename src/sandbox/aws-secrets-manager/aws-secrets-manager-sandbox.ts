// A local AWS Secrets Manager speaking its JSON 1.1 protocol (`POST /`, `X-Amz-Target: secretsmanager.<Op>`,
// `Content-Type: application/x-amz-json-1.1`) for the operations keyledger uses, with AWS's error shapes
// (`{"__type": ..., "message": ...}`) and SigV4 checked on every call against the access keys it knows. Plugs
// into the shared sandbox server, so faults, rate limits and request counts work as for every provider.
import { randomBytes, randomUUID } from 'node:crypto';
import { type Clock, systemClock } from '../../runtime/clock.js';
import { parseSigV4Credential, verifySigV4 } from '../providers/aws-iam/aws-sigv4-verifier.js';
import {
  type SandboxAnswer,
  type SandboxProvider,
  type SandboxRequest,
  type SandboxRouteMatch,
  SandboxServer,
} from '../sandbox-server.js';
import {
  AWSCURRENT,
  SecretsManagerError,
  SecretsManagerModel,
  type SmSecret,
  type SmValue,
  type SmVersion,
} from './aws-secrets-manager-model.js';

const CONTENT_TYPE = 'application/x-amz-json-1.1';
const TARGET_PREFIX = 'secretsmanager.';

export interface AwsCredentialPair {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface AwsSecretsManagerSandboxOptions {
  region?: string;
  accountId?: string;
  /** The access keys the sandbox accepts; one random pair when not given. */
  credentials?: AwsCredentialPair[];
  /** Check signatures in full (default), or only that the Authorization header is SigV4-shaped with a known key. */
  verifySignatures?: boolean;
  clock?: Clock;
}

export interface CallRecord {
  operation: string;
  accessKeyId?: string;
  errorCode?: string;
  at: string;
}

export class AwsSecretsManagerSandbox implements SandboxProvider {
  readonly name = 'aws-secrets-manager';
  readonly region: string;
  readonly credentials: AwsCredentialPair[];
  readonly #model: SecretsManagerModel;
  readonly #verifySignatures: boolean;
  readonly #clock: Clock;
  readonly #calls: CallRecord[] = [];

  constructor(options: AwsSecretsManagerSandboxOptions = {}) {
    this.region = options.region ?? 'us-east-1';
    this.#clock = options.clock ?? systemClock;
    this.credentials = options.credentials ?? [
      {
        accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
        secretAccessKey: randomBytes(30).toString('base64'),
      },
    ];
    this.#verifySignatures = options.verifySignatures ?? true;
    this.#model = new SecretsManagerModel({
      region: this.region,
      accountId: options.accountId ?? '123456789012',
      now: () => this.#clock(),
    });
  }

  match(request: SandboxRequest): SandboxRouteMatch | undefined {
    const target = header(request, 'x-amz-target');
    if (request.method !== 'POST' || request.path !== '/' || !target?.startsWith(TARGET_PREFIX)) return undefined;
    const operation = target.slice(TARGET_PREFIX.length);
    return { operation: `secretsmanager:${operation}`, handle: () => this.#handle(request, operation) };
  }

  notFound(request: SandboxRequest): SandboxAnswer {
    const target = header(request, 'x-amz-target');
    return awsError(
      new SecretsManagerError(
        'UnknownOperationException',
        target ? `Unknown operation ${target}` : 'Missing X-Amz-Target',
      ),
    );
  }

  rateLimited(retryAfter: string, status?: number): SandboxAnswer {
    const answer = awsError(new SecretsManagerError('ThrottlingException', 'Rate exceeded', status ?? 400));
    if (status) answer.headers = { ...answer.headers, 'retry-after': retryAfter };
    return answer;
  }

  failure(status: number, echo?: string): SandboxAnswer {
    return awsError(
      new SecretsManagerError(
        'InternalServiceError',
        `An error occurred on the server side${echo ? ` while storing ${echo}` : ''}.`,
        status,
      ),
    );
  }

  /** What an echoing fault leaks: the secret value of the request, as a careless server might. */
  callerSecret(request: SandboxRequest): string | undefined {
    try {
      const body = JSON.parse(request.text) as { SecretString?: string };
      return body.SecretString;
    } catch {
      return undefined;
    }
  }

  auditLog(): CallRecord[] {
    return [...this.#calls];
  }

  groundTruth(): unknown {
    return this.#model.all().map((secret) => ({
      name: secret.name,
      arn: secret.arn,
      deleted: secret.deletedDate !== undefined,
      tags: secret.tags,
      versions: secret.versions.map((version) => ({ versionId: version.versionId, stages: [...version.stages] })),
    }));
  }

  #handle(request: SandboxRequest, operation: string): SandboxAnswer {
    const credential = parseSigV4Credential(request);
    const record: CallRecord = {
      operation,
      at: this.#clock().toISOString(),
      ...(credential ? { accessKeyId: credential.accessKeyId } : {}),
    };
    this.#calls.push(record);
    try {
      this.#authenticate(request);
      if (!(header(request, 'content-type') ?? '').startsWith(CONTENT_TYPE)) {
        throw new SecretsManagerError('SerializationException', `Expected Content-Type ${CONTENT_TYPE}.`);
      }
      let input: Record<string, unknown>;
      try {
        input = request.text.trim() === '' ? {} : (JSON.parse(request.text) as Record<string, unknown>);
      } catch {
        throw new SecretsManagerError('SerializationException', 'Start of structure or map found where not expected.');
      }
      return { status: 200, headers: responseHeaders(), body: this.#operate(operation, input) };
    } catch (error) {
      if (error instanceof SecretsManagerError) {
        record.errorCode = error.type;
        return awsError(error);
      }
      throw error;
    }
  }

  #authenticate(request: SandboxRequest): void {
    const secretFor = (accessKeyId: string) =>
      this.credentials.find((pair) => pair.accessKeyId === accessKeyId)?.secretAccessKey;
    if (!this.#verifySignatures) {
      const credential = parseSigV4Credential(request);
      if (!header(request, 'authorization'))
        throw new SecretsManagerError('MissingAuthenticationTokenException', 'Missing Authentication Token');
      if (!credential)
        throw new SecretsManagerError(
          'IncompleteSignatureException',
          'The request signature does not conform to AWS standards.',
        );
      if (secretFor(credential.accessKeyId) === undefined) throw unrecognised();
      return;
    }
    const outcome = verifySigV4(request, secretFor);
    if (outcome.ok) return;
    switch (outcome.code) {
      case 'MissingAuthenticationToken':
        throw new SecretsManagerError('MissingAuthenticationTokenException', 'Missing Authentication Token');
      case 'IncompleteSignature':
        throw new SecretsManagerError(
          'IncompleteSignatureException',
          'The request signature does not conform to AWS standards.',
        );
      case 'InvalidClientTokenId':
        throw unrecognised();
      case 'SignatureDoesNotMatch':
        throw new SecretsManagerError(
          'InvalidSignatureException',
          'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
        );
    }
  }

  #operate(operation: string, input: Record<string, unknown>): unknown {
    const model = this.#model;
    switch (operation) {
      case 'CreateSecret': {
        const { secret, version } = model.create({
          name: input.Name,
          description: input.Description,
          tags: input.Tags,
          token: input.ClientRequestToken,
          value: secretValueOf(input),
        });
        return { ARN: secret.arn, Name: secret.name, ...(version ? { VersionId: version.versionId } : {}) };
      }
      case 'PutSecretValue': {
        const secret = model.find(input.SecretId);
        const version = model.putValue(secret, {
          token: input.ClientRequestToken,
          value: secretValueOf(input),
          stages: input.VersionStages,
        });
        return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, VersionStages: [...version.stages] };
      }
      case 'GetSecretValue': {
        const secret = model.find(input.SecretId);
        const version = pickVersion(secret, input.VersionId, input.VersionStage);
        version.lastAccessedDate = this.#clock();
        return {
          ARN: secret.arn,
          Name: secret.name,
          VersionId: version.versionId,
          ...(version.secretString !== undefined
            ? { SecretString: version.secretString }
            : { SecretBinary: version.secretBinary }),
          VersionStages: [...version.stages],
          CreatedDate: epochSeconds(version.createdDate),
        };
      }
      case 'UpdateSecretVersionStage': {
        const secret = model.find(input.SecretId);
        model.updateStage(secret, {
          stage: input.VersionStage,
          moveTo: input.MoveToVersionId,
          removeFrom: input.RemoveFromVersionId,
        });
        return { ARN: secret.arn, Name: secret.name };
      }
      case 'DescribeSecret': {
        const secret = model.find(input.SecretId, { allowDeleted: true });
        const labelled = secret.versions.filter((version) => version.stages.size > 0);
        return {
          ARN: secret.arn,
          Name: secret.name,
          ...(secret.description !== undefined ? { Description: secret.description } : {}),
          CreatedDate: epochSeconds(secret.createdDate),
          LastChangedDate: epochSeconds(secret.lastChangedDate),
          ...(secret.deletedDate ? { DeletedDate: epochSeconds(secret.deletedDate) } : {}),
          Tags: secret.tags.map((tag) => ({ ...tag })),
          VersionIdsToStages: Object.fromEntries(labelled.map((version) => [version.versionId, [...version.stages]])),
        };
      }
      case 'ListSecretVersionIds': {
        const secret = model.find(input.SecretId, { allowDeleted: true });
        const all =
          input.IncludeDeprecated === true
            ? secret.versions
            : secret.versions.filter((version) => version.stages.size > 0);
        const max = typeof input.MaxResults === 'number' ? Math.min(Math.max(1, input.MaxResults), 100) : 100;
        const start =
          typeof input.NextToken === 'string'
            ? Number(Buffer.from(input.NextToken, 'base64').toString('utf8')) || 0
            : 0;
        const page = all.slice(start, start + max);
        const next = start + max < all.length ? Buffer.from(String(start + max)).toString('base64') : undefined;
        return {
          ARN: secret.arn,
          Name: secret.name,
          Versions: page.map(versionEntry),
          ...(next ? { NextToken: next } : {}),
        };
      }
      case 'DeleteSecret': {
        const secret = model.find(input.SecretId, { allowDeleted: true });
        const force = input.ForceDeleteWithoutRecovery === true;
        if (force && input.RecoveryWindowInDays !== undefined) {
          throw new SecretsManagerError(
            'InvalidParameterException',
            "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
          );
        }
        const recoveryDays = typeof input.RecoveryWindowInDays === 'number' ? input.RecoveryWindowInDays : undefined;
        const deletionDate = model.delete(secret, { force, ...(recoveryDays !== undefined ? { recoveryDays } : {}) });
        return { ARN: secret.arn, Name: secret.name, DeletionDate: epochSeconds(deletionDate) };
      }
      case 'TagResource':
        model.tag(model.find(input.SecretId), input.Tags);
        return {};
      case 'UntagResource':
        model.untag(model.find(input.SecretId), input.TagKeys);
        return {};
      default:
        throw new SecretsManagerError(
          'UnknownOperationException',
          `The operation ${operation} is not supported by this sandbox.`,
        );
    }
  }
}

export interface StartedAwsSecretsManagerSandbox {
  url: string;
  region: string;
  /** The first access key the sandbox accepts. */
  credentials: AwsCredentialPair;
  sandbox: AwsSecretsManagerSandbox;
  server: SandboxServer;
  close(): Promise<void>;
}

export async function startAwsSecretsManagerSandbox(
  options: AwsSecretsManagerSandboxOptions & { port?: number } = {},
): Promise<StartedAwsSecretsManagerSandbox> {
  const sandbox = new AwsSecretsManagerSandbox(options);
  const server = new SandboxServer(sandbox, {
    ...(options.port !== undefined ? { port: options.port } : {}),
    rateLimit: null,
  });
  const url = await server.start();
  return {
    url,
    region: sandbox.region,
    credentials: sandbox.credentials[0]!,
    sandbox,
    server,
    close: () => server.stop(),
  };
}

function pickVersion(secret: SmSecret, versionId: unknown, stage: unknown): SmVersion {
  if (versionId !== undefined) {
    const version = secret.versions.find((candidate) => candidate.versionId === versionId);
    if (!version || (typeof stage === 'string' && !version.stages.has(stage))) {
      throw new SecretsManagerError(
        'ResourceNotFoundException',
        `Secrets Manager can't find the specified secret value for VersionId: ${String(versionId)}`,
      );
    }
    return version;
  }
  const label = typeof stage === 'string' ? stage : AWSCURRENT;
  const version = secret.versions.find((candidate) => candidate.stages.has(label));
  if (!version)
    throw new SecretsManagerError(
      'ResourceNotFoundException',
      `Secrets Manager can't find the specified secret value for staging label: ${label}`,
    );
  return version;
}

function secretValueOf(input: Record<string, unknown>): SmValue {
  return {
    ...(typeof input.SecretString === 'string' ? { secretString: input.SecretString } : {}),
    ...(typeof input.SecretBinary === 'string' ? { secretBinary: input.SecretBinary } : {}),
  };
}

function versionEntry(version: SmVersion) {
  return {
    VersionId: version.versionId,
    VersionStages: [...version.stages],
    CreatedDate: epochSeconds(version.createdDate),
    ...(version.lastAccessedDate ? { LastAccessedDate: epochSeconds(version.lastAccessedDate) } : {}),
  };
}

/** AWS's JSON protocols write timestamps as epoch seconds with a fraction. */
function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

function unrecognised(): SecretsManagerError {
  return new SecretsManagerError(
    'UnrecognizedClientException',
    'The security token included in the request is invalid.',
  );
}

function awsError(error: SecretsManagerError): SandboxAnswer {
  return {
    status: error.status,
    headers: { ...responseHeaders(), 'x-amzn-errortype': `${error.type}:` },
    body: { __type: error.type, message: error.message },
  };
}

function responseHeaders(): Record<string, string> {
  return { 'content-type': CONTENT_TYPE, 'x-amzn-requestid': randomUUID() };
}

function header(request: SandboxRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
