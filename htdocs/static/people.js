// People: members with search, sorting and pages; a detail panel per member;
// the invitation dialog with Copy and Reset Link; the organization's
// settings (tokens, session policy); roles. What the caller's role does not
// allow (docs/roles.md) is not shown: with SialiRoles Off everyone may do
// everything, as in the community edition.
import { api, el, avatar, fullName, timeAgo, exactTime, confirmDialog, copyText, toast,
  me, orgId, ApiError, field, checkbox, showErrors, statusLine, say, can, myRole,
  ROLE_NAMES } from './app.js';

const PAGE_SIZE = 20;
const state = { page: 1, search: '', ordering: 'username', role: '', count: 0, selected: null };
const app = document.getElementById('app');

const search = el('input', { id: 'search', type: 'search', placeholder: 'Search by name or email',
  autocomplete: 'off' });
const ordering = el('select', { id: 'ordering' },
  el('option', { value: 'username' }, 'Name'),
  el('option', { value: '-last_activity' }, 'Last activity'),
  el('option', { value: '-date_joined' }, 'Newest'));
const roleFilter = el('select', { id: 'role-filter' },
  el('option', { value: '' }, 'All roles'),
  Object.entries(ROLE_NAMES).map(([code, name]) => el('option', { value: code }, name)));
const tbody = el('tbody');
const status = el('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
const prev = el('button', { type: 'button', class: 'secondary', id: 'prev' }, '← Previous');
const next = el('button', { type: 'button', class: 'secondary', id: 'next' }, 'Next →');
const pageInfo = el('span', { id: 'page-info' });
const detail = el('aside', { id: 'detail', class: 'detail', hidden: true, 'aria-live': 'polite' });

app.replaceChildren(
  el('div', { class: 'page-head' },
    el('h1', {}, 'People'),
    el('div', { class: 'head-actions' },
      can.has('organization_settings') ? el('button', { type: 'button', class: 'secondary',
        id: 'org-settings', 'aria-haspopup': 'dialog', onclick: openSettings },
      'Organization settings') : null,
      can.has('manage_invite')
        ? el('button', { type: 'button', id: 'add-people', onclick: openInvite }, '+ Add People')
        : null)),
  el('div', { class: 'toolbar' },
    el('label', { for: 'search', class: 'sr-only' }, 'Search people'), search,
    el('label', { for: 'ordering' }, 'Sort by'), ordering,
    el('label', { for: 'role-filter' }, 'Role'), roleFilter),
  el('div', { class: 'people-layout' },
    el('div', { class: 'table-wrap' },
      el('table', { class: 'people' },
        el('thead', {}, el('tr', {},
          el('th', { scope: 'col' }, 'Name'),
          el('th', { scope: 'col' }, 'Email'),
          el('th', { scope: 'col' }, 'Role'),
          el('th', { scope: 'col' }, 'Last activity'))),
        tbody),
      status,
      el('nav', { class: 'pager', 'aria-label': 'Pages' }, prev, pageInfo, next)),
    detail));

let timer;
search.addEventListener('input', () => {
  clearTimeout(timer);
  timer = setTimeout(() => { state.search = search.value.trim(); state.page = 1; load(); }, 250);
});
ordering.addEventListener('change', () => { state.ordering = ordering.value; state.page = 1; load(); });
roleFilter.addEventListener('change', () => { state.role = roleFilter.value; state.page = 1; load(); });
prev.addEventListener('click', () => { if (state.page > 1) { state.page--; load(); } });
next.addEventListener('click', () => {
  if (state.page * PAGE_SIZE < state.count) { state.page++; load(); }
});

let generation = 0;
async function load() {
  const mine = ++generation;
  let body;
  try {
    body = await api(`/api/organizations/${orgId}/memberships`, {
      query: { page: state.page, page_size: PAGE_SIZE, search: state.search,
        ordering: state.ordering, role: state.role },
    });
  } catch (e) {
    if (mine === generation) status.textContent = e.message;
    return;
  }
  if (mine !== generation) return;   // a newer search already answered
  state.count = body.count;
  tbody.replaceChildren(...body.results.map(row));
  const pages = Math.max(1, Math.ceil(body.count / PAGE_SIZE));
  pageInfo.textContent = `Page ${state.page} of ${pages}`;
  prev.disabled = state.page <= 1;
  next.disabled = state.page >= pages;
  status.textContent = body.count === 0 ? 'Nobody matches this search.'
    : `${body.count} ${body.count === 1 ? 'person' : 'people'}`;
}

function row(m) {
  const u = m.user;
  const tr = el('tr', { tabindex: '0', dataset: { id: u.id }, class: u.is_active ? '' : 'inactive',
    'aria-label': `Show ${fullName(u) || u.email}` },
    el('td', {}, el('span', { class: 'who' }, avatar(u, 'small'),
      el('span', { class: 'name' }, fullName(u) || u.username),
      u.is_active ? null : el('span', { class: 'badge' }, 'deactivated'))),
    el('td', { class: 'email' }, u.email),
    el('td', { class: 'role' }, m.role === 'OW'
      ? el('span', { class: 'badge owner' }, ROLE_NAMES.OW) : ROLE_NAMES[m.role] || m.role),
    el('td', {}, el('time', { datetime: u.last_activity || '', title: exactTime(u.last_activity) },
      timeAgo(u.last_activity))));
  tr.addEventListener('click', () => show(u.id));
  tr.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); show(u.id); } });
  return tr;
}

