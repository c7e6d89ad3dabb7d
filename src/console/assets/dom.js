// Building blocks of every screen. Data reaches the page only as text nodes or attribute values
// (never as markup), so nothing a tenant stores can run in the console.
/* global document, FormData, HTMLElement, HTMLFieldSetElement, navigator, Node, window */

/** h('button', { class: 'quiet', onClick }, 'Save'): an element with its properties and children. */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (['value', 'checked', 'disabled', 'selected', 'hidden'].includes(key)) el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's content. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const loading = (text = 'Loading…') => h('p', { class: 'loading', role: 'status' }, text);
export const empty = (...text) => h('p', { class: 'empty' }, ...text);
export const errorBox = (error) =>
  h('p', { class: 'error', role: 'alert' }, error?.message ?? String(error ?? 'Something went wrong'));

export function badge(text, tone) {
  return h('span', { class: `badge${tone ? ` ${tone}` : ''}` }, text);
}

export function page(title, lead, ...content) {
  document.title = `${title} · Tocsin console`;
  return [h('h1', null, title), lead ? h('p', { class: 'lead' }, lead) : null, ...content];
}

/**
 * A table; `columns` are { label, cell(row) }. Cells carry their label, shown beside the value
 * when narrow screens stack the rows.
 */
export function table(columns, rows, emptyText = 'Nothing here yet.') {
  if (rows.length === 0) return empty(emptyText);
  return h(
    'table',
    null,
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        columns.map((c) => h('th', { scope: 'col' }, c.label)),
      ),
    ),
    h(
      'tbody',
      null,
      rows.map((row) =>
        h(
          'tr',
          null,
          columns.map((c) => h('td', { 'data-label': c.label || null }, c.cell(row))),
        ),
      ),
    ),
  );
}

export const when = (value) => (value ? new Date(value).toLocaleString() : '—');

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

let fieldCounter = 0;

/** A labelled control with its hint and a slot for its own error. */
export function field(label, control, hint) {
  control.id ||= `f${++fieldCounter}`;
  const error = h('p', {
    class: 'field-error',
    id: `${control.id}-error`,
    hidden: true,
    'aria-live': 'polite',
  });
  control.setAttribute('aria-describedby', `${control.id}-error`);
  const wrapper = h(
    'div',
    { class: 'field', dataset: { name: control.name || '' } },
    h('label', { for: control.id }, label),
    control,
    hint ? h('p', { class: 'hint' }, hint) : null,
    error,
  );
  return wrapper;
}

/** Checkboxes (or radios) under one legend, with a slot for the group's error. */
export function choices(legend, controls, props = {}) {
  const id = `f${++fieldCounter}`;
  return h(
    'fieldset',
    { ...props, id, 'aria-describedby': `${id}-error` },
    h('legend', { class: 'hint' }, legend),
    controls,
    h('p', { class: 'field-error', id: `${id}-error`, hidden: true, 'aria-live': 'polite' }),
  );
}

/** The control a form names `name`; for a group of checkboxes, the fieldset holding them. */
function controlNamed(el, name) {
  const named = name ? el.elements.namedItem(name) : null;
  if (named instanceof HTMLElement) return named;
  const first = named?.[0];
  return first instanceof HTMLElement ? first.closest('fieldset') : null;
}

/** Shows an error beside a control (or clears it with null); false if it has no place for one. */
export function setFieldError(control, message) {
  const slot = control.id && document.getElementById(`${control.id}-error`);
  control.setAttribute('aria-invalid', message ? 'true' : 'false');
  if (!slot) return false;
  slot.hidden = !message;
  slot.textContent = message ?? '';
  return true;
}

/**
 * A form whose submit runs `action` with the button busy; an API error lands beside the field
 * it names (validation details), else at the top of the form.
 */
export function form({ fields, submit, action, extra }) {
  const top = h('div', { 'aria-live': 'polite' });
  const button = h('button', { type: 'submit' }, submit);
  const el = h('form', { novalidate: true }, top, fields, h('div', { class: 'actions' }, button, extra));
  el.addEventListener('submit', async (e) => {
    e.preventDefault();
    fill(top);
    for (const control of el.querySelectorAll('[aria-invalid="true"]')) setFieldError(control, null);
    button.disabled = true;
    const label = button.textContent;
    button.textContent = `${label}…`;
    try {
      await action(new FormData(el), el);
    } catch (error) {
      showFormError(el, top, error);
    } finally {
      button.disabled = false;
      button.textContent = label;
    }
  });
  return el;
}

function showFormError(el, top, error) {
  const issues = Array.isArray(error?.details) ? error.details : [];
  let placed = 0;
  for (const issue of issues) {
    // The control named by the whole path (settings.suppression.maxMatches), else by its start.
    const path = String(issue.path ?? '');
    const control = controlNamed(el, path) ?? controlNamed(el, path.split('.')[0]);
    if (control && setFieldError(control, issue.message)) placed++;
  }
  const named = controlNamed(el, error?.details?.field);
  if (named) {
    setFieldError(named, error.message);
    focusIn(named);
    return;
  }
  // Every problem is beside its field: the top only points there, without repeating them.
  const everyPlaced = placed > 0 && placed === issues.length;
  fill(top, errorBox(everyPlaced ? { message: 'Not saved: see the marked fields below.' } : error));
  const invalid = el.querySelector('[aria-invalid="true"]');
  if (invalid) focusIn(invalid);
}

/** Focuses a control, or the first control of a group (a fieldset takes no focus itself). */
const focusIn = (control) =>
  (control instanceof HTMLFieldSetElement
    ? control.querySelector('input, select, textarea')
    : control
  )?.focus();

/** Loads data into `el`: a loading line, then `render(data)`, or the error where the data would be. */
export async function load(el, loader, render) {
  fill(el, loading());
  try {
    const data = await loader();
    fill(el, render(data));
  } catch (error) {
    fill(el, errorBox(error));
  }
}

/** A button that runs `action` busy, showing an error next to itself. */
export function actionButton(label, action, props = {}) {
  const status = h('span', { class: 'field-error', role: 'alert' });
  const button = h(
    'button',
    {
      type: 'button',
      ...props,
      onClick: async () => {
        status.textContent = '';
        // Busy like a form's submit button: disabled, "…" after its label, aria-busy.
        button.disabled = true;
        button.textContent = `${label}…`;
        button.setAttribute('aria-busy', 'true');
        try {
          await action();
        } catch (error) {
          status.textContent = error.message;
        } finally {
          button.disabled = false;
          button.textContent = label;
          button.removeAttribute('aria-busy');
        }
      },
    },
    label,
  );
  return h('span', { class: 'row' }, button, status);
}

/**
 * A button that copies `text` to the clipboard. Where the page has no clipboard (plain http off
 * localhost is not a secure context), it selects `target` for Ctrl+C instead.
 */
export function copyButton(text, target) {
  const status = h('span', { class: 'muted', role: 'status' });
  const button = h(
    'button',
    {
      type: 'button',
      class: 'quiet',
      onClick: async () => {
        try {
          await navigator.clipboard.writeText(text);
          status.textContent = 'Copied.';
        } catch {
          window.getSelection()?.selectAllChildren(target);
          status.textContent = 'Selected: press Ctrl+C (⌘C) to copy.';
        }
      },
    },
    'Copy',
  );
  return h('span', { class: 'row' }, button, status);
}
