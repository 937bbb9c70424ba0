// Runs the CLI from the TypeScript sources (tests and development: `node --import tsx src/cli/run-for-dev.ts`).
import { main } from './main.js';

process.exitCode = await main(process.argv);
