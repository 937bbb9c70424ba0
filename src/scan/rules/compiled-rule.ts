// A rule compiled for the engine: its regex on RE2 with byte indices for capture groups, its allowlists, and
// its checksum validator looked up by name.
import type RE2 from 're2';
import { CHECKSUM_VALIDATORS } from '../../runtime/base62-crc32.js';
import { CompiledAllowlist } from '../config/compiled-allowlist.js';
import { compileRe2 } from '../config/re2-compile.js';
import { maxMatchBytes } from '../engine/regex-match-length.js';
import type { RuleDefinition } from './rule-definition.js';

/** How far before a keyword hit a match may start, and after it end, unless the rule says more. */
export const DEFAULT_SPAN_BEFORE = 512;
export const DEFAULT_SPAN_AFTER = 512;

/**
 * A leading `[\w.-]{0,N}?` (the variable-name part of gitleaks-style assignment rules), after optional flags,
 * with no top-level alternation after it. RE2 runs such patterns several times slower than without the prefix,
 * and the prefix only moves the match start back over name characters, which the engine can do itself.
 */
const LEADING_NAME = /^(\(\?[imsU]+\))?\[\\w\.-\]\{0,(\d+)\}\?/;

function hasTopLevelAlternation(pattern: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === '\\') {
      i++;
    } else if (inClass) {
      if (char === ']') inClass = false;
    } else if (char === '[') {
      inClass = true;
    } else if (char === '(') {
      depth++;
    } else if (char === ')') {
      depth--;
    } else if (char === '|' && depth === 0) {
      return true;
    }
  }
  return false;
}

/** The pattern to search with, and how far back over name characters a match start then extends. */
export function splitLeadingName(pattern: string): { search: string; nameReach: number } {
  const leading = LEADING_NAME.exec(pattern);
  if (!leading) return { search: pattern, nameReach: 0 };
  const search = (leading[1] ?? '') + pattern.slice(leading[0].length);
  if (search === (leading[1] ?? '') || hasTopLevelAlternation(search)) return { search: pattern, nameReach: 0 };
  return { search, nameReach: Number(leading[2]) };
}

/** Whether a fragment-level allowlist check (paths, commits) can switch a rule off for a whole fragment. */
function decidesPerFragment(list: CompiledAllowlist): boolean {
  return (
    list.commits.size > 0 ||
    list.paths.length > 0 ||
    (list.and && list.regexes.length === 0 && list.stopwords.length === 0)
  );
}

export class CompiledRule {
  readonly index: number;
  readonly id: string;
  readonly description: string;
  readonly tags: string[];
  readonly keywords: string[];
  /** Whether the rule has a regex (a rule with only a path reports the file itself). */
  readonly hasRegex: boolean;
  readonly #pattern: string | undefined;
  /** For patterns that open with `[\w.-]{0,N}?`: N, the name characters a match start extends back over. */
  readonly nameReach: number;
  #regex: RE2 | undefined;
  readonly path: RE2 | undefined;
  readonly secretGroup: number;
  readonly entropy: number;
  readonly allowlists: CompiledAllowlist[];
  readonly validate: ((secret: string) => boolean) | undefined;
  /** How far from a keyword hit a match may reach: its longest possible match, else the declared span. */
  readonly reach: number;
  /** Whether the rule's path or allowlists can switch it off for a given file or commit. */
  readonly fragmentDependent: boolean;

  constructor(definition: RuleDefinition, index: number) {
    const where = `rule ${definition.id}`;
    this.index = index;
    this.id = definition.id;
    this.description = definition.description;
    this.tags = definition.tags;
    this.keywords = definition.keywords.map((keyword) => keyword.toLowerCase());
    this.hasRegex = definition.regex !== undefined;
    const split = definition.regex === undefined ? undefined : splitLeadingName(definition.regex);
    this.#pattern = split?.search;
    this.nameReach = split?.nameReach ?? 0;
    this.path = definition.path === undefined ? undefined : compileRe2(definition.path, `${where}.path`);
    this.secretGroup = definition.secretGroup ?? 0;
    this.entropy = definition.entropy ?? 0;
    this.allowlists = definition.allowlists.map((list, i) => new CompiledAllowlist(list, `${where}.allowlists[${i}]`));
    this.validate = definition.validate === undefined ? undefined : CHECKSUM_VALIDATORS[definition.validate];
    // A match holds its keyword, so it lies within its own length of the hit: a bounded pattern needs no more.
    const declared = Math.max(DEFAULT_SPAN_BEFORE, DEFAULT_SPAN_AFTER, definition.span ?? 0);
    this.reach =
      definition.regex === undefined
        ? declared
        : definition.keywordAnywhere
          ? Number.MAX_SAFE_INTEGER
          : Math.min(declared, maxMatchBytes(definition.regex));
    this.fragmentDependent = this.path !== undefined || this.allowlists.some(decidesPerFragment);
  }

  /**
   * The rule's regex, global with indices (`gd`) so one exec loop yields every match and its groups' byte
   * offsets. Compiled on first use: most rules' keywords never occur in a given tree, and compiling ~200 RE2
   * programs in every worker costs more than scanning a small repository. (Config files are checked up front
   * by the config loader, so a bad pattern still fails before any scan.)
   */
  get regex(): RE2 | undefined {
    if (this.#regex === undefined && this.#pattern !== undefined) {
      this.#regex = compileRe2(this.#pattern, `rule ${this.id}.regex`, 'gd');
    }
    return this.#regex;
  }
}
