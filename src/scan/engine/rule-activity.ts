// Which rules run on one fragment. Most rules run everywhere; a rule with a `path`, or with an allowlist that
// decides per file or commit, is decided on its first keyword hit in the fragment rather than up front, and in a
// history the decisions are kept per path (no allowlist naming commits: then the path alone decides): eslint's
// history is ~130,000 fragments of ~14,000 paths, and deciding every such rule for each fragment cost more
// than the keyword pass over them.
import type { CompiledRule } from '../rules/compiled-rule.js';

const UNDECIDED = 0;
const ON = 1;
const OFF = 2;
/** Paths whose decisions are kept; past this the memory is dropped and refilled (524 bytes a path). */
const REMEMBERED_PATHS = 8192;

/** The rules and, per rule, whether it is on everywhere (ON) or depends on the fragment (UNDECIDED). */
export class RuleActivityPlan {
  readonly rules: readonly CompiledRule[];
  readonly initial: Uint8Array;
  readonly dependsOnFragment: boolean;
  /** Whether an allowlist names commits, so that a path's decisions cannot be reused in another commit. */
  readonly #dependsOnCommit: boolean;
  readonly #byPath = new Map<string, Uint8Array>();

  constructor(rules: readonly CompiledRule[]) {
    this.rules = rules;
    this.initial = Uint8Array.from(rules, (rule) => (rule.fragmentDependent ? UNDECIDED : ON));
    this.dependsOnFragment = rules.some((rule) => rule.fragmentDependent);
    this.#dependsOnCommit = rules.some((rule) => rule.allowlists.some((list) => list.commits.size > 0));
  }

  /** The activity of the rules on one fragment (a file's path, the commit's sha or ''). */
  forFragment(path: string, commit: string): RuleActivity {
    if (!this.dependsOnFragment) return new RuleActivity(this, this.initial, path, commit);
    // A directory scan sees each path once: only a history's fragments share their path's decisions.
    if (commit === '' || this.#dependsOnCommit) return new RuleActivity(this, this.initial.slice(), path, commit);
    let state = this.#byPath.get(path);
    if (state === undefined) {
      if (this.#byPath.size >= REMEMBERED_PATHS) this.#byPath.clear();
      state = this.initial.slice();
      this.#byPath.set(path, state);
    }
    return new RuleActivity(this, state, path, commit);
  }
}

export class RuleActivity {
  readonly #rules: readonly CompiledRule[];
  readonly #state: Uint8Array;
  readonly #path: string;
  readonly #commit: string;

  /** `state` is written as rules are decided: the plan's initial array only when no rule needs deciding. */
  constructor(plan: RuleActivityPlan, state: Uint8Array, path: string, commit: string) {
    this.#rules = plan.rules;
    this.#state = state;
    this.#path = path;
    this.#commit = commit;
  }

  isActive(ruleIndex: number): boolean {
    const state = this.#state[ruleIndex];
    if (state !== UNDECIDED) return state === ON;
    const rule = this.#rules[ruleIndex] as CompiledRule;
    const on =
      !rule.allowlists.some((list) => list.allowsFragment(this.#path, this.#commit)) &&
      (rule.path === undefined || rule.path.test(this.#path));
    this.#state[ruleIndex] = on ? ON : OFF;
    return on;
  }
}
