// The detection engine: one keyword pass over a fragment's bytes selects, per keyword hit, the rules to run and
// the region around the hit to run them on; each rule's RE2 regex then runs on its merged regions only. Matches
// pass through secret-group selection, entropy, checksum validation, inline `gitleaks:allow` comments and the
// allowlists, then encoded runs are decoded and scanned again, to a configurable depth.
import type RE2 from 're2';
import { CompiledAllowlist, type FindingFacts } from '../config/compiled-allowlist.js';
import { execBuffer, type Re2BufferMatch } from '../config/re2-compile.js';
import type { CommitInfo, RawFinding } from '../findings/raw-finding.js';
import { CompiledRule } from '../rules/compiled-rule.js';
import type { ScanRuleSet } from '../rules/rule-definition.js';
import { findEncodedSegments } from './encoded-segments.js';
import { KeywordAutomaton } from './keyword-automaton.js';
import { LineIndex } from './line-index.js';
import { type RuleActivity, RuleActivityPlan } from './rule-activity.js';
import { shannonEntropy } from './shannon-entropy.js';

export interface ScanFragment {
  data: Buffer;
  /** The file path as reported ('' for stdin). */
  path: string;
  commit?: CommitInfo;
  /** The file's line number of each line of `data`, for patch fragments; absent means line i is i + 1. */
  lineNumbers?: number[];
}

export interface ScanEngineOptions {
  /** How many times encoded runs are decoded and scanned again (gitleaks' --max-decode-depth, default 5). */
  maxDecodeDepth: number;
  /** Honour `gitleaks:allow` / `keyledger:allow` comments on a finding's line (default true). */
  inlineAllow: boolean;
}

export const INLINE_ALLOW_MARKERS = ['gitleaks:allow', 'keyledger:allow'];

/** Bytes of `[\w.-]`: the characters a variable name is made of. */
const NAME_BYTE = new Uint8Array(256);
for (let byte = 0; byte < 256; byte++) {
  const char = String.fromCharCode(byte);
  if (/^[\w.-]$/.test(char)) NAME_BYTE[byte] = 1;
}

/** The least a region is widened by when a match touches one of its cut edges. */
const MIN_WINDOW_GROWTH = 256;

/** Where a match in the current text sits in the fragment the user sees. */
interface Placement {
  startLine: number;
  endLine: number;
  startColumn: number;
  endColumn: number;
  /** The full original lines the match spans: the target of inline allows and `regexTarget = "line"`. */
  line: string;
}

interface Pass {
  fragment: ScanFragment;
  text: Buffer;
  depth: number;
  tags: string[];
  /** For decoded text: only matches overlapping [from, to) are new; everything maps to one original place. */
  decodedRange?: { from: number; to: number; placement: Placement };
  /** Secrets a checksum rule rejected as look-alikes: a generic rule must not report them either. */
  rejected: string[];
}

export class ScanEngine {
  readonly rules: CompiledRule[];
  readonly allowlists: CompiledAllowlist[];
  readonly #options: ScanEngineOptions;
  readonly #automaton: KeywordAutomaton;
  /** For each automaton keyword, the rules that carry it. */
  readonly #keywordRules: number[][];
  readonly #rulesWithoutKeywords: number[];
  readonly #activity: RuleActivityPlan;
  readonly #pathOnlyRules: CompiledRule[];

  constructor(ruleSet: ScanRuleSet, options: Partial<ScanEngineOptions> = {}) {
    this.#options = { maxDecodeDepth: options.maxDecodeDepth ?? 5, inlineAllow: options.inlineAllow ?? true };
    this.rules = ruleSet.rules.map((definition, index) => new CompiledRule(definition, index));
    this.allowlists = ruleSet.allowlists.map((list, i) => new CompiledAllowlist(list, `allowlists[${i}]`));
    const keywordIndex = new Map<string, number>();
    this.#keywordRules = [];
    this.#rulesWithoutKeywords = [];
    for (const rule of this.rules) {
      if (rule.keywords.length === 0) {
        this.#rulesWithoutKeywords.push(rule.index);
        continue;
      }
      for (const keyword of new Set(rule.keywords)) {
        let index = keywordIndex.get(keyword);
        if (index === undefined) {
          index = keywordIndex.size;
          keywordIndex.set(keyword, index);
          this.#keywordRules.push([]);
        }
        this.#keywordRules[index]?.push(rule.index);
      }
    }
    this.#automaton = new KeywordAutomaton([...keywordIndex.keys()]);
    this.#activity = new RuleActivityPlan(this.rules);
    this.#pathOnlyRules = this.rules.filter((rule) => !rule.hasRegex && rule.path !== undefined);
  }

