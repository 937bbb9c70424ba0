// Loads a gitleaks-compatible TOML config into a rule set, with gitleaks' semantics: a config replaces the
// built-in rules unless `[extend] useDefault = true` (or `path = "other.toml"`) pulls them in; a rule of the same
// id merges into the extended one (regex, entropy, secretGroup, path, description override; tags, keywords and
// allowlists add); `disabledRules` drops rules; `[[allowlists]]` with `targetRules` attach to those rules.
// Load-time checks are gitleaks 8.28's (config/config.go, rule.go, allowlist.go), at the same depth of the
// extend chain, so that a config loads or is refused exactly as gitleaks loads or refuses it
// (gitleaks-config-corpus.test.ts runs both on the same configs).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { ConfigError } from '../../errors/keyledger-error.js';
import { builtinRuleSet } from '../rules/builtin-rules.js';
import {
  type AllowlistDefinition,
  allowlistDefinition,
  type RuleDefinition,
  type ScanRuleSet,
  type VerifyDefinition,
} from '../rules/rule-definition.js';
import { verifyDefinitionProblem } from '../verify/verify-request.js';
import { compileRe2 } from './re2-compile.js';
import {
  type AllowlistToml,
  type ScanConfigToml,
  scanConfigTomlSchema,
  type VerifyToml,
} from './scan-config-schema.js';

/** File names looked up in the scanned directory, first found wins (ours before gitleaks'). */
export const CONFIG_FILE_NAMES = ['.keyledger.toml', '.gitleaks.toml'];

/** gitleaks reads `[extend]` in the first two configs of a chain and ignores it in the third (so cycles end). */
const MAX_EXTEND_DEPTH = 2;

export interface LoadedScanConfig {
  ruleSet: ScanRuleSet;
  /** The file the rules came from, or undefined for the built-in rules. */
  path?: string;
}

/**
 * Finds the config as gitleaks does: an explicit path, then the KEYLEDGER_SCAN_CONFIG / GITLEAKS_CONFIG
 * environment variables, then `.keyledger.toml` / `.gitleaks.toml` at the root of the scanned tree, then the
 * built-in rules.
 */
export async function loadScanConfig(options: {
  configPath?: string;
  sourceDir?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}): Promise<LoadedScanConfig> {
  const cwd = options.cwd ?? process.cwd();
  const explicit = options.configPath ?? options.env?.KEYLEDGER_SCAN_CONFIG ?? options.env?.GITLEAKS_CONFIG;
  if (explicit) {
    const path = resolve(cwd, explicit);
    return { ruleSet: await loadScanConfigFile(path, 0, cwd), path };
  }
  if (options.sourceDir) {
    for (const name of CONFIG_FILE_NAMES) {
      const path = join(resolve(cwd, options.sourceDir), name);
      if (existsSync(path)) return { ruleSet: await loadScanConfigFile(path, 0, cwd), path };
    }
  }
  return { ruleSet: builtinRuleSet() };
}

/**
 * Loads one config file. `cwd` anchors a relative `[extend] path` (gitleaks resolves it against the working
 * directory; the config file's own folder is the fallback).
 */
