// The XML of AWS's query protocol as IAM and STS answer it: `<{Action}Response>` with a `<{Action}Result>` and
// `<ResponseMetadata>`, and `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>` for errors.
import { randomUUID } from 'node:crypto';
import type { SandboxAnswer } from '../../sandbox-server.js';

export const IAM_XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';
export const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';

/** A value in an XML tree: text, a nested element map, or a list written as `<member>` items. */
export type XmlValue = string | number | boolean | Date | undefined | XmlElement | XmlValue[];
export interface XmlElement {
  [name: string]: XmlValue;
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function render(value: XmlValue): string {
  if (value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item) => `<member>${render(item)}</member>`).join('');
  if (typeof value === 'object') {
    return Object.entries(value)
      .filter(([, inner]) => inner !== undefined)
      .map(([name, inner]) => `<${name}>${render(inner)}</${name}>`)
      .join('');
  }
  return escapeXml(String(value));
}

export function queryResponse(action: string, xmlns: string, result?: XmlElement): SandboxAnswer {
  const body =
    `<${action}Response xmlns="${xmlns}">` +
    (result ? `<${action}Result>${render(result)}</${action}Result>` : '') +
    `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`;
  return { status: 200, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() }, body };
}

export function queryError(
  status: number,
  code: string,
  message: string,
  xmlns: string,
  extraHeaders: Record<string, string> = {},
): SandboxAnswer {
  const type = status >= 500 ? 'Receiver' : 'Sender';
  const requestId = randomUUID();
  const body =
    `<ErrorResponse xmlns="${xmlns}"><Error><Type>${type}</Type><Code>${escapeXml(code)}</Code>` +
    `<Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
  return { status, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId, ...extraHeaders }, body };
}
