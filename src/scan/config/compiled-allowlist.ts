// An allowlist compiled for matching, with gitleaks' semantics: commits and paths are checked once per fragment
// (before any rule runs), regexes and stopwords per finding; under condition AND every check that is set must
// pass, and an AND list with regexes or stopwords can only decide per finding.
import type RE2 from 're2';
import type { AllowlistDefinition, RegexTarget } from '../rules/rule-definition.js';
import { compileRe2 } from './re2-compile.js';

export interface FindingFacts {
  secret: string;
  match: string;
  line: string;
  path: string;
  commit: string;
}

export class CompiledAllowlist {
  readonly and: boolean;
  readonly commits: Set<string>;
  readonly paths: RE2[];
  readonly regexes: RE2[];
  readonly regexTarget: RegexTarget;
  readonly stopwords: string[];

  constructor(definition: AllowlistDefinition, where: string) {
    this.and = definition.condition === 'AND';
    this.commits = new Set(definition.commits.map((commit) => commit.toLowerCase()));
    this.paths = definition.paths.map((path, i) => compileRe2(path, `${where}.paths[${i}]`));
    this.regexes = definition.regexes.map((regex, i) => compileRe2(regex, `${where}.regexes[${i}]`));
    this.regexTarget = definition.regexTarget;
    this.stopwords = definition.stopwords.map((word) => word.toLowerCase());
  }

  commitAllowed(commit: string): boolean {
    return commit !== '' && this.commits.has(commit.toLowerCase());
  }

  pathAllowed(path: string): boolean {
    return path !== '' && this.paths.some((regex) => regex.test(path));
  }

  /** Whether the whole fragment (one file, one commit) is allowed, before any rule runs. */
  allowsFragment(path: string, commit: string): boolean {
    if (path === '' && commit === '') return false;
    if (!this.and) return this.commitAllowed(commit) || this.pathAllowed(path);
    if (this.regexes.length > 0 || this.stopwords.length > 0) return false;
    const checks: boolean[] = [];
    if (this.commits.size > 0) checks.push(this.commitAllowed(commit));
    if (this.paths.length > 0) checks.push(this.pathAllowed(path));
    return checks.every(Boolean);
  }

  /** Whether one finding is allowed (OR: by regex or stopword; AND: by every check that is set). */
  allowsFinding(facts: FindingFacts): boolean {
    const target = this.regexTarget === 'match' ? facts.match : this.regexTarget === 'line' ? facts.line : facts.secret;
    const regexAllowed = target !== '' && this.regexes.some((regex) => regex.test(target));
    const lowerSecret = facts.secret.toLowerCase();
    const stopword = facts.secret !== '' && this.stopwords.some((word) => lowerSecret.includes(word));
    if (!this.and) return regexAllowed || stopword;
    const checks: boolean[] = [];
    if (this.commits.size > 0) checks.push(this.commitAllowed(facts.commit));
    if (this.paths.length > 0) checks.push(this.pathAllowed(facts.path));
    if (this.regexes.length > 0) checks.push(regexAllowed);
    if (this.stopwords.length > 0) checks.push(stopword);
    return checks.every(Boolean);
  }
}
