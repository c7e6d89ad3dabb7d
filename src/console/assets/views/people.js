// People of a project: registrations to approve, users, and roles with their permissions.
/* global clearTimeout, setTimeout */
import { can, del, get, post, put, query } from '../api.js';
import { actionButton, badge, choices, field, fill, form, h, load, page, table, when } from '../dom.js';
import { BASE, navigate } from '../router.js';

const STATUS_TONE = { active: 'good', pending: 'warn', suspended: 'bad' };
const roleNames = (user) => user.roles.map((r) => r.name).join(', ') || '—';

/** Checkboxes for the project's roles, `checked` by name; errors about them show below. */
function roleChoice(roles, name, checked) {
  return choices(
    'Roles',
    roles.map((role) =>
      h(
        'label',
        { class: 'check' },
        h('input', { type: 'checkbox', name, value: role.id, checked: checked.includes(role.name) }),
        role.name,
      ),
    ),
    { class: 'roles' },
  );
}

/** "Edit roles" of an active user: the approval's role picker, saved with PUT /users/{id}/roles. */
function editRoles(roles, user, saved) {
  return h(
    'details',
    { class: 'edit-roles' },
    h('summary', null, 'Edit roles'),
    form({
      fields: [
        roleChoice(
          roles,
          'roleIds',
          user.roles.map((r) => r.name),
        ),
      ],
      submit: 'Save roles',
      action: async (data) => {
        await put(`/users/${user.id}/roles`, { roleIds: data.getAll('roleIds') });
        await saved();
      },
    }),
  );
}

export async function pendingView(screen) {
  const [pending, roles] = await Promise.all([get('/users/pending?pageSize=200'), get('/roles')]);
  const list = h('div');
  const draw = (items) =>
    fill(
      list,
      items.length === 0
        ? h('p', { class: 'empty' }, 'No one is waiting for approval. New registrations appear here.')
        : h(
            'ul',
            { class: 'stream' },
            items.map((user) => {
              const item = h('li', { dataset: { user: user.email } });
              const approve = form({
                fields: [roleChoice(roles.items, 'roleIds', ['member'])],
                submit: 'Approve',
                action: async (data) => {
                  await post(`/users/${user.id}/approve`, { roleIds: data.getAll('roleIds') });
                  draw(items.filter((u) => u !== user));
                },
                extra: actionButton(
                  'Reject',
                  async () => {
                    await post(`/users/${user.id}/reject`);
                    draw(items.filter((u) => u !== user));
                  },
                  { class: 'danger' },
                ),
              });
              fill(
                item,
                h(
                  'div',
                  { class: 'row' },
                  h('strong', null, user.fullName),
                  h('span', { class: 'muted' }, user.email),
                ),
                h('p', { class: 'hint' }, `Registered ${when(user.createdAt)}`),
                can('users:approve') ? approve : null,
              );
              return item;
            }),
          ),
    );
  draw(pending.items);
  fill(
    screen,
    page('Pending users', 'Registrations wait here until an admin approves them with their roles.'),
    list,
  );
}

export async function usersView(screen) {
  const search = h('input', { name: 'search', type: 'search', placeholder: 'Name, email or phone' });
  const status = h(
    'select',
    { name: 'status' },
    ['', 'active', 'pending', 'suspended'].map((s) => h('option', { value: s }, s || 'any status')),
  );
  const results = h('div');
  // Roles are changed by whoever approves them; the picker needs the project's roles.
  const roles = can('users:approve') ? (await get('/roles')).items : null;
  const rolesCell = (u) => [
    h('span', { class: 'role-names' }, roleNames(u)),
    roles && u.status === 'active' ? editRoles(roles, u, refresh) : null,
  ];
  const refresh = () =>
    load(
      results,
      () => get(`/users${query({ search: search.value.trim(), status: status.value, pageSize: 100 })}`),
      (data) =>
        table(
          [
            { label: 'Name', cell: (u) => h('a', { href: `${BASE}/users/${u.id}` }, u.fullName) },
            { label: 'Email', cell: (u) => u.email },
            { label: 'Status', cell: (u) => badge(u.status, STATUS_TONE[u.status]) },
            { label: 'Roles', cell: rolesCell },
            { label: 'Last sign-in', cell: (u) => when(u.lastLoginAt) },
          ],
          data.items,
          'No user matches.',
        ),
    );
  let timer;
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  };
  search.addEventListener('input', soon);
  status.addEventListener('change', refresh);
  fill(
    screen,
    page('Users', 'Everyone registered in this project.'),
    h('div', { class: 'row' }, h('div', { class: 'grow' }, field('Search', search)), field('Status', status)),
    results,
  );
  await refresh();
}

