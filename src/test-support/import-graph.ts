// Reads the import graph of a source tree with the TypeScript compiler's preprocessor (imports, re-exports and
// literal `import()` calls) and checks it against layer rules; src/test-support/layer-rules.ts holds this
// repository's rules and src/test-support/layer-rules.test.ts runs them in `npm test`.
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import ts from 'typescript';

/** One import of one file, both as paths relative to the source root (posix separators). */
export interface ImportEdge {
  from: string;
  /** The imported file, or the bare package name (`vitest`, `node:fs`) for a package import. */
  to: string;
  specifier: string;
}

export interface ImportGraph {
  /** Every `.ts` file under the root, relative to it. */
  files: string[];
  edges: ImportEdge[];
  /** `import(x)` calls whose argument is not a string literal: invisible to this graph and to readers. */
  computedImports: Array<{ file: string; line: number }>;
  /** The text of each file, for the rules that read more than imports. */
  sources: ReadonlyMap<string, string>;
}

export function readImportGraph(root: string): ImportGraph {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.push(toPosix(relative(root, path)));
    }
  };
  walk(root);
  files.sort();
  const edges: ImportEdge[] = [];
  const computedImports: ImportGraph['computedImports'] = [];
  const sources = new Map<string, string>();
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8');
    sources.set(file, text);
    for (const imported of ts.preProcessFile(text, true, true).importedFiles) {
      const specifier = imported.fileName;
      const to = specifier.startsWith('.')
        ? posix.normalize(posix.join(posix.dirname(file), specifier.replace(/\.js$/, '.ts')))
        : packageName(specifier);
      edges.push({ from: file, to, specifier });
    }
    if (text.includes('import(')) {
      for (const line of computedImportLines(file, text)) computedImports.push({ file, line });
    }
  }
  return { files, edges, computedImports, sources };
}

export interface AdapterKind {
  /** The folder holding one sub-folder per adapter, e.g. `providers` or `lifecycle/rotation/consumers`. */
  folder: string;
  /** Sub-folders that are shared by the adapters rather than one adapter (`http`, `test-support`). */
  shared: string[];
}

export interface LayerRules {
  /** Folders (first path segment) that import nothing but each other: the shared mechanisms. */
  foundation: string[];
  /** Folders whose files may not import an adapter's folder (except the composition roots). */
  core: string[];
  adapterKinds: AdapterKind[];
  /** Files that wire adapters to the core and so may import them. */
  compositionRoots: string[];
  /** Packages that are test code: production files may not import them. */
  testPackages: string[];
  /** Names the core must not compare anything with: it asks a provider's capabilities instead. */
  providerNames: string[];
}

export type LayerRuleName =
  | 'folder-cycle'
  | 'foundation-imports-upward'
  | 'production-imports-test-code'
  | 'core-imports-adapter'
  | 'adapter-imports-adapter'
  | 'core-names-provider'
  | 'computed-import';

export interface LayerViolation {
  rule: LayerRuleName;
  file: string;
  detail: string;
}

/** Test code: `*.test.ts`, `*.fixture.ts` and anything under a `test-support/` folder. */
export function isTestCode(file: string): boolean {
  return /\.(test|fixture)\.ts$/.test(file) || file.split('/').includes('test-support');
}

/** The first path segment: the folder a file belongs to for the cycle rule (files at the root are their own). */
export function topFolder(file: string): string {
  const slash = file.indexOf('/');
  return slash < 0 ? file : file.slice(0, slash);
}

function adapterFolderOf(file: string, kinds: readonly AdapterKind[]): string | undefined {
  for (const kind of kinds) {
    const prefix = `${kind.folder}/`;
    if (!file.startsWith(prefix)) continue;
    const rest = file.slice(prefix.length).split('/');
    if (rest.length < 2 || kind.shared.includes(rest[0]!)) return undefined;
    return `${prefix}${rest[0]}/`;
  }
  return undefined;
}

function adapterKindOf(file: string, kinds: readonly AdapterKind[]): AdapterKind | undefined {
  return kinds.find((kind) => file.startsWith(`${kind.folder}/`));
}

