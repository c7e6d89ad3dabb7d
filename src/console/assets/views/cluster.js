// Super admin screens: projects (create with their admin, suspend, delete, act inside one) and the
// cluster's status (MySQL, Redis, queues, streams, gateway nodes, providers).
/* global confirm */
import { actInProject, del, get, post, put, query } from '../api.js';
import { actionButton, badge, field, fill, form, h, load, page, table, when } from '../dom.js';
import { BASE, navigate } from '../router.js';
import { secretOnce } from './project.js';

const STATUS_TONE = { active: 'good', disabled: 'bad' };

export async function projectsView(screen) {
  const search = h('input', { name: 'search', type: 'search', placeholder: 'Name or slug' });
  const results = h('div');
  const created = h('div');
  const refresh = () =>
    load(
      results,
      () => get(`/projects${query({ search: search.value.trim(), pageSize: 200 })}`),
      (data) =>
        table(
          [
            { label: 'Project', cell: (p) => h('a', { href: `${BASE}/projects/${p.id}` }, p.name) },
            { label: 'Slug', cell: (p) => h('code', null, p.slug) },
            { label: 'Status', cell: (p) => badge(p.status, STATUS_TONE[p.status]) },
            { label: 'Created', cell: (p) => when(p.createdAt) },
          ],
          data.items,
          'No projects yet: create the first below.',
        ),
    );
  search.addEventListener('change', refresh);
  const input = (name, props = {}) => h('input', { name, ...props });
  fill(
    screen,
    page('Projects', 'Every tenant of this hub.'),
    field('Search', search),
    results,
    h(
      'section',
      { class: 'panel' },
      h('h2', null, 'New project'),
      form({
        fields: [
          field('Name', input('name', { required: true })),
          field(
            'Slug',
            input('slug', { required: true, pattern: '[a-z0-9-]{3,48}' }),
            'Lowercase letters, digits and "-"',
          ),
          field('Admin email', input('adminEmail', { type: 'email', required: true })),
          field('Admin name', input('adminName', { required: true })),
          field(
            'Admin password',
            input('adminPassword', { type: 'password', autocomplete: 'new-password' }),
            'Leave empty to get a one-time setup token for the admin instead',
          ),
        ],
        submit: 'Create project',
        action: async (data, el) => {
          const result = await post('/projects', {
            name: data.get('name'),
            slug: data.get('slug'),
            admin: {
              email: data.get('adminEmail'),
              fullName: data.get('adminName'),
              ...(data.get('adminPassword') ? { password: data.get('adminPassword') } : {}),
            },
          });
          el.reset();
          fill(
            created,
            secretOnce('The API key', result.apiKey),
            secretOnce('The gateway secret', result.gateway.secret),
            result.admin?.setupToken ? secretOnce('The admin’s setup token', result.admin.setupToken) : null,
          );
          await refresh();
        },
      }),
      created,
    ),
  );
  await refresh();
}

export async function projectView(screen, { id }) {
  const [project, stats] = await Promise.all([
    get(`/projects/${encodeURIComponent(id)}`),
    get(`/projects/${encodeURIComponent(id)}/stats`),
  ]);
  const reload = () => navigate(`/projects/${project.id}`, { replace: true });
  const next = project.status === 'active' ? 'disabled' : 'active';
  const card = (label, value) =>
    h(
      'div',
      { class: 'panel' },
      h('div', { class: 'muted' }, label),
      h('div', { class: 'big' }, String(value)),
    );
  fill(
    screen,
    page(
      project.name,
      `Slug ${project.slug} · API key ${project.apiKeyPrefix}… · created ${when(project.createdAt)}`,
    ),
    h('p', null, badge(project.status, STATUS_TONE[project.status])),
    h(
      'div',
      { class: 'cards' },
      card('Active users', stats.users.active),
      card('Pending users', stats.users.pending),
      card('Active rules', stats.rules.active),
      card('Events', stats.events),
      card('Notifications', stats.notifications),
      card('Delivered', `${Math.round(stats.receipts.deliveredRatio * 100)} %`),
    ),
    h(
      'div',
      { class: 'actions' },
      h(
        'button',
        {
          type: 'button',
          onClick: async () => {
            actInProject(project.id);
            await navigate('/users/pending');
          },
        },
        'Act inside this project',
      ),
      actionButton(
        next === 'disabled' ? 'Suspend' : 'Reactivate',
        async () => {
          await put(`/projects/${project.id}`, { status: next });
          await reload();
        },
        { class: 'quiet' },
      ),
      actionButton(
        'Delete',
        async () => {
          if (!confirm(`Delete ${project.name}? Its keys, tokens and sessions stop working at once.`)) return;
          await del(`/projects/${project.id}`);
          await navigate('/projects');
        },
        { class: 'danger' },
      ),
    ),
  );
}