export async function userView(screen, { id }) {
  const user = await get(`/users/${encodeURIComponent(id)}`);
  const next = user.status === 'suspended' ? 'active' : 'suspended';
  fill(
    screen,
    page(user.fullName, user.email),
    h(
      'div',
      { class: 'panel' },
      h('p', null, 'Status: ', badge(user.status, STATUS_TONE[user.status])),
      h('p', null, `Roles: ${roleNames(user)}`),
      h('p', null, `Phone: ${user.phone ?? '—'}`),
      h(
        'p',
        null,
        `Registered ${when(user.createdAt)}; approved ${when(user.approvedAt)}; last sign-in ${when(user.lastLoginAt)}`,
      ),
      user.status !== 'pending' && can('users:write')
        ? actionButton(
            next === 'suspended' ? 'Suspend' : 'Reactivate',
            async () => {
              await put(`/users/${user.id}/status`, { status: next });
              await navigate(`/users/${user.id}`, { replace: true });
            },
            { class: next === 'suspended' ? 'danger' : '' },
          )
        : null,
      user.status === 'pending'
        ? h('a', { href: `${BASE}/users/pending` }, 'Approve on the pending page')
        : null,
    ),
  );
}

export async function rolesView(screen) {
  const [roles, permissions] = await Promise.all([get('/roles'), get('/roles/permissions')]);
  const permissionBoxes = (name, held) =>
    h(
      'fieldset',
      null,
      h('legend', { class: 'hint' }, 'Permissions'),
      permissions.items.map((p) =>
        h(
          'label',
          { class: 'check', title: p.description },
          h('input', { type: 'checkbox', name, value: p.name, checked: held.includes(p.name) }),
          p.name,
        ),
      ),
    );
  const editable = can('roles:write');
  const reload = () => navigate('/roles', { replace: true });
  const roleItem = (role) => {
    const details = h('details', null, h('summary', null, 'Change permissions'));
    if (editable && !role.builtIn)
      details.append(
        form({
          fields: [permissionBoxes('permissions', role.permissions)],
          submit: 'Save permissions',
          action: async (data) => {
            await put(`/roles/${role.id}`, { permissions: data.getAll('permissions') });
            await reload();
          },
          extra: actionButton(
            'Delete role',
            async () => {
              await del(`/roles/${role.id}`);
              await reload();
            },
            { class: 'danger' },
          ),
        }),
      );
    return h(
      'li',
      null,
      h(
        'div',
        { class: 'row' },
        h('strong', null, role.name),
        role.builtIn ? badge('built in') : null,
        badge(`${role.userCount} users`),
      ),
      h('p', { class: 'hint' }, role.description ?? ''),
      h('p', null, h('code', null, role.permissions.join(', ') || 'no permissions (receives notifications)')),
      editable && !role.builtIn ? details : null,
    );
  };
  const name = h('input', { name: 'name', required: true, maxlength: 64 });
  const description = h('input', { name: 'description', maxlength: 255 });
  fill(
    screen,
    page('Roles', 'Named sets of permissions; rules alert the holders of roles.'),
    h('ul', { class: 'stream' }, roles.items.map(roleItem)),
    editable
      ? h(
          'div',
          { class: 'panel' },
          h('h2', null, 'New role'),
          form({
            fields: [
              field('Name', name),
              field('Description', description),
              permissionBoxes('permissions', []),
            ],
            submit: 'Create role',
            action: async (data) => {
              await post('/roles', {
                name: data.get('name'),
                description: data.get('description') || null,
                permissions: data.getAll('permissions'),
              });
              await reload();
            },
          }),
        )
      : null,
  );
}
