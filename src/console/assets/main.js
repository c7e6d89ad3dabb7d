// The console's entry point: resumes the session, draws the navigation for what the caller may
// do, and hands the URL to the router.
/* global document */
import {
  actingProject,
  actInProject,
  can,
  currentSession,
  get,
  onSessionChange,
  resume,
  signOut,
} from './api.js';
import { fill, h } from './dom.js';
import { BASE, here, navigate, render, setRoutes, startRouter } from './router.js';
import { inboxView, signInView } from './views/session.js';
import { pendingView, rolesView, usersView, userView } from './views/people.js';
import { rulesView, ruleView } from './views/rules.js';
import { bucketsView, providersView, settingsView, soundsView } from './views/project.js';
import { auditView } from './views/audit.js';
import { eventView, liveView } from './views/live.js';
import { alertView } from './views/alerts.js';
import { projectsView, projectView, statusView } from './views/cluster.js';

const signedIn = () => currentSession() !== null;
const superAdmin = () => currentSession()?.superAdmin === true;
const inCluster = () => superAdmin() && !actingProject();
const allowedTo = (permission) => () => can(permission);
const member = () => signedIn() && !superAdmin();

/** path, screen, who may open it, and (when it has one) its place in the navigation. */
const ROUTES = [
  { path: '/sign-in', view: signInView, allowed: () => !signedIn() },
  { path: '/', view: home },
  // The stream wants both (GET /api/v1/live): a rule manager has only the first.
  {
    path: '/live',
    view: liveView,
    allowed: () => can('events:read') && can('notifications:admin'),
    nav: ['Project', 'Live view'],
  },
  { path: '/events/:id', view: eventView, allowed: allowedTo('events:read') },
  { path: '/alerts/:id', view: alertView, allowed: allowedTo('rules:read') },
  {
    path: '/users/pending',
    view: pendingView,
    allowed: allowedTo('users:read'),
    nav: ['Project', 'Pending users'],
  },
  { path: '/users', view: usersView, allowed: allowedTo('users:read'), nav: ['Project', 'Users'] },
  { path: '/users/:id', view: userView, allowed: allowedTo('users:read') },
  { path: '/roles', view: rolesView, allowed: allowedTo('users:read'), nav: ['Project', 'Roles'] },
  { path: '/rules', view: rulesView, allowed: allowedTo('rules:read'), nav: ['Project', 'Rules'] },
  { path: '/rules/:id', view: ruleView, allowed: allowedTo('rules:read') },
  { path: '/sounds', view: soundsView, allowed: allowedTo('rules:read'), nav: ['Project', 'Sounds'] },
  {
    path: '/buckets',
    view: bucketsView,
    allowed: allowedTo('buckets:write'),
    nav: ['Project', 'Transfer buckets'],
  },
  {
    path: '/providers',
    view: providersView,
    allowed: allowedTo('projects:admin'),
    nav: ['Project', 'Providers'],
  },
  { path: '/audit', view: auditView, allowed: allowedTo('audit:read'), nav: ['Project', 'Audit log'] },
  {
    path: '/settings',
    view: settingsView,
    allowed: allowedTo('projects:admin'),
    nav: ['Project', 'Settings and API key'],
  },
  { path: '/inbox', view: inboxView, allowed: member, nav: ['You', 'Inbox'] },
  { path: '/projects', view: projectsView, allowed: superAdmin, nav: ['Cluster', 'Projects'] },
  { path: '/projects/:id', view: projectView, allowed: superAdmin },
  { path: '/status', view: statusView, allowed: superAdmin, nav: ['Cluster', 'Status'] },
];

/** The start page: where the caller's work is. */
async function home() {
  if (!signedIn()) return navigate('/sign-in', { replace: true });
  if (inCluster()) return navigate('/projects', { replace: true });
  if (can('users:read')) return navigate('/users/pending', { replace: true });
  if (can('rules:read')) return navigate('/rules', { replace: true });
  return navigate('/inbox', { replace: true });
}

function drawNav(active) {
  const nav = document.getElementById('nav');
  const sections = new Map();
  for (const route of ROUTES) {
    if (!route.nav || (route.allowed && !route.allowed())) continue;
    const [section, label] = route.nav;
    if (!sections.has(section)) sections.set(section, []);
    sections
      .get(section)
      .push(
        h(
          'a',
          { href: `${BASE}${route.path}`, 'aria-current': route.path === active?.path ? 'page' : null },
          label,
        ),
      );
  }
  const acting = actingProject();
  fill(
    nav,
    acting
      ? h(
          'p',
          { class: 'hint' },
          'Acting inside a project as super admin. ',
          h(
            'a',
            { href: `${BASE}/projects`, id: 'leave-project', onClick: () => actInProject(null) },
            'Leave',
          ),
        )
      : null,
    [...sections].map(([section, links]) => [h('h2', null, section), links]),
  );
  nav.classList.remove('open');
  document.getElementById('menu').setAttribute('aria-expanded', 'false');
}

/** Who is signed in: "Super admin", or the user's email (read once per session). */
let shownUser = null;
function drawHeader() {
  const session = currentSession();
  const who = document.getElementById('who');
  if (!session || session.superAdmin) who.textContent = session ? 'Super admin' : '';
  else if (shownUser !== session.userId) {
    shownUser = session.userId;
    who.textContent = '';
    get('/users/me').then(
      (me) => (who.textContent = me.email),
      () => (shownUser = null),
    );
  }
  document.getElementById('sign-out').hidden = !session;
  document.getElementById('menu').hidden = !session;
}

setRoutes(ROUTES, (route) => {
  drawHeader();
  drawNav(route);
  if (!signedIn() && here() !== '/sign-in') navigate('/sign-in', { replace: true });
  else {
    // The new screen gets the focus, unless it placed it itself (sign-in: the email field).
    const main = document.getElementById('main');
    if (!main.contains(document.activeElement)) main.focus({ preventScroll: true });
  }
});

onSessionChange((session) => {
  // Signed out elsewhere (another tab, an expired session): back to the sign-in page.
  if (!session && here() !== '/sign-in') navigate('/sign-in', { replace: true });
});

document.getElementById('sign-out').addEventListener('click', async () => {
  await signOut();
});
document.getElementById('menu').addEventListener('click', (event) => {
  const nav = document.getElementById('nav');
  const open = nav.classList.toggle('open');
  event.currentTarget.setAttribute('aria-expanded', String(open));
});

startRouter();
await resume();
await render();
