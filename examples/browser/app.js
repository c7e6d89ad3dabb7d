// Tocsin's browser example: log in, connect to the gateway with an unmodified pusher-js, show the
// notifications of the user's own channel as they arrive, and acknowledge them over the socket.
// Data from the server only ever reaches the page through textContent.
/* global document, fetch, FormData, Pusher */

const $ = (id) => document.getElementById(id);
const form = $('login');
const config = await (await fetch('/config.json')).json();
form.elements.projectSlug.value = config.projectSlug;
form.querySelector('button').disabled = false;

function setStatus(state, text) {
  $('status').dataset.state = state;
  $('status').textContent = text;
}

/** Calls the REST API; an error answer throws with the API's own message. */
async function api(method, path, { token, body } = {}) {
  const headers = {};
  if (body) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${config.apiUrl}/api/v1${path}`, {
    method,
    headers,
    body: body && JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error?.message ?? `${method} ${path} answered ${res.status}`);
  return data;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const { email, password, projectSlug } = Object.fromEntries(new FormData(form));
  const button = form.querySelector('button');
  button.disabled = true; // one login, one connection
  setStatus('busy', 'Logging in…');
  try {
    const { accessToken } = await api('POST', '/auth/login', { body: { email, password, projectSlug } });
    const me = await api('GET', '/users/me', { token: accessToken });
    form.hidden = true;
    connect(accessToken, me);
  } catch (err) {
    setStatus('error', err.message);
    button.disabled = false;
  }
});

function connect(token, me) {
  const pusher = new Pusher(config.key, {
    cluster: 'local', // required by pusher-js, unused once wsHost is set
    wsHost: config.wsHost,
    wsPort: config.wsPort,
    forceTLS: false,
    enabledTransports: ['ws'],
    disableStats: true,
    // pusher-js asks Tocsin to sign each private subscription, as the logged-in user.
    channelAuthorization: {
      endpoint: `${config.apiUrl}/api/v1/users/me/pusher-auth`,
      transport: 'ajax',
      headers: { Authorization: `Bearer ${token}` },
    },
  });
  pusher.connection.bind('state_change', ({ current }) => setStatus(current, `Gateway: ${current}`));

  const name = `private-user-${me.id}`;
  const channel = pusher.subscribe(name);
  channel.bind('pusher:subscription_succeeded', () =>
    setStatus('subscribed', `Subscribed to ${name} as ${me.email}`),
  );
  channel.bind('pusher:subscription_error', (err) =>
    setStatus('error', `Subscription refused (${err.status}): ${err.error}`),
  );
  // send_event is false when the socket is down: the button stays, to be pressed again.
  // Acknowledging a notification of an alert takes the alert: its later steps stop for everyone.
  const acknowledger = (n) => () => pusher.send_event('tocsin:ack', { id: n.id });
  const resolver = (n) => () => pusher.send_event('tocsin:resolve', { alertId: n.alertId });
  channel.bind('notification', (n) => show(n, acknowledger(n), resolver(n)));
  // More were waiting than a replay carries: the rest is in the inbox.
  channel.bind('tocsin:replay_truncated', async ({ inbox }) => {
    const { items } = await api('GET', `${inbox.replace('/api/v1', '')}&limit=200`, { token });
    for (const n of items.reverse()) show(n, acknowledger(n), resolver(n)); // oldest first, like the replay
  });
}

const shown = new Set();

function element(tag, text) {
  const node = document.createElement(tag);
  node.textContent = text;
  return node;
}

/** A button that runs `act` once the socket took it, then says `done`. */
function actionButton(label, done, act) {
  const button = element('button', label);
  button.addEventListener('click', () => {
    if (!act()) return;
    button.disabled = true;
    button.textContent = done;
  });
  return button;
}

function show(notification, acknowledge, resolve) {
  // On every (re)subscription the gateway replays what is not acknowledged yet: show it once.
  if (shown.has(notification.id)) return;
  shown.add(notification.id);

  const time = element('time', new Date(notification.createdAt).toLocaleString());
  time.dateTime = notification.createdAt;
  const item = document.createElement('li');
  item.dataset.id = notification.id;
  item.append(element('strong', notification.title), element('p', notification.body ?? ''), time, ' ');
  if (notification.alertId) {
    // A page of an alert (docs/alerting.md): take it, or close it once the problem is fixed.
    item.dataset.alertId = notification.alertId;
    const step = notification.alertStep ? `step ${notification.alertStep}` : 'reminder';
    item.append(
      element('small', `Alert, ${step} `),
      actionButton('Take it', 'Taken', acknowledge),
      ' ',
      actionButton('Resolve', 'Resolved', resolve),
    );
  } else {
    item.append(actionButton('Acknowledge', 'Acknowledged', acknowledge));
  }
  $('notifications').prepend(item);
}