  /** Every finding in one fragment (a file, a file's added lines in one commit, stdin). */
  scan(fragment: ScanFragment): RawFinding[] {
    const commit = fragment.commit?.sha ?? '';
    for (const list of this.allowlists) if (list.allowsFragment(fragment.path, commit)) return [];
    const active = this.#activity.forFragment(fragment.path, commit);
    const findings: RawFinding[] = [];
    // Path-only rules: the file itself is the finding.
    for (const rule of this.#pathOnlyRules) {
      if (fragment.path !== '' && active.isActive(rule.index)) {
        findings.push({
          ruleId: rule.id,
          description: rule.description,
          startLine: 0,
          endLine: 0,
          startColumn: 0,
          endColumn: 0,
          match: `file detected: ${fragment.path}`,
          secret: '',
          file: fragment.path,
          entropy: 0,
          tags: [...rule.tags],
          ...(fragment.commit ? { commit: fragment.commit } : {}),
        });
      }
    }
    const rejected: string[] = [];
    this.#scanPass(
      { fragment, text: fragment.data, depth: 0, tags: [], rejected },
      active,
      findings,
      new LazyLines(fragment),
    );
    return findings.length === 0 ? findings : preferSpecificRules(findings, rejected);
  }

  #scanPass(pass: Pass, active: RuleActivity, findings: RawFinding[], lines: LazyLines): void {
    const { text } = pass;
    const windows = this.#selectWindows(text, active);
    let seen: Set<string> | undefined;
    for (let ruleIndex = 0; ruleIndex < windows.length; ruleIndex++) {
      const ruleWindows = windows[ruleIndex];
      if (ruleWindows === undefined) continue;
      const rule = this.rules[ruleIndex] as CompiledRule;
      for (let w = 0; w < ruleWindows.length; w += 2) {
        const matches = matchesInWindow(rule, text, ruleWindows[w] as number, ruleWindows[w + 1] as number);
        if (matches.length === 0) continue;
        seen ??= new Set<string>();
        for (const [offset, m] of matches) this.#accept(pass, rule, offset, m, seen, findings, lines);
      }
    }
    if (pass.depth < this.#options.maxDecodeDepth) this.#scanDecoded(pass, active, findings, lines);
  }

  /**
   * Per rule (by index), its merged regions around its keyword hits as flat [start, end, start, end...] lists,
   * or the whole text for rules without keywords. A match holds its keyword, so it lies within the rule's reach
   * of the hit.
   */
  #selectWindows(text: Buffer, active: RuleActivity): Array<number[] | undefined> {
    const windows: Array<number[] | undefined> = [];
    const lengths = this.#automaton.lengths;
    const keywordRules = this.#keywordRules;
    const rules = this.rules;
    const textLength = text.length;
    this.#automaton.scan(text, (keyword, end) => {
      const start = end - (lengths[keyword] as number);
      for (const ruleIndex of keywordRules[keyword] as number[]) {
        const rule = rules[ruleIndex] as CompiledRule;
        if (!rule.hasRegex || !active.isActive(ruleIndex)) continue;
        const from = Math.max(0, Math.min(start, end - rule.reach));
        const to = Math.min(textLength, Math.max(end, start + rule.reach));
        const list = windows[ruleIndex];
        if (list === undefined) {
          windows[ruleIndex] = [from, to];
          continue;
        }
        const last = list.length - 1;
        if (from <= (list[last] as number)) {
          if (to > (list[last] as number)) list[last] = to;
        } else {
          list.push(from, to);
        }
      }
    });
    for (const ruleIndex of this.#rulesWithoutKeywords) {
      if (rules[ruleIndex]?.hasRegex && active.isActive(ruleIndex)) windows[ruleIndex] = [0, textLength];
    }
    return windows;
  }

  #accept(
    pass: Pass,
    rule: CompiledRule,
    offset: number,
    m: Re2BufferMatch,
    seen: Set<string>,
    findings: RawFinding[],
    lines: LazyLines,
  ): void {
    const { text } = pass;
    let start = offset + m.index;
    let end = start + m[0].length;
    // Like gitleaks, a match does not start or end with newlines (patterns ending in `\n` or `$` alternations).
    while (end > start && text[end - 1] === 10) end--;
    while (start < end && text[start] === 10) start++;
    if (end <= start) return;
    // The rule's leading `[\w.-]{0,N}?` was left out of the search (compiled-rule.ts): put the name back.
    if (rule.nameReach > 0) {
      const limit = Math.max(0, start - rule.nameReach);
      while (start > limit && NAME_BYTE[text[start - 1] as number] === 1) start--;
    }
    const key = `${rule.index}:${start}:${end}`;
    if (seen.has(key)) return;
    seen.add(key);
    if (pass.decodedRange && (end <= pass.decodedRange.from || start >= pass.decodedRange.to)) return;

    const match = text.toString('utf8', start, end);
    let secret = match;
    if (m.length > 1 && m.indices) {
      if (rule.secretGroup > 0) {
        const group = m.indices[rule.secretGroup];
        if (rule.secretGroup >= m.length) return;
        secret = group ? text.toString('utf8', offset + group[0], offset + group[1]) : '';
      } else {
        for (let g = 1; g < m.length; g++) {
          const group = m.indices[g];
          if (group && group[1] > group[0]) {
            secret = text.toString('utf8', offset + group[0], offset + group[1]);
            break;
          }
        }
      }
    }
    const entropy = shannonEntropy(secret);
    if (rule.entropy !== 0 && entropy <= rule.entropy) return;
    if (rule.validate && !rule.validate(secret)) {
      pass.rejected.push(secret);
      return;
    }

    // Where the match sits, and the line around it, are worked out only for a match that gets this far, and the
    // line only when an allowlist or an inline allow comment needs it.
    let placement: Placement | undefined;
    const place = (): Placement => {
      placement ??= pass.decodedRange ? pass.decodedRange.placement : lines.place(start, end);
      return placement;
    };
    const facts: FindingFacts = {
      secret,
      match,
      get line() {
        return pass.decodedRange ? text.toString('utf8') : place().line;
      },
      path: pass.fragment.path,
      commit: pass.fragment.commit?.sha ?? '',
    };
    if (this.allowlists.some((list) => list.allowsFinding(facts))) return;
    if (rule.allowlists.some((list) => list.allowsFinding(facts))) return;
    if (this.#options.inlineAllow && lines.mayHoldInlineAllow()) {
      const line = place().line;
      if (INLINE_ALLOW_MARKERS.some((marker) => line.includes(marker))) return;
    }
    const { startLine, endLine, startColumn, endColumn } = place();

    findings.push({
      ruleId: rule.id,
      description: rule.description,
      startLine,
      endLine,
      startColumn,
      endColumn,
      match,
      secret,
      file: pass.fragment.path,
      entropy: Math.round(entropy * 1e6) / 1e6,
      tags: [...rule.tags, ...pass.tags],
      ...(pass.fragment.commit ? { commit: pass.fragment.commit } : {}),
    });
  }

  /** Decodes encoded runs and scans each decoded run in the context of the line around it. */
  #scanDecoded(pass: Pass, active: RuleActivity, findings: RawFinding[], lines: LazyLines): void {
    const { text } = pass;
    for (const segment of findEncodedSegments(text)) {
      const before = lineContextStart(text, segment.start);
      const after = lineContextEnd(text, segment.end);
      const decodedText = Buffer.concat([
        text.subarray(before, segment.start),
        segment.decoded,
        text.subarray(segment.end, after),
      ]);
      const from = segment.start - before;
      const placement = pass.decodedRange ? pass.decodedRange.placement : lines.place(segment.start, segment.end);
      this.#scanPass(
        {
          fragment: pass.fragment,
          text: decodedText,
          depth: pass.depth + 1,
          tags: [`decoded:${segment.kind}`, `decode-depth:${pass.depth + 1}`],
          rejected: pass.rejected,
          decodedRange: { from, to: from + segment.decoded.length, placement },
        },
        active,
        findings,
        lines,
      );
    }
  }
}

