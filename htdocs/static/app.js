// Shared helpers of the signed-in pages: API calls, DOM building with
// textContent only (never innerHTML), menus, relative times.

const app = document.getElementById('app');
export const prefix = app ? app.dataset.prefix : '';
export const me = app ? Number(app.dataset.userId) : 0;
export const orgId = app ? Number(app.dataset.orgId) : 0;
// what the caller's role allows (docs/roles.md): controls for the rest are
// not shown, and the server refuses them anyway
export const myRole = app ? app.dataset.role : '';
export const can = new Set(app ? (app.dataset.can || '').split(' ').filter(Boolean) : []);
export const ROLE_NAMES = { OW: 'Owner', AD: 'Administrator', MA: 'Manager', RE: 'Reviewer',
  AN: 'Annotator', DI: 'Deactivated', NO: 'Not activated' };

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || `Request failed (${status})`);
    this.status = status;
    this.fields = (body && body.validation_errors) || {};
  }
}

export async function api(path, { method = 'GET', json, form, query } = {}) {
  let url = prefix + path;
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '') q.set(k, v);
    }
    if ([...q].length) url += '?' + q;
  }
  const opts = { method, credentials: 'same-origin', headers: {} };
  if (json !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(json);
  } else if (form) {
    opts.body = form;
  }
  const res = await fetch(url, opts);
  if (res.status === 401) {
    location.href = `${prefix}/user/login/?next=${encodeURIComponent(location.pathname)}`;
    throw new ApiError(401, { detail: 'Your session ended.' });
  }
  const body = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

// el('p', { class: 'x', onclick: fn }, 'text', child) — strings become text nodes
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (v === true) node.setAttribute(k, '');
    else node.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// A labelled input with its error line, which the input names as its
// description so that a screen reader reads the message with the field.
export function field(id, label, attrs = {}) {
  const input = el('input', { id, name: id, 'aria-describedby': `${id}-error`, ...attrs });
  const error = el('p', { class: 'field-error', id: `${id}-error`, role: 'alert' });
  const node = el('div', { class: 'field' }, el('label', { for: id }, label), input, error);
  return { input, error, node };
}

// A checkbox inside its label (the whole line is the click target).
export function checkbox(id, label) {
  const input = el('input', { id, name: id, type: 'checkbox', 'aria-describedby': `${id}-error` });
  const error = el('p', { class: 'field-error', id: `${id}-error`, role: 'alert' });
  const line = el('label', { class: 'check', for: id }, input, label);
  return { input, error, node: el('div', { class: 'check-field' }, line, error) };
}

// The server's message for each field next to it (validation_errors):
// true when one of these fields got one.
export function showErrors(fields, e) {
  let any = false;
  for (const [name, f] of Object.entries(fields)) {
    const msg = e && e.fields && e.fields[name] ? e.fields[name][0] : '';
    f.error.textContent = msg;
    if (msg) f.input.setAttribute('aria-invalid', 'true');
    else f.input.removeAttribute('aria-invalid');
    if (msg && !any) f.input.focus();
    any = any || Boolean(msg);
  }
  return any;
}

// A status line a screen reader announces when its text changes.
export function statusLine(id) {
  return el('p', { class: 'status-line', id, role: 'status', 'aria-live': 'polite' });
}

export function say(line, text, kind = '') {
  line.className = `status-line ${kind}`.trim();
  line.textContent = text;
}

export function fullName(u) {
  return [u.first_name, u.last_name].filter(Boolean).join(' ');
}

export function avatar(u, size = '') {
  if (u.avatar) {
    return el('img', { class: `avatar ${size}`, src: u.avatar, alt: '' });
  }
  return el('span', { class: `avatar ${size}`, 'aria-hidden': 'true' }, u.initials || '?');
}

const UNITS = [['year', 31536000], ['month', 2592000], ['week', 604800], ['day', 86400],
  ['hour', 3600], ['minute', 60]];
const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

export function timeAgo(iso) {
  if (!iso) return 'never';
  const secs = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
  for (const [unit, s] of UNITS) {
    if (Math.abs(secs) >= s) return rtf.format(Math.round(secs / s), unit);
  }
  return 'just now';
}

export function exactTime(iso) {
  return iso ? new Date(iso).toLocaleString() : '';
}

// A date as People shows it: relative, the exact time on hover.
export function timeEl(iso) {
  return el('time', { datetime: iso || '', title: exactTime(iso) }, timeAgo(iso));
}

// A modal built on <dialog>: resolves true when confirmed.
export function confirmDialog(title, text, action = 'Confirm', danger = false) {
  return new Promise((resolve) => {
    const ok = el('button', { type: 'submit', class: danger ? 'danger' : '' }, action);
    const cancel = el('button', { type: 'button', class: 'secondary' }, 'Cancel');
    const dlg = el('dialog', { class: 'modal', 'aria-labelledby': 'confirm-title' },
      el('form', { method: 'dialog' },
        el('h2', { id: 'confirm-title' }, title),
        el('p', {}, text),
        el('div', { class: 'actions' }, cancel, ok)));
    cancel.addEventListener('click', () => dlg.close('cancel'));
    dlg.addEventListener('close', () => {
      resolve(dlg.returnValue !== 'cancel' && dlg.returnValue !== '');
      dlg.remove();
    });
    ok.value = 'ok';
    document.body.append(dlg);
    dlg.showModal();
    cancel.focus();
  });
}

export async function copyText(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (input) {
      input.select();
      return document.execCommand('copy');
    }
    return false;
  }
}

export function toast(text, kind = 'ok') {
  const t = el('div', { class: `toast ${kind}`, role: 'status' }, text);
  document.body.append(t);
  setTimeout(() => t.remove(), 3000);
}

function initMenus() {
  const pairs = [['nav-button', 'nav-menu'], ['user-button', 'user-menu']];
  const closeAll = () => pairs.forEach(([b, m]) => {
    document.getElementById(m).hidden = true;
    document.getElementById(b).setAttribute('aria-expanded', 'false');
  });
  for (const [b, m] of pairs) {
    const button = document.getElementById(b);
    const menu = document.getElementById(m);
    if (!button || !menu) continue;
    button.addEventListener('click', (e) => {
      e.stopPropagation();
      const open = menu.hidden;
      closeAll();
      menu.hidden = !open;
      button.setAttribute('aria-expanded', String(open));
      if (open) menu.querySelector('a, button')?.focus();
    });
  }
  document.addEventListener('click', (e) => {
    if (!e.target.closest('.dropdown')) closeAll();
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') closeAll();
  });
}

if (app) initMenus();
