// A fast path for parsing well-formed input against a zod schema, derived from the schema itself: the schema stays
// written once (key-entry-schema.ts) and zod stays the authority. zod's parse is built for reporting — every field
// gets a payload object, an issues array and a path — and on a 100,000-entry validate that bookkeeping was half of
// all the memory allocated and a fifth of the time, although nine entries in ten have nothing to report.
//
// The fast parser walks the schema's definition once and returns a closure per node that either produces exactly
// the output zod would, or says it cannot: INVALID (zod would report an issue here) or UNSURE (a construct this
// module does not model). Either way the caller then runs zod, which gives the messages. Checks, refinements and
// transforms are not re-implemented: the fast parser calls zod's own check and transform functions, so a custom
// refinement (`storage needs vault_path...`) behaves the same on both paths. zod-fast-parse.test.ts holds the two
// paths equal on generated input.
import type { z } from 'zod';

/** Zod would report an issue for this value. */
const INVALID: unique symbol = Symbol('invalid');
/** This module cannot tell; zod must decide. */
const UNSURE: unique symbol = Symbol('unsure');
type Verdict = typeof INVALID | typeof UNSURE;
type NodeParser = (value: unknown) => unknown;

/** The parts of zod's internal definitions this module reads (zod 4 `_zod.def`). */
interface ZodInternals {
  _zod: {
    def: ZodDef;
    optin?: 'optional' | 'defaulted';
    optout?: 'optional';
    values?: Set<unknown>;
  };
}
interface ZodDef {
  type: string;
  coerce?: boolean;
  checks?: ZodCheck[];
  shape?: Record<string, ZodInternals>;
  catchall?: ZodInternals;
  innerType?: ZodInternals;
  defaultValue?: unknown;
  options?: ZodInternals[];
  element?: ZodInternals;
  in?: ZodInternals;
  out?: ZodInternals;
}
interface ZodCheck {
  _zod: { check: (payload: Payload) => unknown; def: { when?: (payload: Payload) => boolean } };
}
interface Payload {
  value: unknown;
  issues: unknown[];
}

/**
 * Compiles `schema` to a function that returns zod's output for a valid input, or `undefined` when zod must parse
 * it (the input has an issue, or uses something the fast path does not model).
 */
export function compileFastParse<Schema extends z.ZodType>(
  schema: Schema,
): (input: unknown) => z.output<Schema> | undefined {
  const parse = compileNode(schema as unknown as ZodInternals);
  return (input) => {
    const output = parse(input);
    return output === INVALID || output === UNSURE ? undefined : (output as z.output<Schema>);
  };
}

function isVerdict(value: unknown): value is Verdict {
  return value === INVALID || value === UNSURE;
}

function compileNode(node: ZodInternals): NodeParser {
  const base = compileType(node);
  const checks = node._zod.def.checks;
  if (!checks || checks.length === 0 || base === unsure) return base;
  return withChecks(base, checks);
}

const unsure: NodeParser = () => UNSURE;

/** Runs zod's own check functions on a parsed value; an overwrite check (`trim()`) replaces the value. */
function withChecks(base: NodeParser, checks: ZodCheck[]): NodeParser {
  return (value) => {
    const parsed = base(value);
    if (isVerdict(parsed)) return parsed;
    const payload: Payload = { value: parsed, issues: [] };
    for (const check of checks) {
      const when = check._zod.def.when;
      if (when && !when(payload)) continue;
      const result = check._zod.check(payload);
      if (result instanceof Promise) return UNSURE;
      if (payload.issues.length > 0) return INVALID;
    }
    return payload.value;
  };
}

function compileType(node: ZodInternals): NodeParser {
  const def = node._zod.def;
  switch (def.type) {
    case 'string':
      return def.coerce ? unsure : (value) => (typeof value === 'string' ? value : INVALID);
    case 'number':
      return def.coerce ? unsure : (value) => (typeof value === 'number' && Number.isFinite(value) ? value : INVALID);
    case 'boolean':
      return def.coerce ? unsure : (value) => (typeof value === 'boolean' ? value : INVALID);
    case 'date':
      return def.coerce
        ? unsure
        : (value) => (value instanceof Date && !Number.isNaN(value.getTime()) ? value : INVALID);
    case 'unknown':
    case 'any':
      return (value) => value;
    case 'enum': {
      const values = node._zod.values;
      return values ? (value) => (values.has(value) ? value : INVALID) : unsure;
    }
    case 'optional':
      return compileOptional(def.innerType!);
    case 'default':
      return compileDefault(def);
    case 'union':
      return compileUnion(def.options ?? []);
    case 'array':
      return compileArray(def.element!);
    case 'object':
      return compileObject(def);
    case 'pipe':
      return compilePipe(compileNode(def.in!), compileNode(def.out!));
    case 'transform':
      return viaZod(node);
    default:
      return unsure;
  }
}

