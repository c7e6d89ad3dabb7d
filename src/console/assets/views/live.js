// The live view: events as the pipeline stores them (GET /api/v1/live, server-sent events read
// with fetch so the token goes in a header), the rules they matched or why not (POST /rules/test
// per rule), their notifications and the deliveries per recipient. Pause and filter. Above them,
// the alerts board (views/alerts.js), redrawn as events arrive.
/* global AbortController, TextDecoderStream, setTimeout */
import { can, get, post } from '../api.js';
import { actionButton, badge, errorBox, field, fill, h, load, page, table, when } from '../dom.js';
import { BASE, onLeave } from '../router.js';
import { explainSteps } from './rules.js';
import { alertBoard } from './alerts.js';

const MAX_SHOWN = 200;
/** Rules traced by "Why not?": each is one POST /rules/test. */
const WHY_NOT_RULES = 20;

/** Reads an SSE body, calling `onMessage(event, data)` for each complete message. */
async function readEvents(body, onMessage) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      if (data.length) onMessage(event, data.join('\n'));
    }
  }
}

function receiptsTable(receipts) {
  return table(
    [
      { label: 'Recipient', cell: (r) => `${r.user.fullName} <${r.user.email}>` },
      { label: 'Channel', cell: (r) => r.channel ?? '—' },
      {
        label: 'Delivered',
        cell: (r) =>
          r.deliveredAt
            ? badge(when(r.deliveredAt), 'good')
            : r.failedAt
              ? badge('failed', 'bad')
              : badge('not yet', 'warn'),
      },
      { label: 'Read', cell: (r) => when(r.readAt) },
      { label: 'Acknowledged', cell: (r) => when(r.acknowledgedAt) },
      { label: 'Last error', cell: (r) => r.lastError ?? '—' },
    ],
    receipts,
    'No recipient: no active user holds the rule’s roles.',
  );
}

/** One notification with a button that shows its deliveries per recipient. */
function notificationItem(n, open = false) {
  const deliveries = h('div');
  const show = () =>
    load(
      deliveries,
      () => get(`/notifications/${n.id}/receipts?pageSize=200`),
      (data) => receiptsTable(data.items),
    );
  if (open) show();
  return h(
    'li',
    { class: 'notification' },
    h(
      'div',
      { class: 'row' },
      badge(n.kind),
      h('strong', null, n.title),
      h('span', { class: 'muted' }, `${n.recipients} recipients`),
    ),
    actionButton(open ? 'Refresh deliveries' : 'Deliveries', show, { class: 'quiet' }),
    deliveries,
  );
}

/** Why no rule matched: each active rule's explain trace for this event. */
async function whyNot(event, rules) {
  const all = rules.filter((r) => r.active);
  const active = all.slice(0, WHY_NOT_RULES);
  if (active.length === 0) return h('p', { class: 'hint' }, 'The project has no active rule.');
  const sample = { type: event.type, payload: event.payload, source: event.source ?? undefined };
  const traces = await Promise.all(
    active.map((rule) => post('/rules/test', { ruleId: rule.id, event: sample }).then((t) => ({ rule, t }))),
  );
  return h(
    'ul',
    { class: 'steps' },
    all.length > active.length
      ? h('li', { class: 'hint' }, `The first ${WHY_NOT_RULES} of ${all.length} active rules, by priority:`)
      : null,
    traces.map(({ rule, t }) =>
      h(
        'li',
        null,
        h('a', { href: `${BASE}/rules/${rule.id}` }, rule.name),
        ': ',
        h('code', null, rule.condition),
        explainSteps(t.steps),
      ),
    ),
  );
}

function eventCard(event, rules, { open = false } = {}) {
  const names = new Map(rules.map((r) => [r.id, r]));
  const matched = event.matchedRules ?? [];
  const why = h('div');
  return h(
    'li',
    { class: 'event', dataset: { type: event.type, event: event.id } },
    h(
      'div',
      { class: 'row' },
      h('strong', null, h('code', null, event.type)),
      badge(event.status, event.status === 'processed' ? 'good' : event.status === 'failed' ? 'bad' : 'warn'),
      h('span', { class: 'muted' }, when(event.receivedAt)),
      h('a', { href: `${BASE}/events/${event.id}`, class: 'grow' }, 'Details'),
    ),
    h('pre', null, JSON.stringify(event.payload, null, 2)),
    matched.length
      ? h(
          'p',
          null,
          'Matched: ',
          matched.map((id) =>
            h('a', { href: `${BASE}/rules/${id}`, class: 'badge good' }, names.get(id)?.name ?? id),
          ),
        )
      : [
          h('p', null, badge('no rule matched', 'warn'), ' '),
          actionButton('Why not?', async () => fill(why, await whyNot(event, rules)), { class: 'quiet' }),
          why,
        ],
    event.notifications?.length
      ? h(
          'ul',
          { class: 'stream' },
          event.notifications.map((n) => notificationItem(n, open)),
        )
      : null,
    event.error ? errorBox(event.error) : null,
  );
}

