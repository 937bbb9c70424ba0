// The deployment examples under deploy/ (docs/deploy.md) cannot rot silently: every Kubernetes manifest parses with
// the kind's apiVersion, its references hold together (selectors, Secret keys, ConfigMaps, probe ports), the probes
// ask for endpoints the server has, every `keyledger` command and flag the manifests and the systemd units run exists
// in the CLI (src/cli/command-table.ts), and every KEYLEDGER_* variable they set is read somewhere in src/. The
// Dockerfile the manifests' image is built from is held to the same: its ENTRYPOINT + CMD run a keyledger command
// that exists, its ENV names variables keyledger reads, its HEALTHCHECK asks for /readyz on the port it sets, and it
// runs as the non-root user the manifests expect. (No docker on the CI machine: the file is checked, not built.)
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { processContext } from './cli-context.js';
import { commandsFor } from './command-table.js';

const REPOSITORY = join(import.meta.dirname, '..', '..');
const KUBERNETES = join(REPOSITORY, 'deploy', 'kubernetes');
const SYSTEMD = join(REPOSITORY, 'deploy', 'systemd');

/** The apiVersion each kind the examples use is served at (Kubernetes 1.27+). */
const API_VERSIONS: Record<string, string> = {
  ConfigMap: 'v1',
  Secret: 'v1',
  Service: 'v1',
  Deployment: 'apps/v1',
  CronJob: 'batch/v1',
  PodDisruptionBudget: 'policy/v1',
};

// biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field below
type Manifest = { file: string; doc: any };

async function manifests(): Promise<Manifest[]> {
  const found: Manifest[] = [];
  for (const file of (await readdir(KUBERNETES)).filter((name) => name.endsWith('.yaml')).sort()) {
    for (const document of parseAllDocuments(await readFile(join(KUBERNETES, file), 'utf8'))) {
      if (!Array.isArray(document) && document.errors.length > 0)
        throw new Error(`${file}: ${document.errors[0]!.message}`);
      found.push({ file, doc: (document as { toJS(): unknown }).toJS() });
    }
  }
  return found;
}

/** The pod spec of a workload (Deployment, CronJob), or undefined. */
// biome-ignore lint/suspicious/noExplicitAny: see Manifest
function podSpec(doc: any): any {
  if (doc.kind === 'Deployment') return doc.spec.template.spec;
  if (doc.kind === 'CronJob') return doc.spec.jobTemplate.spec.template.spec;
  return undefined;
}

/**
 * The problems with one `keyledger ...` command line: an unknown command or sub-command, a flag its command does not
 * take. Values of flags that take one are skipped; the program-wide `-v/--verbose` is allowed everywhere.
 */
async function invocationProblems(argv: string[], where: string): Promise<string[]> {
  const [binary, ...args] = argv;
  if (basename(binary ?? '') !== 'keyledger') return [`${where}: runs ${binary}, not keyledger`];
  const program = new Command('keyledger').option('-v, --verbose');
  for (const register of await commandsFor(args)) register(program, processContext());
  const problems: string[] = [];
  let command = program;
  let index = 0;
  for (; index < args.length && !args[index]!.startsWith('-'); index++) {
    const sub = command.commands.find((candidate) => candidate.name() === args[index]);
    if (!sub) {
      if (command === program) problems.push(`${where}: keyledger has no command "${args[index]}"`);
      break;
    }
    command = sub;
  }
  if (command === program && problems.length === 0) problems.push(`${where}: no keyledger command named`);
  for (; index < args.length; index++) {
    const arg = args[index]!;
    if (!arg.startsWith('-')) continue;
    const flag = arg.split('=')[0]!;
    const option = [...command.options, ...program.options].find(
      (candidate) => candidate.long === flag || candidate.short === flag,
    );
    if (!option) problems.push(`${where}: keyledger ${command.name()} has no option ${flag}`);
    else if ((option.required || option.optional) && !arg.includes('=')) index += 1;
  }
  return problems;
}