export async function loadScanConfigFile(path: string, depth = 0, cwd = process.cwd()): Promise<ScanRuleSet> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the scanner config ${path}`, { cause: error, code: 'E_SCAN_CONFIG' });
  }
  return parseScanConfig(text, path, depth, cwd);
}

/** Parses and translates one config file's text; `path` names it in errors (see loadScanConfigFile for `cwd`). */
export async function parseScanConfig(
  text: string,
  path: string,
  depth = 0,
  cwd = process.cwd(),
): Promise<ScanRuleSet> {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (error) {
    const position =
      error instanceof TomlError ? { file: path, line: error.line, column: error.column } : { file: path };
    throw new ConfigError(`${path}: not valid TOML (${(error as Error).message.split('\n')[0]})`, {
      position,
      cause: error,
      code: 'E_SCAN_CONFIG',
    });
  }
  const parsed = scanConfigTomlSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') ?? '';
    throw new ConfigError(`${path}: ${field ? `${field}: ` : ''}${issue?.message ?? 'invalid config'}`, {
      position: { file: path, field },
      code: 'E_SCAN_CONFIG',
    });
  }
  return translate(parsed.data, path, depth, cwd);
}

async function translate(config: ScanConfigToml, path: string, depth: number, cwd: string): Promise<ScanRuleSet> {
  const rules = new Map<string, RuleDefinition>();
  // Composite rules' `[[rules.required]]` entries must name a rule of the same file (checked per file, as gitleaks).
  const ids = new Set((config.rules ?? []).map((rule) => rule.id));
  for (const rule of config.rules ?? []) {
    for (const required of rule.required ?? []) {
      if (required.id.trim() === '') {
        throw new ConfigError(`${path}: rule ${rule.id}: [[rules.required]] rule ID is empty`, {
          code: 'E_SCAN_CONFIG',
        });
      }
      if (!ids.has(required.id)) {
        throw new ConfigError(`${path}: rule ${rule.id}: [[rules.required]] rule ID '${required.id}' does not exist`, {
          code: 'E_SCAN_CONFIG',
        });
      }
    }
  }
  for (const [i, rule] of (config.rules ?? []).entries()) {
    if (rule.allowlist && rule.allowlists?.length) {
      throw new ConfigError(
        `${path}: rules[${i}] (${rule.id}): [rules.allowlist] cannot be used with [[rules.allowlists]]`,
        {
          code: 'E_SCAN_CONFIG',
        },
      );
    }
    const allowlists = [...(rule.allowlist ? [rule.allowlist] : []), ...(rule.allowlists ?? [])].map((list, j) =>
      toAllowlist(list, `${path}: rule ${rule.id} allowlists[${j}]`),
    );
    const definition: RuleDefinition = {
      id: rule.id,
      description: rule.description ?? '',
      keywords: (rule.keywords ?? []).map((keyword) => keyword.toLowerCase()),
      tags: rule.tags ?? [],
      allowlists,
      ...(rule.regex !== undefined && rule.regex !== '' ? { regex: rule.regex } : {}),
      ...(rule.path !== undefined && rule.path !== '' ? { path: rule.path } : {}),
      ...(rule.secretGroup ? { secretGroup: rule.secretGroup } : {}),
      ...(rule.entropy ? { entropy: rule.entropy } : {}),
      ...(rule.validate ? { validate: rule.validate } : {}),
      ...(rule.provider ? { provider: rule.provider } : {}),
      ...(rule.span ? { span: rule.span } : {}),
      ...(rule.verify ? { verify: toVerifyDefinition(rule.verify, `${path}: rule ${rule.id}.verify`) } : {}),
    };
    // Compile now so a bad pattern is reported with its file and rule, not later inside a worker.
    if (definition.regex !== undefined) compileRe2(definition.regex, `${path}: rule ${rule.id}.regex`);
    if (definition.path !== undefined) compileRe2(definition.path, `${path}: rule ${rule.id}.path`);
    rules.set(rule.id, definition);
  }

  if (config.allowlist && config.allowlists?.length) {
    throw new ConfigError(`${path}: [allowlist] cannot be used with [[allowlists]]`, { code: 'E_SCAN_CONFIG' });
  }
  const globalAllowlists: AllowlistDefinition[] = [];
  const targeted = new Map<string, AllowlistDefinition[]>();
  const globals = [...(config.allowlist ? [config.allowlist] : []), ...(config.allowlists ?? [])];
  for (const [i, list] of globals.entries()) {
    const definition = toAllowlist(list, `${path}: allowlists[${i}]`);
    if (list.targetRules?.length) {
      for (const id of list.targetRules) targeted.set(id, [...(targeted.get(id) ?? []), definition]);
    } else {
      globalAllowlists.push(definition);
    }
  }

  // The third config of a chain has its [extend] ignored, as gitleaks does (a cycle ends there, unreported).
  const extend = depth < MAX_EXTEND_DEPTH ? config.extend : undefined;
  if (extend?.useDefault && extend.path) {
    throw new ConfigError(`${path}: [extend] cannot set both useDefault and path`, { code: 'E_SCAN_CONFIG' });
  }
  if (extend && (extend.useDefault || extend.path)) {
    const base = extend.useDefault
      ? builtinRuleSet()
      : await loadScanConfigFile(extendedConfigPath(extend.path as string, path, cwd), depth + 1, cwd);
    mergeExtended(rules, base, new Set(extend.disabledRules ?? []));
    globalAllowlists.push(...base.allowlists);
  }

  // gitleaks attaches targeted allowlists once, on the whole chain merged into the first config (an extended
  // config's targeted allowlists are dropped, as gitleaks drops them).
  if (depth > 0) return { rules: [...rules.values()], allowlists: globalAllowlists };
  // gitleaks 8.28 checks the rules only of a config that extends nothing (config.go: its extend depth counter
  // is never reset), so a config that extends loads whatever its rules say, and so it loads here.
  const checked = !(extend && (extend.useDefault || extend.path));
  for (const [id, lists] of targeted) {
    const rule = rules.get(id);
    if (!rule) {
      if (!checked) continue;
      throw new ConfigError(`${path}: [[allowlists]] targets rule '${id}', which does not exist`, {
        code: 'E_SCAN_CONFIG',
      });
    }
    rule.allowlists.push(...lists);
  }
  if (!checked) return { rules: [...rules.values()], allowlists: globalAllowlists };
  for (const rule of rules.values()) {
    if (rule.id.trim() === '') {
      throw new ConfigError(`${path}: a rule's id is missing or empty`, {
        code: 'E_SCAN_CONFIG',
        position: { file: path, field: 'rules.id' },
      });
    }
    if (rule.regex === undefined && rule.path === undefined) {
      throw new ConfigError(`${path}: rule ${rule.id} needs a regex or a path`, { code: 'E_SCAN_CONFIG' });
    }
    if (rule.regex !== undefined && rule.secretGroup) {
      const groups = captureGroupCount(rule.regex, `${path}: rule ${rule.id}.regex`);
      if (rule.secretGroup > groups) {
        throw new ConfigError(
          `${path}: rule ${rule.id}: secretGroup ${rule.secretGroup} exceeds the regex's ${groups} capture group(s)`,
          { code: 'E_SCAN_CONFIG', position: { file: path, field: `rules.${rule.id}.secretGroup` } },
        );
      }
    }
  }
  return { rules: [...rules.values()], allowlists: globalAllowlists };
}

