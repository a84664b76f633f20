// The demo app: @tessera/client's browser build on a page of its own origin, calling the auth
// server and two resource services on three other origins. `window.demo` is the handle the
// browser tests drive it by. Everything shown is built with textContent: no server text is HTML.
import { createClient } from './tessera-client.js';

const $ = (id) => document.getElementById(id);
const config = await (await fetch('/config.json')).json();
const mode = new URLSearchParams(location.search).get('mode') === 'cookie' ? 'cookie' : 'token';
// Token mode: the Bearer token goes to the issuer and the two services, never anywhere else.
// Cookie mode: credentials go to the auth server only; the services get plain requests.
const client = createClient({
  issuer: config.auth,
  mode,
  allowedOrigins: mode === 'token' ? config.services.map((s) => s.url) : [],
});

/** The current access token, decoded for display (token mode). */
let current = null;
/** The access token of the session just signed out of: kept to show the services now refuse it. */
let signedOutToken = null;

// ---- the call log -----------------------------------------------------------------------

function log(text, tone = '') {
  const item = document.createElement('li');
  const time = document.createElement('time');
  time.textContent = new Date().toLocaleTimeString();
  item.append(time, text);
  if (tone) item.className = tone;
  $('log').prepend(item);
}

function say(text) {
  $('message').textContent = text;
  $('message').hidden = !text;
}

// ---- the session ------------------------------------------------------------------------

function decode(token) {
  const part = (s) => JSON.parse(atob(s.replace(/-/g, '+').replace(/_/g, '/')));
  const [header, payload] = token.split('.');
  return { token, header: part(header), claims: part(payload) };
}

async function loadToken() {
  current = null;
  if (mode === 'token' && client.user()) {
    try {
      const token = await client.accessToken();
      if (token) current = decode(token);
    } catch {
      // The auth server is down and the token needs a refresh: shown as "no token" until it is back.
    }
  }
  renderToken();
}

function renderToken() {
  const show = Boolean(current);
  $('token-info').hidden = !show;
  $('token-none').hidden = show;
  if (!show) {
    $('token-none-text').textContent =
      mode === 'cookie'
        ? 'None in cookie mode: the session lives on the auth server, and the browser holds an HttpOnly cookie that page script cannot read.'
        : 'Sign in to get one.';
    return;
  }
  $('token-size').textContent = String(current.token.length);
  $('token-expiry').textContent = new Date(current.claims.exp * 1000).toLocaleTimeString();
  $('token-alg').textContent = `${current.header.alg}, key ${current.header.kid}`;
  $('token-claims').textContent = JSON.stringify(current.claims, null, 2);
  tick();
}

function tick() {
  if (!current) return;
  const left = Math.round(current.claims.exp - Date.now() / 1000);
  $('token-left').textContent = left > 0 ? `(in ${Math.floor(left / 60)} min ${left % 60} s; refreshed a minute before)` : '(expired)';
}
setInterval(tick, 1000);

function render(user) {
  document.body.dataset.state = user ? 'signed-in' : 'signed-out';
  $('status').textContent = user ? `Signed in as ${user.email ?? user.id} (${mode} mode)` : 'Signed out';
  $('signed-in').hidden = !user;
  $('auth-form').hidden = Boolean(user);
  $('replay-old').hidden = Boolean(user) || !signedOutToken;
  if (user) {
    $('user-email').textContent = user.email ?? '—';
    $('user-id').textContent = user.id;
    $('user-session').textContent = user.sessionId ?? (mode === 'cookie' ? 'kept by the auth server (/v1/me names it)' : '—');
  }
  void loadToken();
}

client.on('change', (user, reason) => {
  if (reason === 'signed-out' && current) signedOutToken = current.token;
  if (reason === 'signed-in') signedOutToken = null;
  if (reason !== 'refreshed') log(reason === 'signed-in' ? `Signed in (${mode} mode)` : 'Signed out: the session is revoked');
  render(user);
});

async function submit(action) {
  const form = new FormData($('auth-form'));
  const input = { email: String(form.get('email')), password: String(form.get('password')) };
  say('');
  try {
    await (action === 'up' ? client.signUp(input) : client.signIn(input));
  } catch (err) {
    say(`${err.code ?? 'error'}: ${err.message}`);
  }
}

$('auth-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void submit('in');
});
$('sign-up').addEventListener('click', () => {
  if ($('auth-form').reportValidity()) void submit('up');
});
$('sign-out').addEventListener('click', () => {
  say('');
  client.signOut().catch((err) => say(`${err.code ?? 'error'}: ${err.message} (signing out needs the auth server)`));
});

// ---- calls ------------------------------------------------------------------------------