const reach = (part) =>
  part.ok ? badge(`ok · ${part.latencyMs ?? '?'} ms`, 'good') : badge(part.error ?? 'unreachable', 'bad');
const partError = (part) => (part.error ? h('p', { class: 'error' }, part.error) : null);

export async function statusView(screen) {
  const status = await get('/status');
  fill(
    screen,
    page('Cluster status', `Checked ${when(status.checkedAt)}`),
    h('p', null, 'Overall: ', status.status === 'ok' ? badge('ok', 'good') : badge('degraded', 'bad')),
    h(
      'div',
      { class: 'cards' },
      h('div', { class: 'panel' }, h('div', { class: 'muted' }, 'MySQL'), reach(status.mysql)),
      h('div', { class: 'panel' }, h('div', { class: 'muted' }, 'Redis'), reach(status.redis)),
      h(
        'div',
        { class: 'panel' },
        h('div', { class: 'muted' }, 'Project streams'),
        h('div', { class: 'big' }, String(status.streams.registered)),
      ),
    ),
    h('h2', null, 'Gateway nodes'),
    partError(status.gateway),
    table(
      [
        { label: 'Node', cell: (n) => h('code', null, n.id) },
        { label: 'State', cell: (n) => (n.alive ? badge('alive', 'good') : badge('lease expired', 'bad')) },
        { label: 'Connections', cell: (n) => String(n.connections ?? '—') },
        { label: 'Renewed', cell: (n) => when(n.renewedAt) },
      ],
      status.gateway.nodes,
      'No gateway node is running.',
    ),
    h('h2', null, 'Queues'),
    partError(status.queues),
    table(
      ['name', 'waiting', 'prioritized', 'delayed', 'active', 'failed', 'completed'].map((key) => ({
        label: key,
        cell: (q) => String(q[key]),
      })),
      status.queues.items,
      'No queues.',
    ),
    h('h2', null, 'Streams furthest behind'),
    partError(status.streams),
    table(
      [
        { label: 'Project', cell: (s) => h('a', { href: `${BASE}/projects/${s.projectId}` }, s.projectId) },
        { label: 'Lag', cell: (s) => String(s.lag) },
        { label: 'Pending', cell: (s) => String(s.pending) },
      ],
      status.streams.top,
      'Every stream is caught up.',
    ),
    h('h2', null, 'Push providers'),
    partError(status.providers),
    table(
      [
        { label: 'Project', cell: (p) => p.slug },
        {
          label: 'Providers',
          cell: (p) =>
            p.error
              ? h('span', { class: 'field-error' }, p.error)
              : Object.entries(p.providers ?? {})
                  .filter(([, state]) => state.configured)
                  .map(([name, state]) =>
                    badge(
                      `${name}${state.healthy ? '' : `: ${state.reason ?? 'unhealthy'}`}`,
                      state.healthy ? 'good' : 'bad',
                    ),
                  ),
        },
      ],
      status.providers.items,
      'No project has push credentials.',
    ),
  );
}
