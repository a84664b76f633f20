// `tessera bench`: sessions and JWTs measured side by side on this machine, written up as
// report.html (self-contained), report.md (with charts/*.svg) and results.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { charts } from './charts.js';
import { progressBar } from './progress.js';
import { markdownTableOf, toHtml, toMarkdown } from './report.js';
import { measure, type RunContext, settingsFor } from './run.js';
import type { BenchResults } from './types.js';
import { headline, verdicts } from './verdicts.js';

/** Options of {@link runBench}. */
export interface BenchOptions {
  /** Three short rounds per row instead of three long ones: under a minute on two cores, every verdict rough. */
  quick: boolean;
  /** Where report.html, report.md, results.json and charts/ are written (created if missing). */
  outDir: string;
  /** A progress bar on a terminal. */
  progress: boolean;
  /** Print results.json to stdout instead of the summary (no progress bar). */
  json: boolean;
}

/** The command line that reproduces a run. */
export function commandOf(options: Pick<BenchOptions, 'quick' | 'outDir'>): string {
  const out = /^[\w./-]+$/.test(options.outDir) ? options.outDir : JSON.stringify(options.outDir);
  return `tessera bench${options.quick ? ' --quick' : ''} --out ${out}`;
}

/** Writes the three reports and the charts; returns the paths written. */
export function writeReports(results: BenchResults, outDir: string): { html: string; md: string; json: string; charts: string[] } {
  const dir = resolve(outDir);
  mkdirSync(join(dir, 'charts'), { recursive: true });
  const list = charts(results);
  const chartPaths = list.map((c) => {
    const path = join(dir, 'charts', `${c.name}.svg`);
    writeFileSync(path, c.svg);
    return path;
  });
  const html = join(dir, 'report.html');
  const md = join(dir, 'report.md');
  const json = join(dir, 'results.json');
  writeFileSync(html, toHtml(results, list));
  writeFileSync(md, toMarkdown(results, list));
  writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
  return { html, md, json, charts: chartPaths };
}

/**
 * Runs the bench lab and writes its report. Resolves the exit code: 0 when the run completed
 * (rows whose store is unreachable say "skipped" with the reason), 1 when it could not run.
 *
 * @example
 * process.exitCode = await runBench({ quick: true, outDir: './tessera-bench', progress: true, json: false });
 */
export async function runBench(options: BenchOptions): Promise<number> {
  const progress = progressBar(options.progress && !options.json);
  const ctx: RunContext = { cleanups: [] };
  const cleanUp = async () => {
    for (const undo of ctx.cleanups.splice(0).reverse()) await undo().catch(() => {});
  };
  // Ctrl-C still drops the bench's database and Redis keys and stops its servers.
  const interrupted = () => {
    progress.stop();
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  let results: BenchResults;
  try {
    const measured = await measure(settingsFor(options.quick), commandOf(options), progress, ctx);
    results = { ...measured, headline: headline(measured), verdicts: verdicts(measured) };
  } catch (err) {
    progress.stop();
    process.stderr.write(`tessera bench: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    await cleanUp();
    process.off('SIGINT', interrupted);
  }
  progress.stop();
  const written = writeReports(results, options.outDir);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    return 0;
  }
  const out = [
    `Tessera bench on ${results.machine.cpu} (${results.machine.cores} cores), Node ${results.machine.node}`,
    '',
    ...markdownTableOf({
      head: ['Question', 'Sessions', 'JWT', 'Winner', 'By how much'],
      rows: results.headline.map((h) => [h.question, h.sessions, h.jwt, h.winner, h.margin]),
      left: [0, 1, 2, 3, 4],
    }),
    '',
    ...results.verdicts.map((v) => `- ${v.text}`),
    '',
    `Report: ${written.html}`,
    `        ${written.md} (charts in ${join(resolve(options.outDir), 'charts')})`,
    `Data:   ${written.json}`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}
