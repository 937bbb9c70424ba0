// Realistic samples of a gitleaks rule's regex (RE2 syntax), for the differential tests against gitleaks: each
// sample is a string the pattern matches, with random characters where the pattern allows a class, so secrets
// have the entropy of real tokens. Context around the secret (names, operators, quotes) is kept short.
// Supports what gitleaks' default config uses: groups (capturing, named, non-capturing, flag groups), `|`,
// classes and escapes, `.`, counted and open repeats (greedy or lazy), anchors and word boundaries (ignored).

type Node =
  | { kind: 'literal'; char: string; fold: boolean }
  | { kind: 'set'; chars: string; fold: boolean }
  | { kind: 'empty' }
  | { kind: 'concat'; items: Node[] }
  | { kind: 'alternate'; options: Node[] }
  | { kind: 'group'; body: Node; capture: number }
  | { kind: 'repeat'; body: Node; min: number; max: number; lazy: boolean };

const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
const DIGITS = '0123456789';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();
const WORD = `${DIGITS}${UPPER}${LOWER}_`;
/** What a negated class or `.` draws from: plain token characters, so samples stay on one line and readable. */
const SAFE = `${DIGITS}${UPPER}${LOWER}`;

class RegexParser {
  #at = 0;
  #captures = 0;
  constructor(private readonly source: string) {}

  /** How many capture groups the pattern has (after parse). */
  get captures(): number {
    return this.#captures;
  }

