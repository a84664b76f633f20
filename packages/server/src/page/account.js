// The account page: sign up, sign in by cookie session or by JWT, see the decoded token,
// list and revoke sessions. Tokens live in memory only (never localStorage).

const state = { mode: null, access: null, refresh: null, csrf: null };
const $ = (id) => document.getElementById(id);
const say = (text) => {
  $('message').textContent = text;
};

async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (state.mode === 'jwt' && state.access) headers.authorization = `Bearer ${state.access}`;
  if (state.mode === 'session' && state.csrf) headers['x-csrf-token'] = state.csrf;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) throw new Error(data?.error_description || `${res.status}`);
  return data;
}

function decodeSegment(segment) {
  const b64 = segment.replace(/-/g, '+').replace(/_/g, '/');
  const bytes = Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

function showToken() {
  const [h, p] = state.access.split('.');
  $('token-header').textContent = JSON.stringify(decodeSegment(h), null, 2);
  $('token-payload').textContent = JSON.stringify(decodeSegment(p), null, 2);
  $('token-size').textContent = `${state.access.length} bytes`;
  $('token-view').hidden = false;
}

async function render() {
  let me;
  try {
    me = await api('GET', '/v1/me');
  } catch {
    state.mode = state.mode === 'jwt' ? null : state.mode;
    $('signed-in').hidden = true;
    $('signed-out').hidden = false;
    return;
  }
  $('signed-out').hidden = true;
  $('signed-in').hidden = false;
  $('whoami').textContent = `${me.email ?? me.id} — authenticated by ${me.auth === 'jwt' ? 'JWT' : 'cookie session'}`;
  if (state.mode === 'jwt') showToken();
  else $('token-view').hidden = true;
  const { sessions } = await api('GET', '/v1/sessions');
  const body = $('sessions');
  body.replaceChildren();
  for (const s of sessions) {
    const tr = document.createElement('tr');
    if (s.current) tr.className = 'current';
    for (const text of [
      s.kind + (s.current ? ' (this one)' : ''),
      new Date(s.created_at).toLocaleString(),
      new Date(s.last_seen_at).toLocaleString(),
      s.user_agent ?? '',
    ]) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    const td = document.createElement('td');
    const button = document.createElement('button');
    button.textContent = 'Revoke';
    button.dataset.sid = s.id;
    td.append(button);
    tr.append(td);
    body.append(tr);
  }
}

function signedOut(text) {
  Object.assign(state, { mode: 'session', access: null, refresh: null, csrf: null });
  say(text);
  return render();
}

document.addEventListener('DOMContentLoaded', () => {
  state.mode = 'session';
  render();
  $('signup').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    try {
      await api('POST', '/v1/users', {
        email: f.get('email'),
        password: f.get('password'),
        ...(f.get('name') ? { name: f.get('name') } : {}),
      });
      say('Account created. Sign in below.');
    } catch (err) {
      say(err.message);
    }
  });
  $('signin').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    try {
      if (f.get('mode') === 'jwt') {
        const t = await api('POST', '/v1/token', { grant_type: 'password', username: f.get('email'), password: f.get('password') });
        Object.assign(state, { mode: 'jwt', access: t.access_token, refresh: t.refresh_token, csrf: null });
      } else {
        const s = await api('POST', '/v1/sessions', { email: f.get('email'), password: f.get('password') });
        Object.assign(state, { mode: 'session', access: null, refresh: null, csrf: s.csrf_token });
      }
      say('');
      await render();
    } catch (err) {
      say(err.message);
    }
  });
  $('refresh').addEventListener('click', async () => {
    try {
      const t = await api('POST', '/v1/token', { grant_type: 'refresh_token', refresh_token: state.refresh });
      Object.assign(state, { access: t.access_token, refresh: t.refresh_token });
      await render();
    } catch (err) {
      await signedOut(err.message);
    }
  });
  $('logout').addEventListener('click', async () => {
    try {
      await api('DELETE', '/v1/sessions/current');
    } catch {}
    await signedOut('Signed out.');
  });
  $('logout-all').addEventListener('click', async () => {
    try {
      await api('DELETE', '/v1/sessions');
    } catch {}
    await signedOut('Signed out everywhere.');
  });
  $('sessions').addEventListener('click', async (e) => {
    const sid = e.target?.dataset?.sid;
    if (!sid) return;
    try {
      await api('DELETE', `/v1/sessions/${encodeURIComponent(sid)}`);
    } catch (err) {
      say(err.message);
    }
    await render();
  });
});
