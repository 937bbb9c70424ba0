// Confirms a consumer by running a command the owning team provides (a deploy tool's status, a script that asks
// the service). The command gets the expected version in its environment, never the secret itself.
import { execFile } from 'node:child_process';
import type {
  ConfirmationStatus,
  ConsumerConfirmer,
  ConsumerProbe,
  ExpectedKeyVersion,
} from '../consumer-confirmer.js';
import { type CommandHookSettings, commandHookSettingsSchema } from './command-hook-schemas.js';

/** BSD's EX_TEMPFAIL: "try again later". */
export const COMMAND_NOT_YET_EXIT_CODE = 75;

export class CommandHookConfirmer implements ConsumerConfirmer {
  readonly kind = 'command';
  readonly #env: NodeJS.ProcessEnv;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.#env = env;
  }

  async check(consumer: ConsumerProbe, expected: ExpectedKeyVersion): Promise<ConfirmationStatus> {
    const parsed = parse(consumer);
    if (!parsed.ok) return parsed.status;
    const settings = parsed.settings;
    return this.#run(consumer, settings, settings.command, expected, true);
  }

  async exercise(consumer: ConsumerProbe, expected: ExpectedKeyVersion): Promise<ConfirmationStatus> {
    const parsed = parse(consumer);
    if (!parsed.ok) return parsed.status;
    const settings = parsed.settings;
    if (!settings.check_command)
      return { state: 'confirmed', detail: `${consumer.name}: no check_command, nothing to exercise` };
    return this.#run(consumer, settings, settings.check_command, expected, false);
  }

  #run(
    consumer: ConsumerProbe,
    settings: CommandHookSettings,
    argv: string[],
    expected: ExpectedKeyVersion,
    mayWait: boolean,
  ): Promise<ConfirmationStatus> {
    const [file, ...args] = argv as [string, ...string[]];
    const env = {
      ...this.#env,
      KEYLEDGER_KEY_ID: expected.keyId,
      KEYLEDGER_ROTATION_ID: expected.rotationId,
      KEYLEDGER_VERSION_ID: expected.versionId,
      KEYLEDGER_PROVIDER_KEY_ID: expected.providerKeyId,
      KEYLEDGER_FINGERPRINT: expected.fingerprint,
      KEYLEDGER_STORED_AT: expected.storedAt.toISOString(),
    };
    return new Promise((resolve) => {
      execFile(
        file,
        args,
        {
          env,
          timeout: settings.timeout_seconds * 1000,
          maxBuffer: 64 * 1024,
          encoding: 'utf8',
          ...(settings.cwd ? { cwd: settings.cwd } : {}),
        },
        (error, stdout, stderr) => {
          const said = firstLine(stdout) || firstLine(stderr);
          const detail = `${consumer.name}: ${file}${said ? `: ${said}` : ''}`;
          if (!error) return resolve({ state: 'confirmed', detail });
          const code = (error as { code?: unknown }).code;
          if (mayWait && (code === COMMAND_NOT_YET_EXIT_CODE || error.killed))
            return resolve({ state: 'waiting', detail });
          resolve({ state: 'failed', detail: `${detail} (exit ${String(code ?? 'signal')})` });
        },
      );
    });
  }
}

function parse(consumer: ConsumerProbe) {
  const parsed = commandHookSettingsSchema.safeParse(consumer.settings);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return {
      ok: false as const,
      status: { state: 'failed' as const, detail: `${consumer.name}: probe.${issue.path.join('.')}: ${issue.message}` },
    };
  }
  return { ok: true as const, settings: parsed.data };
}

function firstLine(text: string): string {
  return (text.split('\n').find((line) => line.trim()) ?? '').trim().slice(0, 200);
}
