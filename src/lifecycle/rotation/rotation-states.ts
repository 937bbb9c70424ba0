// The states of one rotation and the order they follow. The happy path keeps the old key current until
// the new one is confirmed by consumers and verified; `rolling-back` undoes everything before `promoted`.
export const ROTATION_STATES = [
  'planned',
  /** Intent recorded: a `create` call is (or was) in flight. A resumed row searches the provider for an orphan. */
  'minting',
  /** The provider answered: its key id is recorded; the secret is in this process's memory only. */
  'minted',
  /** The secret is in its store as `pending`; the old version is still `current`. */
  'stored',
  'consumers-confirmed',
  'verified',
  /** The new version is `current`, the old one `previous`; from here on there is no going back. */
  'promoted',
  'old-revoked',
  'registry-updated',
  'done',
  'rolling-back',
  'rolled-back',
  'failed',
] as const;

export type RotationState = (typeof ROTATION_STATES)[number];

export const TERMINAL_STATES: ReadonlySet<RotationState> = new Set(['done', 'rolled-back', 'failed']);

/** States from which a failure rolls back (the old key is still current and nothing is revoked). */
export const ROLLBACK_STATES: ReadonlySet<RotationState> = new Set([
  'planned',
  'minting',
  'minted',
  'stored',
  'consumers-confirmed',
  'verified',
]);

export function isRotationState(value: string): value is RotationState {
  return (ROTATION_STATES as readonly string[]).includes(value);
}

/** Why a key rotates; kept on the journal row and in its events. */
export const ROTATION_TRIGGERS = ['schedule', 'expiry', 'owner-left', 'leak', 'manual', 'policy'] as const;
export type RotationTrigger = (typeof ROTATION_TRIGGERS)[number];
