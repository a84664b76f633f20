// `tessera bench --quick` end to end, through the built binary: real auth servers, a real
// resource service, real PostgreSQL and Redis when reachable. Checks the report's shape and that
// it says what results.json holds; no assertion on how fast anything was.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fmtBytes, fmtMs, fmtPct, fmtRps, fmtUs } from './format.js';
import type { BenchResults } from './types.js';

const BIN = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));
const CI = process.env.CI === 'true';
const SECTIONS = [
  'Headline',
  'A protected route: cookie session vs JWT',
  'CPU per request',
  'CPU per operation, in process',
  'Revocation: logout → refused',
  'Token size',
  'Login and refresh',
  'The auth server killed',
  'Machine and method',
];
const CHARTS = ['route-throughput', 'route-cpu', 'cpu-per-operation', 'revocation', 'sizes', 'login-refresh', 'outage'];

let dir: string;
let run: { code: number | null; stdout: string; stderr: string };
let md: string;
let html: string;
let results: BenchResults;

/** The cells of the Markdown table row whose first cell is `first`. */
function mdRow(first: string): string[] | undefined {
  for (const line of md.split('\n')) {
    if (!line.startsWith('|')) continue;
    const cells = line
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim().replace(/\\\|/g, '|'));
    if (cells[0] === first) return cells;
  }
  return undefined;
}

