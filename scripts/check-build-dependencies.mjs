// Runs before `npm run build` in the `prepare` script: the build needs TypeScript, a devDependency, and where it is
// missing this says why and what to do instead of failing with "tsc: not found" (exit 127). The case users meet:
// `npm install -g git+<url>` on npm < 12 (see "Install" in README.md).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function typescriptInstalled() {
  try {
    require.resolve('typescript/package.json');
    return true;
  } catch {
    return false;
  }
}

if (!typescriptInstalled()) {
  const version = require('../package.json').version;
  // npm sets _PACOTE_NO_PREPARE_ for the `npm install` it runs in a git checkout before packing it, and passes
  // npm_config_global=true on to that install when the outer one is global (npm/cli#8440; npm 12 passes
  // --global=false). That install then links the checkout into the global prefix instead of installing its
  // devDependencies, and the link points into a temporary folder npm deletes afterwards, so no build can help.
  const globalGitInstall = process.env._PACOTE_NO_PREPARE_ !== undefined && process.env.npm_config_global === 'true';
  const lines = globalGitInstall
    ? [
        "keyledger: `npm install -g git+<url>` cannot work on npm < 12: npm runs the git checkout's preparation as a",
        'global install (npm/cli#8440, fixed in npm 12, which needs Node.js 22.22+), so TypeScript is never installed',
        'in the checkout, and npm would link keyledger to a temporary folder that it then deletes. Install it one of',
        'these ways instead:',
        `  npm install -g keyledger@${version}                  # from the npm registry`,
        `  npm install -g ./keyledger-${version}.tgz            # a release tarball (npm pack)`,
        '  git clone <url> keyledger && cd keyledger && npm install && npm install -g "$(npm pack --silent)"',
      ]
    : [
        'keyledger: building needs the devDependencies (TypeScript), which are not installed here.',
        'Run `npm install` without --omit=dev (and without NODE_ENV=production), then `npm run build`.',
      ];
  process.stderr.write(`${lines.join('\n')}\n`);
  process.exit(1);
}
