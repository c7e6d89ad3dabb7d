// The console's only way to the hub: the REST API. The access token lives in this module's
// memory and nowhere else; the refresh token is an httpOnly cookie the page cannot read, used
// through /api/v1/auth/console (which wants the X-Tocsin-Console header, a CSRF defence).
/* global fetch, navigator, sessionStorage, atob, URLSearchParams */

const CONSOLE_HEADER = { 'X-Tocsin-Console': '1' };
const AUTH = '/api/v1/auth/console';
const PROJECT_KEY = 'tocsin.console.project';

export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message ?? `The hub answered ${status}`);
    this.status = status;
    this.code = error?.code ?? 'http_error';
    this.details = error?.details;
  }
}

let session = null;
const listeners = new Set();

/** Called with the new session (or null) whenever it changes. */
export const onSessionChange = (listener) => listeners.add(listener);

function claimsOf(token) {
  const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
  return JSON.parse(atob(part));
}

function setSession(token) {
  if (!token) {
    session = null;
  } else {
    const claims = claimsOf(token);
    session = {
      token,
      superAdmin: claims.sa === true,
      projectId: claims.pid ?? null,
      permissions: claims.perms ?? [],
      userId: claims.sub,
    };
  }
  for (const listener of listeners) listener(session);
}

export const currentSession = () => session;

/** A super admin acting inside a project (sent as X-Project-Id); null for the cluster view. */
export const actingProject = () => (session?.superAdmin ? sessionStorage.getItem(PROJECT_KEY) : null);
export function actInProject(project) {
  if (project) sessionStorage.setItem(PROJECT_KEY, project);
  else sessionStorage.removeItem(PROJECT_KEY);
}

export function can(permission) {
  if (!session) return false;
  if (session.superAdmin) return Boolean(actingProject());
  return session.permissions.includes(permission);
}

async function parse(res) {
  const text = await res.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function consoleAuth(path, body) {
  const res = await fetch(`${AUTH}${path}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: {
      ...CONSOLE_HEADER,
      ...(body ? { 'Content-Type': 'application/json' } : {}),
      ...(session ? { Authorization: `Bearer ${session.token}` } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await parse(res);
  if (!res.ok) throw new ApiError(res.status, data?.error);
  return data;
}

export async function signIn({ email, password, projectSlug }) {
  const data = await consoleAuth('/login', { email, password, ...(projectSlug ? { projectSlug } : {}) });
  setSession(data.accessToken);
}

/**
 * A new access token from the cookie. Tabs take turns (a Web Lock): two refreshing with the same
 * cookie at once would look like a stolen token and revoke the session.
 */
async function renew() {
  const run = async () => {
    try {
      const data = await consoleAuth('/refresh');
      setSession(data.accessToken);
      return true;
    } catch {
      setSession(null);
      return false;
    }
  };
  return navigator.locks ? navigator.locks.request('tocsin-console-refresh', run) : run();
}

/** Resumes a session after a reload (the cookie survives it; the access token does not). */
export const resume = () => renew();

export async function signOut() {
  try {
    if (session) await consoleAuth('/logout');
  } finally {
    actInProject(null);
    setSession(null);
  }
}

async function send(method, path, { body, form, headers, signal }) {
  const all = { ...headers };
  if (session) all.Authorization = `Bearer ${session.token}`;
  const project = actingProject();
  if (project && !all['X-Project-Id']) all['X-Project-Id'] = project;
  if (body !== undefined) all['Content-Type'] = 'application/json';
  return fetch(`/api/v1${path}`, {
    method,
    headers: all,
    body: form ?? (body === undefined ? undefined : JSON.stringify(body)),
    signal,
  });
}

/**
 * Calls the API; an expired access token is renewed once. Returns the raw Response when
 * `raw` is set (CSV, streams), else the parsed body; an error answer throws ApiError.
 */
export async function request(method, path, options = {}) {
  let res = await send(method, path, options);
  if (res.status === 401 && session && (await renew())) res = await send(method, path, options);
  if (res.status === 401) setSession(null);
  if (options.raw && res.ok) return res;
  const data = await parse(res);
  if (!res.ok) throw new ApiError(res.status, data?.error);
  return data;
}

export const get = (path, options) => request('GET', path, options);
export const post = (path, body, options) => request('POST', path, { ...options, body });
export const put = (path, body, options) => request('PUT', path, { ...options, body });
export const del = (path, options) => request('DELETE', path, options);

/** Query string of the set values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== '') search.set(key, value);
  const text = search.toString();
  return text ? `?${text}` : '';
}