function field(label, value, className = '') {
  const p = document.createElement('p');
  const b = document.createElement('span');
  b.className = 'muted';
  b.textContent = `${label}: `;
  const v = document.createElement('span');
  v.textContent = value;
  if (className) v.className = className;
  p.append(b, v);
  return p;
}

/**
 * Shows one answer in its card. `outcome`: ok, refused (an HTTP error) or unreachable (no
 * answer readable); `meaning`: what it teaches; `json`: the whole body, folded away.
 */
function show(id, { outcome, pill, lines = [], meaning, json, jsonLabel = 'All claims' }) {
  const card = $(`result-${id}`);
  card.dataset.outcome = outcome;
  card.querySelector('.pill').textContent = pill;
  const body = card.querySelector('.body');
  body.replaceChildren(...lines);
  if (json !== undefined) {
    const details = document.createElement('details');
    const summary = document.createElement('summary');
    summary.textContent = jsonLabel;
    const pre = document.createElement('pre');
    pre.textContent = JSON.stringify(json, null, 2);
    details.append(summary, pre);
    body.append(details);
  }
  if (meaning) {
    const p = document.createElement('p');
    p.className = 'meaning';
    p.textContent = meaning;
    body.append(p);
  }
}

/** Why a service refused, in words: what the refusal shows about tokens. */
function refusalMeaning(body, replayed) {
  if (body?.error_description === 'the access token was revoked')
    return 'The signature is still valid, but the revocation feed told this service the session ended: refused without asking the auth server.';
  if (body?.error === 'unauthorized')
    return mode === 'cookie'
      ? 'No token was sent: in cookie mode the page has none, and the session cookie is for the auth server alone.'
      : 'No token was sent: sign in first.';
  return replayed ? 'The signed-out token is refused.' : 'The service refused the token.';
}

const time = (ms) => `${ms.toFixed(1)} ms`;

/** Marks a card as waiting for its answer (tests wait for it to change). */
function pending(id) {
  const card = $(`result-${id}`);
  card.dataset.outcome = 'pending';
  card.querySelector('.pill').textContent = 'calling…';
}

async function callService(service, token) {
  pending(service.id);
  const started = performance.now();
  try {
    const url = `${service.url}/hello`;
    // A replayed token goes out by hand: the client itself never sends a token it has let go of.
    const response = token ? await fetch(url, { headers: { authorization: `Bearer ${token}` } }) : await client.fetch(url);
    const roundTrip = performance.now() - started;
    const body = await response.json().catch(() => null);
    if (response.ok) {
      const { claims } = body;
      show(service.id, {
        outcome: 'ok',
        pill: `${response.status} · ${body.service} answered`,
        lines: [
          field('Verification in the service', `${body.verify_ms} ms`, 'figure'),
          field('Server-Timing', response.headers.get('server-timing') ?? '—', 'mono'),
          field('Round trip from this page', time(roundTrip)),
          field('User (sub)', claims.sub, 'mono'),
          field('Session (sid)', claims.sid ?? '—', 'mono'),
          field('Audience', [].concat(claims.aud).join(', '), 'mono'),
        ],
        json: claims,
        meaning: `Checked here with the auth server's public key; no call to the auth server. Repeat calls with the same token are answered from the service's verified-token cache, the revocation check included.`,
      });
      log(`${service.label}: 200, verified in ${body.verify_ms} ms (round trip ${time(roundTrip)})`);
    } else {
      const why = body?.error_description ?? body?.error ?? 'refused';
      show(service.id, {
        outcome: 'refused',
        pill: `${response.status} · refused`,
        lines: [field('Error', body?.error ?? '—', 'mono'), field('Why', why), field('Round trip from this page', time(roundTrip))],
        meaning: refusalMeaning(body, Boolean(token)),
      });
      log(`${service.label}: ${response.status} ${body?.error ?? ''} (${why})${token ? ', replaying the signed-out token' : ''}`);
    }
  } catch (err) {
    show(service.id, {
      outcome: 'unreachable',
      pill: 'no answer',
      lines: [field('Error', `network error (${err.message ?? err})`)],
      meaning: 'The service did not answer, or its answer was not readable from this origin.',
    });
    log(`${service.label}: no answer (${err.message ?? err})`);
  }
}

