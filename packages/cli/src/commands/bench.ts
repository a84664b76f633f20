import { Command } from 'commander';
import type { Output } from '../lib/output.js';

/** `tessera bench`: the benchmark lab (sessions against JWTs, on every store it can reach), with its report. */
export function benchCommand(_output: Output): Command {
  return new Command('bench')
    .description('measure cookie sessions against JWTs on this machine and write a report (report.html, report.md, results.json)')
    .option('--quick', 'a short run: fewer rounds and shorter loads (a smoke test, not figures to quote)')
    .option('--out <dir>', 'directory for the report (created if missing)', 'tessera-bench')
    .option('--json', 'print results.json on stdout instead of the summary')
    .option('--no-progress', 'no progress bar (it is drawn only on a terminal anyway)')
    .action(async (options): Promise<void> => {
      // Loaded on use: the lab pulls in autocannon and the chart renderer.
      const { runBench } = await import('../bench/index.js');
      process.exitCode = await runBench({
        quick: options.quick === true,
        outDir: options.out,
        progress: options.progress !== false && process.stderr.isTTY === true,
        json: options.json === true,
      });
    });
}
