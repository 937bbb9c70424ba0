// The AWS IAM access-key adapter, on the official SDK (@aws-sdk/client-iam, @aws-sdk/client-sts): create, list,
// revoke (UpdateAccessKey Inactive, then DeleteAccessKey), last used, and verify through STS GetCallerIdentity
// signed with the key itself. The SDK's own retries are off; ours (retry-policy.ts) apply, as for every adapter.
// A listed key carries its user's policy names as permissions (list(): GetAccountAuthorizationDetails for the
// whole account, ListAttachedUserPolicies and ListUserPolicies per user otherwise).
import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  GetAccountAuthorizationDetailsCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  ListUserPoliciesCommand,
  ListUsersCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ProviderError } from '../../errors/provider-error.js';
import { backoffDelayMs, realSleep, withRetry } from '../../runtime/retry-policy.js';
import type { RateLimiter } from '../../runtime/token-bucket.js';
import { SecretValue } from '../../secrets/secret-value.js';
import { sendBeforeStepDeadline } from '../http/sdk-caller.js';
import type { CreatedKey, CreateKeyRequest, LastUsed, ProviderKey, ProviderKeyRef, VerifyResult } from '../provider.js';
import { ProviderAdapter } from '../provider-adapter.js';
import type { ProviderContext } from '../provider-context.js';
import { AWS_IAM_PROVIDER_NAME } from './aws-iam-constants.js';
import { toAwsProviderError } from './aws-iam-errors.js';
import { type AwsIamOptions, type AwsIamOptionsInput, awsIamOptionsSchema } from './aws-iam-schemas.js';
import { awsIamProviderRegistration } from './index.js';

export class AwsIamProvider extends ProviderAdapter {
  readonly #options: AwsIamOptions;
  readonly #context: ProviderContext;
  readonly #iamClient: IAMClient | undefined;
  readonly #limiter: RateLimiter | null;
  /** Keys this adapter created, by id, with the real time of creation: IAM may not know them everywhere yet. */
  readonly #recentlyCreated = new Map<string, number>();

  constructor(options: AwsIamOptionsInput | AwsIamOptions, context: ProviderContext) {
    const parsed = awsIamOptionsSchema.parse(options);
    super(awsIamProviderRegistration, parsed, context);
    this.#options = parsed;
    this.#context = context;
    this.#limiter = this.rateLimiter() ?? null;
    const { credentials } = this.#options;
    this.#iamClient = credentials
      ? new IAMClient({
          ...this.#sdkConfig(this.#options.baseUrl),
          credentials: {
            accessKeyId: credentials.accessKeyId,
            secretAccessKey: credentials.secretAccessKey.reveal(),
            ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
          },
        })
      : undefined;
  }

