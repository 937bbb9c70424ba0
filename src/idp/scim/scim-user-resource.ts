// A SCIM User (RFC 7643 section 4.1, with the enterprise extension of section 4.3) to and from a directory person.
// The columns the directory reads (email, userName, externalId, displayName, team from `department`, manager) are
// taken out; everything else the client sent is kept as it sent it and served back. `password` is never kept
// (Okta sends one on create), and `active` arrives as a boolean or, from Entra without its `aadOptscim062020`
// flag, as the strings "True"/"False" (docs/offboarding.md).
import type { DirectoryRecord, PersonDetails } from '../../directory/directory-store.js';
import { ScimError } from './scim-error.js';
import { getIgnoringCase } from './scim-filter.js';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

type Json = Record<string, unknown>;

/** What a POST, a PUT or a patched resource asks for. */
export interface UserInput {
  details: PersonDetails & { email: string; userName: string };
  /** The rest of the resource, to be served back. */
  attributes: Json;
  active: boolean;
  /** The enterprise extension's `manager.value`: another person's id, which the caller resolves to an email. */
  managerValue?: string;
}

/** Attributes the directory keeps in columns, or never keeps; matched without regard to case. */
const NOT_KEPT = new Set([
  'schemas',
  'id',
  'meta',
  'username',
  'externalid',
  'displayname',
  'active',
  'password',
  'groups',
]);

export function userInputOf(body: unknown): UserInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ScimError(400, 'invalidSyntax', 'a User must be a JSON object');
  }
  const resource = body as Json;
  const userName = getIgnoringCase(resource, 'userName');
  if (typeof userName !== 'string' || userName.trim() === '') {
    throw new ScimError(400, 'invalidValue', 'userName is required and must be a non-empty string');
  }
  const attributes: Json = {};
  for (const [key, value] of Object.entries(resource)) {
    if (!NOT_KEPT.has(key.toLowerCase())) attributes[key] = coercePrimaries(value);
  }
  const email = emailOf(attributes, userName);
  const externalId = stringOrUndefined(getIgnoringCase(resource, 'externalId'), 'externalId');
  const displayName =
    stringOrUndefined(getIgnoringCase(resource, 'displayName'), 'displayName') ?? displayNameOf(attributes);
  const enterprise = getIgnoringCase(attributes, ENTERPRISE_USER_SCHEMA);
  const department = stringOrUndefined(getIgnoringCase(enterprise, 'department'), 'department');
  const manager = getIgnoringCase(enterprise, 'manager');
  const managerValue =
    typeof manager === 'string' ? manager : stringOrUndefined(getIgnoringCase(manager, 'value'), 'manager.value');
  const activeRaw = getIgnoringCase(resource, 'active');
  return {
    details: {
      email,
      userName: userName.trim(),
      ...(externalId !== undefined ? { externalId } : {}),
      ...(displayName !== undefined ? { displayName } : {}),
      ...(department !== undefined ? { team: department } : {}),
    },
    attributes,
    active: activeRaw === undefined || activeRaw === null ? true : booleanOf(activeRaw, 'active'),
    ...(managerValue ? { managerValue } : {}),
  };
}

/** The User as served: what the client sent, with our id, the columns, `active` and `meta`. */
export function userResourceOf(record: DirectoryRecord, baseUrl: string): Json {
  const { person } = record;
  const hasEnterprise = getIgnoringCase(record.attributes, ENTERPRISE_USER_SCHEMA) !== undefined;
  const emails = getIgnoringCase(record.attributes, 'emails');
  return {
    schemas: hasEnterprise ? [USER_SCHEMA, ENTERPRISE_USER_SCHEMA] : [USER_SCHEMA],
    id: person.id,
    ...(person.externalId !== undefined ? { externalId: person.externalId } : {}),
    userName: person.userName ?? person.email,
    ...(person.displayName !== undefined ? { displayName: person.displayName } : {}),
    ...record.attributes,
    // A person another source added has no SCIM emails: the directory's email is their work email.
    ...(emails === undefined ? { emails: [{ value: person.email, type: 'work', primary: true }] } : {}),
    active: person.status === 'active',
    meta: {
      resourceType: 'User',
      created: record.createdAt,
      lastModified: record.updatedAt,
      location: `${baseUrl}/Users/${person.id}`,
      version: `W/"${record.version}"`,
    },
  };
}

/** `true`, `false`, and the strings Entra sends ("True", "False", any case). */
export function booleanOf(value: unknown, attribute: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  throw new ScimError(400, 'invalidValue', `${attribute} must be true or false, got ${JSON.stringify(value)}`);
}

/** The work email, else the primary one, else the first, else an email-shaped userName; lower-cased. */
function emailOf(attributes: Json, userName: string): string {
  const emails = getIgnoringCase(attributes, 'emails');
  const list = Array.isArray(emails)
    ? emails.filter((item): item is Json => typeof item === 'object' && item !== null)
    : [];
  const emailIn = (item: Json | undefined): string | undefined => {
    const value = getIgnoringCase(item, 'value');
    return typeof value === 'string' && value.includes('@') ? value : undefined;
  };
  const chosen =
    emailIn(list.find((item) => String(getIgnoringCase(item, 'type')).toLowerCase() === 'work')) ??
    emailIn(list.find((item) => getIgnoringCase(item, 'primary') === true)) ??
    emailIn(list[0]) ??
    (userName.includes('@') ? userName : undefined);
  if (!chosen) {
    throw new ScimError(400, 'invalidValue', 'a User needs an email (emails[].value) or an email-shaped userName');
  }
  return chosen.trim().toLowerCase();
}

function displayNameOf(attributes: Json): string | undefined {
  const name = getIgnoringCase(attributes, 'name');
  const formatted = getIgnoringCase(name, 'formatted');
  if (typeof formatted === 'string' && formatted.trim()) return formatted.trim();
  const parts = [getIgnoringCase(name, 'givenName'), getIgnoringCase(name, 'familyName')].filter(
    (part): part is string => typeof part === 'string' && part.trim() !== '',
  );
  return parts.length > 0 ? parts.join(' ') : undefined;
}

/** Multi-valued attributes' `primary` flags, which Entra may send as strings, become booleans. */
function coercePrimaries(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  return value.map((item) => {
    if (typeof item !== 'object' || item === null) return item;
    const copy: Json = { ...(item as Json) };
    for (const key of Object.keys(copy)) {
      if (key.toLowerCase() === 'primary' && typeof copy[key] === 'string') copy[key] = booleanOf(copy[key], 'primary');
    }
    return copy;
  });
}

function stringOrUndefined(value: unknown, attribute: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ScimError(400, 'invalidValue', `${attribute} must be a string`);
  return value;
}
