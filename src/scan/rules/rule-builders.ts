// The shapes a built-in rule takes, written once: a token with its own prefix (found anywhere, as the prefix says
// whose it is), a secret without one (found only where it is assigned to a name that says whose it is), and a
// rule written out in full. Each builder returns the rule with its cases, so a rule and its cases sit side by side.
import type { RuleFixture } from './canary-secrets.js';
import {
  type AllowlistDefinition,
  allowlistDefinition,
  type RuleDefinition,
  type VerifyDefinition,
} from './rule-definition.js';

/** The end of a token: not followed by another token character (RE2 has no lookahead, so it is consumed). */
export const END = '(?:[^0-9A-Za-z_-]|$)';
/**
 * An assignment between a name and a value, with optional quotes and spaces: `=`, `:`, `:=`, `::=`, `=>`, `?=`,
 * `,` (a tuple or call), `>` (an XML element) and `||` (a JavaScript fallback), the operators gitleaks accepts.
 */
export const ASSIGN = String.raw`[\s'"\x60]{0,3}(?:[=:,>]|:{1,3}=|=>|\?=|\|\|)[\s'"\x60=]{0,5}`;
/** The end of an assigned value: a quote, space, separator, an escaped newline, or the end. */
export const VALUE_END = String.raw`(?:['"\x60\s;,)<]|\\[nr]|$)`;
/** A UUID, the key format of several providers. */
export const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
/** The characters of URL-safe random token bodies. */
export const URL_SAFE_BODY = '[0-9A-Za-z_-]';

/** A rule as data, with the cases it owns. */
export interface BuiltinRule {
  definition: RuleDefinition;
  fixture: RuleFixture;
}

interface CommonSpec {
  id: string;
  description: string;
  /** A canary in the rule's format, assembled at run time. */
  sample: string;
  /** Minimum Shannon entropy of the secret (default 3: rejects `xxxx` placeholders). */
  entropy?: number;
  provider?: string;
  /** Further look-alikes the rule must not report. */
  negatives?: string[];
  tags?: string[];
  /** How far a match may reach from its keyword, for unbounded values (rule-definition.ts `span`). */
  span?: number;
  /** Values the rule must not report (a provider's documented examples). */
  allowlists?: AllowlistDefinition[];
  /** How to ask the issuer whether the secret works (verify-requests.ts builds the usual shapes). */
  verify?: VerifyDefinition;
}

export interface TokenSpec extends CommonSpec {
  /** RE2 of the whole token, prefix included (no capture groups). */
  token: string;
  keywords: string[];
  /** Case-insensitive token (the keywords are always matched ignoring case). */
  ignoreCase?: boolean;
  /** The variable the fixture assigns the sample to. */
  variable?: string;
}

/** A rule written out in full (its own regex, allowlists, checksum...), with the cases it owns. */
export function customRule(
  spec: Omit<RuleDefinition, 'tags' | 'allowlists'> & Partial<RuleDefinition> & Omit<RuleFixture, 'ruleId'>,
): BuiltinRule {
  const { positives, negatives, ...definition } = spec;
  return {
    definition: { tags: [], allowlists: [], ...definition },
    fixture: { ruleId: spec.id, positives, negatives },
  };
}

/** An allowlist of a provider's documented example values (AWS's `...EXAMPLE` keys and the like). */
export function examplesAllowed(...regexes: string[]): AllowlistDefinition[] {
  return [allowlistDefinition({ description: 'documented example values', regexes })];
}

/** A token whose prefix names its provider: matched wherever it stands between non-token characters. */
export function tokenRule(spec: TokenSpec): BuiltinRule {
  const variable = spec.variable ?? 'TOKEN';
  const cut = spec.sample.slice(0, Math.max(4, Math.floor(spec.sample.length / 2)));
  return {
    definition: {
      id: spec.id,
      description: spec.description,
      regex: `${spec.ignoreCase ? '(?i)' : ''}\\b(${spec.token})${END}`,
      keywords: spec.keywords,
      entropy: spec.entropy ?? 3,
      tags: spec.tags ?? [],
      allowlists: spec.allowlists ?? [],
      ...(spec.provider ? { provider: spec.provider } : {}),
      ...(spec.span ? { span: spec.span } : {}),
      ...(spec.verify ? { verify: spec.verify } : {}),
    },
    fixture: {
      ruleId: spec.id,
      positives: [{ text: `${variable}=${spec.sample}\n`, secret: spec.sample }],
      negatives: [`${variable}=${cut}\n`, ...(spec.negatives ?? [])],
    },
  };
}

export interface NamedSecretSpec extends CommonSpec {
  /** RE2 alternatives for the names (matched ignoring case) that say whose secret it is. */
  names: string[];
  /** RE2 of the secret value (no capture groups). */
  value: string;
  /** Lowercased literal words, one of which occurs wherever a name does (default: the names). */
  keywords?: string[];
  /** The variable the fixture assigns the sample to. */
  variable: string;
  /**
   * The value's letters match in either case unless this is set (real keys of a lowercase-hex format do appear in
   * upper case, and gitleaks matches them so).
   */
  caseSensitive?: boolean;
  /** A prefixed form of the same secret (RE2, no groups), found wherever it stands, whatever name it has. */
  token?: string;
  /** Keywords of the prefixed form. */
  tokenKeywords?: string[];
}

/**
 * The pattern of a value assigned to one of these names: up to 40 name characters, a name, words up to the
 * operator, the operator with its quotes, the value (capture group 1) and its end.
 */
export function assignedTo(names: string[], value: string): string {
  // No \b before the name: a word boundary ahead of a counted repeat multiplies RE2's DFA states (8x slower).
  // Words may stand between the name and the operator (`twitter api key = ...`), as gitleaks allows.
  return `[\\w.-]{0,40}?(?i:${names.join('|')})[ \\t\\w.-]{0,24}${ASSIGN}(${value})${VALUE_END}`;
}

/** A secret without a telling prefix: found where it is assigned to a name of its provider. */
export function namedSecretRule(spec: NamedSecretSpec): BuiltinRule {
  const value = spec.caseSensitive ? spec.value : `(?i:${spec.value})`;
  const named = assignedTo(spec.names, value);
  const regex = spec.token ? `${named}|\\b(${spec.token})${END}` : named;
  const keywords = spec.keywords ?? spec.names.map((name) => name.toLowerCase());
  return {
    definition: {
      id: spec.id,
      description: spec.description,
      regex,
      keywords: [...keywords, ...(spec.tokenKeywords ?? [])],
      entropy: spec.entropy ?? 3,
      tags: spec.tags ?? [],
      allowlists: spec.allowlists ?? [],
      ...(spec.provider ? { provider: spec.provider } : {}),
      ...(spec.span ? { span: spec.span } : {}),
      ...(spec.verify ? { verify: spec.verify } : {}),
    },
    fixture: {
      ruleId: spec.id,
      positives: [{ text: `${spec.variable}="${spec.sample}"\n`, secret: spec.sample }],
      negatives: [
        `${spec.variable}="\${${spec.variable}}"\n`,
        // The value alone, under a name that is not the provider's (a prefixed sample is found anywhere).
        ...(spec.token ? [] : [`checksum = "${spec.sample}"\n`]),
        ...(spec.negatives ?? []),
      ],
    },
  };
}
