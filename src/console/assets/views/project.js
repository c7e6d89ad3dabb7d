// A project's configuration: sounds, provider credentials (write-only), transfer buckets, its
// settings (a super admin acting in it also sets its limits) and the API key, shown once.
/* global confirm */
import { actingProject, can, del, get, post, put, request } from '../api.js';
import { actionButton, badge, bytes, copyButton, field, fill, form, h, page, table, when } from '../dom.js';
import { navigate } from '../router.js';

/** "3 of 50 sounds, 1.2 MiB of 20.0 MiB used; one file up to 1.0 MiB". */
function quotaText({ items, total, quota }) {
  const used = items.reduce((sum, s) => sum + s.sizeBytes, 0);
  // (All are listed unless the hub allows more than a page: then the sum is of the listed ones.)
  const usage =
    total > items.length
      ? `${bytes(used)} in the first ${items.length}`
      : `${bytes(used)} of ${bytes(quota.bytes)} used`;
  return `${total} of ${quota.count} sounds, ${usage}; one file up to ${bytes(quota.fileBytes)}.`;
}

export async function soundsView(screen) {
  const sounds = await get('/sounds?pageSize=200');
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
    page('Sounds', 'Rules can play one with their alert.'),
    h('p', { id: 'sound-quota' }, quotaText(sounds)),
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
            fields: [field('Name', name), field('File', file, 'MP3, Ogg or WAV')],
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
    body: (d) => {
      try {
        return { serviceAccount: JSON.parse(String(d.get('serviceAccount'))) };
      } catch (error) {
        throw Object.assign(
          new Error(`Paste the service account JSON file Firebase gave you (${error.message})`),
          { details: { field: 'serviceAccount' } },
        );
      }
    },
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

/** Shows a secret once, with the warning that it will not be shown again and a copy button. */
export function secretOnce(label, value) {
  const text = h('p', { class: 'secret' }, value);
  return h(
    'div',
    { class: 'panel', role: 'status' },
    h('p', null, `${label} — shown only this once; copy it now:`),
    text,
    copyButton(value, text),
  );
}

/** What a project admin may change (PUT /project), by settings path. */
const ADMIN_SETTINGS = [
  {
    path: 'suppression.maxMatches',
    label: 'At most … alerts per rule',
    hint: 'The suppression of rules that set none: at most this many notifications…',
  },
  { path: 'suppression.windowSeconds', label: '… per seconds', hint: '…in this many seconds' },
  {
    path: 'delivery.ackTimeoutMs',
    label: 'Push after (ms) unacknowledged',
    hint: 'An unacknowledged notification is also pushed to the phone after this long',
  },
  { path: 'delivery.useGateway', label: 'Deliver through the gateway (WebSocket)', check: true },
  { path: 'delivery.usePusher', label: 'Deliver through hosted Pusher', check: true },
  { path: 'delivery.usePush', label: 'Deliver by push (FCM, APNs)', check: true },
  { path: 'gateway.clientEvents', label: 'Client events between channel members', check: true },
];

/** The limits only a super admin sets (PUT /projects/{id}): they spend the hub's capacity. */
const LIMITS = [
  { path: 'rateLimits.apiPerMinute', label: 'API requests per minute' },
  { path: 'rateLimits.userPerMinute', label: 'API requests per minute per user' },
  { path: 'rateLimits.ingestPerSecond', label: 'Events ingested per second' },
  { path: 'gateway.maxConnections', label: 'Gateway connections' },
  { path: 'gateway.maxChannelsPerConnection', label: 'Channels per connection' },
  { path: 'gateway.clientEventsPerSecond', label: 'Client events per second per connection' },
  { path: 'delivery.maxAttempts', label: 'Delivery attempts' },
  { path: 'retention.eventsDays', label: 'Events kept (days)' },
  { path: 'retention.notificationsDays', label: 'Notifications kept (days)' },
  { path: 'retention.auditDays', label: 'Audit log kept (days)' },
];

const valueAt = (settings, path) => path.split('.').reduce((at, key) => at?.[key], settings);

/** A control named by its settings path, so an API error about it lands beside it. */
function settingControl(setting, settings) {
  const name = `settings.${setting.path}`;
  const value = valueAt(settings, setting.path);
  if (setting.check)
    return h(
      'label',
      { class: 'check' },
      h('input', { type: 'checkbox', name, checked: value === true }),
      setting.label,
    );
  return field(
    setting.label,
    h('input', { name, type: 'number', step: 1, inputmode: 'numeric', value: String(value ?? '') }),
    setting.hint,
  );
}

/** The settings patch of the form's controls: sections of the paths in `settings`. */
function settingsPatch(data, settings) {
  const patch = {};
  for (const setting of settings) {
    const [section, key] = setting.path.split('.');
    const raw = data.get(`settings.${setting.path}`);
    // An empty number field is sent as null: the API names the field and its bounds.
    const value = setting.check ? raw === 'on' : raw === '' ? null : Number(raw);
    (patch[section] ??= {})[key] = value;
  }
  return patch;
}

export async function settingsView(screen) {
  // A super admin acting inside the project may also change its limits (PUT /projects/{id}).
  const superAdmin = Boolean(actingProject());
  const project = await get('/project');
  const shown = h('div', { id: 'new-api-key' });
  const text = (name, value, props = {}) => h('input', { name, value: value ?? '', ...props });
  const editable = superAdmin ? [...ADMIN_SETTINGS, ...LIMITS] : ADMIN_SETTINGS;
  const limits = superAdmin
    ? h(
        'fieldset',
        null,
        h('legend', null, 'Limits (only a super admin sets them)'),
        h(
          'div',
          { class: 'fields' },
          LIMITS.map((l) => settingControl(l, project.settings)),
        ),
      )
    : null;
  fill(
    screen,
    page(
      `${project.name} settings`,
      `Slug ${project.slug} · API key ${project.apiKeyPrefix}… · gateway app ${project.gateway.appId}, key ${project.gateway.key}`,
    ),
    h('p', { id: 'settings-saved', class: 'ok', role: 'status', hidden: true }, 'Saved.'),
    form({
      fields: [
        field('Name', text('name', project.name, { required: true, maxlength: 120 })),
        field('Description', text('description', project.description, { maxlength: 5000 })),
        field(
          'Webhook URL',
          text('webhookUrl', project.webhookUrl, { type: 'url', inputmode: 'url' }),
          'Presence and channel webhooks are POSTed here (https://…)',
        ),
        h(
          'fieldset',
          null,
          h('legend', null, 'Alerting and delivery'),
          h(
            'div',
            { class: 'fields' },
            ADMIN_SETTINGS.filter((s) => !s.check).map((s) => settingControl(s, project.settings)),
          ),
          ADMIN_SETTINGS.filter((s) => s.check).map((s) => settingControl(s, project.settings)),
        ),
        limits,
      ],
      submit: 'Save settings',
      action: async (data) => {
        const changes = {
          name: data.get('name'),
          description: data.get('description') || null,
          webhookUrl: data.get('webhookUrl') || null,
          settings: settingsPatch(data, editable),
        };
        await (superAdmin ? put(`/projects/${project.id}`, changes) : put('/project', changes));
        await navigate('/settings', { replace: true });
        screen.ownerDocument.getElementById('settings-saved')?.removeAttribute('hidden');
      },
    }),
    superAdmin
      ? null
      : h(
          'section',
          { class: 'panel' },
          h('h2', null, 'Limits'),
          h('p', { class: 'hint' }, 'Set by the hub’s super admin; ask them to change one.'),
          table(
            [
              { label: 'Limit', cell: (l) => l.label },
              { label: 'Value', cell: (l) => String(valueAt(project.settings, l.path)) },
            ],
            LIMITS,
          ),
        ),
    h(
      'section',
      { class: 'panel' },
      h('h2', null, 'API key'),
      h(
        'p',
        null,
        `The key starting ${project.apiKeyPrefix}… sends events. Rotating replaces it at once on every node: the old key stops working.`,
      ),
      actionButton(
        'Rotate the API key',
        async () => {
          if (!confirm('Rotate the API key? Systems still sending the old key are refused at once.')) return;
          const rotated = await post('/project/api-key');
          fill(shown, secretOnce('The new API key', rotated.apiKey));
        },
        { class: 'danger' },
      ),
      shown,
    ),
  );
}
