// Turns the text of one registry file into an entry and the issues found in it: YAML syntax, schema, unknown
// fields and per-entry policy. Runs on the main thread or inside a validation worker; the fast parser (js-yaml)
// reads every file, and only a file with something to report is re-read to find positions.
import jsYaml from 'js-yaml';
import type { z } from 'zod';
import { readBlockYaml } from './block-yaml-reader.js';
import { formatFieldPath, type KeyEntry, keyEntrySchema, unknownFields } from './key-entry-schema.js';
import { checkEntry } from './policy/policy-engine.js';
import type { PolicyContext } from './policy/policy-rules.js';
import type { RegistryIssue } from './registry-issue.js';
import { YamlLocator } from './yaml-position.js';
import { compileFastParse } from './zod-fast-parse.js';

/** zod's output for a well-formed entry without zod's reporting machinery; zod parses the rest (see zod-fast-parse). */
const fastParseEntry = compileFastParse(keyEntrySchema);

export interface EntryAnalysis {
  file: string;
  keyId?: string;
  entry?: KeyEntry;
  issues: RegistryIssue[];
}

interface PendingIssue {
  severity: RegistryIssue['severity'];
  rule: string;
  message: string;
  path?: PropertyKey[];
  line?: number;
  column?: number;
}

/** Reads one file's text. `policy` is omitted when only the schema is wanted (list, show, the writer). */
export function analyzeEntryText(file: string, text: string, policy?: PolicyContext): EntryAnalysis {
  let raw: unknown;
  try {
    // The core schema keeps timestamps as the text written: js-yaml's own timestamp type would turn 2027-02-30
    // into March 2 without a word, and the text is what positions and round trips need anyway.
    raw = readBlockYaml(text)?.value ?? jsYaml.load(text, { filename: file, schema: jsYaml.CORE_SCHEMA });
  } catch (error) {
    const mark = (error as { mark?: { line: number; column: number } }).mark;
    const reason = (error as { reason?: string }).reason ?? (error as Error).message;
    return {
      file,
      issues: [
        {
          severity: 'error',
          rule: 'yaml-syntax',
          message: `invalid YAML: ${reason}`,
          file,
          ...(mark ? { line: mark.line + 1, column: mark.column + 1 } : {}),
        },
      ],
    };
  }
  if (raw === undefined || raw === null) {
    return {
      file,
      issues: [
        {
          severity: 'error',
          rule: 'schema',
          message: 'the file is empty: expected one key entry',
          file,
          line: 1,
          column: 1,
        },
      ],
    };
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return {
      file,
      issues: [
        {
          severity: 'error',
          rule: 'schema',
          message: 'expected a mapping of fields (key_id: ..., owner_team: ...)',
          file,
          line: 1,
          column: 1,
        },
      ],
    };
  }
  const pending: PendingIssue[] = [];
  const keyIdRaw = (raw as Record<string, unknown>).key_id;
  const keyId = typeof keyIdRaw === 'string' && keyIdRaw.trim() ? detached(keyIdRaw.trim()) : undefined;

  let entry: KeyEntry | undefined = fastParseEntry(raw);
  const parsed = entry ? undefined : keyEntrySchema.safeParse(raw);
  if (parsed?.success) {
    entry = parsed.data;
  } else if (parsed) {
    for (const issue of parsed.error.issues) pending.push(schemaIssue(issue));
  }
  for (const path of unknownFields(raw)) {
    pending.push({
      severity: 'warning',
      rule: 'unknown-field',
      message: `unknown field "${path.at(-1)}" (kept as written)`,
      path,
    });
  }
  if (policy) {
    if (entry) {
      for (const violation of checkEntry(entry, policy)) pending.push(violation);
    } else if (parsed && !parsed.success) {
      // Still report the policy on the fields that are well-formed, so one bad field does not hide the rest;
      // rules about a field the schema already rejected are left out (the schema error says it).
      const rejected = new Set(parsed.error.issues.map((issue) => String(issue.path[0] ?? '')));
      const partial = keyEntrySchema.safeParse(
        Object.fromEntries(Object.entries(raw as Record<string, unknown>).filter(([field]) => !rejected.has(field))),
      );
      if (partial.success) {
        for (const violation of checkEntry(partial.data, policy)) {
          if (!rejected.has(String(violation.path[0] ?? ''))) pending.push(violation);
        }
      }
    }
  }
  if (pending.length === 0) return { file, ...(keyId ? { keyId } : {}), ...(entry ? { entry } : {}), issues: [] };

  const unknownSeverity = policy?.policy.rules['unknown-field'];
  const locator = new YamlLocator(text);
  const issues: RegistryIssue[] = [];
  for (const item of pending) {
    if (item.rule === 'unknown-field' && unknownSeverity) {
      if (unknownSeverity === 'off') continue;
      item.severity = unknownSeverity;
    }
    const position =
      item.line !== undefined ? { line: item.line, column: item.column ?? 1 } : locator.locate(item.path ?? []);
    const field = item.path ? formatFieldPath(item.path) : undefined;
    issues.push({
      severity: item.severity,
      rule: item.rule,
      message: item.message,
      file,
      line: position.line,
      column: position.column,
      ...(field ? { field } : {}),
      ...(keyId ? { keyId } : {}),
    });
  }
  return { file, ...(keyId ? { keyId } : {}), ...(entry ? { entry } : {}), issues };
}

/**
 * A copy of `value` that does not keep alive the file text it was cut from (V8 makes a substring a view into its
 * parent). The key ids outlive their files — validate keeps all 100,000 to find duplicates — and as views they
 * kept every file's text in the heap, which made each garbage collection on the main thread copy them: 0.1 s of a
 * 100,000-entry validate (its scavenges 280 -> 205 ms). Concatenating flattens into a new string; slicing off the
 * space leaves a view into that small copy only.
 */
function detached(value: string): string {
  return ` ${value}`.slice(1);
}

function schemaIssue(issue: z.core.$ZodIssue): PendingIssue {
  if (issue.code === 'unrecognized_keys') {
    return {
      severity: 'warning',
      rule: 'unknown-field',
      message: `unknown fields ${issue.keys.join(', ')}`,
      path: [...issue.path],
    };
  }
  let message = issue.message;
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    message = `missing required field "${String(issue.path.at(-1))}"`;
  } else if (issue.code === 'invalid_type') {
    message = `expected ${issue.expected}${issue.message.includes('received') ? `, ${issue.message.slice(issue.message.indexOf('received'))}` : ''}`;
  }
  if (issue.code === 'invalid_value' && 'values' in issue) {
    message = `expected one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}`;
  }
  return { severity: 'error', rule: 'schema', message, path: [...issue.path] };
}
