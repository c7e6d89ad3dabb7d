// Rules: the list, and the editor that checks the condition as it is typed (POST /rules/test,
// the same answer as `tocsin rule test`) and points at the parser's error in the text.
/* global AbortController, clearTimeout, setTimeout */
import { can, get, post, put, del } from '../api.js';
import { actionButton, badge, errorBox, field, fill, form, h, page, setFieldError, table } from '../dom.js';
import { BASE, navigate } from '../router.js';

const SAMPLE_EVENT = { type: 'transfer.failed', payload: { amount: 12000, account: 'FR76 3000 6000 0112' } };

export async function rulesView(screen) {
  const rules = await get('/rules?pageSize=200');
  fill(
    screen,
    page('Rules', 'A rule alerts the holders of its roles when an event matches its condition.'),
    can('rules:write')
      ? h('p', null, h('a', { class: 'button', href: `${BASE}/rules/new` }, 'New rule'))
      : null,
    table(
      [
        { label: 'Name', cell: (r) => h('a', { href: `${BASE}/rules/${r.id}` }, r.name) },
        { label: 'Condition', cell: (r) => h('code', null, r.condition) },
        { label: 'Priority', cell: (r) => String(r.priority) },
        { label: 'State', cell: (r) => (r.active ? badge('active', 'good') : badge('inactive')) },
      ],
      rules.items,
      'No rules yet: without one, events are stored but alert no one.',
    ),
  );
}

/** Where a 1-based column of the whole text falls: its line, the column in it, the line's text. */
function locate(text, column) {
  const before = text.slice(0, column - 1);
  const lineStart = before.lastIndexOf('\n') + 1;
  return {
    line: before.split('\n').length,
    column: column - lineStart,
    text: text.slice(lineStart).split('\n')[0],
  };
}

/** The explain trace: every node of the condition with its value, in evaluation order. */
export function explainSteps(steps) {
  return h(
    'ol',
    { class: 'steps' },
    steps.map((step) =>
      h(
        'li',
        null,
        h('code', null, step.expression),
        ' → ',
        h('code', null, JSON.stringify(step.value) ?? 'undefined'),
      ),
    ),
  );
}

function trace(result) {
  return [
    h(
      'p',
      null,
      result.matched ? badge('matches the sample', 'good') : badge('does not match the sample', 'warn'),
    ),
    explainSteps(result.steps),
  ];
}

/** The notification the draft would send for the sample, rendered by the hub. */
function previewOf(result, hasTemplates) {
  if (!hasTemplates) return h('p', { class: 'hint' }, 'Fill in the title and body to preview them.');
  if (!result.notification)
    return h('p', { class: 'hint' }, 'No preview: the sample event does not match the condition.');
  return h(
    'div',
    { class: 'panel' },
    h('p', { class: 'hint' }, 'Preview with the sample event:'),
    h('strong', null, result.notification.title),
    h('p', null, result.notification.body),
  );
}

function conditionProblem(error, condition, textarea) {
  const column = error.details?.column;
  if (error.code !== 'invalid_condition' || !column) return errorBox(error);
  const at = locate(condition, column);
  return h(
    'div',
    { class: 'error', role: 'alert', dataset: { column: String(column) } },
    h(
      'p',
      null,
      `${error.message.replace(/^condition: /, '').replace(/ at column \d+$/, '')} (line ${at.line}, column ${at.column})`,
    ),
    h('pre', null, at.text, '\n', ' '.repeat(at.column - 1), h('span', { class: 'caret' }, '^')),
    h(
      'button',
      {
        type: 'button',
        class: 'quiet',
        onClick: () => {
          textarea.focus();
          textarea.setSelectionRange(column - 1, column);
        },
      },
      'Show in the editor',
    ),
  );
}

function readSample(textarea) {
  try {
    const value = JSON.parse(textarea.value);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    setFieldError(textarea, null);
    return value;
  } catch (error) {
    setFieldError(textarea, `The sample event must be a JSON object (${error.message})`);
    return null;
  }
}

