// `keyledger people list|show`: the people directory as the identity sources left it (docs/offboarding.md) —
// who works here, in which team, who was suspended or deprovisioned, when and by which source — with the
// registry's people file filling in whoever no source has reported yet. `show` adds the signals heard about the
// person. Read-only: a missing store is an empty directory, never a new store.
import { openOperationalStore } from '../../db/operational-store.js';
import { DirectoryStore, PERSON_STATUSES } from '../../directory/directory-store.js';
import type { DirectoryPerson, PersonStatus } from '../../directory/identity-source.js';
import type { PeopleDirectory } from '../../directory/people-directory.js';
import { mergedPeople } from '../../directory/people-with-signals.js';
import { KeyledgerError, NotFoundError, UsageError } from '../../errors/keyledger-error.js';
import { openRegistryWorkspace } from '../../registry/registry-workspace.js';
import { type CliContext, printJson } from '../cli-context.js';
import type { RegisterCommand } from '../command-table.js';
import {
  addSharedOptions,
  operationalStoreFor,
  REGISTRY_VARIABLE,
  registryRootFor,
  type SharedOptions,
} from '../common-options.js';
import { renderTable } from '../render/table.js';

interface ListOptions extends SharedOptions {
  status?: PersonStatus;
  team?: string;
}

type SignalRow = Awaited<ReturnType<DirectoryStore['signalsFor']>>[number];

export const registerPeopleCommand: RegisterCommand = (program, context) => {
  const people = program
    .command('people')
    .description('the people directory: who works here, who was suspended or deprovisioned, by which source');
  addSharedOptions(people.command('list'), { json: 'print {count, people:[...]} as JSON (errors too)' })
    .description('list people, directory first, then people-file entries no source has reported')
    .option('--status <status>', `only people with this status (${PERSON_STATUSES.join(', ')})`, parseStatus)
    .option('--team <team>', 'only people of this team')
    .action(async (options: ListOptions) => {
      const found = await readPeople(context, options, async (directory, file) => {
        const all = mergedPeople(file, directory ? await directory.list() : []);
        return all.filter(
          (person) =>
            (options.status === undefined || person.status === options.status) &&
            (options.team === undefined || person.team === options.team),
        );
      });
      if (options.json) {
        printJson(context, { count: found.length, people: found });
        return;
      }
      context.stdout.write(
        `${renderTable(
          ['EMAIL', 'NAME', 'TEAM', 'STATUS', 'SINCE', 'SOURCE'],
          found.map((person) => [
            person.email,
            person.displayName ?? '',
            person.team ?? '',
            person.status,
            person.statusChangedAt ?? '',
            person.source,
          ]),
        )}\n${found.length} ${found.length === 1 ? 'person' : 'people'}\n`,
      );
    });
  addSharedOptions(people.command('show'), { json: 'print the person and the signals heard about them as JSON' })
    .description('one person (by email, id or userName) and the status signals heard about them, oldest first')
    .argument('<person>', 'email, directory id or userName')
    .action(async (who: string, options: SharedOptions) => {
      const shown = await readPeople(context, options, async (directory, file) => {
        const person = await directory?.find(who);
        if (person) return { person, signals: await directory!.signalsFor(person.id) };
        const fromFile = mergedPeople(file, []).find((candidate) => candidate.email === who.trim().toLowerCase());
        return fromFile ? { person: fromFile, signals: [] as SignalRow[] } : undefined;
      });
      if (!shown) {
        throw new NotFoundError('E_PERSON_NOT_FOUND', `no person "${who}" in the directory or the people file`, {
          person: who,
        });
      }
      if (options.json) {
        printJson(context, shown);
        return;
      }
      context.stdout.write(renderPerson(shown.person, shown.signals));
    });
};

function parseStatus(value: string): PersonStatus {
  if (!(PERSON_STATUSES as readonly string[]).includes(value)) {
    throw new UsageError(`--status must be one of ${PERSON_STATUSES.join(', ')}, got "${value}"`);
  }
  return value as PersonStatus;
}

/** Opens what there is (the store, the registry's people file) read-only, runs `work`, closes. */
async function readPeople<T>(
  context: CliContext,
  options: SharedOptions,
  work: (directory: DirectoryStore | undefined, file: PeopleDirectory | undefined) => Promise<T>,
): Promise<T> {
  const file = await peopleFileFor(context, options);
  let location: Awaited<ReturnType<typeof operationalStoreFor>> | undefined;
  try {
    location = await operationalStoreFor(context, options, { mustExist: true });
  } catch (error) {
    // Nothing recorded yet: the people file alone is the directory.
    if (!(error instanceof KeyledgerError && error.code === 'E_NO_OPERATIONAL_STORE')) throw error;
  }
  if (!location) return work(undefined, file);
  const store = await openOperationalStore(location);
  try {
    return await work(new DirectoryStore({ db: store.db, clock: context.clock }), file);
  } finally {
    await store.close();
  }
}

/** The registry's people file, when a registry is named or found; none when only KEYLEDGER_DATA_DIR is set. */
async function peopleFileFor(context: CliContext, options: SharedOptions): Promise<PeopleDirectory | undefined> {
  const named = options.registry !== undefined || options.r !== undefined || Boolean(context.env[REGISTRY_VARIABLE]);
  try {
    const root = await registryRootFor(context, options);
    return (await openRegistryWorkspace(root)).people;
  } catch (error) {
    if (!named && error instanceof NotFoundError && context.env.KEYLEDGER_DATA_DIR) return undefined;
    throw error;
  }
}

function renderPerson(person: DirectoryPerson, signals: SignalRow[]): string {
  const lines = [
    `${person.email}${person.displayName ? ` (${person.displayName})` : ''}`,
    `  status:   ${person.status}${person.statusChangedAt ? ` since ${person.statusChangedAt}` : ''} (${person.source})`,
    ...(person.team ? [`  team:     ${person.team}`] : []),
    ...(person.managerEmail ? [`  manager:  ${person.managerEmail}`] : []),
    ...(person.userName ? [`  userName: ${person.userName}`] : []),
    ...(person.externalId ? [`  external: ${person.externalId}`] : []),
    `  id:       ${person.id}`,
  ];
  if (signals.length > 0) {
    lines.push(
      '',
      renderTable(
        ['AT', 'STATUS', 'SOURCE', 'EFFECT', 'SIGNAL'],
        signals.map((signal) => [signal.at, signal.status, signal.source, signal.effect, signal.signalId]),
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}