/**
 * Where `[extend] path` points: resolved against the working directory, as gitleaks resolves it; when nothing is
 * there, against the folder of the config that names it (what a config kept beside its base means).
 */
function extendedConfigPath(extendPath: string, configPath: string, cwd: string): string {
  if (isAbsolute(extendPath)) return extendPath;
  const fromCwd = resolve(cwd, extendPath);
  if (existsSync(fromCwd)) return fromCwd;
  const besideConfig = join(dirname(configPath), extendPath);
  if (existsSync(besideConfig)) return besideConfig;
  throw new ConfigError(
    `${configPath}: [extend] path ${extendPath} not found (looked in ${cwd} and beside the config)`,
    { code: 'E_SCAN_CONFIG', position: { file: configPath, field: 'extend.path' } },
  );
}

/** The number of capture groups of an RE2 pattern (what gitleaks' NumSubexp counts). */
function captureGroupCount(pattern: string, where: string): number {
  // An alternative that matches the empty string makes exec yield the group array whatever the pattern.
  const match = compileRe2(`(?:${pattern})|`, where).exec('');
  return match ? match.length - 1 : 0;
}

/** Merges an extended (base) rule set under the current rules, as gitleaks' extend does. */
function mergeExtended(rules: Map<string, RuleDefinition>, base: ScanRuleSet, disabled: Set<string>): void {
  for (const baseRule of base.rules) {
    if (disabled.has(baseRule.id)) continue;
    const current = rules.get(baseRule.id);
    if (!current) {
      rules.set(baseRule.id, baseRule);
      continue;
    }
    const merged: RuleDefinition = {
      ...baseRule,
      description: current.description || baseRule.description,
      tags: [...baseRule.tags, ...current.tags],
      keywords: [...baseRule.keywords, ...current.keywords],
      allowlists: [...baseRule.allowlists, ...current.allowlists],
    };
    if (current.entropy) merged.entropy = current.entropy;
    if (current.secretGroup) merged.secretGroup = current.secretGroup;
    if (current.regex !== undefined) merged.regex = current.regex;
    if (current.path !== undefined) merged.path = current.path;
    if (current.validate !== undefined) merged.validate = current.validate;
    if (current.provider !== undefined) merged.provider = current.provider;
    if (current.verify !== undefined) merged.verify = current.verify;
    rules.set(baseRule.id, merged);
  }
}

/** A `[rules.verify]` table as a definition, refused (exit 2, rule named) when it could not run safely. */
function toVerifyDefinition(verify: VerifyToml, where: string): VerifyDefinition {
  const definition: VerifyDefinition = {
    method: verify.method,
    url: verify.url,
    headers: verify.headers,
    verified: verify.verified,
    invalid: verify.invalid,
    ...(verify.body !== undefined ? { body: verify.body } : {}),
    ...(verify.basicUser !== undefined ? { basicUser: verify.basicUser } : {}),
  };
  const problem = verifyDefinitionProblem(definition);
  if (problem) throw new ConfigError(`${where}: ${problem}`, { code: 'E_SCAN_CONFIG' });
  return definition;
}

function toAllowlist(list: AllowlistToml, where: string): AllowlistDefinition {
  const condition = ['AND', '&&'].includes((list.condition ?? '').toUpperCase()) ? 'AND' : 'OR';
  const definition = allowlistDefinition({
    condition,
    commits: list.commits ?? [],
    paths: list.paths ?? [],
    regexes: list.regexes ?? [],
    regexTarget: list.regexTarget ?? 'secret',
    stopwords: list.stopwords ?? [],
    ...(list.description ? { description: list.description } : {}),
  });
  if (
    definition.commits.length === 0 &&
    definition.paths.length === 0 &&
    definition.regexes.length === 0 &&
    definition.stopwords.length === 0
  ) {
    throw new ConfigError(`${where}: an allowlist needs at least one of commits, paths, regexes or stopwords`, {
      code: 'E_SCAN_CONFIG',
    });
  }
  for (const [i, pattern] of definition.paths.entries()) compileRe2(pattern, `${where}.paths[${i}]`);
  for (const [i, pattern] of definition.regexes.entries()) compileRe2(pattern, `${where}.regexes[${i}]`);
  return definition;
}
