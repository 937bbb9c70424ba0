// SCIM PATCH (RFC 7644 section 3.5.2) applied to a resource's JSON, which the caller then saves as it would a PUT.
// Accepts what identity providers send rather than only what the RFC allows: op names in any case (Entra's
// "Replace"), operations without a path whose value is an object of attributes (Okta's OIN deactivation, `{"op":
// "replace", "value": {"active": false}}`), path-less keys that are themselves paths (`name.givenName`, extension
// URNs), and value paths (`emails[type eq "work"].value`, `members[value eq "..."]`). Type coercion ("False") is
// the resource mapping's job (scim-user-resource.ts), after the patch.
import { ScimError } from './scim-error.js';
import { type AttributePath, matchesScimFilter, parseAttributePath, type ScimFilter } from './scim-filter.js';

export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

type Json = Record<string, unknown>;
type Op = 'add' | 'replace' | 'remove';

/** A new resource JSON with the operations applied; the input is not changed. Bad operations are a ScimError. */
export function applyScimPatch(resource: Json, body: unknown): Json {
  if (typeof body !== 'object' || body === null) throw syntax('the PATCH body must be a JSON object');
  const operations = getKey(body as Json, 'Operations');
  if (!Array.isArray(operations) || operations.length === 0)
    throw syntax('a PATCH needs "Operations", a non-empty array');
  const result = structuredClone(resource);
  for (const [index, raw] of operations.entries()) {
    if (typeof raw !== 'object' || raw === null) throw syntax(`operation ${index + 1} is not an object`);
    const opText = getKey(raw as Json, 'op');
    const op = typeof opText === 'string' ? opText.toLowerCase() : '';
    if (op !== 'add' && op !== 'replace' && op !== 'remove') {
      throw syntax(
        `operation ${index + 1}: "op" must be add, replace or remove (any case), got ${JSON.stringify(opText)}`,
      );
    }
    const path = getKey(raw as Json, 'path');
    const value = getKey(raw as Json, 'value');
    if (path === undefined || path === null || path === '') {
      if (op === 'remove') throw new ScimError(400, 'noTarget', `operation ${index + 1}: remove needs a path`);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new ScimError(400, 'invalidValue', `operation ${index + 1}: without a path the value must be an object`);
      }
      for (const [key, inner] of Object.entries(value)) applyAt(result, op, parsePath(key), inner);
      continue;
    }
    if (typeof path !== 'string')
      throw new ScimError(400, 'invalidPath', `operation ${index + 1}: path must be a string`);
    if (op !== 'remove' && value === undefined) {
      throw new ScimError(400, 'invalidValue', `operation ${index + 1}: ${op} needs a value`);
    }
    applyAt(result, op, parsePath(path), value);
  }
  return result;
}

function parsePath(text: string): AttributePath {
  try {
    return parseAttributePath(text);
  } catch (error) {
    if (error instanceof ScimError) throw new ScimError(400, 'invalidPath', error.message);
    throw error;
  }
}

