// A scanning rule and an allowlist as plain data: what a gitleaks-style TOML file declares, plus a few keyledger
// extensions. Plain data crosses into worker threads, where it is compiled (rules/compiled-rule.ts).
import type { ChecksumValidatorName } from '../../runtime/base62-crc32.js';

export type AllowlistCondition = 'OR' | 'AND';
export type RegexTarget = 'secret' | 'match' | 'line';

export interface AllowlistDefinition {
  description?: string;
  /** OR (default): any check allows. AND: every check that is set must allow. */
  condition: AllowlistCondition;
  commits: string[];
  /** Regexes (RE2) over the file path. */
  paths: string[];
  /** Regexes (RE2) over `regexTarget`. */
  regexes: string[];
  regexTarget: RegexTarget;
  /** Case-insensitive substrings of the secret. */
  stopwords: string[];
}

export interface RuleDefinition {
  id: string;
  description: string;
  /** RE2 syntax (Go's): `(?i)`, `\z`, named groups `(?P<name>...)`; no lookaround, no backreferences. */
  regex?: string;
  /** Capture group holding the secret; 0 means the first non-empty group, or the whole match without groups. */
  secretGroup?: number;
  /** Minimum Shannon entropy of the secret: findings at or below it are dropped. */
  entropy?: number;
  /** Lowercased; the rule runs only where one of them occurs. Empty: the rule runs on every fragment. */
  keywords: string[];
  /** Regex over the file path: with a regex, both must match; alone, the file itself is the finding. */
  path?: string;
  tags: string[];
  allowlists: AllowlistDefinition[];
  /** keyledger: a checksum the secret must satisfy (findings failing it are look-alikes, not secrets). */
  validate?: ChecksumValidatorName;
  /**
   * keyledger: how far from a keyword hit a match may reach when the pattern is unbounded (default 512; multi-line
   * formats such as PEM keys need more). A bounded pattern needs no more than its longest match, which the engine
   * reads off the pattern itself (engine/regex-match-length.ts).
   */
  span?: number;
  /**
   * keyledger: the rule's keywords may stand anywhere in the fragment, outside its match (gitleaks reads keywords
   * so: a fragment qualifies when it holds one). The rule then searches the whole fragment once a keyword occurs,
   * instead of the regions around each keyword hit.
   */
  keywordAnywhere?: boolean;
  /** keyledger: the provider (provider table name) whose identify-self call proves the secret live. */
  provider?: string;
  /**
   * keyledger: how to ask the issuer whether the secret works, declared as data (verify/declarative-verifier.ts
   * runs it). A rule with a `provider` verifies through that provider's adapter instead.
   */
  verify?: VerifyDefinition;
}

/** An outcome condition of a verify request: one of the statuses and, when given, a JSON field's value. */
export interface VerifyCondition {
  status: number[];
  /** A dotted path into the JSON body (`ok`, `data.active`) and the value it must hold. */
  json?: { field: string; equals: string | number | boolean };
}

/**
 * A live check as data. Templates substitute `{{secret}}` (percent-encoded in the URL), `{{basic_user}}` (HTTP
 * Basic credentials with the secret as user name and no password) and `{{basic_password}}` (the secret as password
 * of `basicUser`) and `{{secret_base64}}` (the secret in base64, for keys that are `user:password` already). The host is fixed by the URL template: the secret never chooses where it is sent.
 */
export interface VerifyDefinition {
  method: 'GET' | 'POST';
  /** An https URL; `{{secret}}` may appear only in its path or query. */
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** The user name of `{{basic_password}}`. */
  basicUser?: string;
  verified: VerifyCondition;
  invalid: VerifyCondition;
}

/** Everything the engine needs: the rules and the global allowlists. Plain data. */
export interface ScanRuleSet {
  rules: RuleDefinition[];
  allowlists: AllowlistDefinition[];
}

/** Builds an allowlist definition with gitleaks' defaults for anything not given. */
export function allowlistDefinition(partial: Partial<AllowlistDefinition>): AllowlistDefinition {
  return {
    condition: 'OR',
    commits: [],
    paths: [],
    regexes: [],
    regexTarget: 'secret',
    stopwords: [],
    ...partial,
  };
}
