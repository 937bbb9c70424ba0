// Microsoft Entra service-principal sign-ins: Graph's `GET /auditLogs/signIns` (filtered on servicePrincipal
// sign-ins; `{"value":[...]}` pages, camelCase) and Log Analytics' `AADServicePrincipalSignInLogs` rows
// (PascalCase). `servicePrincipalCredentialKeyId` is the keyId of the app password or certificate that signed
// in. Only sign-ins are logged, not each API call made with the token they yield.
import { ipAt, type JsonRecord, textAt, timestampAt } from '../audit-log-fields.js';
import type { AuditLogReader } from '../audit-log-reader.js';
import type { AuditLogRecord } from '../audit-log-record.js';

export const entraAuditLogReader: AuditLogReader = {
  format: 'entra',
  provider: 'azure',
  description: 'Microsoft Entra service-principal sign-ins: Graph signIns pages or Log Analytics rows',
  envelopeKeys: ['value'],
  recognises: (record) =>
    'servicePrincipalCredentialKeyId' in record ||
    'ServicePrincipalCredentialKeyId' in record ||
    ('servicePrincipalId' in record && 'createdDateTime' in record),
  read(record: JsonRecord): AuditLogRecord | string {
    // Graph's camelCase first, then the Log Analytics table's PascalCase.
    const pick = (camel: string, pascal: string) => textAt(record, camel) ?? textAt(record, pascal);
    const at = timestampAt(record, 'createdDateTime') ?? timestampAt(record, 'TimeGenerated');
    if (!at) return 'createdDateTime / TimeGenerated missing or not a time';
    const keyId = pick('servicePrincipalCredentialKeyId', 'ServicePrincipalCredentialKeyId');
    const principal =
      pick('appId', 'AppId') ??
      pick('servicePrincipalId', 'ServicePrincipalId') ??
      pick('appDisplayName', 'AppDisplayName');
    const sourceIp = ipAt(record, 'ipAddress') ?? ipAt(record, 'IPAddress');
    const resource = pick('resourceDisplayName', 'ResourceDisplayName');
    const graphError = textAt(record, 'status.errorCode');
    const resultType = textAt(record, 'ResultType');
    const errorCode = graphError ?? resultType;
    const failed = errorCode !== undefined && errorCode !== '0';
    const recordId = pick('id', 'Id');
    return {
      format: 'entra',
      provider: 'azure',
      at,
      ...(keyId ? { credential: { providerKeyId: keyId } } : {}),
      ...(principal ? { principal } : {}),
      ...(sourceIp ? { sourceIp } : {}),
      action: resource ? `sign-in:${resource}` : 'sign-in',
      outcome: failed ? 'failure' : 'success',
      ...(failed ? { errorCode } : {}),
      ...(recordId ? { recordId } : {}),
    };
  },
};