function projectList(title, projects) {
  return el('section', {},
    el('h3', {}, title),
    projects.length
      ? el('ul', { class: 'projects' }, projects.map((p) => el('li', {}, p.title)))
      : el('p', { class: 'muted' }, 'None'));
}

async function show(id) {
  state.selected = id;
  detail.hidden = false;
  detail.replaceChildren(el('p', { class: 'loading' }, 'Loading…'));
  let d;
  try {
    d = await api(`/api/organizations/${orgId}/memberships/${id}`);
  } catch (e) {
    detail.replaceChildren(el('p', { class: 'error' }, e.message));
    return;
  }
  const u = d.user;
  const actions = el('div', { class: 'actions' });
  const roleControl = roleSelector(u, d.role);
  if (u.id !== me && can.has('manage_members') && d.role !== 'OW') {
    actions.append(
      el('button', { type: 'button', class: 'secondary', id: 'toggle-active',
        onclick: () => setActive(u, !u.is_active) }, u.is_active ? 'Deactivate' : 'Reactivate'),
      el('button', { type: 'button', class: 'danger', id: 'delete-member',
        onclick: () => remove(u) }, 'Delete'));
  }
  // a one-time link to set a new password, for teams without email
  const resetBox = el('div', { id: 'reset-link-box' });
  if (u.id !== me && can.has('make_reset_links') && d.role !== 'OW' && u.is_active) {
    actions.append(el('button', { type: 'button', class: 'secondary', id: 'member-reset-link',
      onclick: () => makeResetLink(u, resetBox) }, 'Create reset link'));
  }
  detail.replaceChildren(
    el('button', { type: 'button', class: 'icon-button close', 'aria-label': 'Close',
      onclick: () => { detail.hidden = true; } }, '×'),
    el('div', { class: 'detail-head' }, avatar(u, 'large'),
      el('div', {}, el('h2', {}, fullName(u) || u.username),
        el('p', { class: 'muted', id: 'detail-role' }, ROLE_NAMES[d.role] || d.role))),
    roleControl,
    el('dl', {},
      el('dt', {}, 'Email'), el('dd', { id: 'detail-email' }, u.email),
      el('dt', {}, 'Phone'), el('dd', {}, u.phone || '—'),
      el('dt', {}, 'Last activity'), el('dd', { title: exactTime(u.last_activity) }, timeAgo(u.last_activity)),
      el('dt', {}, 'Annotations'), el('dd', {}, String(d.annotations_count))),
    projectList('Created projects', d.created_projects),
    projectList('Contributed to', d.contributed_to_projects),
    actions, resetBox);
}

async function makeResetLink(u, box) {
  if (!await confirmDialog(`Create a reset link for ${u.email}?`, 'Whoever opens it can set '
    + 'a new password for this account, once; an older link stops working.', 'Create link')) {
    return;
  }
  const status = statusLine('reset-link-status');
  try {
    const r = await api(`/api/users/${u.id}/reset-link`, { method: 'POST' });
    const input = el('input', { id: 'reset-link-url', type: 'text', readonly: true,
      class: 'mono', value: r.url, 'aria-describedby': 'reset-link-note' });
    const copy = el('button', { type: 'button', class: 'secondary', id: 'reset-link-copy' },
      'Copy');
    copy.addEventListener('click', async () => {
      say(status, await copyText(r.url, input) ? 'Link copied.' : 'Select the link and copy it.');
    });
    box.replaceChildren(el('label', { for: 'reset-link-url' }, 'Reset link'),
      el('div', { class: 'copy-row' }, input, copy),
      el('p', { class: 'notice', id: 'reset-link-note' }, `Give it to ${u.email} yourself: `
        + `it works once, until ${exactTime(r.expires_at)}.`), status);
    input.focus();
    input.select();
  } catch (e) {
    toast(e.message, 'error');
  }
}

