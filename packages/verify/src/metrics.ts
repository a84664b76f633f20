import type { FeedStatus } from './feed/revocation-feed.js';
import type { JwksStatus } from './jwks/remote.js';

/** What {@link metricsText} reports on. */
export interface MetricsInput {
  /** The revocation feed's state, or null (or absent) without a feed: its series are left out. */
  feed?: FeedStatus | null;
  /** The remote JWKS's state, or null (or absent) with fixed keys: its series are left out. */
  jwks?: JwksStatus | null;
  /** Now, in ms since the epoch, on the verifier's clock: how long the feed has been down is measured to it. */
  now: number;
}

/** One series: its name, help text, type and samples (label set, or '' for none, and value). */
interface Series {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  samples: [labels: string, value: number][];
}

/**
 * The verifier's state as Prometheus text (exposition format 0.0.4): whether the revocation feed
 * is connected, its lag and outage, the rules it holds and the events it applied, and the JWKS's
 * keys, staleness and fetches. Every series has its `# HELP` and `# TYPE` line.
 *
 * @example
 * metricsText({ feed: verifier.feedStatus(), jwks: verifier.jwksStatus(), now: Date.now() });
 */
export function metricsText({ feed, jwks, now }: MetricsInput): string {
  const series: Series[] = [];
  if (feed) {
    series.push(
      {
        name: 'tessera_verify_feed_connected',
        help: 'Whether the revocation feed is connected (1) or not (0).',
        type: 'gauge',
        samples: [[`{source="${feed.source}"}`, feed.connected ? 1 : 0]],
      },
      {
        name: 'tessera_verify_feed_lag_seconds',
        help: 'Delay between the server writing the latest revocation and this service applying it.',
        type: 'gauge',
        // NaN until an event carrying its write time has arrived: no lag is known, and 0 would claim one.
        samples: [['', feed.lagMs === null ? Number.NaN : feed.lagMs / 1000]],
      },
      {
        name: 'tessera_verify_feed_down_seconds',
        help: 'How long the revocation feed has been disconnected (0 while connected).',
        type: 'gauge',
        samples: [['', feed.downSince === null ? 0 : (now - feed.downSince) / 1000]],
      },
      {
        name: 'tessera_verify_revocation_rules',
        help: 'Revocation rules held (sessions and users whose earlier tokens are refused).',
        type: 'gauge',
        samples: [['', feed.rules]],
      },
      {
        name: 'tessera_verify_feed_events_total',
        help: 'Revocation events applied from the feed, live or caught up.',
        type: 'counter',
        samples: [['', feed.events]],
      },
    );
  }
  if (jwks) {
    series.push(
      {
        name: 'tessera_verify_jwks_keys',
        help: 'Keys in the cached JWKS.',
        type: 'gauge',
        samples: [['', jwks.keys]],
      },
      {
        name: 'tessera_verify_jwks_stale',
        help: 'Whether the JWKS is served past its cache time because refreshing failed (1) or not (0).',
        type: 'gauge',
        samples: [['', jwks.stale ? 1 : 0]],
      },
      {
        name: 'tessera_verify_jwks_fetches_total',
        help: 'JWKS fetches attempted, successful or not.',
        type: 'counter',
        samples: [['', jwks.fetches]],
      },
    );
  }
  const lines: string[] = [];
  for (const s of series) {
    lines.push(`# HELP ${s.name} ${s.help}`, `# TYPE ${s.name} ${s.type}`);
    for (const [labels, value] of s.samples) lines.push(`${s.name}${labels} ${value}`);
  }
  return `${lines.join('\n')}\n`;
}
