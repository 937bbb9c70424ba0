// Canonical JSON for hashing: object keys sorted by UTF-16 code units, no whitespace, numbers and strings as
// JSON.stringify writes them (the rules of RFC 8785 for the values events hold). Stricter than JSON.stringify:
// anything it would silently drop or mangle (NaN, bigint, functions, Maps, cycles) is an error, so the hash always
// covers exactly what a reader gets back.
import { KeyledgerError } from '../errors/keyledger-error.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export class CanonicalJsonError extends KeyledgerError {
  constructor(message: string, path: string) {
    super('E_EVENT_DATA', `${path}: ${message}`, { category: 'input', details: { path } });
  }
}

/** The canonical JSON text of `value`. `path` names the root in error messages. */
export function canonicalJson(value: unknown, path = '$'): string {
  return write(value, path, new Set());
}

function write(value: unknown, path: string, ancestors: Set<object>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`${value} is not a JSON number`, path);
      return JSON.stringify(value);
    case 'string':
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      throw new CanonicalJsonError(`${typeof value} cannot be written as JSON`, path);
  }
  const object = value as object;
  // Dates become ISO text and SecretValue becomes its redaction marker, as they would in JSON.stringify.
  if (typeof (object as { toJSON?: unknown }).toJSON === 'function') {
    return write((object as { toJSON(): unknown }).toJSON(), path, ancestors);
  }
  if (object instanceof Map || object instanceof Set || ArrayBuffer.isView(object)) {
    throw new CanonicalJsonError(`a ${object.constructor.name} has no JSON form; convert it first`, path);
  }
  if (ancestors.has(object)) throw new CanonicalJsonError('circular reference', path);
  ancestors.add(object);
  try {
    if (Array.isArray(object)) {
      return `[${object.map((item, index) => write(item, `${path}[${index}]`, ancestors)).join(',')}]`;
    }
    const parts: string[] = [];
    for (const key of Object.keys(object).sort()) {
      const item = (object as Record<string, unknown>)[key];
      // Optional fields left undefined are absent, as in JSON.stringify.
      if (item === undefined) continue;
      parts.push(`${JSON.stringify(key)}:${write(item, `${path}.${key}`, ancestors)}`);
    }
    return `{${parts.join(',')}}`;
  } finally {
    ancestors.delete(object);
  }
}
