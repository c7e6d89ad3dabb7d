// Signing in, and a member's inbox (the one screen members get).
import { get, put, query, signIn } from '../api.js';
import { actionButton, badge, field, fill, form, h, load, page, table, when } from '../dom.js';
import { navigate } from '../router.js';

export function signInView(screen) {
  const email = h('input', { name: 'email', type: 'email', autocomplete: 'username', required: true });
  const password = h('input', {
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const project = h('input', { name: 'projectSlug', autocomplete: 'organization', spellcheck: 'false' });
  fill(
    screen,
    h(
      'div',
      { class: 'sign-in panel' },
      page('Sign in', 'Project admins name their project; super admins leave it empty.'),
      form({
        fields: [
          field('Email', email),
          field('Password', password),
          field('Project', project, 'The project slug, e.g. payments'),
        ],
        submit: 'Sign in',
        action: async (data) => {
          await signIn({
            email: data.get('email'),
            password: data.get('password'),
            projectSlug: String(data.get('projectSlug') ?? '').trim(),
          });
          await navigate('/', { replace: true });
        },
      }),
    ),
  );
  email.focus();
}

export async function inboxView(screen) {
  const list = h('div');
  const refresh = () =>
    load(
      list,
      () => get(`/notifications${query({ limit: 50 })}`),
      (data) =>
        table(
          [
            { label: 'Notification', cell: (n) => [h('strong', null, n.title), h('div', null, n.body)] },
            { label: 'Received', cell: (n) => when(n.createdAt) },
            {
              label: 'State',
              cell: (n) =>
                n.acknowledgedAt
                  ? badge('acknowledged', 'good')
                  : actionButton('Acknowledge', async () => {
                      await put(`/notifications/${n.id}/acknowledge`);
                      await refresh();
                    }),
            },
          ],
          data.items,
          'No notifications for you yet.',
        ),
    );
  fill(screen, page('Inbox', 'Your notifications, newest first.'), list);
  await refresh();
}