function compileOptional(innerType: ZodInternals): NodeParser {
  // An optional around a defaulted schema substitutes the default for absence: rare, left to zod.
  if (innerType._zod.optin === 'defaulted') return unsure;
  const inner = compileNode(innerType);
  return (value) => (value === undefined ? undefined : inner(value));
}

function compileDefault(def: ZodDef): NodeParser {
  const inner = compileNode(def.innerType!);
  return (value) => {
    // `defaultValue` is a getter in zod: it hands out a fresh copy of an object default each time.
    if (value === undefined) return def.defaultValue;
    const parsed = inner(value);
    return parsed === undefined ? def.defaultValue : parsed;
  };
}

/** zod takes the first option without issues; an option this module cannot judge makes the whole union unsure. */
function compileUnion(options: ZodInternals[]): NodeParser {
  const parsers = options.map(compileNode);
  if (parsers.includes(unsure)) return unsure;
  return (value) => {
    for (const parse of parsers) {
      const parsed = parse(value);
      if (parsed === UNSURE) return UNSURE;
      if (parsed !== INVALID) return parsed;
    }
    return INVALID;
  };
}

function compileArray(elementType: ZodInternals): NodeParser {
  const element = compileNode(elementType);
  if (element === unsure) return unsure;
  return (value) => {
    if (!Array.isArray(value)) return INVALID;
    const output: unknown[] = new Array(value.length);
    for (let index = 0; index < value.length; index++) {
      const parsed = element(value[index]);
      if (isVerdict(parsed)) return parsed;
      output[index] = parsed;
    }
    return output;
  };
}

function compilePipe(first: NodeParser, second: NodeParser): NodeParser {
  if (first === unsure || second === unsure) return unsure;
  return (value) => {
    const parsed = first(value);
    return isVerdict(parsed) ? parsed : second(parsed);
  };
}

/**
 * A leaf parsed by zod itself (a transform: zod hands it the payload with `addIssue` attached): one payload object,
 * none of the bookkeeping around it.
 */
function viaZod(node: ZodInternals): NodeParser {
  const run = (node as unknown as { _zod: { run: (payload: Payload, ctx: object) => unknown } })._zod.run;
  return (value) => {
    const result = run({ value, issues: [] }, ZOD_CONTEXT);
    if (result instanceof Promise) return UNSURE;
    const payload = result as Payload;
    return payload.issues.length > 0 ? INVALID : payload.value;
  };
}

/** What `safeParse` passes down: a synchronous, forward parse. */
const ZOD_CONTEXT = { async: false };

/** How a field is written to the output; mirrors zod's object parser (shape fields in shape order, then extras). */
type FieldKind = 'optional' | 'defaulted' | 'required';

interface CompiledField {
  key: string;
  kind: FieldKind;
  parse: NodeParser;
}

function compileObject(def: ZodDef): NodeParser {
  const shape = def.shape ?? {};
  if (Object.getOwnPropertySymbols(shape).length > 0) return unsure;
  const fields: CompiledField[] = [];
  for (const [key, fieldType] of Object.entries(shape)) {
    if (key === '__proto__') return unsure;
    const optin = fieldType._zod.optin;
    const optout = fieldType._zod.optout;
    let kind: FieldKind;
    if (optin === undefined) kind = 'required';
    else if (optin === 'optional' && optout === 'optional') kind = 'optional';
    else if (optin === 'defaulted' && optout === undefined) kind = 'defaulted';
    else return unsure;
    const parse = compileNode(fieldType);
    if (parse === unsure) return unsure;
    fields.push({ key, kind, parse });
  }
  const known = new Set(Object.keys(shape));
  // No catchall: extra keys are dropped (z.object). `unknown`: kept as written (z.looseObject). `never`: an extra key
  // is an issue (z.strictObject). Anything else would parse each extra key: left to zod.
  const catchallType = def.catchall?._zod.def.type;
  const extras =
    catchallType === undefined
      ? 'drop'
      : catchallType === 'unknown'
        ? 'keep'
        : catchallType === 'never'
          ? 'reject'
          : undefined;
  if (extras === undefined) return unsure;
  return (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return INVALID;
    const input = value as Record<string, unknown>;
    const output: Record<string, unknown> = {};
    for (const field of fields) {
      const present = field.key in input;
      if (!present && field.kind === 'optional') continue;
      if (!present && field.kind === 'required') return INVALID;
      const parsed = field.parse(input[field.key]);
      if (isVerdict(parsed)) return parsed;
      if (field.kind === 'defaulted' || present) output[field.key] = parsed;
    }
    if (extras !== 'drop') {
      for (const key in input) {
        if (known.has(key)) continue;
        if (extras === 'reject') return INVALID;
        if (key === '__proto__') continue;
        output[key] = input[key];
      }
    }
    return output;
  };
}
