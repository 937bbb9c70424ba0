// Maps what the AWS SDK throws to ProviderError: AWS's own error code (`LimitExceeded`, `NoSuchEntity`,
// `Throttling`) and message, the HTTP status, Retry-After when the answer carried one; transport failures
// become retryable timeouts or unavailability. The SDK error itself is never attached: its text is not redacted.

import { ProviderError, type ProviderErrorCode } from '../../errors/provider-error.js';
import { parseRetryAfter } from '../../runtime/retry-policy.js';
import { redactSecrets } from '../../runtime/secret-redaction.js';
import type { SecretValue } from '../../secrets/secret-value.js';
import { codeForStatus, headerText, transportError } from '../http/provider-http-client.js';
import { AWS_AUTH_CODES, AWS_IAM_PROVIDER_NAME, AWS_THROTTLING_CODES } from './aws-iam-constants.js';

interface SdkError {
  name?: string;
  message?: string;
  Code?: string;
  code?: string;
  Error?: { Code?: string };
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | string[] | undefined> };
}

/** AWS's own error code: `LimitExceeded`, not the SDK's class name `LimitExceededException`. */
export function awsErrorCode(error: SdkError): string | undefined {
  return error.Code ?? error.Error?.Code ?? error.name?.replace(/Exception$/, '');
}

export function toAwsProviderError(error: unknown, secrets: ReadonlyArray<SecretValue | undefined>): ProviderError {
  if (error instanceof ProviderError) return error;
  const sdk = (error ?? {}) as SdkError;
  const status = sdk.$metadata?.httpStatusCode;
  if (status === undefined) return transportError(AWS_IAM_PROVIDER_NAME, error);
  const awsCode = awsErrorCode(sdk) ?? `HTTP${status}`;
  const retryAfterMs = parseRetryAfter(headerText(sdk.$response?.headers?.['retry-after']));
  let code: ProviderErrorCode;
  if (AWS_THROTTLING_CODES.has(awsCode) || status === 429) code = 'E_PROVIDER_RATE_LIMITED';
  else if (awsCode === 'LimitExceeded') code = 'E_PROVIDER_LIMIT_EXCEEDED';
  else if (awsCode === 'NoSuchEntity') code = 'E_PROVIDER_NOT_FOUND';
  else if (AWS_AUTH_CODES.has(awsCode)) code = 'E_PROVIDER_AUTH';
  else if (awsCode === 'EntityAlreadyExists' || awsCode === 'DeleteConflict' || awsCode === 'ConcurrentModification')
    code = 'E_PROVIDER_CONFLICT';
  else if (awsCode === 'ValidationError' || awsCode === 'InvalidInput' || awsCode === 'InvalidAction')
    code = 'E_PROVIDER_INVALID_REQUEST';
  else code = codeForStatus(status);
  return new ProviderError(code, AWS_IAM_PROVIDER_NAME, redactSecrets(sdk.message || awsCode, secrets), {
    status,
    providerCode: awsCode,
    ...(retryAfterMs !== undefined ? { retryAfterSeconds: retryAfterMs / 1000 } : {}),
  });
}