/**
 * A generic rule's finding gives way to a specific rule's finding of the same secret on the same line (as in
 * gitleaks), and to a look-alike a checksum rule rejected, so a token is reported once, by the rule that knows it.
 */
function preferSpecificRules(findings: RawFinding[], rejected: string[]): RawFinding[] {
  const isGeneric = (finding: RawFinding) => finding.ruleId.toLowerCase().includes('generic');
  if (!findings.some(isGeneric)) return findings;
  return findings.filter(
    (finding) =>
      !isGeneric(finding) ||
      !(
        rejected.some((secret) => secret.includes(finding.secret) || finding.secret.includes(secret)) ||
        findings.some(
          (other) =>
            !isGeneric(other) &&
            other.startLine === finding.startLine &&
            other.ruleId !== finding.ruleId &&
            other.secret.includes(finding.secret),
        )
      ),
  );
}

/** Line-oriented context kept around a decoded run (bounded, for long minified lines). */
function lineContextStart(text: Buffer, at: number): number {
  const limit = Math.max(0, at - 256);
  for (let i = at - 1; i >= limit; i--) if (text[i] === 10) return i + 1;
  return limit;
}

function lineContextEnd(text: Buffer, at: number): number {
  const limit = Math.min(text.length, at + 256);
  for (let i = at; i < limit; i++) if (text[i] === 10) return i;
  return limit;
}

