// The sandman web console (docs/admin/console-and-sign-in.md "In the browser"): plain JavaScript over the HTTP API, with the
// login cookie (credentials: same-origin). No framework, no build step, nothing from a CDN.
/* global refreshJobs */
'use strict';

const $ = (selector) => document.querySelector(selector);

/** A user login's own facts (GET /me, docs/admin/console-and-sign-in.md "User logins"); null for the admin's login. */
let me = null;

/** The API, as JSON; an error answer becomes an Error with the API's message. */
async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : {'content-type': 'application/json'},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    const error = new Error((data && data.error) || `${response.status} ${response.statusText}`);
    error.status = response.status;
    throw error;
  }
  return data;
}

function say(message) {
  $('#status').textContent = message;
}

/** One colour per session, the same in the table and in the GPU picture. */
function colourOf(sessionId) {
  let hash = 0;
  for (const char of sessionId) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return `hsl(${hash % 360} 65% 45%)`;
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'text') node.textContent = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function ago(iso) {
  if (!iso) return '—';
  const minutes = Math.round((Date.now() - Date.parse(iso)) / 60000);
  return minutes < 1 ? 'active now' : minutes < 120 ? `${minutes} min` : `${Math.round(minutes / 60)} h`;
}

/** `2026-12-07 14:00 UTC`, as the CLI writes times (cli/output.ts formatTime), whatever the browser's locale. */
function utc(iso) {
  return iso.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC');
}

function until(iso) {
  const minutes = Math.round((Date.parse(iso) - Date.now()) / 60000);
  const time = utc(iso);
  return minutes >= 0 ? `${time} (in ${minutes} min)` : `${time} (${-minutes} min ago)`;
}

async function act(what, work) {
  say(`${what} …`);
  try {
    await work();
    say(`${what}: done`);
  } catch (error) {
    say(`${what}: ${error.message}`);
  }
  await refresh();
}

function sessionRow(session) {
  const id = session.session_id;
  const gpu = session.mig_profile ? `${session.mig_profile}` : session.gpu_uuid ? 'whole GPU' : 'none';
  const actions = element('td', {class: 'actions'});
  const button = (label, onclick) =>
    actions.append(
      element('button', {type: 'button', text: label, 'aria-label': `${label} ${session.user_id}`, onclick}),
    );
  button('Extend 1 h', () =>
    act(`Extending ${session.user_id}`, () => api('POST', `/sessions/${id}/extend`, {ttl_minutes: 60})),
  );
  if (session.status === 'running') {
    button('Stop', () => act(`Stopping ${session.user_id}`, () => api('POST', `/sessions/${id}/stop`)));
    button('Open terminal', () => window.open(`/terminal.html?session=${encodeURIComponent(id)}`, '_blank'));
    // Its image's web apps, through the API's proxy (docs/admin/apps.md): for
    // its user's login only; the admin's login opens no app (an app's page would act as the admin).
    for (const app of me ? (session.apps ?? []) : [])
      actions.append(
        element('a', {
          class: 'button',
          href: app.path,
          target: '_blank',
          rel: 'noopener',
          text: `Open ${app.title}`,
          'aria-label': `Open ${app.title} ${session.user_id}`,
        }),
      );
  }
  if (session.status === 'stopped')
    button('Start', () => act(`Starting ${session.user_id}`, () => api('POST', `/sessions/${id}/start`)));
  // Removing is the admin's (a user login stops her session; its home and container stay).
  if (!me)
    button('Remove', () => {
      if (confirm(`Remove ${session.user_id}'s session ${id}? Its home stays.`))
        act(`Removing ${session.user_id}`, () => api('DELETE', `/sessions/${id}`));
    });
  return element(
    'tr',
    {'data-session': id},
    element(
      'td',
      {},
      element('span', {class: 'swatch', style: `background:${colourOf(id)}`, 'aria-hidden': 'true'}),
      session.user_id,
    ),
    element('td', {text: session.status}),
    element('td', {text: gpu}),
    element('td', {class: 'expires', text: until(session.expires_at)}),
    element('td', {text: session.status === 'running' ? ago(session.last_active_at) : '—'}),
    actions,
  );
}

/**
 * What `session create` prints, after a create from the form: how to connect, and a generated
 * private key (the API hands it out in this answer only), to copy or save. A queued request says so.
 */
function showCreated(created) {
  const box = $('#created');
  box.hidden = false;
  if (created.status === 'queued') {
    box.replaceChildren(
      element('p', {
        text: `Request ${created.session_id} for ${created.ssh_user} is in line; it starts by itself.`,
      }),
    );
    return;
  }
  const key = created.ssh_private_key;
  const file = `sandman-${created.ssh_user}.key`;
  // The CLI's command (src/session/session-view.ts sshCommand), with the key where the browser saves it.
  const command = `ssh ${key ? `-i ${file} ` : ''}-p ${created.ssh_port} ${created.ssh_user}@${created.ssh_host}`;
  box.replaceChildren(
    element('h3', {text: `Session ${created.session_id} for ${created.ssh_user}`}),
    element('p', {text: `Created ${utc(created.created_at)}, expires ${utc(created.expires_at)}.`}),
    element('p', {}, 'Connect: ', element('code', {class: 'ssh-command', text: command})),
  );
  if (key) {
    const link = element('a', {download: file, text: file});
    link.href = URL.createObjectURL(new Blob([key], {type: 'application/octet-stream'}));
    box.append(
      element('p', {}, 'Private key, shown once (save it as ', link, ', then chmod 600 it):'),
      element('pre', {class: 'private-key', text: key}),
    );
  }
  const hide = () => {
    box.hidden = true;
    box.replaceChildren();
  };
  box.append(element('button', {type: 'button', text: 'Hide', onclick: hide}));
}