export function checkLayerRules(graph: ImportGraph, rules: LayerRules): LayerViolation[] {
  const violations: LayerViolation[] = [];
  const production = graph.files.filter((file) => !isTestCode(file));
  const productionSet = new Set(production);
  const productionEdges = graph.edges.filter((edge) => productionSet.has(edge.from));

  for (const edge of productionEdges) {
    const local = edge.specifier.startsWith('.');
    if (
      (local && isTestCode(edge.to)) ||
      (!local && rules.testPackages.some((name) => edge.to === name || edge.to.startsWith(`${name}/`)))
    ) {
      violations.push({
        rule: 'production-imports-test-code',
        file: edge.from,
        detail: `imports ${edge.specifier}: test code never reaches dist/`,
      });
    }
    if (!local) continue;
    const fromFolder = topFolder(edge.from);
    const toFolder = topFolder(edge.to);
    if (rules.foundation.includes(fromFolder) && !rules.foundation.includes(toFolder)) {
      violations.push({
        rule: 'foundation-imports-upward',
        file: edge.from,
        detail: `imports ${edge.specifier}: ${fromFolder}/ may import only ${rules.foundation.join('/, ')}/`,
      });
    }
    const targetAdapter = adapterFolderOf(edge.to, rules.adapterKinds);
    if (!targetAdapter || edge.from.startsWith(targetAdapter)) continue;
    const sourceAdapter = adapterFolderOf(edge.from, rules.adapterKinds);
    if (sourceAdapter) {
      violations.push({
        rule: 'adapter-imports-adapter',
        file: edge.from,
        detail: `imports ${edge.specifier}: an adapter uses only what its kind shares, never another adapter`,
      });
    } else if (
      rules.core.includes(fromFolder) &&
      !rules.compositionRoots.includes(edge.from) &&
      adapterKindOf(edge.from, rules.adapterKinds) !== adapterKindOf(edge.to, rules.adapterKinds)
    ) {
      violations.push({
        rule: 'core-imports-adapter',
        file: edge.from,
        detail: `imports ${edge.specifier}: the core reaches adapters through their table only`,
      });
    }
  }

  // A composition root wires every layer together by design (the server's module list imports the modules, which
  // import the app's types): its imports do not make two folders one unit, so they are left out of the cycle check.
  violations.push(...folderCycles(productionEdges.filter((edge) => !rules.compositionRoots.includes(edge.from))));

  for (const { file, line } of graph.computedImports) {
    if (!productionSet.has(file)) continue;
    violations.push({
      rule: 'computed-import',
      file,
      detail: `line ${line}: import() of a computed path; import a literal path or take the dependency as a parameter`,
    });
  }

  if (rules.providerNames.length > 0) {
    const names = rules.providerNames.map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
    const comparison = new RegExp(`(?:===|!==|\\bcase)\\s*['"](?:${names})['"]|['"](?:${names})['"]\\s*(?:===|!==)`);
    for (const file of production) {
      if (!rules.core.includes(topFolder(file)) || adapterKindOf(file, rules.adapterKinds)) continue;
      const code = withoutComments(graph.sources.get(file) ?? '');
      const match = comparison.exec(code);
      if (match) {
        violations.push({
          rule: 'core-names-provider',
          file,
          detail: `compares with a provider's name (${match[0].trim()}): declare a capability and ask for it instead`,
        });
      }
    }
  }
  return violations;
}

/** Each cycle between top-level folders, with one import that makes each of its links. */
function folderCycles(edges: readonly ImportEdge[]): LayerViolation[] {
  const links = new Map<string, Map<string, ImportEdge>>();
  for (const edge of edges) {
    if (!edge.specifier.startsWith('.')) continue;
    const from = topFolder(edge.from);
    const to = topFolder(edge.to);
    if (from === to) continue;
    const targets = links.get(from) ?? new Map<string, ImportEdge>();
    links.set(from, targets);
    if (!targets.has(to)) targets.set(to, edge);
  }
  // Tarjan's strongly connected components: every component of more than one folder is a cycle.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (folder: string): void => {
    index.set(folder, counter);
    low.set(folder, counter);
    counter++;
    stack.push(folder);
    onStack.add(folder);
    for (const next of links.get(folder)?.keys() ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(folder, Math.min(low.get(folder)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(folder, Math.min(low.get(folder)!, index.get(next)!));
      }
    }
    if (low.get(folder) === index.get(folder)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== folder);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const folder of [...links.keys()].sort()) if (!index.has(folder)) visit(folder);
  return components.map((component) => {
    const inside = component.flatMap((from) =>
      [...(links.get(from) ?? [])]
        .filter(([to]) => component.includes(to))
        .map(([to, edge]) => `${from}/ -> ${to}/ (${edge.from} imports ${edge.specifier})`),
    );
    return {
      rule: 'folder-cycle' as const,
      file: inside[0]?.split(' (')[0] ?? component.join(', '),
      detail: `import cycle between ${component.map((folder) => `${folder}/`).join(', ')}: ${inside.join('; ')}`,
    };
  });
}

function computedImportLines(file: string, text: string): number[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const lines: number[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const argument = node.arguments[0];
      if (!argument || !(ts.isStringLiteral(argument) || ts.isNoSubstitutionTemplateLiteral(argument))) {
        lines.push(source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return lines;
}

/** The code without its comments (string literals kept), so a provider named in a comment is no finding. */
function withoutComments(text: string): string {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, text);
  let code = '';
  for (let token = scanner.scan(); token !== ts.SyntaxKind.EndOfFileToken; token = scanner.scan()) {
    if (token === ts.SyntaxKind.SingleLineCommentTrivia || token === ts.SyntaxKind.MultiLineCommentTrivia) continue;
    code +=
      token === ts.SyntaxKind.NewLineTrivia || token === ts.SyntaxKind.WhitespaceTrivia ? ' ' : scanner.getTokenText();
  }
  return code;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function toPosix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}

export function describeViolations(violations: readonly LayerViolation[]): string {
  return violations.map((violation) => `${violation.rule}: ${violation.file}: ${violation.detail}`).join('\n');
}
