// Defence in depth for error texts: whatever a provider answers, the credentials of the call are cut out of it
// before it becomes a ProviderError message (some APIs echo the header or body they refused).

/** What redaction needs of a secret (src/secrets/secret-value.ts's SecretValue has it): its text, on demand. */
export interface RedactableSecret {
  reveal(): string;
}

const REDACTED = '[REDACTED]';
const MAX_MESSAGE_LENGTH = 500;

/** Replaces every occurrence of each secret (and its URL-encoded form) and bounds the length. */
export function redactSecrets(text: string, secrets: ReadonlyArray<RedactableSecret | undefined>): string {
  let result = text;
  for (const secret of secrets) {
    if (!secret) continue;
    const raw = secret.reveal();
    // Very short values would redact innocent text and are not credentials anyway.
    if (raw.length < 8) continue;
    for (const form of new Set([raw, encodeURIComponent(raw)])) result = result.split(form).join(REDACTED);
  }
  return result.length > MAX_MESSAGE_LENGTH ? `${result.slice(0, MAX_MESSAGE_LENGTH)}…` : result;
}
