// The detection engine: one keyword pass over a fragment's bytes selects, per keyword hit, the rules to run and
// the region around the hit to run them on; each rule's RE2 regex then runs on its merged regions only. Matches
// pass through secret-group selection, entropy, checksum validation, inline `gitleaks:allow` comments and the
// allowlists, then encoded runs are decoded and scanned again, to a configurable depth.
import type RE2 from 're2';
import { CompiledAllowlist } from '../config/compiled-allowlist.js';
import { type Re2BufferMatch, execBuffer } from '../config/re2-compile.js';
import type { CommitInfo, RawFinding } from '../findings/raw-finding.js';
import { CompiledRule } from '../rules/compiled-rule.js';
import type { ScanRuleSet } from '../rules/rule-definition.js';
import { findEncodedSegments } from './encoded-segments.js';
import { KeywordAutomaton } from './keyword-automaton.js';
import { LineIndex } from './line-index.js';
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

/** How far a window may be widened to reach a line boundary before it is cut mid-line. */
const LINE_SNAP_LIMIT = 1024;

interface Window {
  start: number;
  end: number;
}

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
  }

  /** Every finding in one fragment (a file, a file's added lines in one commit, stdin). */
  scan(fragment: ScanFragment): RawFinding[] {
    const commit = fragment.commit?.sha ?? '';
    if (this.allowlists.some((list) => list.allowsFragment(fragment.path, commit))) return [];
    const active = this.rules.map(
      (rule) =>
        !rule.allowlists.some((list) => list.allowsFragment(fragment.path, commit)) &&
        (rule.path === undefined || rule.path.test(fragment.path)),
    );
    const findings: RawFinding[] = [];
    // Path-only rules: the file itself is the finding.
    for (const rule of this.rules) {
      if (rule.regex === undefined && rule.path !== undefined && active[rule.index] && fragment.path !== '') {
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
    this.#scanPass({ fragment, text: fragment.data, depth: 0, tags: [], rejected }, active, findings, new LazyLines(fragment));
    return preferSpecificRules(findings, rejected);
  }

  #scanPass(pass: Pass, active: boolean[], findings: RawFinding[], lines: LazyLines): void {
    const { text } = pass;
    const windows = this.#selectWindows(text, active);
    const seen = new Set<string>();
    for (const [ruleIndex, ruleWindows] of windows) {
      const rule = this.rules[ruleIndex] as CompiledRule;
      const regex = rule.regex as RE2;
      let needsWholeText = false;
      for (const window of ruleWindows) {
        const slice = text.subarray(window.start, window.end);
        regex.lastIndex = 0;
        for (let m = execBuffer(regex, slice); m !== null; m = execBuffer(regex, slice)) {
          const matchEnd = m.index + m[0].length;
          if (m[0].length === 0) regex.lastIndex += 1;
          // A match touching a window edge that is not a line or text boundary may be cut short: rerun on all.
          if (
            (m.index === 0 && window.start > 0 && text[window.start - 1] !== 10) ||
            (matchEnd === slice.length && window.end < text.length && text[window.end] !== 10)
          ) {
            needsWholeText = true;
            continue;
          }
          this.#accept(pass, rule, window.start, m, seen, findings, lines);
        }
      }
      if (needsWholeText) {
        regex.lastIndex = 0;
        for (let m = execBuffer(regex, text); m !== null; m = execBuffer(regex, text)) {
          if (m[0].length === 0) regex.lastIndex += 1;
          this.#accept(pass, rule, 0, m, seen, findings, lines);
        }
      }
    }
    if (pass.depth < this.#options.maxDecodeDepth) this.#scanDecoded(pass, active, findings, lines);
  }

  /** Per rule, the merged regions around its keyword hits (or the whole text for rules without keywords). */
  #selectWindows(text: Buffer, active: boolean[]): Map<number, Window[]> {
    const windows = new Map<number, Window[]>();
    const lengths = this.#automaton.lengths;
    this.#automaton.scan(text, (keyword, end) => {
      const start = end - (lengths[keyword] as number);
      for (const ruleIndex of this.#keywordRules[keyword] as number[]) {
        if (!active[ruleIndex]) continue;
        const rule = this.rules[ruleIndex] as CompiledRule;
        if (rule.regex === undefined) continue;
        const from = Math.max(0, start - rule.spanBefore);
        const to = Math.min(text.length, end + rule.spanAfter);
        let list = windows.get(ruleIndex);
        if (list === undefined) {
          list = [];
          windows.set(ruleIndex, list);
        }
        const last = list[list.length - 1];
        if (last !== undefined && from <= last.end) last.end = Math.max(last.end, to);
        else list.push({ start: from, end: to });
      }
    });
    for (const ruleIndex of this.#rulesWithoutKeywords) {
      if (active[ruleIndex] && this.rules[ruleIndex]?.regex !== undefined) {
        windows.set(ruleIndex, [{ start: 0, end: text.length }]);
      }
    }
    for (const [ruleIndex, list] of windows) windows.set(ruleIndex, snapToLines(text, list));
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

    const placement = pass.decodedRange ? pass.decodedRange.placement : lines.place(start, end);
    if (this.#options.inlineAllow && INLINE_ALLOW_MARKERS.some((marker) => placement.line.includes(marker))) return;
    const facts = {
      secret,
      match,
      line: pass.decodedRange ? text.toString('utf8') : placement.line,
      path: pass.fragment.path,
      commit: pass.fragment.commit?.sha ?? '',
    };
    if (this.allowlists.some((list) => list.allowsFinding(facts))) return;
    if (rule.allowlists.some((list) => list.allowsFinding(facts))) return;

    findings.push({
      ruleId: rule.id,
      description: rule.description,
      startLine: placement.startLine,
      endLine: placement.endLine,
      startColumn: placement.startColumn,
      endColumn: placement.endColumn,
      match,
      secret,
      file: pass.fragment.path,
      entropy: Math.round(entropy * 1e6) / 1e6,
      tags: [...rule.tags, ...pass.tags],
      ...(pass.fragment.commit ? { commit: pass.fragment.commit } : {}),
    });
  }

  /** Decodes encoded runs and scans each decoded run in the context of the line around it. */
  #scanDecoded(pass: Pass, active: boolean[], findings: RawFinding[], lines: LazyLines): void {
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

/** Widens each window to whole lines when a boundary is near, then merges windows that came to overlap. */
function snapToLines(text: Buffer, windows: Window[]): Window[] {
  const merged: Window[] = [];
  for (const window of windows) {
    let start = window.start;
    const startLimit = Math.max(0, start - LINE_SNAP_LIMIT);
    while (start > startLimit && text[start - 1] !== 10) start--;
    let end = window.end;
    const endLimit = Math.min(text.length, end + LINE_SNAP_LIMIT);
    while (end < endLimit && text[end] !== 10) end++;
    const last = merged[merged.length - 1];
    if (last !== undefined && start <= last.end) last.end = Math.max(last.end, end);
    else merged.push({ start, end });
  }
  return merged;
}

/** Positions in the original fragment, computed only when a fragment has a match. */
class LazyLines {
  readonly #fragment: ScanFragment;
  #index: LineIndex | undefined;

  constructor(fragment: ScanFragment) {
    this.#fragment = fragment;
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
