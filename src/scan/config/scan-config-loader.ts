// Loads a gitleaks-compatible TOML config into a rule set, with gitleaks' semantics: a config replaces the
// built-in rules unless `[extend] useDefault = true` (or `path = "other.toml"`) pulls them in; a rule of the same
// id merges into the extended one (regex, entropy, secretGroup, path, description override; tags, keywords and
// allowlists add); `disabledRules` drops rules; `[[allowlists]]` with `targetRules` attach to those rules.
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
} from '../rules/rule-definition.js';
import { compileRe2 } from './re2-compile.js';
import { type AllowlistToml, type ScanConfigToml, scanConfigTomlSchema } from './scan-config-schema.js';

/** File names looked up in the scanned directory, first found wins (ours before gitleaks'). */
export const CONFIG_FILE_NAMES = ['.keyledger.toml', '.gitleaks.toml'];

const MAX_EXTEND_DEPTH = 4;

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
    return { ruleSet: await loadScanConfigFile(path), path };
  }
  if (options.sourceDir) {
    for (const name of CONFIG_FILE_NAMES) {
      const path = join(resolve(cwd, options.sourceDir), name);
      if (existsSync(path)) return { ruleSet: await loadScanConfigFile(path), path };
    }
  }
  return { ruleSet: builtinRuleSet() };
}

export async function loadScanConfigFile(path: string, depth = 0): Promise<ScanRuleSet> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the scanner config ${path}`, { cause: error, code: 'E_SCAN_CONFIG' });
  }
  return parseScanConfig(text, path, depth);
}

/** Parses and translates one config file's text; `path` names it in errors and anchors `extend.path`. */
export async function parseScanConfig(text: string, path: string, depth = 0): Promise<ScanRuleSet> {
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
  return translate(parsed.data, path, depth);
}

async function translate(config: ScanConfigToml, path: string, depth: number): Promise<ScanRuleSet> {
  const rules = new Map<string, RuleDefinition>();
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

  const extend = config.extend;
  if (extend?.useDefault && extend.path) {
    throw new ConfigError(`${path}: [extend] cannot set both useDefault and path`, { code: 'E_SCAN_CONFIG' });
  }
  if (extend && (extend.useDefault || extend.path)) {
    if (depth >= MAX_EXTEND_DEPTH) {
      throw new ConfigError(`${path}: [extend] nests deeper than ${MAX_EXTEND_DEPTH} configs (a cycle?)`, {
        code: 'E_SCAN_CONFIG',
      });
    }
    const base = extend.useDefault
      ? builtinRuleSet()
      : await loadScanConfigFile(
          isAbsolute(extend.path as string) ? (extend.path as string) : join(dirname(path), extend.path as string),
          depth + 1,
        );
    mergeExtended(rules, base, new Set(extend.disabledRules ?? []));
    globalAllowlists.push(...base.allowlists);
  }

  for (const [id, lists] of targeted) {
    const rule = rules.get(id);
    if (!rule) {
      throw new ConfigError(`${path}: [[allowlists]] targets rule '${id}', which does not exist`, {
        code: 'E_SCAN_CONFIG',
      });
    }
    rule.allowlists.push(...lists);
  }
  for (const rule of rules.values()) {
    if (rule.regex === undefined && rule.path === undefined) {
      throw new ConfigError(`${path}: rule ${rule.id} needs a regex or a path`, { code: 'E_SCAN_CONFIG' });
    }
  }
  return { rules: [...rules.values()], allowlists: globalAllowlists };
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
    rules.set(baseRule.id, merged);
  }
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
