import { describe, expect, it } from 'vitest';
import type { FeedStatus } from './feed/revocation-feed.js';
import { createVerifier } from './index.js';
import type { JwksStatus } from './jwks/remote.js';
import { metricsText } from './metrics.js';
import { AUDIENCE, ISSUER, manualClock, NOW_MS } from './test-support.js';

const FEED: FeedStatus = {
  source: 'sse',
  connected: false,
  downSince: NOW_MS - 2_500,
  lagMs: null,
  cursor: '42',
  rules: 3,
  events: 7,
  reconnects: 1,
  failingClosed: false,
};
const JWKS: JwksStatus = { keys: 2, fetchedAt: NOW_MS, expiresAt: NOW_MS, stale: true, lastError: 'JWKS answered 503', fetches: 4 };

interface Parsed {
  help: Map<string, string>;
  type: Map<string, string>;
  /** Metric name of each sample line, in order. */
  samples: { name: string; labels: string; value: string }[];
}

/** Parses Prometheus text (format 0.0.4), failing on a line it does not recognise or a HELP/TYPE line given twice. */
function parse(text: string): Parsed {
  const parsed: Parsed = { help: new Map(), type: new Map(), samples: [] };
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.split('\n').slice(0, -1)) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, 'HELP' | 'TYPE', string, string];
      const map = kind === 'HELP' ? parsed.help : parsed.type;
      expect(map.has(name), `${kind} ${name} given twice`).toBe(false);
      map.set(name, rest);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    expect(sample, `not a sample line: ${line}`).not.toBeNull();
    const [, name, labels, value] = sample as unknown as [string, string, string | undefined, string];
    parsed.samples.push({ name, labels: labels ?? '', value });
  }
  return parsed;
}

/** Every sample's metric has a HELP and a TYPE line before it, and no metric name repeats a word. */
function expectWellFormed(text: string): Parsed {
  const parsed = parse(text);
  for (const { name } of parsed.samples) {
    expect(parsed.help.get(name), `HELP for ${name}`).toMatch(/\S/);
    expect(['gauge', 'counter'], `TYPE for ${name}`).toContain(parsed.type.get(name));
    const words = name.split('_');
    expect(new Set(words).size, `${name} repeats a word`).toBe(words.length);
  }
  for (const name of [...parsed.help.keys(), ...parsed.type.keys()]) {
    expect(
      parsed.samples.some((s) => s.name === name),
      `${name} has HELP/TYPE but no sample`,
    ).toBe(true);
  }
  return parsed;
}

describe('metricsText', () => {
  it('gives every series a HELP and a TYPE line, and no metric name repeats a word', () => {
    const parsed = expectWellFormed(metricsText({ feed: FEED, jwks: JWKS, now: NOW_MS }));
    expect(parsed.samples.map((s) => s.name)).toEqual([
      'tessera_verify_feed_connected',
      'tessera_verify_feed_lag_seconds',
      'tessera_verify_feed_down_seconds',
      'tessera_verify_revocation_rules',
      'tessera_verify_feed_events_total',
      'tessera_verify_jwks_keys',
      'tessera_verify_jwks_stale',
      'tessera_verify_jwks_fetches_total',
    ]);
    for (const s of parsed.samples) expect(parsed.type.get(s.name)).toBe(s.name.endsWith('_total') ? 'counter' : 'gauge');
  });

  it('reports the statuses: the connection with its source, no lag known as NaN, the outage on the given clock', () => {
    const values = Object.fromEntries(
      parse(metricsText({ feed: FEED, jwks: JWKS, now: NOW_MS })).samples.map((s) => [`${s.name}${s.labels}`, s.value]),
    );
    expect(values).toEqual({
      'tessera_verify_feed_connected{source="sse"}': '0',
      tessera_verify_feed_lag_seconds: 'NaN',
      tessera_verify_feed_down_seconds: '2.5',
      tessera_verify_revocation_rules: '3',
      tessera_verify_feed_events_total: '7',
      tessera_verify_jwks_keys: '2',
      tessera_verify_jwks_stale: '1',
      tessera_verify_jwks_fetches_total: '4',
    });
    const up = metricsText({ feed: { ...FEED, source: 'redis', connected: true, downSince: null, lagMs: 12 }, now: NOW_MS });
    expect(up).toContain('tessera_verify_feed_connected{source="redis"} 1\n');
    expect(up).toMatch(/^tessera_verify_feed_lag_seconds 0\.012$/m);
    expect(up).toMatch(/^tessera_verify_feed_down_seconds 0$/m);
    expect(up).not.toContain('jwks');
  });

  it('leaves out the series of what the verifier does not have', () => {
    expect(metricsText({ feed: null, jwks: null, now: NOW_MS })).toBe('\n');
    const jwksOnly = expectWellFormed(metricsText({ jwks: JWKS, now: NOW_MS }));
    expect(jwksOnly.samples.every((s) => s.name.startsWith('tessera_verify_jwks_'))).toBe(true);
  });

  it('a verifier with a JWKS and a feed serves well-formed text before it has started', () => {
    const offline = async () => {
      throw new Error('offline');
    };
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUri: `${ISSUER}/.well-known/jwks.json`,
      jwks: { fetch: offline },
      revocations: { fetch: offline },
      clock: manualClock(),
    });
    try {
      const parsed = expectWellFormed(verifier.metrics());
      expect(parsed.samples).toHaveLength(8);
    } finally {
      verifier.close();
    }
  });
});
