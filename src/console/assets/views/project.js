// A project's configuration: sounds, provider credentials (write-only), transfer buckets, and for a
// super admin acting in it, its settings and API key.
/* global confirm */
import { actingProject, can, del, get, post, put, request } from '../api.js';
import { actionButton, badge, bytes, field, fill, form, h, page, table, when } from '../dom.js';
import { navigate } from '../router.js';

export async function soundsView(screen) {
  const sounds = await get('/sounds');
  const used = sounds.items.reduce((sum, s) => sum + s.sizeBytes, 0);
  const reload = () => navigate('/sounds', { replace: true });
  const name = h('input', { name: 'name', required: true, maxlength: 120 });
  const file = h('input', {
    name: 'file',
    type: 'file',
    accept: 'audio/mpeg,audio/ogg,audio/wav',
    required: true,
  });
  fill(
    screen,
    page(
      'Sounds',
      `${sounds.items.length} sounds, ${bytes(used)} used. Rules can play one with their alert.`,
    ),
    table(
      [
        { label: 'Name', cell: (s) => h('strong', null, s.name) },
        { label: 'File', cell: (s) => `${s.fileName} (${bytes(s.sizeBytes)})` },
        { label: 'Play', cell: (s) => h('audio', { controls: true, preload: 'none', src: s.url }) },
        {
          label: '',
          cell: (s) =>
            can('sounds:write')
              ? actionButton(
                  'Delete',
                  async () => {
                    await del(`/sounds/${s.id}`);
                    await reload();
                  },
                  { class: 'danger' },
                )
              : null,
        },
      ],
      sounds.items,
      'No sounds yet. Upload an MP3, Ogg or WAV file.',
    ),
    can('sounds:write')
      ? h(
          'div',
          { class: 'panel' },
          h('h2', null, 'Upload a sound'),
          form({
            fields: [
              field('Name', name),
              field(
                'File',
                file,
                'MP3, Ogg or WAV; the size and count quotas are the hub’s SOUND_* settings',
              ),
            ],
            submit: 'Upload',
            action: async (data) => {
              await request('POST', '/sounds', { form: data });
              await reload();
            },
          }),
        )
      : null,
  );
}

const PROVIDERS = {
  fcm: {
    label: 'Firebase Cloud Messaging',
    fields: () => [
      field('Service account JSON', h('textarea', { name: 'serviceAccount', rows: 5, autocomplete: 'off' })),
    ],
    body: (d) => ({ serviceAccount: JSON.parse(String(d.get('serviceAccount'))) }),
  },
  apns: {
    label: 'Apple Push Notification service',
    fields: () => [
      field('Key (.p8, PEM)', h('textarea', { name: 'keyP8', rows: 4, autocomplete: 'off' })),
      field('Key id', h('input', { name: 'keyId' })),
      field('Team id', h('input', { name: 'teamId' })),
      field('Bundle id', h('input', { name: 'bundleId' })),
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'production' }), 'Production'),
    ],
    body: (d) => ({
      keyP8: d.get('keyP8'),
      keyId: d.get('keyId'),
      teamId: d.get('teamId'),
      bundleId: d.get('bundleId'),
      production: d.get('production') === 'on',
    }),
  },
  pusher: {
    label: 'Hosted Pusher',
    fields: () => [
      field('App id', h('input', { name: 'appId' })),
      field('Key', h('input', { name: 'key' })),
      field('Secret', h('input', { name: 'secret', type: 'password', autocomplete: 'new-password' })),
      field('Cluster', h('input', { name: 'cluster' })),
    ],
    body: (d) => ({
      appId: d.get('appId'),
      key: d.get('key'),
      secret: d.get('secret'),
      ...(d.get('cluster') ? { cluster: d.get('cluster') } : {}),
    }),
  },
};

export async function providersView(screen) {
  const current = await get('/providers');
  const reload = () => navigate('/providers', { replace: true });
  fill(
    screen,
    page(
      'Providers',
      'Credentials are write-only: they are encrypted at rest and only a redacted summary comes back.',
    ),
    Object.entries(PROVIDERS).map(([key, provider]) =>
      h(
        'section',
        { class: 'panel' },
        h('h2', null, provider.label, ' ', current[key] ? badge('configured', 'good') : badge('not set')),
        current[key] ? h('pre', null, JSON.stringify(current[key], null, 2)) : null,
        h(
          'details',
          null,
          h('summary', null, current[key] ? 'Replace the credentials' : 'Set credentials'),
          form({
            fields: provider.fields(),
            submit: 'Save',
            action: async (data) => {
              await put(`/providers/${key}`, provider.body(data));
              await reload();
            },
            extra: current[key]
              ? actionButton(
                  'Remove',
                  async () => {
                    await del(`/providers/${key}`);
                    await reload();
                  },
                  { class: 'danger' },
                )
              : null,
          }),
        ),
      ),
    ),
  );
}

