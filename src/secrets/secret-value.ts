// A wrapper for key material. Every accidental way of turning it into text (template strings, JSON, util.inspect,
// console.log, error messages) yields a redaction marker; only `reveal()` gives the secret. This is how we keep
// secrets out of logs, events, reports and errors by construction rather than by discipline.
import { inspect } from 'node:util';

const REDACTED = '[REDACTED]';

export class SecretValue {
  readonly #value: string;

  constructor(value: string) {
    if (typeof value !== 'string' || value.length === 0) {
      throw new TypeError('SecretValue needs a non-empty string');
    }
    this.#value = value;
  }

  /** The key material itself. Call only where it must leave the process: a provider call or a secret store. */
  reveal(): string {
    return this.#value;
  }

  /** Length is harmless and useful for diagnostics. */
  get length(): number {
    return this.#value.length;
  }

  equals(other: SecretValue): boolean {
    return other.#value === this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `SecretValue(${REDACTED})`;
  }
}
