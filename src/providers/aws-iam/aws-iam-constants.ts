// Facts about AWS IAM access keys the adapter relies on (docs/providers.md, aws-sdk-js-v3 IAM and STS models).
import type { ProviderCapabilities, RateLimit } from '../provider.js';

export const AWS_IAM_PROVIDER_NAME = 'aws-iam';
export const AWS_DEFAULT_REGION = 'us-east-1';
/** IAM's quota AccessKeysPerUser; a third CreateAccessKey is refused with `LimitExceeded`. */
export const AWS_IAM_MAX_KEYS_PER_USER = 2;

export const AWS_IAM_CAPABILITIES: ProviderCapabilities = {
  create: true,
  list: true,
  verify: true,
  revoke: true,
  lastUsed: true,
  nativeRotate: false,
  manual: false,
  maxKeysPerAccount: AWS_IAM_MAX_KEYS_PER_USER,
  // UpdateAccessKey to Inactive, then DeleteAccessKey (aws-iam-provider.ts, revoke).
  revokeCalls: 2,
};

/**
 * AWS does not publish IAM's control-plane request rate; it throttles with `Throttling`. Ten calls a second is
 * a conservative pace that bulk rotation has been seen to sustain; override with the `rateLimit` option.
 */
export const AWS_IAM_RATE_LIMIT: RateLimit = { requests: 10, perSeconds: 1 };

/** Errors AWS answers that mean "slow down". */
export const AWS_THROTTLING_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
]);

/** Errors that mean the credential itself was refused (not the call). */
export const AWS_AUTH_CODES = new Set([
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'MissingAuthenticationToken',
  'UnrecognizedClientException',
  'IncompleteSignature',
  'AccessDenied',
  'AccessDeniedException',
  'ExpiredToken',
]);