/** `Key=value` lines of a systemd unit, by section. */
async function unitFile(file: string): Promise<Map<string, Array<[string, string]>>> {
  const sections = new Map<string, Array<[string, string]>>();
  let section = '';
  for (const raw of (await readFile(join(SYSTEMD, file), 'utf8')).split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      sections.set(section, []);
      continue;
    }
    const equals = line.indexOf('=');
    if (equals < 0 || section === '') throw new Error(`${file}: not a unit-file line: ${line}`);
    sections.get(section)!.push([line.slice(0, equals), line.slice(equals + 1)]);
  }
  return sections;
}

async function productionSource(directory: string): Promise<string> {
  let text = '';
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'test-support') text += await productionSource(path);
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
      text += await readFile(path, 'utf8');
    }
  }
  return text;
}

describe('the command-line check itself', () => {
  it('catches an unknown command, an unknown flag and a missing command', async () => {
    expect(await invocationProblems(['keyledger', 'server', '--host', '0.0.0.0'], 'ok')).toEqual([]);
    expect(await invocationProblems(['keyledger', 'audit', '--format=markdown', '-v'], 'ok')).toEqual([]);
    expect(await invocationProblems(['keyledger', 'serve'], 'x')).toEqual(['x: keyledger has no command "serve"']);
    expect(await invocationProblems(['keyledger', 'server', '--replica-count', '3'], 'x')).toEqual([
      'x: keyledger server has no option --replica-count',
    ]);
    expect(await invocationProblems(['keyledger'], 'x')).toEqual(['x: no keyledger command named']);
    expect(await invocationProblems(['/usr/bin/node', 'server'], 'x')).toEqual([
      'x: runs /usr/bin/node, not keyledger',
    ]);
  });
});