// The role selector of the detail panel, for those who may change roles,
// never for the owner (whose role changes only by a transfer); OW is offered
// to the owner alone, as "transfer ownership".
function roleSelector(u, role) {
  if (!can.has('change_roles') || role === 'OW' || role === 'DI' || u.id === me) return null;
  const select = el('select', { id: 'role-select' },
    ['AD', 'MA', 'RE', 'AN'].map((code) => el('option', { value: code,
      selected: code === role }, ROLE_NAMES[code])),
    myRole === 'OW' ? el('option', { value: 'OW' }, 'Owner (transfer ownership)') : null);
  const status = statusLine('role-status');
  select.addEventListener('change', async () => {
    const to = select.value;
    if (to === 'OW' && !await confirmDialog(`Make ${u.email} the owner?`,
      'You become an administrator; only the new owner can give the ownership back.',
      'Transfer', true)) {
      select.value = role === 'NO' ? 'AN' : role;
      return;
    }
    try {
      await api(`/api/organizations/${orgId}/memberships`, { method: 'PATCH',
        json: { user_id: u.id, role: to } });
      toast(`${u.email} is now ${ROLE_NAMES[to]}`);
      if (to === 'OW') { location.reload(); return; }
      await load();
      await show(u.id);
    } catch (e) {
      say(status, e.message, 'error');
    }
  });
  return el('div', { class: 'role-row' }, el('label', { for: 'role-select' }, 'Role'), select,
    status);
}

async function setActive(u, active) {
  const verb = active ? 'Reactivate' : 'Deactivate';
  if (!await confirmDialog(`${verb} ${u.email}?`, active
    ? 'They can log in and use their token again.'
    : 'Their sessions and token stop working at once.', verb, !active)) return;
  try {
    await api(`/api/users/${u.id}`, { method: 'PATCH', json: { is_active: active } });
    toast(`${u.email} ${active ? 'reactivated' : 'deactivated'}`);
    await load();
    await show(u.id);
  } catch (e) {
    toast(e.message, 'error');
  }
}

async function remove(u) {
  if (!await confirmDialog(`Delete ${u.email}?`,
    'The account goes for good; their projects and annotations stay.', 'Delete', true)) return;
  try {
    await api(`/api/users/${u.id}`, { method: 'DELETE' });
    toast(`${u.email} deleted`);
    detail.hidden = true;
    await load();
  } catch (e) {
    toast(e.message, 'error');
  }
}

async function openInvite() {
  const link = el('input', { id: 'invite-link', type: 'text', readonly: true, 'aria-label': 'Invitation link' });
  const copy = el('button', { type: 'button', id: 'copy-link' }, 'Copy');
  const reset = el('button', { type: 'button', class: 'secondary', id: 'reset-link' }, 'Reset Link');
  const note = el('p', { class: 'muted', role: 'status' });
  const close = el('button', { type: 'button', class: 'secondary', id: 'close-invite' }, 'Close');
  const dlg = el('dialog', { class: 'modal wide', 'aria-labelledby': 'invite-title' },
    el('h2', { id: 'invite-title' }, 'Invite people'),
    el('p', {}, 'Share this link with the people you want to invite.'),
    el('div', { class: 'copy-row' }, link, copy),
    note,
    el('div', { class: 'actions' }, reset, close));
  const fill = (inv) => { link.value = new URL(inv.invite_url, location.origin).href; };
  copy.addEventListener('click', async () => {
    note.textContent = await copyText(link.value, link) ? 'Link copied.' : 'Select the link and copy it.';
  });
  reset.addEventListener('click', async () => {
    try {
      fill(await api('/api/invite/reset-token', { method: 'POST' }));
      note.textContent = 'A new link was made: the old one no longer works.';
    } catch (e) {
      note.textContent = e.message;
    }
  });
  close.addEventListener('click', () => dlg.close());
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  try {
    fill(await api('/api/invite'));
    link.focus();
    link.select();
  } catch (e) {
    note.textContent = e instanceof ApiError ? e.message : 'The link could not be loaded.';
  }
}

// A number field's value as the server should judge it: what is not a
// number goes as null, so that the message is the server's, not ours.
function number(input) {
  const v = input.value.trim();
  return v === '' || Number.isNaN(Number(v)) ? null : Number(v);
}

