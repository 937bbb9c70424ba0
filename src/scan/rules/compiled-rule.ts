// A rule compiled for the engine: its regex on RE2 with byte indices for capture groups, its allowlists, and
// its checksum validator looked up by name.
import type RE2 from 're2';
import { CHECKSUM_VALIDATORS } from '../checksums/base62-crc32.js';
import { CompiledAllowlist } from '../config/compiled-allowlist.js';
import { compileRe2 } from '../config/re2-compile.js';
import type { RuleDefinition } from './rule-definition.js';

/** How far before a keyword hit a match may start, and after it end, unless the rule says more. */
export const DEFAULT_SPAN_BEFORE = 512;
export const DEFAULT_SPAN_AFTER = 512;

export class CompiledRule {
  readonly index: number;
  readonly id: string;
  readonly description: string;
  readonly tags: string[];
  readonly keywords: string[];
  /** Global with indices (`gd`), so one exec loop yields every match and its groups' byte offsets. */
  readonly regex: RE2 | undefined;
  readonly path: RE2 | undefined;
  readonly secretGroup: number;
  readonly entropy: number;
  readonly allowlists: CompiledAllowlist[];
  readonly validate: ((secret: string) => boolean) | undefined;
  readonly spanBefore: number;
  readonly spanAfter: number;

  constructor(definition: RuleDefinition, index: number) {
    const where = `rule ${definition.id}`;
    this.index = index;
    this.id = definition.id;
    this.description = definition.description;
    this.tags = definition.tags;
    this.keywords = definition.keywords.map((keyword) => keyword.toLowerCase());
    this.regex = definition.regex === undefined ? undefined : compileRe2(definition.regex, `${where}.regex`, 'gd');
    this.path = definition.path === undefined ? undefined : compileRe2(definition.path, `${where}.path`);
    this.secretGroup = definition.secretGroup ?? 0;
    this.entropy = definition.entropy ?? 0;
    this.allowlists = definition.allowlists.map((list, i) => new CompiledAllowlist(list, `${where}.allowlists[${i}]`));
    this.validate = definition.validate === undefined ? undefined : CHECKSUM_VALIDATORS[definition.validate];
    this.spanBefore = Math.max(DEFAULT_SPAN_BEFORE, definition.span ?? 0);
    this.spanAfter = Math.max(DEFAULT_SPAN_AFTER, definition.span ?? 0);
  }
}
