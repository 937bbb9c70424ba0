// `keyledger scan rules [--config PATH] [--json]`: the rules in force — the built-in set, or a config's rules when
// one is given or found (.keyledger.toml / .gitleaks.toml in the directory), as `scan` would load them.
import type { Command } from 'commander';
import { loadScanConfig } from '../../scan/config/scan-config-loader.js';
import { listRules, renderRuleTable } from '../../scan/rules/rule-listing.js';
import type { CliContext } from '../cli-context.js';

export function registerScanRulesCommand(scan: Command, context: CliContext): void {
  scan
    .command('rules')
    .argument('[path]', 'directory whose .keyledger.toml / .gitleaks.toml applies', '.')
    .description('list the rules in force: id, description, keywords, provider, whether findings verify live')
    .option('-c, --config <path>', 'gitleaks-compatible TOML config to apply')
    .option('--json', 'print the rules as JSON')
    .action(async (path: string, options: { config?: string; json?: boolean }) => {
      const { ruleSet, path: configPath } = await loadScanConfig({
        cwd: context.cwd,
        env: context.env,
        sourceDir: path,
        ...(options.config ? { configPath: options.config } : {}),
      });
      const listing = listRules(ruleSet);
      if (options.json) {
        context.stdout.write(`${JSON.stringify({ config: configPath ?? null, rules: listing }, null, 2)}\n`);
        return;
      }
      if (configPath) context.stdout.write(`config: ${configPath}\n`);
      context.stdout.write(renderRuleTable(listing));
    });
}
