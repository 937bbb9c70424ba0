// A SCIM Group (RFC 7643 section 4.2) to and from a directory group: a display name, the identity provider's
// external id, and members named by our user ids.
import type { DirectoryGroup, GroupInput } from '../../directory/directory-groups.js';
import { GROUP_SCHEMA } from './scim-discovery.js';
import { ScimError } from './scim-error.js';
import { getIgnoringCase } from './scim-filter.js';

type Json = Record<string, unknown>;

export function groupInputOf(body: unknown): GroupInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ScimError(400, 'invalidSyntax', 'a Group must be a JSON object');
  }
  const displayName = getIgnoringCase(body, 'displayName');
  if (typeof displayName !== 'string' || displayName.trim() === '') {
    throw new ScimError(400, 'invalidValue', 'displayName is required and must be a non-empty string');
  }
  const externalId = getIgnoringCase(body, 'externalId');
  if (externalId !== undefined && externalId !== null && typeof externalId !== 'string') {
    throw new ScimError(400, 'invalidValue', 'externalId must be a string');
  }
  const members = getIgnoringCase(body, 'members') ?? [];
  if (!Array.isArray(members)) throw new ScimError(400, 'invalidValue', 'members must be an array');
  const ids = members.map((member, index) => {
    const value = getIgnoringCase(member, 'value');
    if (typeof value !== 'string' || value === '') {
      throw new ScimError(400, 'invalidValue', `members[${index}].value must be a user id`);
    }
    return value;
  });
  return { displayName: displayName.trim(), externalId: externalId ?? undefined, members: ids };
}

/** The Group as served; `displayOf` names a member (their display name or email). */
export function groupResourceOf(
  group: DirectoryGroup,
  baseUrl: string,
  displayOf: (personId: string) => string | undefined,
): Json {
  return {
    schemas: [GROUP_SCHEMA],
    id: group.id,
    ...(group.externalId ? { externalId: group.externalId } : {}),
    displayName: group.displayName,
    members: group.members.map((id) => {
      const display = displayOf(id);
      return { value: id, $ref: `${baseUrl}/Users/${id}`, ...(display ? { display } : {}) };
    }),
    meta: {
      resourceType: 'Group',
      created: group.createdAt,
      lastModified: group.updatedAt,
      location: `${baseUrl}/Groups/${group.id}`,
      version: `W/"${group.version}"`,
    },
  };
}