export async function bucketsView(screen) {
  const buckets = await get('/transfer-buckets?pageSize=200');
  const reload = () => navigate('/buckets', { replace: true });
  const input = (name, props = {}) => h('input', { name, ...props });
  fill(
    screen,
    page('Transfer buckets', 'A bucket whose balance falls below its threshold emits bucket.low_balance.'),
    table(
      [
        { label: 'Name', cell: (b) => h('strong', null, b.name) },
        { label: 'Balance', cell: (b) => `${b.balance} ${b.currency ?? ''}` },
        { label: 'State', cell: (b) => (b.state === 'low' ? badge('low', 'bad') : badge('ok', 'good')) },
        {
          label: 'Threshold',
          cell: (b) =>
            form({
              fields: [
                input('threshold', {
                  value: b.threshold,
                  inputmode: 'decimal',
                  'aria-label': `Threshold of ${b.name}`,
                }),
              ],
              submit: 'Set',
              action: async (data) => {
                await put(`/transfer-buckets/${b.id}/threshold`, { threshold: data.get('threshold') });
                await reload();
              },
            }),
        },
        { label: 'Checked', cell: (b) => when(b.lastCheckedAt) },
      ],
      buckets.items,
      'No buckets yet.',
    ),
    h(
      'div',
      { class: 'panel' },
      h('h2', null, 'New bucket'),
      form({
        fields: [
          field('Name', input('name', { required: true })),
          h(
            'div',
            { class: 'row' },
            field('Balance', input('balance', { inputmode: 'decimal' })),
            field('Threshold', input('threshold', { inputmode: 'decimal', required: true })),
            field('Currency', input('currency', { maxlength: 8 })),
          ),
        ],
        submit: 'Create bucket',
        action: async (data) => {
          await post('/transfer-buckets', {
            name: data.get('name'),
            threshold: data.get('threshold'),
            ...(data.get('balance') ? { balance: data.get('balance') } : {}),
            ...(data.get('currency') ? { currency: data.get('currency') } : {}),
          });
          await reload();
        },
      }),
    ),
  );
}

/** Shows a secret once, with the warning that it will not be shown again. */
export const secretOnce = (label, value) =>
  h(
    'div',
    { class: 'panel', role: 'status' },
    h('p', null, `${label} — shown only this once; copy it now:`),
    h('p', { class: 'secret' }, value),
  );

export async function settingsView(screen) {
  const id = actingProject();
  const project = await get(`/projects/${id}`);
  const shown = h('div');
  const text = (name, value) => h('input', { name, value: value ?? '' });
  const settings = h(
    'textarea',
    { name: 'settings', rows: 10, spellcheck: 'false' },
    JSON.stringify(project.settings, null, 2),
  );
  fill(
    screen,
    page(
      `${project.name} settings`,
      `Slug ${project.slug}; API key ${project.apiKeyPrefix}…; gateway key ${project.gateway.key}`,
    ),
    form({
      fields: [
        field('Name', text('name', project.name)),
        field('Description', text('description', project.description)),
        field(
          'Webhook URL',
          text('webhookUrl', project.webhookUrl),
          'Presence and channel webhooks are POSTed here',
        ),
        field(
          'Settings',
          settings,
          'JSON; sections are merged: gateway, rateLimits, suppression, delivery, retention',
        ),
      ],
      submit: 'Save settings',
      action: async (data) => {
        let parsed;
        try {
          parsed = JSON.parse(String(data.get('settings')));
        } catch (error) {
          throw Object.assign(new Error(`Settings: not JSON (${error.message})`), {
            details: { field: 'settings' },
          });
        }
        await put(`/projects/${id}`, {
          name: data.get('name'),
          description: data.get('description') || null,
          webhookUrl: data.get('webhookUrl') || null,
          settings: parsed,
        });
        await navigate('/settings', { replace: true });
      },
    }),
    h(
      'section',
      { class: 'panel' },
      h('h2', null, 'API key'),
      h('p', null, 'Rotating replaces the key at once on every node: the old key stops working.'),
      actionButton(
        'Rotate the API key',
        async () => {
          if (!confirm('Rotate the API key? Systems still sending the old key are refused at once.')) return;
          const rotated = await post(`/projects/${id}/regenerate-api-key`);
          fill(shown, secretOnce('The new API key', rotated.apiKey));
        },
        { class: 'danger' },
      ),
      shown,
    ),
  );
}
