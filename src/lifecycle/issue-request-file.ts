// Reads the requests of `keyledger issue --from FILE`: a YAML list (or `keys:` list) of mappings, or a CSV table
// with a header row, whose fields are the single `issue` command's flags (`key-id` or `key_id` alike). Every row
// is checked against one schema; each problem names the file, the line and the field, so a whole file can be
// fixed in one go. Nothing here touches a provider: bulk-key-issuance.ts validates further before minting.
import { createRequire } from 'node:module';
import { isMap, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from 'yaml';
import { z } from 'zod';
import { KeyledgerError } from '../errors/keyledger-error.js';
import { parseDurationDays } from '../registry/registry-dates.js';
import type { IssueKeyRequest } from './key-issuance.js';

export type IssueRequestFileFormat = 'yaml' | 'csv';

/** One request read from the file, without the actor (the command's `--actor` applies to every row). */
export interface IssueRequestRow {
  /** 1-based position among the file's requests. */
  row: number;
  /** The line the request starts on. */
  line: number;
  request: Omit<IssueKeyRequest, 'actor'>;
  /** The line of each field present, for later problems (policy, duplicates) to point at. */
  fieldLines: Partial<Record<IssueRequestField, number>>;
}

/** A problem with one row, where it is. */
export interface IssueRequestProblem {
  file: string;
  line: number;
  row: number;
  field: string;
  message: string;
}

/** The request file (or what bulk issuance checked of it) has problems; nothing was minted. */
export class IssueRequestFileError extends KeyledgerError {
  readonly problems: IssueRequestProblem[];

  constructor(file: string, problems: IssueRequestProblem[]) {
    const shown = problems.slice(0, 20).map((p) => `  ${p.file}:${p.line}: ${p.field}: ${p.message}`);
    if (problems.length > shown.length) shown.push(`  ... and ${problems.length - shown.length} more`);
    super('E_ISSUE_FILE_INVALID', `${file}: ${problems.length} problem(s); nothing was issued:\n${shown.join('\n')}`, {
      category: 'input',
      position: { file, line: problems[0]?.line ?? 1, field: problems[0]?.field ?? '' },
      details: { problems },
    });
    this.problems = problems;
  }
}

const REQUEST_FIELDS = [
  'provider',
  'team',
  'owner',
  'purpose',
  'scope',
  'account',
  'expires',
  'store',
  'key-id',
  'rotate-every',
  'consumer',
  'tag',
  'justification',
  'idempotency-key',
] as const;
export type IssueRequestField = (typeof REQUEST_FIELDS)[number];

const text = z.string().trim().min(1, 'must not be empty');
/** A list: YAML sequences, or one comma-separated text (a CSV cell, or `scope: a:read,b:write` as on the CLI). */
const list = z
  .union([text, z.array(z.union([text, z.number()]))])
  .transform((value) =>
    (Array.isArray(value) ? value.map(String) : value.split(',')).map((item) => item.trim()).filter(Boolean),
  );
const positiveDays = z.union([z.number(), text]).transform((value, context) => {
  const days = typeof value === 'number' ? value : parseDurationDays(value);
  if (days === null || !Number.isInteger(days) || days <= 0) {
    context.addIssue({ code: 'custom', message: `expected a duration such as 30d, 12w, 6m or 1y, got "${value}"` });
    return z.NEVER;
  }
  return days;
});
const store = text.transform((value, context) => {
  const colon = value.indexOf(':');
  if (colon <= 0 || colon === value.length - 1) {
    context.addIssue({ code: 'custom', message: `expected <store>:<path>, e.g. vault:secret/payments/stripe-live` });
    return z.NEVER;
  }
  return { name: value.slice(0, colon), path: value.slice(colon + 1) };
});

/** One row, with the single `issue` command's flag names. */
export const issueRequestRowSchema = z.strictObject({
  provider: text,
  team: text,
  owner: text,
  purpose: text,
  scope: list.optional(),
  account: text.optional(),
  expires: positiveDays.optional(),
  store: store.optional(),
  'key-id': text.optional(),
  'rotate-every': positiveDays.optional(),
  consumer: list.optional(),
  tag: list.optional(),
  justification: text.optional(),
  'idempotency-key': text.optional(),
});

interface RawRow {
  line: number;
  /** Set when the row is not a mapping of fields at all. */
  notAMapping?: boolean;
  values: Record<string, unknown>;
  fieldLines: Record<string, number>;
}

/** Parses and checks every row; throws IssueRequestFileError listing every problem found. */
export function parseIssueRequestFile(
  content: string,
  file: string,
  format: IssueRequestFileFormat = detectIssueRequestFormat(content, file),
): IssueRequestRow[] {
  const rawRows = format === 'csv' ? readCsv(content, file) : readYaml(content, file);
  const rows: IssueRequestRow[] = [];
  const problems: IssueRequestProblem[] = [];
  rawRows.forEach((raw, index) => {
    const row = index + 1;
    if (raw.notAMapping) {
      problems.push({ file, line: raw.line, row, field: 'row', message: 'expected a mapping of issue fields' });
      return;
    }
    const values: Record<string, unknown> = {};
    const fieldLines: Record<string, number> = {};
    for (const [name, value] of Object.entries(raw.values)) {
      const field = name.trim().toLowerCase().replaceAll('_', '-');
      // An empty CSV cell (or a YAML `~`) is an absent field.
      if (value === null || value === undefined || value === '') continue;
      values[field] = value;
      fieldLines[field] = raw.fieldLines[name] ?? raw.line;
    }
    const parsed = issueRequestRowSchema.safeParse(values);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field =
          issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : String(issue.path[0] ?? 'row') || 'row';
        const message =
          issue.code === 'unrecognized_keys'
            ? `unknown field; the fields are the issue command's flags: ${REQUEST_FIELDS.join(', ')}`
            : issue.message === 'Invalid input: expected string, received undefined'
              ? 'required'
              : issue.message;
        problems.push({ file, line: fieldLines[field] ?? raw.line, row, field, message });
      }
      return;
    }
    const data = parsed.data;
    rows.push({
      row,
      line: raw.line,
      fieldLines,
      request: {
        provider: data.provider,
        team: data.team,
        owner: data.owner,
        purpose: data.purpose,
        permissions: data.scope ?? [],
        ...(data.account ? { account: data.account } : {}),
        ...(data.expires !== undefined ? { expiresInDays: data.expires } : {}),
        ...(data.store ? { store: data.store } : {}),
        ...(data['key-id'] ? { keyId: data['key-id'] } : {}),
        ...(data['rotate-every'] ? { rotationFrequencyDays: data['rotate-every'] } : {}),
        ...(data.consumer?.length ? { consumers: data.consumer } : {}),
        ...(data.tag?.length ? { tags: data.tag } : {}),
        ...(data.justification ? { justification: data.justification } : {}),
        ...(data['idempotency-key'] ? { idempotencyKey: data['idempotency-key'] } : {}),
      },
    });
  });
  if (problems.length) throw new IssueRequestFileError(file, problems);
  if (rows.length === 0) {
    throw new IssueRequestFileError(file, [{ file, line: 1, row: 0, field: 'file', message: 'holds no requests' }]);
  }
  return rows;
}

