// The browser tests' single-page app: @tessera/client's browser build, loaded as a page would
// load it. `window.app` is the handle the tests drive it by.
import { createClient } from './tessera-client.js';

const params = new URLSearchParams(location.search);
const mode = params.get('mode') === 'cookie' ? 'cookie' : 'token';
const issuer = params.get('issuer') ?? 'http://localhost:3000';
// `crossTab=false`: the tests' control, each tab on its own.
const crossTab = params.get('crossTab') !== 'false';
const client = createClient({ issuer, mode, crossTab });
const $ = (id) => document.getElementById(id);
const tab = Math.random().toString(36).slice(2, 6);

/** Times (this tab's clock) of every sign-out this tab saw, for the "all tabs within 1 s" check. */
const signedOutAt = [];

function render(user) {
  document.body.dataset.state = user ? 'signed-in' : 'signed-out';
  $('status').textContent = user ? `Signed in as ${user.email ?? user.id}` : 'Signed out';
  $('signed-in').hidden = !user;
  $('signed-out').hidden = Boolean(user);
  if (!user) return;
  $('user-email').textContent = user.email ?? '—';
  $('user-id').textContent = user.id;
  $('user-session').textContent = user.sessionId ?? '—';
  void client.accessToken().then((token) => {
    $('token-info').textContent = token ? `${token.length} bytes, ends …${token.slice(-12)}` : '—';
  });
}

function say(text) {
  $('message').textContent = text;
  $('message').hidden = !text;
}

client.on('change', (user, reason) => {
  if (reason === 'signed-out') signedOutAt.push(Date.now());
  render(user);
});

async function submit(action) {
  const form = new FormData($('auth-form'));
  const input = { email: String(form.get('email')), password: String(form.get('password')) };
  say('');
  try {
    await (action === 'up' ? client.signUp(input) : client.signIn(input));
  } catch (err) {
    say(`${err.code}: ${err.message}`);
  }
}

$('auth-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void submit('in');
});
$('sign-up').addEventListener('click', () => void submit('up'));
$('sign-out').addEventListener('click', () => {
  window.app.signOutClickedAt = Date.now();
  client.signOut().catch((err) => say(`${err.code}: ${err.message}`));
});
$('call-me').addEventListener('click', async () => {
  const response = await client.fetch(`${issuer}/v1/me`);
  $('me-result').textContent = JSON.stringify(await response.json(), null, 2);
  $('me-result').hidden = false;
});

window.app = {
  client,
  mode,
  signedOutAt,
  signOutClickedAt: 0,
  /** Waits until `at` (epoch ms), then refreshes: every tab given one `at` asks at the same instant. */
  async refreshAt(at) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
    const started = Date.now();
    await client.refresh();
    return { started, token: await client.accessToken() };
  },
};

$('mode').textContent = mode;
$('tab').textContent = tab;
try {
  render(await client.ready());
} catch (err) {
  render(null);
  say(`${err.code}: ${err.message}`);
}
document.body.dataset.ready = 'true';
