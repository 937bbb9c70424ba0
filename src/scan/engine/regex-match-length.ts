// The longest match, in bytes, that an RE2 pattern can produce, read off the pattern's syntax. The engine runs a
// rule only on the bytes around each keyword hit; when a rule's matches are bounded, that region need be no
// wider than the bound, which keeps fixed-format rules (a prefix and 36 characters) from scanning a kilobyte per
// hit. Anything unbounded (`*`, `+`, `{n,}`) or not understood gives Infinity, and the engine falls back to its
// default region.
//
// Widths are UTF-8 bytes, as RE2 matches bytes: ASCII literals and ASCII-only classes are one byte; a negated
// class, `.`, `\S`, `\W`, `\D` and `\p{..}` may match a 4-byte character; under `(?i)` an ASCII letter may match
// a longer Unicode fold (`k` matches the 3-byte Kelvin sign), so it counts 3.

const UNBOUNDED = Number.POSITIVE_INFINITY;

class PatternReader {
  at = 0;
  constructor(readonly pattern: string) {}

  get done(): boolean {
    return this.at >= this.pattern.length;
  }

  peek(offset = 0): string {
    return this.pattern[this.at + offset] ?? '';
  }

  next(): string {
    return this.pattern[this.at++] ?? '';
  }
}

class UnsupportedSyntax extends Error {}

function isAsciiLetter(char: string): boolean {
  return /^[A-Za-z]$/.test(char);
}

/** Width of a literal character under the given case-folding mode. */
function literalWidth(char: string, foldCase: boolean): number {
  const bytes = Buffer.byteLength(char, 'utf8');
  if (bytes > 1) return foldCase ? 4 : bytes;
  return foldCase && isAsciiLetter(char) ? 3 : 1;
}

/** Width of an escape outside a class: `\d` and the like, an escaped literal, or a zero-width assertion. */
function escapeWidth(reader: PatternReader, foldCase: boolean): number {
  const char = reader.next();
  switch (char) {
    case 'b':
    case 'B':
    case 'A':
    case 'z':
      return 0;
    case 'd':
    case 'w':
    case 's':
      return 1;
    case 'D':
    case 'W':
    case 'S':
      return 4;
    case 'p':
    case 'P':
      if (reader.peek() === '{') {
        while (!reader.done && reader.next() !== '}') {}
      } else {
        reader.next();
      }
      return 4;
    case 'x':
      if (reader.peek() === '{') {
        let hex = '';
        reader.next();
        while (!reader.done && reader.peek() !== '}') hex += reader.next();
        reader.next();
        return literalWidth(String.fromCodePoint(Number.parseInt(hex, 16)), foldCase);
      }
      return literalWidth(String.fromCharCode(Number.parseInt(reader.next() + reader.next(), 16)), foldCase);
    case 'Q':
      throw new UnsupportedSyntax('\\Q');
    case '':
      throw new UnsupportedSyntax('trailing backslash');
    default:
      // \n \t \r \f \v, octal-free punctuation escapes: one character.
      return /^[0-9]$/.test(char) ? 1 : literalWidth(char, foldCase);
  }
}

/** Width of a bracketed class; the reader stands just after `[`. */
function classWidth(reader: PatternReader, foldCase: boolean): number {
  let negated = false;
  if (reader.peek() === '^') {
    negated = true;
    reader.next();
  }
  let width = 1;
  let first = true;
  while (!reader.done) {
    const char = reader.next();
    if (char === ']' && !first) return negated ? 4 : width;
    first = false;
    if (char === '[' && reader.peek() === ':') {
      // POSIX class [:alpha:]: ASCII in RE2.
      while (!reader.done && !(reader.peek() === ':' && reader.peek(1) === ']')) reader.next();
      reader.next();
      reader.next();
      if (foldCase) width = Math.max(width, 3);
      continue;
    }
    if (char === '\\') {
      const escaped = reader.peek();
      if (escaped === 'x' || escaped === 'p' || escaped === 'P') {
        width = Math.max(width, escapeWidth(reader, foldCase));
      } else {
        reader.next();
        if ('DWS'.includes(escaped)) width = 4;
        // \w holds letters, which fold under (?i); \d, \s and control escapes do not.
        else if (foldCase && (escaped === 'w' || (isAsciiLetter(escaped) && !'dsnrtfv'.includes(escaped)))) {
          width = Math.max(width, 3);
        }
      }
      continue;
    }
    width = Math.max(width, literalWidth(char, foldCase));
  }
  throw new UnsupportedSyntax('unterminated class');
}

/** Applies a quantifier after an atom, if one follows. */
function quantified(reader: PatternReader, atom: number): number {
  const char = reader.peek();
  let result = atom;
  if (char === '*' || char === '+') {
    reader.next();
    result = atom === 0 ? 0 : UNBOUNDED;
  } else if (char === '?') {
    reader.next();
  } else if (char === '{') {
    const rest = reader.pattern.slice(reader.at);
    const repeat = /^\{(\d+)(,(\d*))?\}/.exec(rest);
    if (!repeat) return atom; // a literal `{`, as RE2 reads it
    reader.at += repeat[0].length;
    const max = repeat[2] === undefined ? Number(repeat[1]) : repeat[3] === '' ? UNBOUNDED : Number(repeat[3]);
    result = atom === 0 ? 0 : atom * max;
  } else {
    return result;
  }
  if (reader.peek() === '?') reader.next(); // lazy
  return result;
}

/** Parses an alternation up to `)` or the end; returns its widest branch. */
function alternation(reader: PatternReader, foldCase: boolean): number {
  let widest = 0;
  let branch = 0;
  let fold = foldCase;
  while (!reader.done && reader.peek() !== ')') {
    const char = reader.next();
    let atom: number;
    if (char === '|') {
      widest = Math.max(widest, branch);
      branch = 0;
      continue;
    }
    if (char === '(') {
      let innerFold = fold;
      if (reader.peek() === '?') {
        reader.next();
        if (reader.peek() === 'P' || reader.peek() === '<') {
          while (!reader.done && reader.next() !== '>') {}
        } else {
          let flags = '';
          while (!reader.done && reader.peek() !== ':' && reader.peek() !== ')') flags += reader.next();
          const [on = '', off = ''] = flags.split('-');
          const applied = off.includes('i') ? false : on.includes('i') ? true : fold;
          if (reader.next() === ')') {
            // `(?i)` alone: applies to the rest of the enclosing group.
            fold = applied;
            continue;
          }
          innerFold = applied;
        }
      }
      atom = alternation(reader, innerFold);
      if (reader.next() !== ')') throw new UnsupportedSyntax('unbalanced group');
    } else if (char === '[') {
      atom = classWidth(reader, fold);
    } else if (char === '\\') {
      atom = escapeWidth(reader, fold);
    } else if (char === '.') {
      atom = 4;
    } else if (char === '^' || char === '$') {
      atom = 0;
    } else {
      // A character outside the BMP arrives as two UTF-16 units: one 4-byte character.
      const highSurrogate = char >= '\uD800' && char <= '\uDBFF';
      if (highSurrogate) reader.next();
      atom = highSurrogate ? 4 : literalWidth(char, fold);
    }
    branch += quantified(reader, atom);
  }
  return Math.max(widest, branch);
}

/** The longest match of an RE2 pattern in bytes, or Infinity when unbounded or not understood. */
export function maxMatchBytes(pattern: string): number {
  try {
    const reader = new PatternReader(pattern);
    const width = alternation(reader, false);
    return reader.done ? width : UNBOUNDED;
  } catch (error) {
    if (error instanceof UnsupportedSyntax) return UNBOUNDED;
    throw error;
  }
}