async function callMe() {
  pending('me');
  const started = performance.now();
  try {
    const response = await client.fetch(`${config.auth}/v1/me`);
    const roundTrip = performance.now() - started;
    const body = await response.json().catch(() => null);
    if (response.ok) {
      show('me', {
        outcome: 'ok',
        pill: `${response.status} · ${body.auth === 'jwt' ? 'by the access token' : 'by the session cookie'}`,
        lines: [
          field('Authenticated by', body.auth === 'jwt' ? 'Bearer token (auth: jwt)' : 'session cookie (auth: session)'),
          field('Email', body.email ?? '—'),
          field('Session (sid)', body.sid ?? '—', 'mono'),
          field('Round trip', time(roundTrip)),
        ],
        json: body,
        jsonLabel: 'The whole answer',
        meaning:
          body.auth === 'jwt'
            ? 'Answered from the token’s claims alone, without a store read.'
            : 'Answered after looking the session up in the auth server’s store.',
      });
      log(`Auth server /v1/me: 200 (auth: ${body.auth})`);
    } else {
      show('me', {
        outcome: 'refused',
        pill: `${response.status} · refused`,
        lines: [field('Error', body?.error ?? '—', 'mono'), field('Why', body?.error_description ?? '—')],
      });
      log(`Auth server /v1/me: ${response.status} ${body?.error ?? ''}`);
    }
  } catch (err) {
    show('me', {
      outcome: 'unreachable',
      pill: 'no answer',
      lines: [field('Error', `network error (${err.message ?? err})`)],
      meaning: 'The auth server is unreachable, and so is every session it holds.',
    });
    log(`Auth server /v1/me: no answer (${err.message ?? err})`);
  }
}

const fastify = config.services.find((s) => s.id === 'fastify');
const express = config.services.find((s) => s.id === 'express');
const callBoth = () => Promise.all([callService(fastify), callService(express)]);
$('call-both').addEventListener('click', () => void callBoth());
$('call-fastify').addEventListener('click', () => void callService(fastify));
$('call-express').addEventListener('click', () => void callService(express));
$('call-me').addEventListener('click', () => void callMe());
$('replay-old').addEventListener('click', () => {
  if (!signedOutToken) return;
  void Promise.all([callService(fastify, signedOutToken), callService(express, signedOutToken)]);
});

// ---- the auth server's switch and the services' feeds -------------------------------------

function showAuthState(state) {
  document.body.dataset.auth = state;
  $('node-auth').dataset.state = state;
  $('auth-state').textContent = state;
  $('node-auth').querySelector('.dot').className = `dot ${state === 'running' ? 'on' : state === 'stopped' ? 'off' : ''}`;
  $('auth-stop').disabled = state !== 'running';
  $('auth-start').disabled = state !== 'stopped';
  $('auth-control-state').textContent =
    state === 'stopped' ? 'The auth server is stopped: call again above.' : state === 'running' ? '' : `The auth server is ${state}…`;
}

/** Whether this page's own stop or start is in flight: until it answers, the poll leaves the state alone. */
let controlling = false;

async function control(action) {
  controlling = true;
  showAuthState(action === 'stop' ? 'stopping' : 'starting');
  try {
    const response = await fetch(`/control/auth/${action}`, { method: 'POST' });
    const body = await response.json();
    showAuthState(body.state);
    if (!response.ok) say(`${body.error}: ${body.error_description}`);
    else log(action === 'stop' ? 'Auth server stopped' : 'Auth server started again');
  } catch (err) {
    say(`the demo launcher did not answer: ${err.message}`);
  } finally {
    controlling = false;
  }
}
$('auth-stop').addEventListener('click', () => void control('stop'));
$('auth-start').addEventListener('click', () => void control('start'));

async function poll() {
  try {
    const state = (await (await fetch('/control/auth')).json()).state;
    // Another tab's stop or start shows here as it goes, 'stopping' included, and then as it ends.
    if (!controlling && state !== $('node-auth').dataset.state) showAuthState(state);
  } catch {
    // The launcher is gone: nothing to show.
  }
  for (const service of config.services) {
    const label = $(`feed-${service.id}`);
    const dot = $(`node-${service.id}`).querySelector('.dot');
    try {
      const { feed } = await (await fetch(`${service.url}/status`)).json();
      label.textContent = feed.connected ? 'verifying · revocation feed live' : 'verifying · feed down, retrying';
      dot.className = `dot ${feed.connected ? 'on' : ''}`;
    } catch {
      label.textContent = 'unreachable';
      dot.className = 'dot off';
    }
  }
}
setInterval(() => void poll(), 1500);

// ---- start ------------------------------------------------------------------------------

$('url-app').textContent = config.app;
$('url-auth').textContent = config.auth;
$('url-fastify').textContent = fastify.url;
$('url-express').textContent = express.url;
$(`mode-${mode}`).setAttribute('aria-current', 'page');
$(`explain-${mode}`).hidden = false;
document.body.dataset.mode = mode;
if (location.origin !== config.app) {
  $('origin-warning').hidden = false;
  $('origin-warning').textContent =
    `This page is open on ${location.origin}, which the auth server does not list: open ${config.app} instead.`;
}

window.demo = { client, mode, config, callBoth, callMe };
showAuthState((await (await fetch('/control/auth')).json()).state);
void poll();
try {
  render(await client.ready());
} catch (err) {
  render(null);
  say(`${err.code ?? 'error'}: ${err.message}`);
}
document.body.dataset.ready = 'true';
