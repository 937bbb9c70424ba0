// SCIM filters (RFC 7644 section 3.4.2.2): parsed into a tree and evaluated against a resource's JSON. All the
// operators and `and`/`or`/`not`/grouping are read, and value paths such as `emails[type eq "work"].value`;
// string comparisons ignore case except on `id` and `externalId`, which are case-exact (RFC 7643 section 3.1).
// A filter that does not parse is the SCIM error `invalidFilter` (400), never an empty result.
import { ScimError } from './scim-error.js';

export type CompareOperator = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';

export type ScimFilter =
  | { kind: 'compare'; path: AttributePath; op: CompareOperator; value: string | number | boolean | null }
  | { kind: 'present'; path: AttributePath }
  | { kind: 'and' | 'or'; left: ScimFilter; right: ScimFilter }
  | { kind: 'not'; filter: ScimFilter }
  /** `emails[type eq "work"]` on its own: some element of the multi-valued attribute matches. */
  | { kind: 'has'; path: AttributePath };

/** `name.givenName`, `emails[type eq "work"].value`, with an optional schema URN prefix. */
export interface AttributePath {
  /** The attribute names as written, outermost first (`['name', 'givenName']`); matched without regard to case. */
  names: string[];
  /** The filter on the multi-valued attribute `names[0]`, and the sub-attribute after it. */
  valueFilter?: ScimFilter;
  subAttribute?: string;
  /** The schema URN the path named, lower-cased (`urn:...:enterprise:2.0:user`), when it named one. */
  schema?: string;
}

const COMPARE_OPERATORS = new Set<string>(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);
const CASE_EXACT = new Set(['id', 'externalid']);

type Token =
  | { type: 'word'; text: string }
  | { type: 'string'; text: string }
  | { type: 'punct'; text: '(' | ')' | '[' | ']' };

