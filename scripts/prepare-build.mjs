// The `prepare` script's build (package.json), after check-build-dependencies.mjs. `npx keyledger` run inside this
// repository makes npm install the repository itself into npx's cache — npm exec takes the project whose name it is
// asked to run for a package to install, even with --no-install — and that install runs `prepare` here: a full
// rebuild (dist removed, then tsc: ~25 s of two cores) on the first `npx keyledger` of every checkout, while the
// `npm start` the README has running beside it loads worker modules from dist. When npm runs `prepare` for `exec` and
// a build is in place, that build is what npx runs anyway, so it is kept. Every other `prepare` — npm install, npm ci,
// npm pack, an install from git, and `exec` of a checkout not built yet — builds.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const built = existsSync(new URL('../dist/cli/main.js', import.meta.url));
if (process.env.npm_command === 'exec' && built) process.exit(0);

// npm's own CLI, as npm runs scripts (npm_execpath), so the build runs with the npm that runs this.
const npm = process.env.npm_execpath;
if (npm) execFileSync(process.execPath, [npm, 'run', 'build'], { stdio: 'inherit' });
else execFileSync('npm', ['run', 'build'], { stdio: 'inherit', shell: process.platform === 'win32' });