describe('deploy/kubernetes', () => {
  it('every document is a known kind at its apiVersion, and the example has each piece docs/deploy.md describes', async () => {
    const all = await manifests();
    for (const { file, doc } of all) {
      expect(API_VERSIONS[doc.kind], `${file}: kind ${doc.kind}`).toBeDefined();
      expect(doc.apiVersion, `${file}: ${doc.kind}`).toBe(API_VERSIONS[doc.kind]);
      expect(doc.metadata?.name, `${file}: ${doc.kind} without a name`).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
    const kinds = all.map(({ doc }) => doc.kind);
    for (const kind of ['Deployment', 'Service', 'Secret', 'ConfigMap', 'CronJob']) expect(kinds).toContain(kind);
    const deployment = all.find(({ doc }) => doc.kind === 'Deployment')!.doc;
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
  });

  it('every keyledger command and flag the containers run exists in the CLI', async () => {
    let checked = 0;
    for (const { file, doc } of await manifests()) {
      for (const container of podSpec(doc)?.containers ?? []) {
        const argv = [...(container.command ?? []), ...(container.args ?? [])];
        expect(await invocationProblems(argv, `${file} ${doc.kind}/${doc.metadata.name}`)).toEqual([]);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(2);
  });

  it('probes ask for endpoints the server has, on a port the container names', async () => {
    const server = await readFile(join(REPOSITORY, 'src', 'server', 'keyledger-server.ts'), 'utf8');
    const routes = new Set([...server.matchAll(/server\.get\('([^']+)'/g)].map((match) => match[1]));
    let probes = 0;
    for (const { file, doc } of await manifests()) {
      for (const container of podSpec(doc)?.containers ?? []) {
        const ports = new Set(
          (container.ports ?? []).flatMap((port: { name?: string; containerPort: number }) => [
            port.name,
            port.containerPort,
          ]),
        );
        for (const kind of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
          const probe = container[kind]?.httpGet;
          if (!probe) continue;
          probes += 1;
          expect(routes, `${file}: ${kind} ${probe.path}`).toContain(probe.path);
          expect(ports, `${file}: ${kind} port ${probe.port}`).toContain(probe.port);
        }
      }
    }
    expect(probes).toBeGreaterThanOrEqual(3);
  });

  it('selectors, Secret keys, ConfigMaps and the Service’s target port hold together', async () => {
    const all = await manifests();
    const byKind = (kind: string) => all.filter(({ doc }) => doc.kind === kind).map(({ doc }) => doc);
    const secrets = new Map(
      byKind('Secret').map((secret) => [
        secret.metadata.name,
        new Set(Object.keys({ ...secret.data, ...secret.stringData })),
      ]),
    );
    const configMaps = new Set(byKind('ConfigMap').map((map) => map.metadata.name));
    const deployment = byKind('Deployment')[0]!;
    const podLabels = deployment.spec.template.metadata.labels;
    const within = (selector: Record<string, string>) =>
      Object.entries(selector).every(([key, value]) => podLabels[key] === value);
    expect(within(deployment.spec.selector.matchLabels)).toBe(true);
    for (const service of byKind('Service')) {
      expect(within(service.spec.selector)).toBe(true);
      const portNames = deployment.spec.template.spec.containers.flatMap((c: { ports?: { name: string }[] }) =>
        (c.ports ?? []).map((port) => port.name),
      );
      for (const port of service.spec.ports) expect(portNames).toContain(port.targetPort);
    }
    for (const budget of byKind('PodDisruptionBudget')) {
      expect(within(budget.spec.selector.matchLabels)).toBe(true);
      expect(budget.spec.minAvailable).toBeLessThan(deployment.spec.replicas);
    }
    for (const { file, doc } of all) {
      const spec = podSpec(doc);
      if (!spec) continue;
      for (const container of spec.containers) {
        for (const source of container.envFrom ?? []) {
          if (source.configMapRef) expect(configMaps, file).toContain(source.configMapRef.name);
          if (source.secretRef) expect(secrets.has(source.secretRef.name), file).toBe(true);
        }
        for (const variable of container.env ?? []) {
          const ref = variable.valueFrom?.secretKeyRef;
          if (ref) expect(secrets.get(ref.name), `${file}: ${variable.name}`).toContain(ref.key);
        }
        const volumes = new Set(spec.volumes.map((volume: { name: string }) => volume.name));
        for (const mount of container.volumeMounts ?? []) expect(volumes, file).toContain(mount.name);
      }
      for (const volume of spec.volumes ?? []) {
        if (!volume.secret) continue;
        for (const item of volume.secret.items ?? [])
          expect(secrets.get(volume.secret.secretName), `${file}: volume ${volume.name}`).toContain(item.key);
      }
    }
  });
});

describe('deploy/systemd', () => {
  it('every ExecStart runs a keyledger command and flags that exist, with an environment file shipped beside it', async () => {
    const files = (await readdir(SYSTEMD)).sort();
    let execs = 0;
    for (const file of files.filter((name) => name.endsWith('.service'))) {
      const unit = await unitFile(file);
      const service = unit.get('Service') ?? [];
      for (const [key, value] of service) {
        if (key === 'ExecStart') {
          execs += 1;
          expect(await invocationProblems(value.trim().split(/\s+/), file)).toEqual([]);
        }
        if (key === 'EnvironmentFile') expect(files).toContain(basename(value.replace(/^-/, '')));
      }
      expect(unit.has('Unit'), file).toBe(true);
    }
    expect(execs).toBeGreaterThanOrEqual(2);
    for (const timer of files.filter((name) => name.endsWith('.timer'))) {
      const unit = await unitFile(timer);
      expect(unit.get('Timer')?.some(([key]) => key === 'OnCalendar')).toBe(true);
      expect(files).toContain(timer.replace(/\.timer$/, '.service'));
    }
  });
});

/** One instruction of a Dockerfile: its keyword (upper case) and its arguments, continuation lines joined. */
interface DockerInstruction {
  keyword: string;
  args: string;
}

/** The instructions of the Dockerfile's last stage (what the image runs), and the FROM of every stage. */
async function dockerfile(): Promise<{ stages: string[]; final: DockerInstruction[] }> {
  const text = (await readFile(join(REPOSITORY, 'Dockerfile'), 'utf8')).replace(/\\\n/g, ' ');
  const stages: string[] = [];
  let final: DockerInstruction[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const space = line.search(/\s/);
    const keyword = line.slice(0, space).toUpperCase();
    const args = line.slice(space + 1).trim();
    if (keyword === 'FROM') {
      stages.push(args);
      final = [];
    }
    final.push({ keyword, args });
  }
  return { stages, final };
}

/** `ENV A=1 B=2` (the form the Dockerfile uses) as pairs. */
function envPairs(args: string): Array<[string, string]> {
  return [...args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g)].map((m) => [m[1]!, m[2]!.replace(/^"|"$/g, '')]);
}

describe('Dockerfile', () => {
  it('builds in one stage and runs on node:20 slim in another, as a non-root user the manifests expect', async () => {
    const { stages, final } = await dockerfile();
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages.at(-1)).toMatch(/^node:20[-.\w]*slim\b/);
    const user = final.find((instruction) => instruction.keyword === 'USER')?.args ?? '';
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user.split(':')[0])).toBeGreaterThan(0);
    for (const { file, doc } of await manifests()) {
      const spec = podSpec(doc);
      if (!spec) continue;
      expect(String(spec.securityContext?.runAsUser), file).toBe(user.split(':')[0]);
      for (const container of spec.containers) expect(container.image, file).toMatch(/\/keyledger:/);
    }
  });

  it('ENTRYPOINT + CMD run `keyledger server`, a command and flags the CLI has', async () => {
    const { final } = await dockerfile();
    const exec = (keyword: string) => {
      const found = final.findLast((instruction) => instruction.keyword === keyword);
      return found ? (JSON.parse(found.args) as string[]) : [];
    };
    const argv = [...exec('ENTRYPOINT'), ...exec('CMD')];
    expect(argv.slice(0, 2)).toEqual(['keyledger', 'server']);
    expect(await invocationProblems(argv, 'Dockerfile')).toEqual([]);
  });

  it('sets only KEYLEDGER_* variables keyledger reads, and its HEALTHCHECK asks for /readyz on the port it serves', async () => {
    const { final } = await dockerfile();
    const env = new Map(final.filter((i) => i.keyword === 'ENV').flatMap((i) => envPairs(i.args)));
    const source = await productionSource(join(REPOSITORY, 'src'));
    const keyledgerVariables = [...env.keys()].filter((name) => name.startsWith('KEYLEDGER_'));
    expect(keyledgerVariables.length).toBeGreaterThanOrEqual(3);
    for (const variable of keyledgerVariables)
      expect(new RegExp(`\\b${variable}\\b`).test(source), variable).toBe(true);
    const port = env.get('KEYLEDGER_SERVER_PORT');
    expect(final.find((i) => i.keyword === 'EXPOSE')?.args).toBe(port);
    const healthcheck = final.find((i) => i.keyword === 'HEALTHCHECK')?.args ?? '';
    const command = JSON.parse(healthcheck.slice(healthcheck.indexOf('CMD ') + 4)) as string[];
    expect(command[0]).toBe('node');
    expect(command.join(' ')).toContain('process.env.KEYLEDGER_SERVER_PORT}/readyz');
    const server = await readFile(join(REPOSITORY, 'src', 'server', 'keyledger-server.ts'), 'utf8');
    expect(server).toContain("server.get('/readyz'");
    // The same paths the ConfigMap sets, so the image alone and the manifests agree.
    const configMap = (await manifests()).find(({ doc }) => doc.kind === 'ConfigMap')!.doc.data;
    for (const name of ['KEYLEDGER_REGISTRY', 'KEYLEDGER_DATA_DIR', 'KEYLEDGER_SERVER_PORT'])
      expect(env.get(name), name).toBe(configMap[name]);
  });

  it('.dockerignore keeps the local checkout state out of the build context', async () => {
    const ignored = (await readFile(join(REPOSITORY, '.dockerignore'), 'utf8')).split('\n').map((line) => line.trim());
    for (const entry of ['.git', 'node_modules', 'dist']) expect(ignored).toContain(entry);
  });
});

describe('deploy/', () => {
  it('sets only KEYLEDGER_* variables that keyledger reads', async () => {
    const source = await productionSource(join(REPOSITORY, 'src'));
    const texts = await Promise.all([
      ...(await readdir(KUBERNETES)).map((file) => readFile(join(KUBERNETES, file), 'utf8')),
      ...(await readdir(SYSTEMD)).map((file) => readFile(join(SYSTEMD, file), 'utf8')),
    ]);
    const variables = new Set(texts.flatMap((text) => [...text.matchAll(/\bKEYLEDGER_[A-Z0-9_]+/g)].map((m) => m[0])));
    expect(variables.size).toBeGreaterThan(5);
    // Whole names only: KEYLEDGER_REGISTRY must be read as itself, not found inside KEYLEDGER_REGISTRY_REMOTE.
    for (const variable of variables) expect(new RegExp(`\\b${variable}\\b`).test(source), variable).toBe(true);
  });
});