export async function liveView(screen) {
  const rules = (await get('/rules?pageSize=200')).items;
  const list = h('ul', { class: 'stream', id: 'live-events' });
  const state = h('p', { class: 'loading', role: 'status' }, 'Connecting…');
  const filter = h('input', { name: 'filter', type: 'search', placeholder: 'Event type contains…' });
  const matchedOnly = h('input', { type: 'checkbox', name: 'matchedOnly' });
  const pause = h('button', { type: 'button', class: 'quiet', 'aria-pressed': 'false' }, 'Pause');
  const board = can('rules:read') ? alertBoard() : null;
  const held = [];
  let paused = false;
  let stopped = false;
  let controller;

  const visible = (event) =>
    event.type.includes(filter.value.trim()) &&
    (!matchedOnly.checked || (event.matchedRules ?? []).length > 0);
  const show = (event) => {
    const card = eventCard(event, rules);
    card.hidden = !visible(event);
    card.eventData = event;
    list.prepend(card);
    while (list.children.length > MAX_SHOWN) list.lastElementChild.remove();
    if (empty.isConnected) empty.remove();
  };
  const refilter = () => {
    for (const card of list.children) card.hidden = !visible(card.eventData);
  };
  filter.addEventListener('input', refilter);
  matchedOnly.addEventListener('change', refilter);
  pause.addEventListener('click', () => {
    paused = !paused;
    pause.textContent = paused ? 'Resume' : 'Pause';
    pause.setAttribute('aria-pressed', String(paused));
    if (!paused) held.splice(0).forEach(show);
    status();
  });
  const status = (text) => {
    if (text) state.textContent = text;
    else
      state.textContent = paused
        ? `Paused: ${held.length} new events held`
        : 'Live: new events appear at the top';
    state.className = paused || text ? 'muted' : 'ok';
  };
  const empty = h(
    'p',
    { class: 'empty' },
    'Waiting for events: POST one to /api/v1/events with the project’s API key.',
  );

  const connect = async () => {
    while (!stopped) {
      controller = new AbortController();
      try {
        const res = await get('/live', { raw: true, signal: controller.signal });
        await readEvents(res.body, (type, data) => {
          if (type === 'ready') {
            board?.soon(); // (re)connected: what happened while away
            return status();
          }
          if (type !== 'event') return;
          // Even while paused: the board shows the current state, not the stream's.
          board?.soon();
          const event = JSON.parse(data);
          if (paused) {
            held.push(event);
            status();
          } else show(event);
        });
      } catch (error) {
        if (stopped) return;
        // Refused for good (a permission): say so once instead of retrying forever.
        if (error.status === 403) return status(`Not streaming: ${error.message}`);
        status(`Disconnected: ${error.message}. Retrying…`);
        await new Promise((resolve) => setTimeout(resolve, 3000));
      }
    }
  };
  onLeave(() => {
    stopped = true;
    controller?.abort();
    board?.stop();
  });

  fill(
    screen,
    page(
      'Live view',
      'Alerts by state, and the events of this project as they are processed, with the rules they matched and their notifications.',
    ),
    board ? [h('h2', null, 'Alerts'), board.el] : null,
    h('h2', null, 'Events'),
    h(
      'div',
      { class: 'row' },
      h('div', { class: 'grow' }, field('Filter', filter)),
      h('label', { class: 'check' }, matchedOnly, 'Matched only'),
      pause,
    ),
    state,
    empty,
    list,
  );
  connect();
  board?.refresh();
}

export async function eventView(screen, { id }) {
  const [event, rules] = await Promise.all([
    get(`/events/${encodeURIComponent(id)}`),
    get('/rules?pageSize=200'),
  ]);
  fill(
    screen,
    page(`Event ${event.type ?? ''}`, `Id ${event.id}`),
    event.status === 'queued'
      ? h('p', { class: 'empty' }, 'Queued: not processed yet. Reload in a moment.')
      : h('ul', { class: 'stream' }, eventCard(event, rules.items, { open: true })),
  );
}