  parse(): Node {
    const node = this.#alternation({ fold: false });
    if (this.#at < this.source.length) throw new Error(`unexpected ${this.source[this.#at]} at ${this.#at}`);
    return node;
  }

  #peek(): string | undefined {
    return this.source[this.#at];
  }

  #alternation(flags: { fold: boolean }): Node {
    const options = [this.#concatenation(flags)];
    while (this.#peek() === '|') {
      this.#at++;
      options.push(this.#concatenation(flags));
    }
    return options.length === 1 ? (options[0] as Node) : { kind: 'alternate', options };
  }

  #concatenation(flags: { fold: boolean }): Node {
    const items: Node[] = [];
    while (this.#at < this.source.length && this.#peek() !== '|' && this.#peek() !== ')') {
      const atom = this.#atom(flags);
      if (atom) items.push(this.#quantified(atom));
    }
    return { kind: 'concat', items };
  }

  #quantified(atom: Node): Node {
    const c = this.#peek();
    let min: number;
    let max: number;
    if (c === '*') [min, max] = [0, Number.POSITIVE_INFINITY];
    else if (c === '+') [min, max] = [1, Number.POSITIVE_INFINITY];
    else if (c === '?') [min, max] = [0, 1];
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.source.slice(this.#at));
      if (!m) return atom;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3]);
      this.#at += m[0].length - 1;
    } else return atom;
    this.#at++;
    const lazy = this.#peek() === '?';
    if (lazy) this.#at++;
    return this.#quantified({ kind: 'repeat', body: atom, min, max, lazy });
  }

  #atom(flags: { fold: boolean }): Node | undefined {
    const c = this.source[this.#at++] as string;
    if (c === '(') return this.#group(flags);
    if (c === '[') return this.#set(flags);
    // A lone `.` in a host name (`hooks.slack.com`) is a dot in every real token; repeated, it is anything.
    if (c === '.') {
      const next = this.#peek();
      const repeated = next === '*' || next === '+' || next === '{' || next === '?';
      return repeated ? { kind: 'set', chars: SAFE, fold: false } : { kind: 'literal', char: '.', fold: false };
    }
    if (c === '^' || c === '$') return { kind: 'empty' };
    if (c === '\\') return this.#escape(flags, false);
    return { kind: 'literal', char: c, fold: flags.fold };
  }

  #group(flags: { fold: boolean }): Node | undefined {
    let capture = 0;
    const inner = { ...flags };
    if (this.#peek() === '?') {
      const flagGroup = /^\?([a-zA-Z-]*)(:|\))/.exec(this.source.slice(this.#at));
      const named = /^\?P?<[A-Za-z_][A-Za-z0-9_]*>/.exec(this.source.slice(this.#at));
      if (named) {
        this.#at += named[0].length;
        capture = ++this.#captures;
      } else if (flagGroup) {
        this.#at += flagGroup[0].length;
        const [on, off = ''] = (flagGroup[1] as string).split('-');
        const target = flagGroup[2] === ')' ? flags : inner;
        if (on?.includes('i')) target.fold = true;
        if (off.includes('i')) target.fold = false;
        if (flagGroup[2] === ')') return undefined;
      } else throw new Error(`unsupported group at ${this.#at}`);
    } else capture = ++this.#captures;
    const body = this.#alternation(inner);
    if (this.source[this.#at++] !== ')') throw new Error('unclosed group');
    return { kind: 'group', body, capture };
  }

  #escape(flags: { fold: boolean }, inSet: boolean): Node {
    const c = this.source[this.#at++] as string;
    const set = (chars: string): Node => ({ kind: 'set', chars, fold: false });
    switch (c) {
      case 'd':
        return set(DIGITS);
      case 'D':
        return set(`${UPPER}${LOWER}`);
      case 'w':
        return set(WORD);
      case 'W':
        return set(' ');
      case 's':
        return set(' ');
      case 'S':
        return set(SAFE);
      case 'b':
      case 'B':
      case 'A':
      case 'z':
        return inSet ? { kind: 'literal', char: '\b', fold: false } : { kind: 'empty' };
      case 'n':
        return { kind: 'literal', char: '\n', fold: false };
      case 'r':
        return { kind: 'literal', char: '\r', fold: false };
      case 't':
        return { kind: 'literal', char: '\t', fold: false };
      case 'x': {
        const hex = this.source.slice(this.#at, this.#at + 2);
        this.#at += 2;
        return { kind: 'literal', char: String.fromCharCode(Number.parseInt(hex, 16)), fold: flags.fold };
      }
      default:
        return { kind: 'literal', char: c, fold: flags.fold };
    }
  }

  #set(flags: { fold: boolean }): Node {
    let negated = false;
    if (this.#peek() === '^') {
      negated = true;
      this.#at++;
    }
    let chars = '';
    let first = true;
    while (this.#at < this.source.length && (this.#peek() !== ']' || first)) {
      first = false;
      let from: string;
      if (this.#peek() === '\\') {
        this.#at++;
        const escaped = this.#escape(flags, true);
        if (escaped.kind === 'set') {
          chars += escaped.chars === ' ' ? ' \t\r\n' : escaped.chars;
          continue;
        }
        from = escaped.kind === 'literal' ? escaped.char : '';
      } else if (this.source.startsWith('[:', this.#at)) {
        const end = this.source.indexOf(':]', this.#at);
        const name = this.source.slice(this.#at + 2, end);
        this.#at = end + 2;
        chars += name === 'alpha' ? `${UPPER}${LOWER}` : name === 'digit' ? DIGITS : SAFE;
        continue;
      } else from = this.source[this.#at++] as string;
      if (this.#peek() === '-' && this.source[this.#at + 1] !== ']') {
        this.#at++;
        let to = this.source[this.#at++] as string;
        if (to === '\\') {
          const escaped = this.#escape(flags, true);
          to = escaped.kind === 'literal' ? escaped.char : to;
        }
        for (let code = from.charCodeAt(0); code <= to.charCodeAt(0); code++) chars += String.fromCharCode(code);
      } else chars += from;
    }
    this.#at++;
    if (negated) {
      const excluded = new Set(flags.fold ? [...chars.toLowerCase(), ...chars.toUpperCase()] : chars);
      chars = [...SAFE].filter((char) => !excluded.has(char)).join('');
    } else {
      // Samples stay on one line and printable.
      chars = [...new Set(chars)].filter((char) => PRINTABLE.includes(char) && char !== '\\').join('');
    }
    return { kind: 'set', chars: chars === '' ? SAFE : chars, fold: flags.fold };
  }
}

/** One sample: the text the pattern matches, and the part of it that is the secret. */
export interface RegexSample {
  text: string;
  secret: string;
}

/** A seeded generator of samples for one pattern. */
export class RegexSampleGenerator {
  readonly #root: Node;
  readonly #secretGroup: number;
  #state: number;
  #secret = '';

  /** `secretGroup` as in gitleaks: the capture group holding the secret (0: the first one, if any). */
  constructor(pattern: string, seed: number, secretGroup = 0) {
    const parser = new RegexParser(pattern);
    this.#root = parser.parse();
    // Without capture groups the whole match is the secret.
    this.#secretGroup = parser.captures === 0 ? 0 : secretGroup === 0 ? 1 : secretGroup;
    this.#state = seed >>> 0 || 1;
  }

  #random(n: number): number {
    this.#state = (Math.imul(this.#state, 1664525) + 1013904223) >>> 0;
    return (this.#state >>> 8) % n;
  }

  sample(): RegexSample {
    this.#secret = '';
    const text = this.#emit(this.#root, this.#secretGroup === 0);
    return { text, secret: this.#secretGroup === 0 ? text : this.#secret };
  }

  #emit(node: Node, inSecret: boolean): string {
    switch (node.kind) {
      case 'empty':
        return '';
      case 'literal':
        return node.char;
      case 'set': {
        const char = node.chars[this.#random(node.chars.length)] as string;
        // A case-insensitive class matches both cases: secrets come out mixed-case, as real tokens do.
        return node.fold && inSecret && this.#random(2) === 1 ? char.toUpperCase() : char;
      }
      case 'concat':
        return node.items.map((item) => this.#emit(item, inSecret)).join('');
      case 'alternate':
        return this.#emit(node.options[this.#random(node.options.length)] as Node, inSecret);
      case 'group': {
        const isSecret = node.capture !== 0 && node.capture === this.#secretGroup;
        const text = this.#emit(node.body, inSecret || isSecret);
        if (isSecret) this.#secret = text;
        return text;
      }
      case 'repeat': {
        // Secrets take random lengths in their range; the context around them stays short.
        const room = inSecret ? 24 : node.lazy ? 0 : 2;
        const max = Math.min(node.max, node.min + room);
        const count = node.min + this.#random(max - node.min + 1);
        let text = '';
        for (let i = 0; i < count; i++) text += this.#emit(node.body, inSecret);
        return text;
      }
    }
  }
}