/** By extension; for stdin (`-`) or another name, YAML when the text opens like YAML, else CSV. */
export function detectIssueRequestFormat(content: string, file: string): IssueRequestFileFormat {
  const lower = file.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.yaml') || lower.endsWith('.yml')) return 'yaml';
  const first = content.split('\n').find((line) => line.trim() !== '' && !line.trimStart().startsWith('#')) ?? '';
  return /^\s*(-(\s|$)|\[|\{|---|[A-Za-z_][\w-]*:(\s|$))/.test(first) ? 'yaml' : 'csv';
}

function readYaml(content: string, file: string): RawRow[] {
  const lineCounter = new LineCounter();
  const document = parseDocument(content, { lineCounter, uniqueKeys: true });
  const lineOf = (node: Node | null | undefined) => (node?.range ? lineCounter.linePos(node.range[0]).line : 1);
  if (document.errors.length) {
    const error = document.errors[0]!;
    throw new IssueRequestFileError(file, [
      {
        file,
        line: error.linePos?.[0]?.line ?? 1,
        row: 0,
        field: 'file',
        message: `invalid YAML: ${error.message.split('\n')[0]}`,
      },
    ]);
  }
  let list: unknown = document.contents;
  if (isMap(list)) list = list.get('keys', true);
  if (!isSeq(list)) {
    throw new IssueRequestFileError(file, [
      {
        file,
        line: lineOf(document.contents),
        row: 0,
        field: 'file',
        message: 'expected a list of requests (or a `keys:` list), each a mapping of issue fields',
      },
    ]);
  }
  return list.items.map((item) => {
    const node = item as Node;
    if (!isMap(node)) return { line: lineOf(node), notAMapping: true, values: {}, fieldLines: {} };
    const values: Record<string, unknown> = {};
    const fieldLines: Record<string, number> = {};
    for (const pair of (node as YAMLMap).items) {
      const key = String((pair.key as { value?: unknown } | null)?.value ?? pair.key);
      values[key] = (pair.value as { toJSON?: () => unknown } | null)?.toJSON?.() ?? null;
      fieldLines[key] = lineOf(pair.key as Node);
    }
    return { line: lineOf(node), values, fieldLines };
  });
}

function readCsv(content: string, file: string): RawRow[] {
  const { parse } = createRequire(import.meta.url)('csv-parse/sync') as typeof import('csv-parse/sync');
  let records: Array<{ record: Record<string, string>; info: { lines: number } }>;
  try {
    records = parse(content, {
      columns: true,
      info: true,
      skip_empty_lines: true,
      trim: true,
      bom: true,
    }) as unknown as typeof records;
  } catch (error) {
    const line = (error as { lines?: number }).lines ?? 1;
    throw new IssueRequestFileError(file, [
      { file, line, row: 0, field: 'file', message: `invalid CSV: ${(error as Error).message}` },
    ]);
  }
  // `info.lines` is the line a record ends on; a record spans more than one only inside a quoted cell.
  return records.map(({ record, info }) => ({ line: info.lines, values: record, fieldLines: {} }));
}
