// The SCIM discovery documents (RFC 7644 section 4, RFC 7643 sections 5-7): what this server supports, the
// resource types it serves and their schemas. Clients (Entra's validator, Okta's wizard) read them before anything.
import { ENTERPRISE_USER_SCHEMA, USER_SCHEMA } from './scim-user-resource.js';

export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const SERVICE_PROVIDER_CONFIG_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
const RESOURCE_TYPE_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

/** Largest page a list answers with, whatever `count` asks for. */
export const MAX_PAGE_SIZE = 1000;
export const DEFAULT_PAGE_SIZE = 100;

type Json = Record<string, unknown>;

export function serviceProviderConfig(baseUrl: string): Json {
  return {
    schemas: [SERVICE_PROVIDER_CONFIG_SCHEMA],
    documentationUri: 'https://github.com/keyledger/keyledger/blob/main/docs/offboarding.md',
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_PAGE_SIZE },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'Bearer token',
        description: 'A token made by `keyledger idp token create --source scim`, sent as `Authorization: Bearer`',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
  };
}

export function resourceTypes(baseUrl: string): Json[] {
  return [
    {
      schemas: [RESOURCE_TYPE_SCHEMA],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'A person of the keyledger directory',
      schema: USER_SCHEMA,
      schemaExtensions: [{ schema: ENTERPRISE_USER_SCHEMA, required: false }],
      meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/User` },
    },
    {
      schemas: [RESOURCE_TYPE_SCHEMA],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'A group pushed by the identity provider',
      schema: GROUP_SCHEMA,
      meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/Group` },
    },
  ];
}

interface AttributeSpec {
  name: string;
  type?: 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime';
  multiValued?: boolean;
  required?: boolean;
  caseExact?: boolean;
  mutability?: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned?: 'always' | 'never' | 'default' | 'request';
  uniqueness?: 'none' | 'server' | 'global';
  subAttributes?: AttributeSpec[];
  referenceTypes?: string[];
}

function attribute(spec: AttributeSpec): Json {
  return {
    name: spec.name,
    type: spec.type ?? 'string',
    multiValued: spec.multiValued ?? false,
    description: '',
    required: spec.required ?? false,
    caseExact: spec.caseExact ?? false,
    mutability: spec.mutability ?? 'readWrite',
    returned: spec.returned ?? 'default',
    uniqueness: spec.uniqueness ?? 'none',
    ...(spec.referenceTypes ? { referenceTypes: spec.referenceTypes } : {}),
    ...(spec.subAttributes ? { subAttributes: spec.subAttributes.map(attribute) } : {}),
  };
}

const multiValuedParts: AttributeSpec[] = [
  { name: 'value' },
  { name: 'display' },
  { name: 'type' },
  { name: 'primary', type: 'boolean' },
];

export function schemas(baseUrl: string): Json[] {
  const schema = (id: string, name: string, attributes: AttributeSpec[]): Json => ({
    schemas: [SCHEMA_SCHEMA],
    id,
    name,
    description: name,
    attributes: attributes.map(attribute),
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${id}` },
  });
  return [
    schema(USER_SCHEMA, 'User', [
      { name: 'userName', required: true, uniqueness: 'server' },
      {
        name: 'name',
        type: 'complex',
        subAttributes: [{ name: 'formatted' }, { name: 'familyName' }, { name: 'givenName' }, { name: 'middleName' }],
      },
      { name: 'displayName' },
      { name: 'title' },
      { name: 'locale' },
      { name: 'active', type: 'boolean' },
      { name: 'password', mutability: 'writeOnly', returned: 'never' },
      { name: 'emails', type: 'complex', multiValued: true, subAttributes: multiValuedParts },
      { name: 'phoneNumbers', type: 'complex', multiValued: true, subAttributes: multiValuedParts },
      {
        name: 'groups',
        type: 'complex',
        multiValued: true,
        mutability: 'readOnly',
        subAttributes: [{ name: 'value' }, { name: 'display' }],
      },
    ]),
    schema(ENTERPRISE_USER_SCHEMA, 'EnterpriseUser', [
      { name: 'employeeNumber' },
      { name: 'department' },
      { name: 'organization' },
      {
        name: 'manager',
        type: 'complex',
        subAttributes: [
          { name: 'value' },
          { name: '$ref', type: 'reference', referenceTypes: ['User'] },
          { name: 'displayName', mutability: 'readOnly' },
        ],
      },
    ]),
    schema(GROUP_SCHEMA, 'Group', [
      { name: 'displayName', required: true },
      {
        name: 'members',
        type: 'complex',
        multiValued: true,
        subAttributes: [
          { name: 'value', mutability: 'immutable' },
          { name: 'display' },
          { name: '$ref', type: 'reference', referenceTypes: ['User'], mutability: 'immutable' },
        ],
      },
    ]),
  ];
}

/** A ListResponse over one page of already-filtered resources (`startIndex` is 1-based). */
export function listResponse(all: Json[], page: { startIndex: number; count: number }): Json {
  const slice = all.slice(page.startIndex - 1, page.startIndex - 1 + page.count);
  return {
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults: all.length,
    startIndex: page.startIndex,
    itemsPerPage: slice.length,
    Resources: slice,
  };
}