function applyAt(resource: Json, op: Op, path: AttributePath, value: unknown): void {
  // A schema URN alone (`"urn:...:enterprise:2.0:User": {...}`) names the extension object.
  let container: Json = resource;
  if (path.schema) {
    const key = findKey(resource, path.schema) ?? canonicalSchema(path.schema);
    if (path.names.length === 0) {
      if (op === 'remove') delete resource[key];
      else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        const existing = resource[key];
        const extension: Json = op === 'add' && isObject(existing) ? existing : {};
        for (const [inner, innerValue] of Object.entries(value)) applyAt(extension, op, parsePath(inner), innerValue);
        resource[key] = extension;
      } else throw new ScimError(400, 'invalidValue', `the value for ${key} must be an object`);
      return;
    }
    const existing = resource[key];
    container = isObject(existing) ? existing : {};
    resource[key] = container;
  }
  const [first, ...rest] = path.names;
  if (!first) throw new ScimError(400, 'invalidPath', 'an empty path');
  if (path.valueFilter) {
    applyToElements(container, op, first, path.valueFilter, path.subAttribute, value);
    return;
  }
  if (rest.length > 0) {
    // `name.givenName`: the complex attribute is created on add/replace when missing.
    const parentKey = findKey(container, first) ?? first;
    const parent = container[parentKey];
    if (!isObject(parent)) {
      if (op === 'remove') return;
      container[parentKey] = {};
    }
    applyAt(container[parentKey] as Json, op, { names: rest }, value);
    return;
  }
  const key = findKey(container, first) ?? first;
  if (op === 'remove') {
    const existing = container[key];
    // Entra removes group members with `{"op": "Remove", "path": "members", "value": [{"value": id}]}`: only
    // the listed elements go (RFC 7644 would empty the attribute).
    if (Array.isArray(existing) && Array.isArray(value)) {
      container[key] = existing.filter((old) => !value.some((item) => sameElement(old, item)));
    } else delete container[key];
    return;
  }
  const existing = container[key];
  if (op === 'add' && Array.isArray(existing)) {
    const additions = Array.isArray(value) ? value : [value];
    container[key] = [...existing, ...additions.filter((item) => !existing.some((old) => sameElement(old, item)))];
    return;
  }
  if (op === 'add' && isObject(existing) && isObject(value)) {
    container[key] = { ...existing, ...value };
    return;
  }
  container[key] = value;
}

/** `emails[type eq "work"].value`, `members[value eq "id"]`: the matching elements of a multi-valued attribute. */
function applyToElements(
  container: Json,
  op: Op,
  name: string,
  filter: ScimFilter,
  subAttribute: string | undefined,
  value: unknown,
): void {
  const key = findKey(container, name) ?? name;
  const existing = container[key];
  const elements: unknown[] = Array.isArray(existing) ? existing : [];
  const matches = (element: unknown): boolean => isObject(element) && matchesScimFilter(element, filter);
  if (op === 'remove') {
    if (!subAttribute) {
      container[key] = elements.filter((element) => !matches(element));
      return;
    }
    for (const element of elements) {
      if (!matches(element)) continue;
      const subKey = findKey(element as Json, subAttribute);
      if (subKey) delete (element as Json)[subKey];
    }
    return;
  }
  const matched = elements.filter(matches);
  if (matched.length === 0) {
    // Entra sets `emails[type eq "work"].value` on a user with no work email: the element is created, with the
    // filter's equality as its other attribute.
    const element: Json = { ...equalitiesOf(filter) };
    if (subAttribute) element[subAttribute] = value;
    else if (isObject(value)) Object.assign(element, value);
    else throw new ScimError(400, 'noTarget', `no element of ${name} matches the path's filter`);
    container[key] = [...elements, element];
    return;
  }
  for (const element of matched as Json[]) {
    if (subAttribute) element[findKey(element, subAttribute) ?? subAttribute] = value;
    else if (isObject(value)) Object.assign(element, value);
    else throw new ScimError(400, 'invalidValue', `the value for ${name}[...] must be an object`);
  }
}

function equalitiesOf(filter: ScimFilter): Json {
  if (filter.kind === 'compare' && filter.op === 'eq' && filter.path.names.length === 1) {
    return { [filter.path.names[0]!]: filter.value };
  }
  if (filter.kind === 'and') return { ...equalitiesOf(filter.left), ...equalitiesOf(filter.right) };
  return {};
}

function sameElement(a: unknown, b: unknown): boolean {
  if (isObject(a) && isObject(b) && 'value' in a && 'value' in b) return a.value === b.value;
  return JSON.stringify(a) === JSON.stringify(b);
}

function canonicalSchema(lower: string): string {
  const known = [
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
    'urn:ietf:params:scim:schemas:core:2.0:User',
    'urn:ietf:params:scim:schemas:core:2.0:Group',
  ];
  return known.find((schema) => schema.toLowerCase() === lower) ?? lower;
}

function findKey(object: Json, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(object).find((key) => key.toLowerCase() === lower);
}

function getKey(object: Json, name: string): unknown {
  const key = findKey(object, name);
  return key === undefined ? undefined : object[key];
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function syntax(detail: string): ScimError {
  return new ScimError(400, 'invalidSyntax', detail);
}