// One group of settings as its own form: its Save sends the group's fields,
// a 400 puts the server's message next to the field it names.
function settingsForm(id, title, fields, { path, method, read, write }) {
  const status = statusLine(`${id}-status`);
  const save = el('button', { type: 'submit', disabled: true }, 'Save');
  // disabled until the current values are in: nothing typed is overwritten
  const group = el('fieldset', { class: 'group', disabled: true }, el('legend', {}, title),
    Object.values(fields).map((f) => f.node));
  const form = el('form', { id, novalidate: true, 'aria-describedby': `${id}-status` },
    group, el('div', { class: 'actions' }, save), status);
  const fill = (v) => { write(v); group.disabled = false; save.disabled = false; };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    save.disabled = true;
    say(status, 'Saving…');
    try {
      fill(await api(path, { method, json: read() }));
      showErrors(fields, null);
      say(status, `${title}: saved.`, 'ok');
    } catch (err) {
      save.disabled = false;
      say(status, showErrors(fields, err) ? 'Not saved: see the message at the field.'
        : err.message, 'error');
    }
  });
  return { form, status, fill };
}

function tokenSettings() {
  const f = {
    api_tokens_enabled: checkbox('api_tokens_enabled', 'Personal access tokens enabled'),
    legacy_api_tokens_enabled: checkbox('legacy_api_tokens_enabled', 'Legacy tokens enabled'),
    api_token_ttl_days: field('api_token_ttl_days', 'Personal access token lifetime (days)',
      { type: 'number', min: 1, max: 73000, step: 1, inputmode: 'numeric', required: true }),
  };
  return settingsForm('token-settings', 'Tokens', f, {
    path: '/api/jwt/settings', method: 'POST',
    read: () => ({ api_tokens_enabled: f.api_tokens_enabled.input.checked,
      legacy_api_tokens_enabled: f.legacy_api_tokens_enabled.input.checked,
      api_token_ttl_days: number(f.api_token_ttl_days.input) }),
    write: (v) => {
      f.api_tokens_enabled.input.checked = v.api_tokens_enabled;
      f.legacy_api_tokens_enabled.input.checked = v.legacy_api_tokens_enabled;
      f.api_token_ttl_days.input.value = v.api_token_ttl_days;
    },
  });
}

function policySettings() {
  const attrs = { type: 'number', min: 1, step: 1, inputmode: 'numeric', required: true };
  const f = {
    max_session_age: field('max_session_age', 'Session lifetime (minutes)', attrs),
    max_time_between_activity: field('max_time_between_activity',
      'Sign out after inactivity (minutes)', attrs),
  };
  return settingsForm('session-policy', 'Sessions', f, {
    path: '/api/session-policy/', method: 'PATCH',
    read: () => ({ max_session_age: number(f.max_session_age.input),
      max_time_between_activity: number(f.max_time_between_activity.input) }),
    write: (v) => {
      f.max_session_age.input.value = v.max_session_age;
      f.max_time_between_activity.input.value = v.max_time_between_activity;
    },
  });
}

async function openSettings() {
  const opener = document.getElementById('org-settings');
  const tokens = tokenSettings();
  const policy = policySettings();
  const close = el('button', { type: 'button', class: 'secondary', id: 'close-settings' }, 'Close');
  const dlg = el('dialog', { class: 'modal wide', id: 'settings-dialog',
    'aria-labelledby': 'settings-title' },
    el('h2', { id: 'settings-title' }, 'Organization settings'),
    el('p', { class: 'muted' }, 'For everyone in the organization.'),
    tokens.form, policy.form,
    el('div', { class: 'actions' }, close));
  close.addEventListener('click', () => dlg.close());
  dlg.addEventListener('close', () => {
    dlg.remove();
    opener?.focus();
    if (location.hash === '#org-settings') history.replaceState(null, '', location.pathname);
  });
  document.body.append(dlg);
  dlg.showModal();   // focuses Close: the fields are disabled while they load
  // each group loads on its own: one failing leaves the other usable
  await Promise.all([[tokens, '/api/jwt/settings'], [policy, '/api/session-policy/']].map(
    async ([group, path]) => {
      try {
        group.fill(await api(path));
      } catch (e) {
        say(group.status, e.message, 'error');
      }
    }));
  if (document.activeElement === close) dlg.querySelector('input:enabled')?.focus();
}

load();
// Account & Settings links here to open the settings at once
if (location.hash === '#org-settings' && can.has('organization_settings')) openSettings();
