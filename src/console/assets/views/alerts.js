// Alerts (GET /api/v1/alerts): the board of the live view — triggered, acknowledged, resolved,
// with acknowledge and resolve — and one alert's timeline. The board redraws when the live view
// sees an event (events open, update and resolve alerts) and every few seconds for what happens
// elsewhere (an acknowledgement from a phone, an escalation step).
/* global clearInterval, clearTimeout, document, setInterval, setTimeout */
import { can, get, put } from '../api.js';
import { actionButton, badge, empty, errorBox, fill, h, loading, page, when } from '../dom.js';
import { BASE, navigate } from '../router.js';

export const ALERT_STATES = [
  { status: 'triggered', label: 'Triggered', tone: 'bad', none: 'Nothing is on fire.' },
  { status: 'acknowledged', label: 'Acknowledged', tone: 'warn', none: 'No one is working on an alert.' },
  { status: 'resolved', label: 'Resolved', tone: 'good', none: 'No alert was resolved yet.' },
];
const TONE = Object.fromEntries(ALERT_STATES.map((s) => [s.status, s.tone]));
/** Alerts shown per state (the newest); the heading gives the total. */
const PER_STATE = 20;
const POLL_MS = 10_000;

/** Acknowledge and resolve, as the alert's state allows; `after` runs once one succeeded. */
function alertActions(alert, after) {
  if (!can('notifications:admin') || alert.status === 'resolved') return null;
  const act = (verb) => async () => {
    await put(`/alerts/${alert.id}/${verb}`);
    await after();
  };
  return h(
    'div',
    { class: 'actions' },
    alert.status === 'triggered'
      ? actionButton('Acknowledge', act('acknowledge'), { dataset: { action: 'acknowledge' } })
      : null,
    actionButton('Resolve', act('resolve'), { class: 'quiet', dataset: { action: 'resolve' } }),
  );
}

function alertCard(alert, after) {
  return h(
    'li',
    { class: 'alert', dataset: { alert: alert.id, status: alert.status } },
    h(
      'div',
      { class: 'row' },
      badge(alert.status, TONE[alert.status]),
      h('strong', { class: 'grow' }, alert.title),
    ),
    h(
      'p',
      { class: 'hint' },
      `${alert.eventCount} ${alert.eventCount === 1 ? 'event' : 'events'}, last ${when(alert.lastEventAt)} · key `,
      h('code', null, alert.dedupKey),
    ),
    h('a', { href: `${BASE}/alerts/${alert.id}` }, 'Timeline'),
    alertActions(alert, after),
  );
}

/**
 * The board: `el` to place, `refresh()` to redraw now, `soon()` to redraw shortly (coalescing a
 * burst of events into one read), `stop()` on leaving. A redraw that changes nothing keeps the
 * page as it is, so the keyboard focus stays where it was.
 */
export function alertBoard() {
  const el = h(
    'section',
    { class: 'board', id: 'alerts-board', 'aria-label': 'Alerts' },
    loading('Loading alerts…'),
  );
  let shown = '';
  let running = null;
  let again = false;
  let timer;

  const draw = (pages) => {
    const focused = document.activeElement?.closest?.('[data-alert]');
    const focusKey = focused && [focused.dataset.alert, document.activeElement.dataset.action];
    fill(
      el,
      ALERT_STATES.map((state, i) =>
        h(
          'div',
          { class: 'column', dataset: { state: state.status } },
          h('h3', null, state.label, ' ', badge(String(pages[i].total), pages[i].total ? state.tone : null)),
          pages[i].items.length
            ? h(
                'ul',
                { class: 'stream' },
                pages[i].items.map((alert) => alertCard(alert, refresh)),
              )
            : empty(state.none),
        ),
      ),
    );
    if (focusKey)
      el.querySelector(
        `[data-alert="${focusKey[0]}"] ${focusKey[1] ? `[data-action="${focusKey[1]}"]` : 'a'}`,
      )?.focus();
  };

  async function refresh() {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        const pages = await Promise.all(
          ALERT_STATES.map((s) => get(`/alerts?status=${s.status}&pageSize=${PER_STATE}`)),
        );
        const text = JSON.stringify(pages);
        if (text !== shown) {
          shown = text;
          draw(pages);
        }
      } catch (error) {
        shown = '';
        fill(el, errorBox(error));
      }
    })();
    await running;
    running = null;
    if (again) {
      again = false;
      await refresh();
    }
  }

  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  };
  const poll = setInterval(() => {
    if (document.visibilityState !== 'hidden') refresh();
  }, POLL_MS);
  const stop = () => {
    clearTimeout(timer);
    clearInterval(poll);
  };
  return { el, refresh, soon, stop };
}

/** Who a timeline entry names: the user's name where the caller may read users, else the id. */
async function namesOf(userIds) {
  const names = new Map();
  if (!can('users:read')) return names;
  await Promise.all(
    [...new Set(userIds)].map((id) =>
      get(`/users/${id}`).then(
        (user) => names.set(id, user.fullName),
        () => undefined,
      ),
    ),
  );
  return names;
}

const DESCRIBE = {
  triggered: 'Triggered',
  event: 'Another event',
  notified: 'Notified',
  unrouted: 'Reached nobody',
  delivered: 'Delivered',
  acknowledged: 'Acknowledged',
  reminded: 'Reminded',
  resolved: 'Resolved',
};

function timelineItem(entry, names) {
  const who = (id) => names.get(id) ?? id;
  const reached = Array.isArray(entry.metadata?.userIds) ? entry.metadata.userIds : [];
  return h(
    'li',
    { dataset: { type: entry.type } },
    h('span', { class: 'muted' }, when(entry.at)),
    ' ',
    h('strong', null, DESCRIBE[entry.type] ?? entry.type),
    entry.step ? ` · step ${entry.step}` : null,
    entry.userId ? ` · ${entry.type === 'delivered' ? 'to' : 'by'} ${who(entry.userId)}` : null,
    entry.channel ? ` · ${entry.channel}` : null,
    reached.length ? ` · ${reached.map(who).join(', ')}` : null,
    entry.type === 'resolved' && !entry.userId && entry.eventId ? ' · by an event' : null,
    entry.eventId && can('events:read')
      ? [' · ', h('a', { href: `${BASE}/events/${entry.eventId}` }, 'event')]
      : null,
  );
}

export async function alertView(screen, { id }) {
  const alert = await get(`/alerts/${encodeURIComponent(id)}`);
  const names = await namesOf(
    alert.timeline.flatMap((e) => [e.userId, ...(e.metadata?.userIds ?? [])]).filter(Boolean),
  );
  const reload = () => navigate(`/alerts/${alert.id}`, { replace: true });
  fill(
    screen,
    page(alert.title, null),
    h(
      'p',
      null,
      badge(alert.status, TONE[alert.status]),
      ` ${alert.eventCount} ${alert.eventCount === 1 ? 'event' : 'events'} · key `,
      h('code', null, alert.dedupKey),
      alert.ruleId && can('rules:read')
        ? [' · ', h('a', { href: `${BASE}/rules/${alert.ruleId}` }, 'its rule')]
        : null,
    ),
    alert.body ? h('p', null, alert.body) : null,
    alertActions(alert, reload),
    h('h2', null, 'Timeline'),
    h(
      'ol',
      { class: 'timeline', id: 'alert-timeline' },
      alert.timeline.map((e) => timelineItem(e, names)),
    ),
    h(
      'p',
      null,
      actionButton('Refresh', reload, { class: 'quiet' }),
      ' ',
      can('events:read') ? h('a', { href: `${BASE}/live` }, 'Back to the live view') : null,
    ),
  );
}