/**
 * Every match of a rule's regex in text[start, end). A match touching a region edge that is neither the text's
 * edge nor a line boundary may be cut short by the edge (or exist only because of it): the region is then
 * widened on that side and searched again, until no match touches a cut edge.
 */
function matchesInWindow(
  rule: CompiledRule,
  text: Buffer,
  start: number,
  end: number,
): Array<[number, Re2BufferMatch]> {
  const regex = rule.regex as RE2;
  let grow = Math.max(rule.reach, MIN_WINDOW_GROWTH);
  for (;;) {
    const slice = text.subarray(start, end);
    const matches: Array<[number, Re2BufferMatch]> = [];
    let cutBefore = false;
    let cutAfter = false;
    regex.lastIndex = 0;
    for (let m = execBuffer(regex, slice); m !== null; m = execBuffer(regex, slice)) {
      const matchEnd = m.index + m[0].length;
      if (m[0].length === 0) regex.lastIndex += 1;
      if (m.index === 0 && start > 0 && text[start - 1] !== 10) cutBefore = true;
      if (matchEnd === slice.length && end < text.length && text[end] !== 10) cutAfter = true;
      matches.push([start, m]);
    }
    if (!cutBefore && !cutAfter) return matches;
    if (cutBefore) start = Math.max(0, start - grow);
    if (cutAfter) end = Math.min(text.length, end + grow);
    grow *= 2;
  }
}

/** Positions in the original fragment, computed only when a fragment has a match. */
class LazyLines {
  readonly #fragment: ScanFragment;
  #index: LineIndex | undefined;

  #inlineAllowMarkers: boolean | undefined;

  constructor(fragment: ScanFragment) {
    this.#fragment = fragment;
  }

  /** Whether an inline allow comment occurs anywhere in the fragment (one native search, at most once). */
  mayHoldInlineAllow(): boolean {
    this.#inlineAllowMarkers ??= INLINE_ALLOW_MARKERS.some((marker) => this.#fragment.data.includes(marker));
    return this.#inlineAllowMarkers;
  }

  place(start: number, end: number): Placement {
    this.#index ??= new LineIndex(this.#fragment.data);
    const index = this.#index;
    const first = index.position(start);
    const last = index.position(Math.max(start, end - 1));
    const lineNumber = (line: number) => this.#fragment.lineNumbers?.[line] ?? line + 1;
    return {
      startLine: lineNumber(first.line),
      endLine: lineNumber(last.line),
      startColumn: first.column,
      endColumn: last.column,
      line: this.#fragment.data.toString('utf8', index.lineStart(first.line), index.lineEnd(last.line)),
    };
  }
}
