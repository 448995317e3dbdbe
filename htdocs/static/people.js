// People: members with search, sorting and pages; a detail panel per member;
// the invitation dialog with Copy and Reset Link.
import { api, el, avatar, fullName, timeAgo, exactTime, confirmDialog, copyText, toast,
  me, orgId, ApiError } from './app.js';

const PAGE_SIZE = 20;
const state = { page: 1, search: '', ordering: 'username', count: 0, selected: null };
const app = document.getElementById('app');

const search = el('input', { id: 'search', type: 'search', placeholder: 'Search by name or email',
  autocomplete: 'off' });
const ordering = el('select', { id: 'ordering' },
  el('option', { value: 'username' }, 'Name'),
  el('option', { value: '-last_activity' }, 'Last activity'),
  el('option', { value: '-date_joined' }, 'Newest'));
const tbody = el('tbody');
const status = el('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
const prev = el('button', { type: 'button', class: 'secondary', id: 'prev' }, '← Previous');
const next = el('button', { type: 'button', class: 'secondary', id: 'next' }, 'Next →');
const pageInfo = el('span', { id: 'page-info' });
const detail = el('aside', { id: 'detail', class: 'detail', hidden: true, 'aria-live': 'polite' });

app.replaceChildren(
  el('div', { class: 'page-head' },
    el('h1', {}, 'People'),
    el('button', { type: 'button', id: 'add-people', onclick: openInvite }, '+ Add People')),
  el('div', { class: 'toolbar' },
    el('label', { for: 'search', class: 'sr-only' }, 'Search people'), search,
    el('label', { for: 'ordering' }, 'Sort by'), ordering),
  el('div', { class: 'people-layout' },
    el('div', { class: 'table-wrap' },
      el('table', { class: 'people' },
        el('thead', {}, el('tr', {},
          el('th', { scope: 'col' }, 'Name'),
          el('th', { scope: 'col' }, 'Email'),
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
      query: { page: state.page, page_size: PAGE_SIZE, search: state.search, ordering: state.ordering },
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
  if (u.id !== me) {
    actions.append(
      el('button', { type: 'button', class: 'secondary', id: 'toggle-active',
        onclick: () => setActive(u, !u.is_active) }, u.is_active ? 'Deactivate' : 'Reactivate'),
      el('button', { type: 'button', class: 'danger', id: 'delete-member',
        onclick: () => remove(u) }, 'Delete'));
  }
  detail.replaceChildren(
    el('button', { type: 'button', class: 'icon-button close', 'aria-label': 'Close',
      onclick: () => { detail.hidden = true; } }, '×'),
    el('div', { class: 'detail-head' }, avatar(u, 'large'),
      el('div', {}, el('h2', {}, fullName(u) || u.username),
        el('p', { class: 'muted' }, u.is_active ? 'Active' : 'Deactivated'))),
    el('dl', {},
      el('dt', {}, 'Email'), el('dd', { id: 'detail-email' }, u.email),
      el('dt', {}, 'Phone'), el('dd', {}, u.phone || '—'),
      el('dt', {}, 'Last activity'), el('dd', { title: exactTime(u.last_activity) }, timeAgo(u.last_activity)),
      el('dt', {}, 'Annotations'), el('dd', {}, String(d.annotations_count))),
    projectList('Created projects', d.created_projects),
    projectList('Contributed to', d.contributed_to_projects),
    actions);
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

load();