export function parseScimFilter(text: string): ScimFilter {
  const tokens = tokenize(text);
  let position = 0;
  const peek = (): Token | undefined => tokens[position];
  const next = (): Token => {
    const token = tokens[position++];
    if (!token) throw invalid(text, 'it ends too soon');
    return token;
  };
  const isWord = (token: Token | undefined, word: string): boolean =>
    token?.type === 'word' && token.text.toLowerCase() === word;
  const expectPunct = (punct: string): void => {
    const token = next();
    if (token.type !== 'punct' || token.text !== punct) throw invalid(text, `"${punct}" expected`);
  };

  const parseOr = (): ScimFilter => {
    let left = parseAnd();
    while (isWord(peek(), 'or')) {
      position++;
      left = { kind: 'or', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): ScimFilter => {
    let left = parseUnary();
    while (isWord(peek(), 'and')) {
      position++;
      left = { kind: 'and', left, right: parseUnary() };
    }
    return left;
  };
  const parseUnary = (): ScimFilter => {
    const token = peek();
    if (isWord(token, 'not')) {
      position++;
      expectPunct('(');
      const filter = parseOr();
      expectPunct(')');
      return { kind: 'not', filter };
    }
    if (token?.type === 'punct' && token.text === '(') {
      position++;
      const filter = parseOr();
      expectPunct(')');
      return filter;
    }
    return parseComparison();
  };
  const parseComparison = (): ScimFilter => {
    const token = next();
    if (token.type !== 'word') throw invalid(text, 'an attribute name expected');
    const path = parsePathText(token.text, text);
    const after = peek();
    if (after?.type === 'punct' && after.text === '[') {
      position++;
      path.valueFilter = parseOr();
      expectPunct(']');
      const tail = peek();
      // `emails[type eq "work"].value`: the tokenizer reads `.value` as the next word.
      if (tail?.type === 'word' && tail.text.startsWith('.')) {
        position++;
        path.subAttribute = tail.text.slice(1);
      } else if (!tail || tail.type === 'punct' || ['and', 'or'].includes(tail.text.toLowerCase())) {
        return { kind: 'has', path };
      }
    }
    const operator = next();
    if (operator.type !== 'word') throw invalid(text, 'an operator expected');
    const op = operator.text.toLowerCase();
    if (op === 'pr') return { kind: 'present', path };
    if (!COMPARE_OPERATORS.has(op)) throw invalid(text, `unknown operator "${operator.text}"`);
    const value = next();
    return { kind: 'compare', path, op: op as CompareOperator, value: literalOf(value, text) };
  };

  const filter = parseOr();
  if (position !== tokens.length) throw invalid(text, 'unexpected text after the filter');
  return filter;
}

/** An attribute path as PATCH names it (`name.givenName`, `emails[type eq "work"].value`, `members[value eq "x"]`). */
export function parseAttributePath(text: string): AttributePath {
  const bracket = text.indexOf('[');
  if (bracket < 0) return parsePathText(text.trim(), text);
  const close = text.lastIndexOf(']');
  if (close < bracket) throw invalid(text, 'an unclosed "["');
  const path = parsePathText(text.slice(0, bracket).trim(), text);
  path.valueFilter = parseScimFilter(text.slice(bracket + 1, close));
  const rest = text.slice(close + 1).trim();
  if (rest.startsWith('.')) path.subAttribute = rest.slice(1);
  else if (rest) throw invalid(text, `unexpected "${rest}" after "]"`);
  return path;
}

function parsePathText(raw: string, whole: string): AttributePath {
  let rest = raw;
  let schema: string | undefined;
  if (rest.toLowerCase().startsWith('urn:')) {
    // `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`: the attribute follows the
    // schema's last colon; the URN alone names the whole extension.
    const colon = rest.lastIndexOf(':');
    const tail = rest.slice(colon + 1);
    if (/^[A-Za-z$][\w$.-]*$/.test(tail) && !/^\d/.test(tail) && !['user', 'group'].includes(tail.toLowerCase())) {
      // A core schema's attributes are the resource's own (`urn:...:core:2.0:User:userName` is `userName`).
      const urn = rest.slice(0, colon).toLowerCase();
      if (!urn.startsWith('urn:ietf:params:scim:schemas:core:')) schema = urn;
      rest = tail;
    } else {
      return { names: [], schema: rest.toLowerCase() };
    }
  }
  const names = rest.split('.');
  if (names.some((name) => !/^[a-z$][a-z0-9_$-]*$/i.test(name))) throw invalid(whole, `"${raw}" is not an attribute`);
  return { names, ...(schema ? { schema } : {}) };
}

function literalOf(token: Token, whole: string): string | number | boolean | null {
  if (token.type === 'string') return token.text;
  if (token.type !== 'word') throw invalid(whole, 'a value expected');
  const lower = token.text.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  if (lower === 'null') return null;
  const number = Number(token.text);
  if (token.text !== '' && Number.isFinite(number)) return number;
  throw invalid(whole, `"${token.text}" is not a value: quote strings`);
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i]!;
    if (/\s/.test(char)) {
      i++;
    } else if (char === '(' || char === ')' || char === '[' || char === ']') {
      tokens.push({ type: 'punct', text: char });
      i++;
    } else if (char === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw invalid(text, 'an unterminated string');
        const c = text[i]!;
        if (c === '\\') {
          const escaped = text[i + 1];
          if (escaped === undefined) throw invalid(text, 'an unterminated string');
          value += escaped === 'n' ? '\n' : escaped === 't' ? '\t' : escaped;
          i += 2;
        } else if (c === '"') {
          i++;
          break;
        } else {
          value += c;
          i++;
        }
      }
      tokens.push({ type: 'string', text: value });
    } else {
      let word = '';
      while (i < text.length && !/[\s()[\]"]/.test(text[i]!)) word += text[i++];
      tokens.push({ type: 'word', text: word });
    }
  }
  return tokens;
}

function invalid(filter: string, why: string): ScimError {
  return new ScimError(400, 'invalidFilter', `the filter ${JSON.stringify(filter)} cannot be read: ${why}`);
}

/** True when the resource (its JSON, as served) matches the filter. */
export function matchesScimFilter(resource: Record<string, unknown>, filter: ScimFilter): boolean {
  switch (filter.kind) {
    case 'and':
      return matchesScimFilter(resource, filter.left) && matchesScimFilter(resource, filter.right);
    case 'or':
      return matchesScimFilter(resource, filter.left) || matchesScimFilter(resource, filter.right);
    case 'not':
      return !matchesScimFilter(resource, filter.filter);
    case 'has':
      return valuesAt(resource, filter.path).length > 0;
    case 'present':
      return valuesAt(resource, filter.path).some((value) => value !== null && value !== '');
    case 'compare': {
      const values = valuesAt(resource, filter.path);
      const attribute = filter.path.subAttribute ?? filter.path.names[filter.path.names.length - 1] ?? '';
      const caseExact = CASE_EXACT.has(attribute.toLowerCase()) && filter.path.names.length === 1;
      if (filter.op === 'ne') return !values.some((value) => compare(value, 'eq', filter.value, caseExact));
      return values.some((value) => compare(value, filter.op, filter.value, caseExact));
    }
  }
}

/** The values a path reaches; multi-valued attributes are flattened (a filter matches if any value does). */
export function valuesAt(resource: Record<string, unknown>, path: AttributePath): unknown[] {
  let current: unknown[] = [path.schema ? getIgnoringCase(resource, path.schema) : resource];
  path.names.forEach((name, index) => {
    current = current
      .map((value) => getIgnoringCase(value, name))
      .flatMap((value) => (Array.isArray(value) ? value : [value]));
    if (index === 0 && path.valueFilter) {
      const valueFilter = path.valueFilter;
      current = current.filter(
        (item) =>
          typeof item === 'object' && item !== null && matchesScimFilter(item as Record<string, unknown>, valueFilter),
      );
    }
  });
  const sub = path.subAttribute;
  if (sub) current = current.map((value) => getIgnoringCase(value, sub));
  return current.filter((value) => value !== undefined);
}

export function getIgnoringCase(value: unknown, name: string): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const lower = name.toLowerCase();
  for (const [key, found] of Object.entries(value)) if (key.toLowerCase() === lower) return found;
  return undefined;
}

function compare(
  actual: unknown,
  op: CompareOperator,
  expected: string | number | boolean | null,
  caseExact: boolean,
): boolean {
  if (expected === null) return op === 'eq' ? actual === null : false;
  if (typeof expected === 'boolean') {
    const coerced = typeof actual === 'string' ? actual.toLowerCase() === 'true' : actual;
    return op === 'eq' && coerced === expected;
  }
  if (typeof expected === 'number') {
    const number = Number(actual);
    if (!Number.isFinite(number)) return false;
    return ordered(number, expected, op);
  }
  if (typeof actual !== 'string') return false;
  const left = caseExact ? actual : actual.toLowerCase();
  const right = caseExact ? expected : expected.toLowerCase();
  switch (op) {
    case 'co':
      return left.includes(right);
    case 'sw':
      return left.startsWith(right);
    case 'ew':
      return left.endsWith(right);
    default:
      return ordered(left, right, op);
  }
}

function ordered<T extends string | number>(left: T, right: T, op: CompareOperator): boolean {
  switch (op) {
    case 'eq':
      return left === right;
    case 'gt':
      return left > right;
    case 'ge':
      return left >= right;
    case 'lt':
      return left < right;
    case 'le':
      return left <= right;
    default:
      return false;
  }
}
