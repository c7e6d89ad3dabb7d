// Client-side routes under /console: the hub answers every such path with the same page, and
// this module picks the screen. A screen that throws a 404 (or is not allowed) shows the
// not-found page, so a link to another project's resource reveals nothing.
/* global document, history, location, window */
import { fill, h, loading, errorBox, page } from './dom.js';

export const BASE = '/console';
let routes = [];
let onRender = () => {};
let current = 0;
let leaving = [];

/** Runs `cleanup` when the screen is left (streams, timers). */
export const onLeave = (cleanup) => leaving.push(cleanup);

/** `table` entries: { path: '/rules/:id', view(main, params), allowed?() }. */
export function setRoutes(table, afterRender) {
  routes = table.map((route) => ({ ...route, pattern: compile(route.path) }));
  onRender = afterRender;
}

function compile(path) {
  const names = [];
  const source = path.replace(/:([a-z]+)/g, (_, name) => {
    names.push(name);
    return '([^/]+)';
  });
  return { regex: new RegExp(`^${source}/?$`), names };
}

function match(path) {
  for (const route of routes) {
    const found = route.pattern.regex.exec(path);
    if (!found) continue;
    const params = Object.fromEntries(
      route.pattern.names.map((n, i) => [n, decodeURIComponent(found[i + 1])]),
    );
    return { route, params };
  }
  return null;
}

export const here = () => location.pathname.slice(BASE.length) || '/';

export function navigate(path, { replace = false } = {}) {
  const url = `${BASE}${path}`;
  if (replace) history.replaceState(null, '', url);
  else if (url !== location.pathname + location.search) history.pushState(null, '', url);
  return render();
}

export function notFound(main) {
  fill(
    main,
    page(
      'Not found',
      'This page does not exist, or it belongs to something you cannot see.',
      h('p', null, h('a', { href: `${BASE}/` }, 'Back to the start')),
    ),
  );
}

export async function render() {
  const main = document.getElementById('main');
  const turn = ++current;
  for (const cleanup of leaving.splice(0)) cleanup();
  const found = match(here());
  // Each screen draws into its own element: one left behind by a later navigation draws into a
  // detached node, never over the next screen.
  const screen = h('div', { class: 'screen' });
  fill(main, screen);
  if (!found || (found.route.allowed && !found.route.allowed())) {
    notFound(screen);
  } else {
    fill(screen, loading());
    try {
      await found.route.view(screen, found.params);
    } catch (error) {
      if (error?.status === 404) notFound(screen);
      else fill(screen, page('Something went wrong', null, errorBox(error)));
    }
  }
  if (turn === current) onRender(found?.route);
}

export function startRouter() {
  window.addEventListener('popstate', () => render());
  document.addEventListener('click', (event) => {
    const link = event.target.closest?.('a[href]');
    if (!link || event.defaultPrevented || event.button !== 0 || link.target || link.hasAttribute('download'))
      return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const url = new URL(link.href);
    if (url.origin !== location.origin || !(url.pathname === BASE || url.pathname.startsWith(`${BASE}/`)))
      return;
    event.preventDefault();
    navigate(url.pathname.slice(BASE.length) || '/');
  });
}
