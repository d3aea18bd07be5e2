// The REST client and the session: tokens, their refresh, sign-in and sign-out.
//
// Tokens live in sessionStorage (this tab only, gone when it closes), never in a cookie or
// localStorage. Refresh tokens rotate and presenting a spent one revokes the whole login,
// so at most one refresh is ever in flight: every caller awaits the same promise.

const STORAGE_KEY = 'aht.session';
const REFRESH_MARGIN_MS = 60_000; // refresh this long before the access token expires
const MIN_REFRESH_DELAY_MS = 5_000;

export class ApiError extends Error {
  constructor(status, body, headers) {
    super(ApiError.describe(status, body));
    this.status = status;
    this.body = body;
    this.retryAfter = headers ? Number(headers.get('Retry-After')) || null : null;
  }

  static describe(status, body) {
    const detail = body && body.detail;
    if (typeof detail === 'string') return detail;
    if (Array.isArray(detail) && detail.length) return detail.map((d) => d.msg).join(' ');
    if (status === 0) return 'The server could not be reached. Check your connection.';
    if (status >= 500) return 'Something went wrong on the server. Please try again.';
    return `Request failed (${status}).`;
  }

  /** 422 details as {field: [messages]}; errors about the whole body go under "". */
  fieldErrors() {
    const out = {};
    const detail = this.body && Array.isArray(this.body.detail) ? this.body.detail : [];
    for (const item of detail) {
      const loc = Array.isArray(item.loc) ? item.loc : [];
      const field = loc[0] === 'body' && loc.length > 1 ? String(loc[1]) : '';
      (out[field] ||= []).push(item.msg);
    }
    return out;
  }
}

let session = load();
let refreshing = null;
let refreshTimer = null;
const listeners = new Set();

function load() {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

function expiryOf(access, expiresIn) {
  try {
    const payload = JSON.parse(atob(access.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    if (payload.exp) return payload.exp * 1000;
  } catch {
    // fall back to the lifetime the server announced
  }
  return Date.now() + (expiresIn || 900) * 1000;
}

function store(pair) {
  session = {
    access: pair.access,
    refresh: pair.refresh,
    expiresAt: expiryOf(pair.access, pair.expires_in),
  };
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  scheduleRefresh();
  notify('renewed');
}

function clear(reason) {
  session = null;
  clearTimeout(refreshTimer);
  sessionStorage.removeItem(STORAGE_KEY);
  notify(reason);
}

function notify(reason) {
  for (const listener of listeners) listener(reason);
}

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  if (!session) return;
  const delay = Math.max(session.expiresAt - Date.now() - REFRESH_MARGIN_MS, MIN_REFRESH_DELAY_MS);
  refreshTimer = setTimeout(() => {
    refresh().catch(() => { /* signed out, or retried on the next request */ });
  }, delay);
}

/** `listener(reason)` on every change: "renewed", "signed-in", "signed-out", "expired". */
export function onSession(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function signedIn() {
  return session !== null;
}

/** Rotate the refresh token; concurrent callers share one request. */
export function refresh() {
  if (!session) return Promise.reject(new ApiError(401, { detail: 'Not signed in.' }));
  if (!refreshing) {
    refreshing = doRefresh().finally(() => { refreshing = null; });
  }
  return refreshing;
}

async function doRefresh() {
  const spent = session.refresh;
  let response;
  try {
    response = await fetch('/api/auth/refresh/', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh: spent }),
    });
  } catch {
    // Offline: keep the session and try again shortly.
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => refresh().catch(() => {}), MIN_REFRESH_DELAY_MS);
    throw new ApiError(0, null);
  }
  const body = await response.json().catch(() => null);
  if (response.ok && (!session || session.refresh !== spent)) {
    // Logged out while this was in flight: the logout revoked the whole family, this new
    // pair included, so it must not sign the tab back in.
    throw new ApiError(401, { detail: 'Not signed in.' });
  }
  if (response.ok) {
    store(body);
    return session.access;
  }
  if (session && session.refresh === spent && (response.status === 401 || response.status === 422)) {
    clear('expired');
  }
  throw new ApiError(response.status, body, response.headers);
}

/** An access token good for at least a little while (refreshing first if needed). */
export async function accessToken() {
  if (!session) throw new ApiError(401, { detail: 'Not signed in.' });
  if (session.expiresAt - Date.now() < 30_000) return refresh();
  return session.access;
}

async function send(method, path, body, token) {
  const headers = { Accept: 'application/json' };
  // A FormData body (a file upload) travels as multipart: the browser sets its boundary.
  const form = body instanceof FormData;
  if (body !== undefined && !form) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  try {
    return await fetch(`/api${path}`, {
      method,
      headers,
      body: body === undefined || form ? body : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, null);
  }
}

/**
 * Call the API. Resolves to the parsed JSON (null for 204); rejects with ApiError.
 * A 401 on an authenticated call gets one refresh and one retry.
 */
export async function api(method, path, body, { auth = true } = {}) {
  let token = auth ? await accessToken() : null;
  let response = await send(method, path, body, token);
  if (response.status === 401 && auth && session) {
    token = await refresh();
    response = await send(method, path, body, token);
  }
  if (response.status === 401 && auth && session) clear('expired');
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data, response.headers);
  return data;
}

/**
 * Fetch a file the API answers as an attachment and hand it to the browser's downloads.
 * A link cannot carry the bearer token, so the bytes come through fetch (with the same one
 * refresh and retry as `api`) and leave through a blob URL under the server's file name.
 * Resolves to the file name; rejects with ApiError.
 */
export async function download(path) {
  let response = await send('GET', path, undefined, await accessToken());
  if (response.status === 401 && session) {
    response = await send('GET', path, undefined, await refresh());
  }
  if (response.status === 401 && session) clear('expired');
  if (!response.ok) {
    const data = await response.json().catch(() => null);
    throw new ApiError(response.status, data, response.headers);
  }
  const disposition = response.headers.get('Content-Disposition') || '';
  const named = /filename="([^"]+)"/.exec(disposition);
  const filename = named ? named[1] : 'export';
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The browser has taken the blob once the click is handled; free it after that turn.
  setTimeout(() => URL.revokeObjectURL(url), 1_000);
  return filename;
}

export async function login(email, password) {
  const pair = await api('POST', '/auth/login/', { email, password }, { auth: false });
  store(pair);
  notify('signed-in');
}

export async function register(email, password, timezone) {
  await api('POST', '/auth/register/', { email, password, timezone }, { auth: false });
  await login(email, password);
}

/** End this login on the server (its refresh family), then forget the tokens. */
export async function logout() {
  const current = session;
  clear('signed-out');
  if (current) {
    await send('POST', '/auth/logout/', { refresh: current.refresh }).catch(() => {});
  }
}

/** Every login of this user ends, on every device. */
export async function logoutEverywhere() {
  await api('POST', '/auth/logout-all/');
  clear('signed-out');
}

// A tab in the background may have slept through its refresh timer.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && session) scheduleRefresh();
});

if (session) scheduleRefresh();
