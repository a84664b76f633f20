import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** The server's Prometheus metrics, on a registry of its own (several apps can live in one process, as in tests). */
export function createMetrics() {
  const registry = new Registry();
  // The namespace alone: the default names already start with `process_` or `nodejs_`, so any
  // longer prefix says a word twice (`tessera_process_process_cpu_seconds_total`).
  collectDefaultMetrics({ register: registry, prefix: 'tessera_' });
  const metrics = {
    registry,
    logins: new Counter({
      name: 'tessera_logins_total',
      help: 'Login attempts by mode and result',
      labelNames: ['mode', 'result'],
      registers: [registry],
    }),
    tokensIssued: new Counter({
      name: 'tessera_tokens_issued_total',
      help: 'Access tokens issued',
      labelNames: ['grant'],
      registers: [registry],
    }),
    refreshes: new Counter({
      name: 'tessera_refreshes_total',
      help: 'Refresh-token grants by result',
      labelNames: ['result'],
      registers: [registry],
    }),
    reuseDetections: new Counter({
      name: 'tessera_refresh_reuse_detected_total',
      help: 'Refresh-token reuse detections (family revoked)',
      registers: [registry],
    }),
    revocations: new Counter({
      name: 'tessera_revocations_total',
      help: 'Sessions revoked, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    requestDuration: new Histogram({
      name: 'tessera_http_request_duration_seconds',
      help: 'Request latency by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
  };
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