  /** The IAM client; verify() alone works without the adapter's own credentials. */
  get #iam(): IAMClient {
    if (!this.#iamClient) {
      throw new ProviderError(
        'E_PROVIDER_AUTH',
        this.name,
        'this call needs the `credentials` option (an IAM user that manages access keys)',
      );
    }
    return this.#iamClient;
  }

  async create(request: CreateKeyRequest): Promise<CreatedKey> {
    const userName = request.account;
    if (!userName) {
      throw new ProviderError('E_PROVIDER_INVALID_REQUEST', this.name, 'create needs `account`: the IAM user name');
    }
    const output = await this.#call(false, [], (options) =>
      this.#iam.send(new CreateAccessKeyCommand({ UserName: userName }), options),
    );
    const key = output.AccessKey;
    if (!key?.AccessKeyId || !key.SecretAccessKey) {
      throw new ProviderError('E_PROVIDER', this.name, 'CreateAccessKey answered without an access key');
    }
    this.#recentlyCreated.set(key.AccessKeyId, Date.now());
    return {
      providerKeyId: key.AccessKeyId,
      account: key.UserName ?? userName,
      secret: new SecretValue(key.SecretAccessKey),
      createdAt: key.CreateDate ?? this.#context.clock(),
    };
  }

  /**
   * Each key with its user's policy names as `permissions` (an access key acts as its user: the user's attached
   * managed policies and inline policies are what it may do). The whole account's listing reads every user's at
   * once first (GetAccountAuthorizationDetails, Filter=User: one paced call per 1,000 users); one user's listing,
   * or a user that snapshot lacks, costs two calls for that user (ListAttachedUserPolicies, ListUserPolicies), read
   * on its first key. When a read fails, the user's keys are listed without `permissions` (unread, not "none": none
   * read is `[]`); after an AccessDenied (the adapter's user may list keys without those permissions) the listing
   * reads no more.
   */
  async *list(options: { account?: string } = {}): AsyncIterable<ProviderKey> {
    const policies: UserPolicyReads = { readable: true };
    if (options.account) {
      yield* this.#listUserKeys(options.account, policies);
      return;
    }
    policies.known = await this.#accountPolicyNames();
    let marker: string | undefined;
    do {
      const page = await this.#call(true, [], (options) =>
        this.#iam.send(new ListUsersCommand({ ...(marker ? { Marker: marker } : {}) }), options),
      );
      for (const user of page.Users ?? []) if (user.UserName) yield* this.#listUserKeys(user.UserName, policies);
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
  }

  async verify(secret: SecretValue, ref?: ProviderKeyRef): Promise<VerifyResult> {
    const { accessKeyId, secretAccessKey } = splitCredential(secret, ref);
    const sts = new STSClient({
      ...this.#sdkConfig(this.#options.stsBaseUrl ?? this.#options.baseUrl),
      credentials: { accessKeyId, secretAccessKey: secretAccessKey.reveal() },
    });
    const sleep = this.#context.sleep ?? realSleep;
    const createdAt = this.#recentlyCreated.get(accessKeyId);
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const identity = await this.#call(true, [secretAccessKey], (options) =>
            sts.send(new GetCallerIdentityCommand({}), options),
          );
          this.#recentlyCreated.delete(accessKeyId);
          return { valid: true, providerKeyId: accessKeyId, ...(identity.Arn ? { identity: identity.Arn } : {}) };
        } catch (error) {
          if (!(error instanceof ProviderError) || error.code !== 'E_PROVIDER_AUTH') throw error;
          // A key minted moments ago may not have reached STS yet (IAM is eventually consistent): wait, within a bound.
          const withinWindow = createdAt !== undefined && Date.now() - createdAt < this.#options.consistencyTimeoutMs;
          if (!withinWindow) return { valid: false, reason: error.message };
          await sleep(backoffDelayMs(attempt, this.#options.retry, this.#context.random));
        }
      }
    } finally {
      sts.destroy();
    }
  }

  async revoke(ref: ProviderKeyRef): Promise<void> {
    const userName = ref.account ?? (await this.#ownerOf(ref.providerKeyId));
    if (!userName) return;
    try {
      // Inactive first: if the delete fails, the key is at least unusable.
      await this.#call(true, [], (options) =>
        this.#iam.send(
          new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: ref.providerKeyId, Status: 'Inactive' }),
          options,
        ),
      );
      await this.#call(true, [], (options) =>
        this.#iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: ref.providerKeyId }), options),
      );
    } catch (error) {
      if (error instanceof ProviderError && error.code === 'E_PROVIDER_NOT_FOUND') return;
      throw error;
    }
    this.#recentlyCreated.delete(ref.providerKeyId);
  }

  async lastUsed(ref: ProviderKeyRef): Promise<LastUsed> {
    const output = await this.#call(true, [], (options) =>
      this.#iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: ref.providerKeyId }), options),
    );
    const used = output.AccessKeyLastUsed;
    return {
      at: used?.LastUsedDate ?? null,
      ...(used?.ServiceName && used.ServiceName !== 'N/A' ? { service: used.ServiceName } : {}),
      ...(used?.Region && used.Region !== 'N/A' ? { region: used.Region } : {}),
    };
  }

  /** Releases the SDK's sockets. */
  close(): void {
    this.#iamClient?.destroy();
  }

  async *#listUserKeys(userName: string, policies: UserPolicyReads): AsyncIterable<ProviderKey> {
    let marker: string | undefined;
    /** Read once for the user, on its first key: a user without keys costs no policy calls. */
    let permissions: string[] | undefined | null = null;
    do {
      const page = await this.#call(true, [], (options) =>
        this.#iam.send(
          new ListAccessKeysCommand({ UserName: userName, ...(marker ? { Marker: marker } : {}) }),
          options,
        ),
      );
      for (const key of page.AccessKeyMetadata ?? []) {
        if (!key.AccessKeyId) continue;
        if (permissions === null)
          permissions =
            policies.known?.get(userName) ??
            (policies.readable ? await this.#policyNames(userName, policies) : undefined);
        yield {
          providerKeyId: key.AccessKeyId,
          account: key.UserName ?? userName,
          status: key.Status === 'Active' ? 'active' : 'inactive',
          ...(key.CreateDate ? { createdAt: key.CreateDate } : {}),
          ...(permissions ? { permissions } : {}),
        };
      }
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
  }

  /**
   * The names of the user's attached managed policies (`AdministratorAccess`), then of its inline policies, each
   * list paged by Marker. Undefined when a read fails: IAM refuses it (`policies.readable` then turns false for the
   * rest of the listing: one refusal per listing, not one per user), the user went between the calls, or IAM kept
   * failing through the retries.
   */
  async #policyNames(userName: string, policies: UserPolicyReads): Promise<string[] | undefined> {
    const names: string[] = [];
    try {
      let marker: string | undefined;
      do {
        const page = await this.#call(true, [], (options) =>
          this.#iam.send(
            new ListAttachedUserPoliciesCommand({ UserName: userName, ...(marker ? { Marker: marker } : {}) }),
            options,
          ),
        );
        for (const policy of page.AttachedPolicies ?? []) if (policy.PolicyName) names.push(policy.PolicyName);
        marker = page.IsTruncated ? page.Marker : undefined;
      } while (marker);
      do {
        const page = await this.#call(true, [], (options) =>
          this.#iam.send(
            new ListUserPoliciesCommand({ UserName: userName, ...(marker ? { Marker: marker } : {}) }),
            options,
          ),
        );
        names.push(...(page.PolicyNames ?? []));
        marker = page.IsTruncated ? page.Marker : undefined;
      } while (marker);
    } catch (error) {
      // A failed read (after its retries) costs the key its permissions, not the listing its completeness: a
      // listing that stops proves no key gone (src/audit/key-discovery.ts).
      if (!(error instanceof ProviderError)) throw error;
      if (error.providerCode === 'AccessDenied' || error.providerCode === 'AccessDeniedException')
        policies.readable = false;
      return undefined;
    }
    return names;
  }

  /**
   * Every user's attached and inline policy names from GetAccountAuthorizationDetails (Filter=User, the largest page
   * IAM allows, paged by Marker): IAM's snapshot of the account's permissions. Undefined when it fails; the users
   * are then read one by one (`iam:GetAccountAuthorizationDetails` may be refused where the per-user reads are not).
   */
  async #accountPolicyNames(): Promise<Map<string, string[]> | undefined> {
    const names = new Map<string, string[]>();
    try {
      let marker: string | undefined;
      do {
        const page = await this.#call(true, [], (options) =>
          this.#iam.send(
            new GetAccountAuthorizationDetailsCommand({
              Filter: ['User'],
              MaxItems: 1000,
              ...(marker ? { Marker: marker } : {}),
            }),
            options,
          ),
        );
        for (const user of page.UserDetailList ?? []) {
          if (!user.UserName) continue;
          names.set(user.UserName, [
            ...(user.AttachedManagedPolicies ?? []).flatMap((policy) => (policy.PolicyName ? [policy.PolicyName] : [])),
            ...(user.UserPolicyList ?? []).flatMap((policy) => (policy.PolicyName ? [policy.PolicyName] : [])),
          ]);
        }
        marker = page.IsTruncated ? page.Marker : undefined;
      } while (marker);
    } catch (error) {
      if (error instanceof ProviderError) return undefined;
      throw error;
    }
    return names;
  }

  async #ownerOf(accessKeyId: string): Promise<string | undefined> {
    try {
      const output = await this.#call(true, [], (options) =>
        this.#iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId }), options),
      );
      return output.UserName;
    } catch (error) {
      if (error instanceof ProviderError && error.code === 'E_PROVIDER_NOT_FOUND') return undefined;
      throw error;
    }
  }

  /**
   * One SDK call, paced and retried, with errors mapped (and the given secrets cut out of them). Inside a lease
   * holder's step, each attempt is sent with the step's deadline as the SDK's `abortSignal` and given up at it
   * (sendBeforeStepDeadline, http/sdk-caller.ts), as the REST adapters' HTTP client does.
   */
  #call<T>(
    idempotent: boolean,
    secrets: SecretValue[],
    send: (options: { abortSignal?: AbortSignal }) => Promise<T>,
  ): Promise<T> {
    const redact = [this.#options.credentials?.secretAccessKey, ...secrets];
    return withRetry(
      async () => {
        if (this.#limiter) await this.#limiter.acquire();
        return sendBeforeStepDeadline(
          this.name,
          (signal) => send(signal ? { abortSignal: signal } : {}),
          (error) => toAwsProviderError(error, redact),
        );
      },
      { ...this.#options.retry, idempotent },
      {
        ...(this.#context.sleep ? { sleep: this.#context.sleep } : {}),
        ...(this.#context.random ? { random: this.#context.random } : {}),
      },
    );
  }

  #sdkConfig(endpoint: string | undefined) {
    return {
      region: this.#options.region,
      ...(endpoint ? { endpoint } : {}),
      maxAttempts: 1,
      requestHandler: {
        requestTimeout: this.#options.timeoutMs,
        connectionTimeout: this.#options.timeoutMs,
        // Without this the SDK only logs a timed-out request and keeps waiting for the socket.
        throwOnRequestTimeout: true,
      },
    };
  }
}

/** What one listing knows of users' policies, and whether it may still ask IAM per user. */
interface UserPolicyReads {
  readable: boolean;
  /** Every user's policy names, read at once for the whole account's listing. */
  known?: Map<string, string[]> | undefined;
}

/** The access key id comes from the ref, or from a secret written `AKIA...:secret` (as a scanner may find it). */
function splitCredential(
  secret: SecretValue,
  ref?: ProviderKeyRef,
): { accessKeyId: string; secretAccessKey: SecretValue } {
  if (ref?.providerKeyId) return { accessKeyId: ref.providerKeyId, secretAccessKey: secret };
  const raw = secret.reveal();
  const separator = raw.indexOf(':');
  if (separator > 0 && /^(AKIA|ASIA)[A-Z2-7]{16}$/.test(raw.slice(0, separator))) {
    return { accessKeyId: raw.slice(0, separator), secretAccessKey: new SecretValue(raw.slice(separator + 1)) };
  }
  throw new ProviderError(
    'E_PROVIDER_INVALID_REQUEST',
    AWS_IAM_PROVIDER_NAME,
    'verify needs the access key id (ref.providerKeyId)',
  );
}