/** Per GPU a bar: each MIG device a segment as wide as its slices, coloured by its session or free. */
function gpuPicture(gpus) {
  const box = $('#gpus');
  box.replaceChildren();
  if (gpus.length === 0) box.append(element('p', {text: 'No GPUs on this host.'}));
  for (const gpu of gpus) {
    const bar = element('div', {class: 'bar', role: 'list', 'aria-label': `GPU ${gpu.uuid}`});
    const devices = gpu.mig_enabled
      ? gpu.mig_instances
      : [
          {
            uuid: gpu.uuid,
            profile: 'whole GPU',
            compute_slices: 1,
            session_id: gpu.session_id,
            session_user: gpu.session_user,
          },
        ];
    for (const device of devices) {
      const held = Boolean(device.session_id);
      const label = `${device.profile}: ${held ? `held by ${device.session_user} (${device.session_id})` : 'free'}`;
      bar.append(
        element(
          'div',
          {
            class: held ? 'slice held' : 'slice free',
            role: 'listitem',
            title: label,
            'aria-label': label,
            'data-uuid': device.uuid,
            'data-session': device.session_id || '',
            style: `flex-grow:${device.compute_slices || 1};${held ? `background:${colourOf(device.session_id)}` : ''}`,
          },
          element('span', {
            text: held ? `${device.profile} · ${device.session_user}` : `${device.profile} · free`,
          }),
        ),
      );
    }
    const used = devices.reduce((sum, device) => sum + (device.compute_slices || 0), 0);
    // A100, H100 and H200 have 7 compute slices; what no device was made from shows as such.
    const total = gpu.mig_enabled ? Math.max(7, used) : used;
    if (gpu.mig_enabled && used < total)
      bar.append(
        element(
          'div',
          {
            class: 'slice unmade',
            role: 'listitem',
            style: `flex-grow:${total - used}`,
            'aria-label': `${total - used} slices not made into devices`,
          },
          element('span', {text: 'not partitioned'}),
        ),
      );
    box.append(element('figure', {}, element('figcaption', {text: `GPU ${gpu.name} · ${gpu.uuid}`}), bar));
  }
}

/** GPU-hours and session-hours per user over the last 7 days, as horizontal bars. */
function usageChart(report) {
  const box = $('#usage');
  box.replaceChildren();
  const rows = report.rows;
  if (rows.length === 0) return box.append(element('p', {text: 'No sessions in the last 7 days.'}));
  const most = Math.max(...rows.map((row) => Math.max(row.gpu_hours, row.session_hours)), 0.01);
  for (const row of rows) {
    const bar = (value, kind) =>
      element('div', {
        class: `usage ${kind}`,
        style: `width:${(100 * value) / most}%`,
        'aria-hidden': 'true',
      });
    box.append(
      element(
        'div',
        {class: 'usage-row'},
        element('span', {class: 'who', text: row.key}),
        element('div', {class: 'bars'}, bar(row.gpu_hours, 'gpu'), bar(row.session_hours, 'session')),
        element('span', {
          class: 'figures',
          text: `${row.gpu_hours.toFixed(2)} GPU-h · ${row.session_hours.toFixed(2)} session-h`,
        }),
      ),
    );
  }
}

/** A queued request's row: its place in line and what it waits for; it starts by itself. */
function queuedRow(request) {
  return element(
    'tr',
    {'data-session': request.session_id},
    element('td', {text: request.user_id}),
    element('td', {text: `queued, #${request.queue_position}`}),
    element('td', {text: request.waiting_for}),
    element('td', {text: `since ${utc(request.queued_at)}`}),
    element('td', {text: '—'}),
    element('td', {text: 'starts by itself when free'}),
  );
}

