import { getParser } from 'bowser';

/** A session as `GET /v1/sessions` lists it. */
export interface SessionView {
  id: string;
  kind: 'cookie' | 'token';
  current: boolean;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  user_agent: string | null;
  ip: string | null;
}

/** What the page shows for a session's client. */
export interface Device {
  /** "Chrome on Linux", "Safari on iOS", "Firefox", "Unknown device". */
  name: string;
  /** Which icon: a phone, a tablet, or a computer (also for anything unknown). */
  form: 'mobile' | 'tablet' | 'desktop';
}

const FORMS = new Set(['mobile', 'tablet']);

/**
 * Names a client from its User-Agent as people say it ("Chrome on Linux"), with bowser's
 * tables of browsers and systems. A client bowser does not know (curl, an SDK) keeps its own
 * product token ("curl/8.5.0"); no User-Agent at all is an "Unknown device".
 *
 * @example
 * describeDevice('Mozilla/5.0 (X11; Linux x86_64) … Chrome/140.0.0.0 Safari/537.36') // { name: 'Chrome on Linux', form: 'desktop' }
 */
export function describeDevice(userAgent: string | null): Device {
  const ua = userAgent?.trim() ?? '';
  if (ua === '') return { name: 'Unknown device', form: 'desktop' };
  const parser = getParser(ua);
  const browser = parser.getBrowserName();
  const os = parser.getOSName();
  const platform = parser.getPlatformType(true);
  const form = FORMS.has(platform) ? (platform as Device['form']) : 'desktop';
  if (browser && os) return { name: `${browser} on ${os}`, form };
  if (browser || os) return { name: browser || os, form };
  // Not a browser: its first product token says what it is, bounded for the layout.
  const product = ua.split(/\s/)[0] ?? ua;
  return { name: product.length > 40 ? `${product.slice(0, 39)}…` : product, form };
}