export async function ruleView(screen, { id }) {
  const isNew = id === 'new';
  const [rule, roles, sounds, policies] = await Promise.all([
    isNew ? null : get(`/rules/${encodeURIComponent(id)}`),
    get('/roles'),
    get('/sounds'),
    get('/escalation-policies?pageSize=200'),
  ]);
  const writable = can('rules:write');
  const input = (name, value, props = {}) => h('input', { name, value: value ?? '', ...props });
  const name = input('name', rule?.name, { required: true, maxlength: 120 });
  const description = input('description', rule?.description);
  const condition = h('textarea', { name: 'condition', rows: 3, spellcheck: 'false' }, rule?.condition ?? '');
  const sample = h(
    'textarea',
    { name: 'sample', rows: 5, spellcheck: 'false' },
    JSON.stringify(SAMPLE_EVENT, null, 2),
  );
  const title = input('title', rule?.title, { maxlength: 200 });
  const body = h('textarea', { name: 'body', rows: 3 }, rule?.body ?? '');
  const priority = input('priority', String(rule?.priority ?? 0), { type: 'number', min: -1000, max: 1000 });
  const active = h('input', { type: 'checkbox', name: 'active', checked: rule ? rule.active : true });
  const sound = h(
    'select',
    { name: 'soundId' },
    h('option', { value: '' }, 'No sound'),
    sounds.items.map((s) => h('option', { value: s.id, selected: rule?.soundId === s.id }, s.name)),
  );
  const maxMatches = input('maxMatches', rule?.suppression?.maxMatches, { type: 'number', min: 1 });
  const windowSeconds = input('windowSeconds', rule?.suppression?.windowSeconds, { type: 'number', min: 1 });
  const targets = h(
    'fieldset',
    { name: 'targetRoles' },
    h('legend', null, 'Alert the holders of'),
    roles.items.map((role) =>
      h(
        'label',
        { class: 'check' },
        h('input', {
          type: 'checkbox',
          name: 'targetRoles',
          value: role.id,
          checked: rule ? rule.targetRoles.includes(role.id) : role.name === 'member',
        }),
        role.name,
      ),
    ),
  );
  // An alert instead of one-off notifications: a dedup key, and optionally when it resolves and
  // the escalation policy that pages through it (docs/alerting.md).
  const dedupKey = input('alert.dedupKey', rule?.alert?.dedupKey, { maxlength: 500, spellcheck: 'false' });
  const resolveWhen = h(
    'textarea',
    { name: 'alert.resolveWhen', rows: 2, spellcheck: 'false' },
    rule?.alert?.resolveWhen ?? '',
  );
  const policy = h(
    'select',
    { name: 'escalationPolicyId' },
    h('option', { value: '' }, 'No escalation policy'),
    policies.items.map((p) =>
      h('option', { value: p.id, selected: rule?.escalationPolicyId === p.id }, p.name),
    ),
  );
  const check = h('div', { id: 'condition-check', 'aria-live': 'polite' });
  const preview = h('div', { id: 'template-preview', 'aria-live': 'polite' });
  const tryOut = h('div', { id: 'try-result', 'aria-live': 'polite' });

  let pending;
  let timer;
  const checkCondition = async () => {
    pending?.abort();
    const text = condition.value;
    const event = readSample(sample);
    if (!text.trim())
      return fill(check, h('p', { class: 'hint' }, 'Type a condition, e.g. event.type == "transfer.failed"'));
    if (!event) return fill(check);
    const controller = (pending = new AbortController());
    fill(check, h('p', { class: 'loading', role: 'status' }, 'Checking…'));
    try {
      const templates = title.value && body.value ? { title: title.value, body: body.value } : {};
      const result = await post(
        '/rules/test',
        { condition: text, event, ...templates },
        { signal: controller.signal },
      );
      if (controller.signal.aborted) return;
      for (const control of [condition, title, body]) setFieldError(control, null);
      fill(
        check,
        h('div', { class: 'panel' }, h('p', { class: 'ok' }, 'The condition is valid.'), trace(result)),
      );
      fill(preview, previewOf(result, Boolean(templates.title)));
    } catch (error) {
      if (controller.signal.aborted || error.name === 'AbortError') return;
      if (error.code === 'invalid_template') {
        fill(check);
        fill(preview);
        setFieldError(error.details?.field === 'body' ? body : title, error.message);
        return;
      }
      condition.setAttribute('aria-invalid', 'true');
      fill(check, conditionProblem(error, text, condition));
    }
  };
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(checkCondition, 300);
  };
  for (const control of [condition, sample, title, body]) control.addEventListener('input', soon);

  const number = (value) => (value === '' || value === null ? undefined : Number(value));
  const save = async (data) => {
    const limit = {
      maxMatches: number(data.get('maxMatches')),
      windowSeconds: number(data.get('windowSeconds')),
    };
    const fields = {
      name: data.get('name'),
      description: data.get('description') || null,
      condition: data.get('condition'),
      targetRoles: data.getAll('targetRoles'),
      title: data.get('title'),
      body: data.get('body'),
      priority: number(data.get('priority')) ?? 0,
      active: data.get('active') === 'on',
      soundId: data.get('soundId') || null,
      suppression: limit.maxMatches || limit.windowSeconds ? limit : null,
      alert: data.get('alert.dedupKey')
        ? { dedupKey: data.get('alert.dedupKey'), resolveWhen: data.get('alert.resolveWhen') || null }
        : null,
      escalationPolicyId: data.get('escalationPolicyId') || null,
    };
    const saved = isNew ? await post('/rules', fields) : await put(`/rules/${rule.id}`, fields);
    await navigate(`/rules/${saved.id}`, { replace: isNew });
    screen.ownerDocument.getElementById('rule-saved')?.removeAttribute('hidden');
  };

  const tryIt = rule
    ? actionButton('Try the saved rule on the sample', async () => {
        const event = readSample(sample);
        if (!event) return;
        const result = await post('/rules/test', { ruleId: rule.id, event });
        fill(
          tryOut,
          h(
            'div',
            { class: 'panel' },
            h('h2', null, 'Try it'),
            trace(result),
            result.notification
              ? [
                  h('p', null, 'The notification it would send:'),
                  h(
                    'div',
                    { class: 'panel' },
                    h('strong', null, result.notification.title),
                    h('p', null, result.notification.body),
                  ),
                ]
              : h('p', { class: 'hint' }, 'No notification: the sample does not match.'),
          ),
        );
      })
    : null;

  fill(
    screen,
    page(
      isNew ? 'New rule' : rule.name,
      isNew ? 'Conditions are checked as you type, against the sample event.' : null,
    ),
    h('p', { id: 'rule-saved', class: 'ok', role: 'status', hidden: true }, 'Saved.'),
    form({
      fields: [
        field('Name', name),
        field('Description', description),
        field('Condition', condition, 'See docs/rules.md: paths under event, ==, >, &&, in, helpers.'),
        check,
        field(
          'Sample event',
          sample,
          'JSON: { "type": …, "payload": { … } }, used by the check and by Try it',
        ),
        targets,
        field('Title', title, 'Template: {{event.payload.amount}} is filled from the event'),
        field('Body', body),
        preview,
        h('div', { class: 'row' }, field('Priority', priority), field('Sound', sound)),
        h(
          'div',
          { class: 'row' },
          field('At most … alerts', maxMatches),
          field('… per seconds', windowSeconds),
        ),
        h(
          'fieldset',
          null,
          h('legend', null, 'Alert (instead of one-off notifications)'),
          field(
            'Dedup key',
            dedupKey,
            'Template, e.g. {{event.payload.host}}: events with the same key count into one open alert. Empty: no alert.',
          ),
          field(
            'Resolve when',
            resolveWhen,
            'A condition over later events that closes the alert of their key',
          ),
          field('Escalation policy', policy, 'Pages through its steps until someone acknowledges'),
        ),
        h('label', { class: 'check' }, active, 'Active'),
      ],
      submit: writable ? (isNew ? 'Create rule' : 'Save rule') : 'Read only',
      action: writable ? save : async () => {},
      extra: [
        tryIt,
        !isNew && writable
          ? actionButton(
              'Delete',
              async () => {
                await del(`/rules/${rule.id}`);
                await navigate('/rules');
              },
              { class: 'danger' },
            )
          : null,
      ],
    }),
    tryOut,
  );
  if (condition.value) checkCondition();
  name.focus();
}
