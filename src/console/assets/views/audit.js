// The audit log: filters, pages (cursor), and the CSV export of everything that matches.
/* global document */
import { get, query, request } from '../api.js';
import { actionButton, errorBox, field, fill, form, h, loading, page, table, when } from '../dom.js';

const isoOf = (local) => (local ? new Date(local).toISOString() : undefined);

/** What an entry is about; an API request (api.request) by its method, route and answer. */
function resourceOf(entry) {
  const m = entry.metadata ?? {};
  if (entry.resourceType === 'route' && m.method)
    return h('code', null, `${m.method} ${m.route ?? m.path} → ${m.status}`);
  return entry.resourceType ? `${entry.resourceType} ${entry.resourceId ?? ''}` : '—';
}

export async function auditView(screen) {
  const control = (name, props = {}) => h('input', { name, ...props });
  const filters = {};
  const rows = [];
  const results = h('div');
  const more = h('div');

  const draw = () =>
    fill(
      results,
      table(
        [
          { label: 'When', cell: (e) => when(e.createdAt) },
          { label: 'Action', cell: (e) => h('code', null, e.action) },
          { label: 'Actor', cell: (e) => `${e.actorType}${e.actorId ? ` ${e.actorId}` : ''}` },
          { label: 'Resource', cell: resourceOf },
          { label: 'IP', cell: (e) => e.ip ?? '—' },
        ],
        rows,
        'No audit entry matches these filters.',
      ),
    );

  const fetchPage = async (cursor) => {
    const pageOfEntries = await get(`/audit${query({ ...filters, cursor, limit: 50 })}`);
    rows.push(...pageOfEntries.items);
    draw();
    fill(
      more,
      pageOfEntries.nextCursor
        ? actionButton('Load more', () => fetchPage(pageOfEntries.nextCursor), { class: 'quiet' })
        : null,
    );
  };

  const search = async (data) => {
    Object.assign(filters, {
      action: String(data.get('action') ?? '').trim() || undefined,
      resourceType: String(data.get('resourceType') ?? '').trim() || undefined,
      userId: String(data.get('userId') ?? '').trim() || undefined,
      from: isoOf(data.get('from')),
      to: isoOf(data.get('to')),
    });
    rows.length = 0;
    fill(results, loading());
    await fetchPage();
  };

  const download = actionButton(
    'Download CSV',
    async () => {
      const res = await request('GET', `/audit/export${query(filters)}`, { raw: true });
      const url = URL.createObjectURL(await res.blob());
      const link = h('a', { href: url, download: 'audit.csv', hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      URL.revokeObjectURL(url);
    },
    { class: 'quiet' },
  );

  fill(
    screen,
    page('Audit log', 'Who did what in this project, newest first.'),
    form({
      fields: h(
        'div',
        { class: 'row' },
        field('Action', control('action', { placeholder: 'user.* or rule.create' })),
        field('Resource type', control('resourceType', { placeholder: 'user' })),
        field('Actor id', control('userId')),
        field('From', control('from', { type: 'datetime-local' })),
        field('To', control('to', { type: 'datetime-local' })),
      ),
      submit: 'Filter',
      action: search,
      extra: download,
    }),
    results,
    more,
  );
  try {
    await fetchPage();
  } catch (error) {
    fill(results, errorBox(error));
  }
}
