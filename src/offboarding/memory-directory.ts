// A DirectoryUpdates (src/directory/identity-source.ts) held in memory for one command: seeded from the HR file
// (src/directory/people-directory.ts) where the directory store over the operational store
// (src/directory/directory-store.ts) is not in use, and by the offboarding tests. What lasts between commands is
// the offboarding journal (offboarding-jobs.ts): a person offboarded once is not offboarded again. It keeps the
// contract's rules: a signal id seen before changes nothing; a signal older than the person's last status change changes
// nothing; the departure listeners run once, awaited, when a signal takes a person from `active` to another status.
import type {
  DepartureListener,
  DirectoryPerson,
  DirectorySignal,
  DirectoryUpdates,
  PersonStatus,
} from '../directory/identity-source.js';
import type { Person } from '../directory/people-directory.js';

export class MemoryDirectory implements DirectoryUpdates {
  readonly #people = new Map<string, DirectoryPerson>();
  readonly #seen = new Set<string>();
  readonly #listeners = new Set<DepartureListener>();
  /** Every signal applied in this process, in arrival order, with what it did. */
  readonly history: Array<{ signal: DirectorySignal; departed: boolean; duplicate: boolean; stale: boolean }> = [];

  constructor(people: Iterable<DirectoryPerson> = []) {
    for (const person of people)
      this.#people.set(person.email.toLowerCase(), { ...person, email: person.email.toLowerCase() });
  }

  async apply(
    signal: DirectorySignal,
    details: Partial<Omit<DirectoryPerson, 'status' | 'statusChangedAt' | 'source'>> = {},
  ): Promise<{ person: DirectoryPerson; departed: boolean; duplicate: boolean }> {
    const email = signal.email.toLowerCase();
    const before = this.#people.get(email);
    if (this.#seen.has(signal.signalId)) {
      this.history.push({ signal, departed: false, duplicate: true, stale: false });
      return { person: before ?? this.#blank(email, signal.status, signal), departed: false, duplicate: true };
    }
    this.#seen.add(signal.signalId);
    const stale = Boolean(before?.statusChangedAt && Date.parse(signal.at) < Date.parse(before.statusChangedAt));
    if (before && stale) {
      this.history.push({ signal, departed: false, duplicate: false, stale: true });
      return { person: before, departed: false, duplicate: false };
    }
    const person: DirectoryPerson = {
      ...(before ?? this.#blank(email, 'active', signal)),
      ...definedOnly(details),
      email,
      status: signal.status,
      statusChangedAt: signal.at,
      source: signal.source,
    };
    this.#people.set(email, person);
    const departed = (before?.status ?? 'active') === 'active' && signal.status !== 'active' && before !== undefined;
    this.history.push({ signal, departed, duplicate: false, stale: false });
    if (departed) for (const listener of this.#listeners) await listener(person, signal);
    return { person, departed, duplicate: false };
  }

  onDeparture(listener: DepartureListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async find(idOrEmail: string): Promise<DirectoryPerson | undefined> {
    const wanted = idOrEmail.trim().toLowerCase();
    return (
      this.#people.get(wanted) ??
      [...this.#people.values()].find((person) => person.id === idOrEmail || person.userName?.toLowerCase() === wanted)
    );
  }

  async list(filter: { status?: PersonStatus; team?: string } = {}): Promise<DirectoryPerson[]> {
    return [...this.#people.values()].filter(
      (person) => (!filter.status || person.status === filter.status) && (!filter.team || person.team === filter.team),
    );
  }

  #blank(email: string, status: PersonStatus, signal: DirectorySignal): DirectoryPerson {
    return { id: email, email, status, source: signal.source };
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}

/** The HR file's people as directory people (`left` is `deprovisioned`, from its `left_at`). */
export function directoryPeopleOf(people: Iterable<Person>): DirectoryPerson[] {
  return [...people].map((person) => ({
    id: person.email,
    email: person.email,
    ...(person.name ? { displayName: person.name } : {}),
    ...(person.team ? { team: person.team } : {}),
    status: person.status === 'left' ? 'deprovisioned' : person.status,
    ...(person.left_at ? { statusChangedAt: new Date(person.left_at).toISOString() } : {}),
    source: 'hr-file',
  }));
}