/** The Markdown text of the section titled `title`, up to the next section. */
function section(title: string): string {
  const start = md.indexOf(`## ${title}\n`);
  const next = md.indexOf('\n## ', start + 1);
  return md.slice(start, next < 0 ? undefined : next);
}

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build the CLI first (npx tsc -b packages/cli)`);
  dir = mkdtempSync(join(tmpdir(), 'tessera-bench-test-'));
  run = await new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, 'bench', '--quick', '--out', dir],
      { timeout: 170_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
  if (run.code !== 0) throw new Error(`tessera bench --quick exited ${run.code}:\n${run.stderr}\n${run.stdout}`);
  md = readFileSync(join(dir, 'report.md'), 'utf8');
  html = readFileSync(join(dir, 'report.html'), 'utf8');
  results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as BenchResults;
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('tessera bench --quick', () => {
  it('prints the headline and where the reports are, with no progress bar when piped', () => {
    expect(run.stdout).toContain('| Question');
    expect(run.stdout).toContain(join(dir, 'report.html'));
    expect(run.stdout + run.stderr).not.toContain('tessera bench |');
  });

  it('has every section, each with numbers in it', () => {
    for (const title of SECTIONS) {
      expect(md, title).toContain(`## ${title}\n`);
      expect(section(title), title).toMatch(/\d/);
      expect(html, title).toContain(`<h2>${title}</h2>`);
    }
    expect(md.indexOf('## Headline')).toBeLessThan(md.indexOf('## A protected route'));
  });

  it('draws every chart, inline in the HTML and as files linked from the Markdown', () => {
    for (const name of CHARTS) {
      const file = join(dir, 'charts', `${name}.svg`);
      expect(readFileSync(file, 'utf8'), name).toMatch(/^<svg[^>]+xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      expect(md, name).toMatch(new RegExp(`!\\[[^\\]]+\\]\\(charts/${name}\\.svg\\)`));
      expect(html, name).toMatch(new RegExp(`<figure id="chart-${name}"><figcaption>[^<]+</figcaption><svg`));
    }
  });

  it('writes an HTML report that needs no network', () => {
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(/i);
    // Every http(s) URL in it is an SVG namespace or a measured server on 127.0.0.1.
    for (const url of html.match(/https?:\/\/[^\s"'<)]+/g) ?? []) expect(url).toMatch(/^http:\/\/www\.w3\.org\/|^http:\/\/127\.0\.0\.1/);
  });

  it('says in the Markdown what results.json holds', () => {
    for (const h of results.headline) expect(mdRow(h.question)).toEqual([h.question, h.sessions, h.jwt, h.winner, h.margin]);
    for (const v of results.verdicts) expect(md).toContain(`- ${v.text}\n`);
    for (const r of results.http) {
      const row = mdRow(r.label);
      expect(row, r.label).toBeDefined();
      if (r.skipped !== undefined) {
        expect(row?.[2]).toBe(`skipped: ${r.skipped}`);
        continue;
      }
      expect(row?.slice(2, 6), r.label).toEqual([
        fmtRps(r.rps as number),
        fmtMs(r.p50Ms as number),
        fmtMs(r.p99Ms as number),
        r.kind === 'baseline' ? 'baseline' : fmtPct(r.ratio as number),
      ]);
    }
    for (const r of results.micro.filter((x) => x.skipped === undefined)) {
      expect(mdRow(r.label)?.slice(1, 3), r.label).toEqual([fmtUs(r.wallUs as number), fmtUs(r.cpuUs as number)]);
    }
    for (const r of results.revocation.filter((x) => x.skipped === undefined)) {
      expect(mdRow(r.label)?.slice(1, 4), r.label).toEqual([String(r.samples), fmtMs(r.p50Ms as number), fmtMs(r.p99Ms as number)]);
    }
    for (const r of results.sizes) expect(mdRow(r.label)?.[1], r.label).toBe(fmtBytes(r.bytes));
    for (const r of results.throughput.filter((x) => x.skipped === undefined))
      expect(mdRow(r.label)?.[1], r.label).toBe(fmtRps(r.rps as number));
    expect(mdRow('JWT at the resource service')).toEqual([
      'JWT at the resource service',
      String(results.outage?.requests),
      String(results.outage?.jwtOk),
    ]);
    expect(mdRow('cookie at the auth server')).toEqual([
      'cookie at the auth server',
      String(results.outage?.requests),
      String(results.outage?.cookieOk),
    ]);
  });

  it('measures every row it has a store for, each with a figure', () => {
    const ran = results.http.filter((r) => r.skipped === undefined);
    expect(ran.map((r) => r.id)).toEqual(expect.arrayContaining(['auth-baseline', 'resource-baseline', 'cookie-memory', 'cookie-sqlite']));
    expect(ran.filter((r) => r.kind === 'jwt')).toHaveLength(8);
    for (const r of ran) expect(r.rps, r.id).toBeGreaterThan(0);
    for (const r of results.micro.filter((x) => x.skipped === undefined)) expect(r.cpuUs, r.id).toBeGreaterThan(0);
    expect(results.sizes.find((s) => s.kind === 'cookie')?.bytes).toBeGreaterThan(0);
    expect(results.outage?.requests).toBeGreaterThan(0);
    expect(results.command).toBe(`tessera bench --quick --out ${dir}`);
    expect(md).toContain(`\`${results.command}\``);
    expect(md).toContain(results.machine.cpu);
    expect(md).toContain(results.machine.node);
  });

  it('gives every timed figure its rounds, and qualifies the --quick verdicts as rough', () => {
    for (const r of results.http.filter((x) => x.skipped === undefined)) {
      expect(r.roundsRps, r.id).toHaveLength(results.settings.rounds);
      expect(r.roundsCpuUs, r.id).toHaveLength(results.settings.rounds);
    }
    for (const r of results.micro.filter((x) => x.skipped === undefined))
      expect(r.roundsCpuUs, r.id).toHaveLength(results.settings.microRounds);
    // A cost clamped at zero reads "≤ noise", never as a free 0.00 µs.
    for (const h of results.headline) expect(`${h.sessions} ${h.jwt}`, h.question).not.toMatch(/(^|[^±] )0\.00 µs/);
    for (const h of results.headline.filter((x) => /CPU|Req\/s|Logout/.test(x.question) && x.winner !== '—')) {
      expect(h.margin, h.question).toMatch(/; rough \(--quick\)$/);
    }
    expect(results.verdicts.map((v) => v.text)).toContain(
      `This is a --quick run (${results.settings.rounds} rounds of ${results.settings.durationS} s per row): every verdict in it is rough; run \`tessera bench\` without --quick for figures to quote.`,
    );
  });

  it('has PostgreSQL and Redis rows, which CI requires to be measured, not skipped', () => {
    const needing = [
      ...results.http.filter((r) => r.backend === 'postgres' || r.backend === 'redis'),
      ...results.micro.filter((r) => r.backend === 'postgres' || r.backend === 'redis'),
      ...results.throughput.filter((r) => r.backend === 'postgres' || r.backend === 'redis'),
      ...results.revocation.filter((r) => r.feed === 'redis'),
    ];
    expect(needing.length).toBe(7);
    const skipped = needing.filter((r) => r.skipped !== undefined);
    if (CI) expect(skipped.map((r) => `${r.id}: ${r.skipped}`)).toEqual([]);
    else for (const r of skipped) console.log(`skipped outside CI: ${r.id}: ${r.skipped}`);
  });
});
