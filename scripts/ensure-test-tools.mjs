// Runs before `npm test` (the `pretest` script): the suite drives a real Chromium for the dashboard's browser tests
// (src/web/) and runs Prometheus's promtool on the metrics, recording and alert rules (deploy/prometheus/). Neither
// ships on npm for this platform, so where one is missing this installs Debian's package (`chromium`,
// `prometheus`) with apt-get, as root or through passwordless sudo; elsewhere it stops with what to install.
// The tests never skip for a missing tool: they fail, and this says why first.
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const TOOLS = [
  { command: 'chromium', debianPackage: 'chromium', why: 'the dashboard browser tests (playwright-core)' },
  { command: 'promtool', debianPackage: 'prometheus', why: 'the metrics and alert-rule tests' },
];

function onPath(command) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {}
  }
  return false;
}

const missing = TOOLS.filter((tool) => !onPath(tool.command));
if (missing.length > 0) {
  const packages = missing.map((tool) => tool.debianPackage);
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const sudo = !asRoot && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
  if (!onPath('apt-get') || (!asRoot && !sudo)) {
    process.stderr.write(
      `keyledger tests need ${missing.map((tool) => `${tool.command} (${tool.why})`).join(' and ')}.\n` +
        `Install them (Debian/Ubuntu: \`sudo apt-get install -y ${packages.join(' ')}\`), then run \`npm test\` again.\n`,
    );
    process.exit(1);
  }
  const run = (args) => {
    const [command, ...rest] = sudo ? ['sudo', '-n', ...args] : args;
    execFileSync(command, rest, {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  };
  process.stderr.write(`keyledger: installing ${packages.join(', ')} from Debian's packages for the tests\n`);
  run(['apt-get', 'update', '-qq']);
  run(['apt-get', 'install', '-y', '-qq', ...packages]);
}