function hours(minutes) {
  return minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`;
}

/** A user login's limits and budget, as GET /me gives them. */
function meFacts(mine) {
  const {limits, gpu_hours: used} = mine;
  const running = mine.sessions.length;
  const facts = [
    ['Sessions', `${running} of at most ${limits.max_sessions}`],
    ['Longest session', `${hours(limits.max_ttl_minutes)} from its creation (extend up to it)`],
    ['GPU profiles', limits.allowed_profiles.length ? limits.allowed_profiles.join(', ') : 'any'],
    [
      'GPU-hours',
      used
        ? `${used.used.toFixed(2)} used, ${used.left.toFixed(2)} left of ${used.budget} per ${used.window}`
        : 'no budget set',
    ],
  ];
  if (mine.disk)
    facts.push([
      'Home',
      `${(mine.disk.used / 2 ** 30).toFixed(1)} GiB used${mine.disk.limit ? ` of ${(mine.disk.limit / 2 ** 30).toFixed(1)} GiB` : ''}`,
    ]);
  $('#me-facts').replaceChildren(
    ...facts.flatMap(([name, value]) => [element('dt', {text: name}), element('dd', {text: value})]),
  );
}

async function refresh() {
  const [sessions, gpus, usage, mine] = await Promise.all([
    api('GET', '/sessions'),
    me ? {gpus: []} : api('GET', '/gpus').catch(() => ({gpus: []})),
    me ? {rows: []} : api('GET', '/usage?since=7d&by=user').catch(() => ({rows: []})),
    me ? api('GET', '/me') : null,
  ]);
  const body = $('#sessions tbody');
  body.replaceChildren(
    ...sessions
      .filter((session) => session.session_id)
      .map((session) => (session.status === 'queued' ? queuedRow(session) : sessionRow(session))),
  );
  if (body.children.length === 0)
    body.append(element('tr', {}, element('td', {colspan: '6', text: 'No sessions.'})));
  await refreshJobs();
  if (mine) return meFacts(mine);
  gpuPicture(gpus.gpus || []);
  usageChart(usage);
}

/**
 * The create form's GPU choices (once, after login): the MIG devices' profiles this host has made
 * (compute-instance ones such as 1c.2g.10gb among them), then the profiles it could make.
 */
async function loadProfiles() {
  const select = $('#create select[name=gpu]');
  if (select.dataset.loaded) return;
  select.dataset.loaded = 'yes';
  // A user login sees the free devices (not who holds the others), and only her allowed profiles.
  const [gpus, free, profiles] = await Promise.all([
    me ? {gpus: []} : api('GET', '/gpus').catch(() => ({gpus: []})),
    me ? api('GET', '/gpus/available').catch(() => ({available_instances: []})) : {available_instances: []},
    api('GET', '/gpus/profiles').catch(() => ({profiles: []})),
  ]);
  const made = (gpus.gpus || []).flatMap((gpu) => (gpu.mig_instances || []).map((device) => device.profile));
  const spare = free.available_instances.map((device) => device.profile).filter(Boolean);
  const allowed = me ? me.limits.allowed_profiles : [];
  for (const name of new Set([...made, ...spare, ...profiles.profiles.map((profile) => profile.name)]))
    if (allowed.length === 0 || allowed.includes(name))
      select.append(element('option', {value: `profile:${name}`, text: `MIG ${name}`}));
}

/**
 * A user login (docs/admin/console-and-sign-in.md "User logins"): her sessions, limits and budget; creates for herself with
 * her defaults (an empty TTL is her default); no GPU holders, usage of others or removal.
 */
function asUser(mine) {
  me = mine;
  document.body.classList.add('user-login');
  $('#who').hidden = false;
  $('#who').textContent = `Logged in as ${mine.user}`;
  $('#sessions-title').textContent = 'Your sessions';
  $('#me').hidden = false;
  for (const section of document.querySelectorAll('.admin-only')) section.hidden = true;
  const user = $('#create input[name=user]');
  user.value = mine.user;
  user.readOnly = true;
  $('#user-field').hidden = true;
  $('#default-gpu').textContent = mine.defaults.gpu ? `your default (${mine.defaults.gpu})` : 'your default';
  const ttl = $('#create input[name=ttl]');
  ttl.required = false;
  ttl.value = '';
  ttl.placeholder = mine.defaults.ttl ? `default: ${mine.defaults.ttl}` : 'default';
  ttl.max = String(mine.limits.max_ttl_minutes);
  meFacts(mine);
}

async function showApp(who) {
  $('#login').hidden = true;
  $('#app').hidden = false;
  $('#logout').hidden = false;
  if (who && who.kind === 'user') asUser(await api('GET', '/me'));
  await Promise.all([loadProfiles(), refresh()]);
}

async function start() {
  $('#login-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await api('POST', '/login', {token: $('#token').value});
      $('#token').value = '';
      $('#login-error').textContent = '';
      await showApp({kind: 'admin'});
    } catch (error) {
      $('#login-error').textContent = error.message;
    }
  });
  $('#logout').addEventListener('click', async () => {
    await api('POST', '/logout');
    location.reload();
  });
  $('#create').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const body = {user_id: form.get('user')};
    if (form.get('ttl')) body.ttl_minutes = Number(form.get('ttl'));
    if (form.get('queue')) body.queue = true;
    const gpu = form.get('gpu');
    if (gpu.startsWith('profile:')) body.mig_profile = gpu.slice('profile:'.length);
    else if (gpu !== 'default') body.gpu = gpu;
    act(`Creating a session for ${body.user_id}`, async () =>
      showCreated(await api('POST', '/sessions', body)),
    );
  });
  try {
    const who = await api('GET', '/whoami');
    if (who.kind === 'terminal')
      return location.replace(`/terminal.html?session=${encodeURIComponent(who.session)}`);
    await showApp(who);
  } catch (error) {
    if (error.status !== 401) say(error.message);
    $('#token').focus();
  }
}

start();
