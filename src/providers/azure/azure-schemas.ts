// The options of the Entra ID adapter and the Graph / identity-platform answers it reads (zod).
import { z } from 'zod';
import { SecretValue } from '../../secrets/secret-value.js';
import { httpProviderOptionsSchema } from '../http/provider-http-options.js';
import { AZURE_GRAPH_URL, AZURE_LOGIN_URL } from './azure-constants.js';

export const azureOptionsSchema = httpProviderOptionsSchema.extend({
  /** Microsoft Graph's root, without the version (`/v1.0` and `/beta` are added per call). */
  baseUrl: z.url().default(AZURE_GRAPH_URL),
  /** The identity platform's root; the token endpoint is `{loginUrl}/{tenantId}/oauth2/v2.0/token`. */
  loginUrl: z.url().default(AZURE_LOGIN_URL),
  /** The directory (tenant) id; verify needs it too, since a password is checked at its tenant's endpoint. */
  tenantId: z.string().min(1).optional(),
  /** The adapter's own app registration (Application.ReadWrite.All or .OwnedBy, AuditLog.Read.All); not for verify. */
  clientId: z.string().min(1).optional(),
  clientSecret: z
    .union([z.string().min(1), z.instanceof(SecretValue)])
    .transform((value) => (value instanceof SecretValue ? value : new SecretValue(value)))
    .optional(),
});

export type AzureOptions = z.output<typeof azureOptionsSchema>;
export type AzureOptionsInput = z.input<typeof azureOptionsSchema>;

export const azurePasswordCredentialSchema = z.looseObject({
  keyId: z.string(),
  displayName: z.string().nullish(),
  hint: z.string().nullish(),
  secretText: z.string().nullish(),
  startDateTime: z.string().nullish(),
  endDateTime: z.string().nullish(),
});

export const azureApplicationSchema = z.looseObject({
  id: z.string(),
  appId: z.string(),
  displayName: z.string().nullish(),
  passwordCredentials: z.array(azurePasswordCredentialSchema).default([]),
});

export const azureApplicationPageSchema = z.looseObject({
  value: z.array(azureApplicationSchema),
  '@odata.nextLink': z.string().optional(),
});

export const azureSignInPageSchema = z.looseObject({
  value: z.array(z.looseObject({ createdDateTime: z.string(), ipAddress: z.string().nullish() })),
});

export const azureTokenSchema = z.looseObject({ access_token: z.string(), expires_in: z.number() });

/** Graph: `{error: {code, message, innerError}}`. */
export const azureGraphErrorSchema = z.looseObject({
  error: z.looseObject({ code: z.string().optional(), message: z.string().optional() }),
});

/** Identity platform: `{error, error_description: "AADSTS7000215: ...", error_codes: [7000215], ...}`. */
export const azureAadErrorSchema = z.looseObject({
  error: z.string(),
  error_description: z.string().optional(),
  error_codes: z.array(z.number()).optional(),
});
