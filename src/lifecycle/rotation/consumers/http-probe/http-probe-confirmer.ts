// Confirms a consumer through an HTTP endpoint of its own that reports which key version it uses, and (where the
// registry names a `check_url`) asks it to run its real code path with the new key: the guard against a synthetic
// test that passes while the application would fail (a synthetic test that gives a false pass).
import { request } from 'undici';
import type {
  ConfirmationStatus,
  ConsumerConfirmer,
  ConsumerProbe,
  ExpectedKeyVersion,
} from '../consumer-confirmer.js';
import { httpProbeSettingsSchema } from './http-probe-schemas.js';

export class HttpProbeConfirmer implements ConsumerConfirmer {
  readonly kind = 'http';

  async check(consumer: ConsumerProbe, expected: ExpectedKeyVersion): Promise<ConfirmationStatus> {
    const parsed = parse(consumer);
    if (!parsed.ok) return parsed.status;
    const settings = parsed.settings;
    try {
      const response = await request(settings.url, {
        method: 'GET',
        headers: { accept: 'application/json', ...settings.headers, 'x-keyledger-key-id': expected.keyId },
        headersTimeout: settings.timeout_ms,
        bodyTimeout: settings.timeout_ms,
      });
      const text = await response.body.text();
      if (response.statusCode >= 400)
        return { state: 'waiting', detail: `${consumer.name}: probe answered ${response.statusCode}` };
      const reported = readField(text, settings.field);
      const wanted =
        settings.field === 'version_id'
          ? expected.versionId
          : settings.field === 'provider_key_id'
            ? expected.providerKeyId
            : expected.fingerprint;
      return reported === wanted
        ? { state: 'confirmed', detail: `${consumer.name} reports ${settings.field} ${reported}` }
        : {
            state: 'waiting',
            detail: `${consumer.name} reports ${settings.field} ${reported ?? '(none)'}, waiting for ${wanted}`,
          };
    } catch (error) {
      return { state: 'waiting', detail: `${consumer.name}: probe unreachable (${(error as Error).message})` };
    }
  }

  async reachable(consumer: ConsumerProbe): Promise<{ reachable: boolean; detail: string }> {
    const parsed = parse(consumer);
    if (!parsed.ok) return { reachable: false, detail: parsed.status.detail };
    const settings = parsed.settings;
    try {
      const response = await request(settings.url, {
        method: 'GET',
        headers: { accept: 'application/json', ...settings.headers },
        headersTimeout: settings.timeout_ms,
        bodyTimeout: settings.timeout_ms,
      });
      await response.body.dump();
      // Any answer below 500 is a consumer that can be asked; a 5xx or no answer is one that cannot.
      return response.statusCode < 500
        ? { reachable: true, detail: `${consumer.name}: probe answered ${response.statusCode}` }
        : { reachable: false, detail: `probe ${settings.url} answered ${response.statusCode}` };
    } catch (error) {
      return { reachable: false, detail: `probe ${settings.url} unreachable: ${(error as Error).message}` };
    }
  }

  async exercise(consumer: ConsumerProbe, expected: ExpectedKeyVersion): Promise<ConfirmationStatus> {
    const parsed = parse(consumer);
    if (!parsed.ok) return parsed.status;
    const settings = parsed.settings;
    if (!settings.check_url)
      return { state: 'confirmed', detail: `${consumer.name}: no check_url, nothing to exercise` };
    try {
      const response = await request(settings.check_url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...settings.headers },
        body: JSON.stringify({
          key_id: expected.keyId,
          version_id: expected.versionId,
          provider_key_id: expected.providerKeyId,
        }),
        headersTimeout: settings.timeout_ms,
        bodyTimeout: settings.timeout_ms,
      });
      const text = (await response.body.text()).slice(0, 200);
      return response.statusCode < 300
        ? { state: 'confirmed', detail: `${consumer.name}: its code path works with the new key` }
        : {
            state: 'failed',
            detail: `${consumer.name}: its code path failed with the new key (${response.statusCode}${text ? `: ${oneLine(text)}` : ''})`,
          };
    } catch (error) {
      return { state: 'failed', detail: `${consumer.name}: code-path check unreachable (${(error as Error).message})` };
    }
  }
}

function parse(consumer: ConsumerProbe) {
  const parsed = httpProbeSettingsSchema.safeParse(consumer.settings);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return {
      ok: false as const,
      status: { state: 'failed' as const, detail: `${consumer.name}: probe.${issue.path.join('.')}: ${issue.message}` },
    };
  }
  return { ok: true as const, settings: parsed.data };
}

function readField(text: string, field: string): string | undefined {
  try {
    const value = (JSON.parse(text) as Record<string, unknown>)[field];
    return value === undefined || value === null ? undefined : String(value);
  } catch {
    return undefined;
  }
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
