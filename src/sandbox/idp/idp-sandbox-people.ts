// The people an identity-provider sandbox holds (src/sandbox/idp/<name>/): loaded from an organisation's seed, each
// with a status, and with sessions that `revoke` ends, so that tests can see whose sessions were revoked and when.
import type { SandboxSeed } from '../sandbox-seed.js';

export interface IdpSandboxUser {
  id: string;
  email: string;
  login: string;
  name: string;
  /** Whether the person has left (the provider shows it in its own way: DEPROVISIONED, accountEnabled false...). */
  left: boolean;
  /** Live sign-in sessions and OAuth tokens; a revocation sets it to 0. */
  sessions: number;
  created: string;
  /** When `left` last changed (the provider's own change time, where it shows one). */
  statusChanged: string;
}

export class IdpSandboxPeople {
  readonly #byId = new Map<string, IdpSandboxUser>();
  /** Every revocation, in order: the user's id and email, and when. */
  readonly revocations: Array<{ id: string; email: string; at: string }> = [];
  readonly #idOf: (index: number, login: string) => string;

  constructor(idOf: (index: number, login: string) => string) {
    this.#idOf = idOf;
  }

  load(seed: Pick<SandboxSeed, 'people'>, options: { leaversAsActive?: boolean } = {}): void {
    seed.people.forEach((person, index) => {
      const user: IdpSandboxUser = {
        id: this.#idOf(this.#byId.size + index, person.login),
        email: person.email.toLowerCase(),
        login: person.login,
        name: person.name,
        left: person.status === 'left' && !options.leaversAsActive,
        sessions: 1,
        created: '2023-01-02T09:00:00.000Z',
        // A leaver loaded as gone went recently: the organisation's signal is what never reached us.
        statusChanged:
          person.status === 'left' && !options.leaversAsActive ? new Date().toISOString() : '2023-01-02T09:00:00.000Z',
      };
      this.#byId.set(user.id, user);
    });
  }

  all(): IdpSandboxUser[] {
    return [...this.#byId.values()];
  }

  /** By id, email or login (the APIs accept a login or a user principal name where they accept an id). */
  find(key: string): IdpSandboxUser | undefined {
    const wanted = decodeURIComponent(key).toLowerCase();
    return (
      this.#byId.get(decodeURIComponent(key)) ??
      this.all().find((user) => user.email === wanted || user.login.toLowerCase() === wanted)
    );
  }

  /** Marks a person gone at the provider (the admin deprovisioned them), as a test's "left without a signal". */
  setLeft(email: string, left = true): void {
    const user = this.find(email);
    if (user) {
      user.left = left;
      user.statusChanged = new Date().toISOString();
    }
  }

  revoke(user: IdpSandboxUser, at: string): void {
    user.sessions = 0;
    this.revocations.push({ id: user.id, email: user.email, at });
  }

  groundTruth(): unknown {
    return { users: this.all(), revocations: this.revocations };
  }
}
