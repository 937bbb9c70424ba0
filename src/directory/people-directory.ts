// The people directory: who works here, in which team, and who has left (and when). Loaded from a CSV export of
// the HR system or a YAML list; the IDP integrations of later issues feed the same shape.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors/keyledger-error.js';

export const personSchema = z.object({
  email: z.string().trim().toLowerCase().min(3),
  name: z.string().trim().optional(),
  team: z.string().trim().optional(),
  status: z
    .enum(['active', 'left', 'suspended'])
    .default('active')
    .or(z.literal('').transform(() => 'active' as const)),
  left_at: z.string().trim().optional(),
});

export type Person = z.output<typeof personSchema>;

/**
 * The people as they are now, read when asked (src/directory/current-people.ts): what a long-running service that
 * judges owners takes, so a departure heard after it started counts without a restart.
 */
export type PeopleSource = () => Promise<PeopleDirectory | undefined>;

export class PeopleDirectory {
  readonly #byEmail: Map<string, Person>;

  constructor(people: Iterable<Person>) {
    this.#byEmail = new Map();
    for (const person of people) this.#byEmail.set(person.email.toLowerCase(), person);
  }

  find(email: string): Person | undefined {
    return this.#byEmail.get(email.trim().toLowerCase());
  }

  get size(): number {
    return this.#byEmail.size;
  }

  people(): Person[] {
    return [...this.#byEmail.values()];
  }

  teams(): Set<string> {
    const teams = new Set<string>();
    for (const person of this.#byEmail.values()) if (person.team) teams.add(person.team);
    return teams;
  }
}

/** Loads a `.csv` (header row: email,name,team,status,left_at) or `.yaml`/`.yml`/`.json` list of people. */
export async function loadPeopleDirectory(file: string): Promise<PeopleDirectory> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the people directory ${file}: ${(error as Error).message}`, {
      position: { file },
      code: 'E_PEOPLE_DIRECTORY',
    });
  }
  return parsePeopleDirectory(text, file);
}

export function parsePeopleDirectory(text: string, file: string): PeopleDirectory {
  const extension = extname(file).toLowerCase();
  let rows: unknown[];
  try {
    // The parsers are loaded when a directory is read: this module sits on every validation thread's start-up path.
    const require = createRequire(import.meta.url);
    if (extension === '.csv') {
      const { parse: parseCsv } = require('csv-parse/sync') as typeof import('csv-parse/sync');
      rows = parseCsv(text, {
        columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
        skip_empty_lines: true,
        trim: true,
        bom: true,
      });
    } else {
      const { parse: parseYaml } = require('yaml') as typeof import('yaml');
      const parsed = parseYaml(text) as unknown;
      rows = Array.isArray(parsed) ? parsed : ((parsed as { people?: unknown[] } | null)?.people ?? []);
    }
  } catch (error) {
    throw new ConfigError(`the people directory ${file} cannot be parsed: ${(error as Error).message}`, {
      position: { file },
      code: 'E_PEOPLE_DIRECTORY',
    });
  }
  const people: Person[] = [];
  rows.forEach((row, index) => {
    const result = personSchema.safeParse(row);
    if (!result.success) {
      const issue = result.error.issues[0]!;
      // CSV: the header is line 1, so row i sits on line i + 2.
      const line = extension === '.csv' ? index + 2 : undefined;
      throw new ConfigError(
        `${file}${line ? `:${line}` : ''}: person ${index + 1}: ${issue.path.join('.') || 'row'}: ${issue.message}`,
        {
          position: { file, ...(line ? { line } : {}), field: String(issue.path[0] ?? '') },
          code: 'E_PEOPLE_DIRECTORY',
        },
      );
    }
    people.push(result.data);
  });
  return new PeopleDirectory(people);
}
