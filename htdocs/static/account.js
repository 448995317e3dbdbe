// Account & Settings: names and phone, avatar with preview and a check of
// size and dimensions before upload (the server still decides), personal
// access tokens, the legacy API token, the password, two-factor login, and
// the account's recent security events.
import { api, el, avatar, confirmDialog, copyText, toast, me, prefix, field, showErrors,
  statusLine, say, timeEl, exactTime, can } from './app.js';

const app = document.getElementById('app');
const maxPx = Number(app.dataset.avatarMaxPx) || 512;
const maxBytes = Number(app.dataset.avatarMaxBytes) || 1048576;

// Personal access tokens. The server keeps no copy of a new token, so it is
// shown once, here; the list names the live ones by their unsigned
// "header.payload", which is also what revokes one of the caller's own.
function patSection(settings) {
  const status = statusLine('pat-status');
  const create = el('button', { type: 'button', id: 'pat-create' }, 'Create token');
  const box = el('input', { id: 'pat-new', type: 'text', readonly: true, class: 'mono',
    autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'pat-once' });
  const copy = el('button', { type: 'button', class: 'secondary', id: 'pat-copy' }, 'Copy');
  const fresh = el('div', { class: 'fresh', id: 'pat-fresh', hidden: true },
    el('label', { for: 'pat-new' }, 'Your new token'),
    el('div', { class: 'copy-row' }, box, copy),
    el('p', { class: 'notice', id: 'pat-once' },
      'Copy it now: it will not be shown again.'));
  const tbody = el('tbody');
  const table = el('table', { class: 'tokens', id: 'pat-list', hidden: true },
    el('caption', { class: 'sr-only' }, 'Your live personal access tokens'),
    el('thead', {}, el('tr', {},
      el('th', { scope: 'col' }, 'Created'),
      el('th', { scope: 'col' }, 'Expires'),
      el('th', { scope: 'col' }, el('span', { class: 'sr-only' }, 'Actions')))),
    tbody);
  const empty = el('p', { class: 'muted', id: 'pat-empty', hidden: true },
    'You have no personal access tokens.');

  let generation = 0;
  async function load() {
    const mine = ++generation;
    let list;
    try {
      list = await api('/api/token/');
    } catch (err) {
      say(status, err.message, 'error');
      return;
    }
    if (mine !== generation) return;   // a newer load answers
    tbody.replaceChildren(...list.map(row));
    table.hidden = list.length === 0;
    empty.hidden = list.length !== 0;
  }

  function row(t) {
    const revoke = el('button', { type: 'button', class: 'secondary small revoke',
      'aria-label': `Revoke the token created ${exactTime(t.created_at)}` }, 'Revoke');
    revoke.addEventListener('click', async () => {
      if (!await confirmDialog('Revoke this token?', 'Scripts using it, and the access '
        + 'tokens made from it, stop working at once.', 'Revoke', true)) return;
      try {
        await api('/api/token/blacklist/', { method: 'POST', json: { refresh: t.token } });
        say(status, 'Token revoked.', 'ok');
      } catch (err) {
        say(status, err.message, 'error');
      }
      create.focus();   // the row and its button are about to go
      await load();
    });
    return el('tr', {}, el('td', {}, timeEl(t.created_at)), el('td', {}, timeEl(t.expires_at)),
      el('td', { class: 'end' }, revoke));
  }

  create.addEventListener('click', async () => {
    create.disabled = true;
    try {
      const made = await api('/api/token/', { method: 'POST' });
      box.value = made.token;
      fresh.hidden = false;
      say(status, 'Token created: copy it now, it will not be shown again.', 'ok');
      box.focus();
      box.select();
      await load();
    } catch (err) {
      say(status, err.message, 'error');   // 403 PATs off, 409 too many
    } finally {
      create.disabled = false;
    }
  });
  copy.addEventListener('click', async () => {
    say(status, await copyText(box.value, box) ? 'Token copied.' : 'Select the token and copy it.');
  });
  load();

  return el('section', { class: 'panel', 'aria-labelledby': 'h-pat', id: 'pat-section' },
    el('h2', { id: 'h-pat' }, 'Personal access tokens'),
    el('p', { class: 'muted' }, 'Trade one for an access token at POST /api/token/refresh/, '
      + 'then send Authorization: Bearer <access>.'),
    settings && !settings.api_tokens_enabled
      ? el('p', { class: 'notice', id: 'pat-disabled' },
        'Personal access tokens are disabled for this organization.') : null,
    el('div', { class: 'actions start' }, create),
    fresh, status, table, empty);
}

// Two-factor login: set up with an app (the QR code, or the key typed in),
// confirmed with its first code; the recovery codes shown once; turned off
// with the password and a code. The server checks everything again.
function twoFactorSection() {
  const status = statusLine('tfa-status');
  const body = el('div', { id: 'tfa-body' });
  const section = el('section', { class: 'panel', 'aria-labelledby': 'h-tfa', id: 'tfa-section' },
    el('h2', { id: 'h-tfa' }, 'Two-factor login'), body, status);

  function codesList(codes) {
    return el('div', { class: 'fresh', id: 'tfa-codes' },
      el('p', { class: 'notice', id: 'tfa-codes-once' }, 'Your recovery codes: each logs you in '
        + 'once without the app. Keep them somewhere safe; they will not be shown again.'),
      el('ol', { class: 'recovery-codes', 'aria-describedby': 'tfa-codes-once' },
        codes.map((c) => el('li', {}, el('code', {}, c)))));
  }

  function showOff() {
    const start = el('button', { type: 'button', id: 'tfa-start' }, 'Set up two-factor login');
    start.addEventListener('click', async () => {
      start.disabled = true;
      try {
        showSetup(await api('/api/current-user/two-factor/setup', { method: 'POST' }));
      } catch (err) {
        say(status, err.message, 'error');
        start.disabled = false;
      }
    });
    body.replaceChildren(el('p', { class: 'muted' }, 'Off. With it on, logging in also asks '
      + 'for a code from an authenticator app on your phone.'), el('div', { class: 'actions start' },
      start));
  }

  function showSetup(setup) {
    const code = field('tfa-code', 'Code from the app', { type: 'text', inputmode: 'numeric',
      autocomplete: 'one-time-code', maxlength: '6' });
    const pw = field('tfa-enable-password', 'Your password', { type: 'password',
      autocomplete: 'current-password' });
    const form = el('form', { id: 'tfa-enable-form', novalidate: true }, code.node, pw.node,
      el('button', { type: 'submit' }, 'Turn on'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      try {
        const r = await api('/api/current-user/two-factor/enable', { method: 'POST',
          json: { code: code.input.value.trim(), password: pw.input.value } });
        await showOn(r.recovery_codes);
        say(status, 'Two-factor login is on.', 'ok');
      } catch (err) {
        if (!showErrors({ code, password: pw }, err)) say(status, err.message, 'error');
      }
    });
    const qr = setup.qr_svg ? el('img', { class: 'qr', id: 'tfa-qr', width: '200', height: '200',
      alt: 'QR code of the key for your authenticator app',
      src: `data:image/svg+xml;base64,${btoa(setup.qr_svg)}` }) : null;
    body.replaceChildren(
      el('p', {}, 'Scan the QR code with an authenticator app, or type the key into it. Then '
        + 'enter the 6-digit code it shows, and your password.'),
      qr, el('p', {}, 'Key: ', el('code', { id: 'tfa-secret', class: 'mono' }, setup.secret)),
      form);
    code.input.focus();
  }

  async function showOn(freshCodes) {
    const st = await api('/api/current-user/two-factor');
    const parts = [el('p', { id: 'tfa-on' }, 'On. ', `${st.recovery_codes_left} recovery codes `
      + 'left.')];
    if (freshCodes) parts.push(codesList(freshCodes));
    if (st.required) {
      parts.push(el('p', { class: 'muted' }, 'This server requires two-factor login.'));
    } else {
      const pw = field('tfa-password', 'Password', { type: 'password',
        autocomplete: 'current-password' });
      const code = field('tfa-off-code', 'Code from the app, or a recovery code', { type: 'text',
        autocomplete: 'one-time-code' });
      const form = el('form', { id: 'tfa-disable-form', novalidate: true }, pw.node, code.node,
        el('button', { type: 'submit', class: 'danger' }, 'Turn off'));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        try {
          await api('/api/current-user/two-factor/disable', { method: 'POST',
            json: { password: pw.input.value, code: code.input.value.trim() } });
          showOff();
          say(status, 'Two-factor login is off.', 'ok');
        } catch (err) {
          if (!showErrors({ password: pw, code }, err)) say(status, err.message, 'error');
        }
      });
      parts.push(form);
    }
    body.replaceChildren(...parts);
  }

  api('/api/current-user/two-factor').then((st) => (st.enabled ? showOn() : showOff()))
    .catch((err) => say(status, err.message, 'error'));
  return section;
}

// The member's own recent security events (the audit log, newest first):
// what happened to the account, when, and from which address (the server
// gives the address only of what the member did themselves).
const EVENT_TEXT = {
  signup: 'Account created', login: 'Signed in', login_failed: 'Failed sign-in',
  logout: 'Signed out', password_changed: 'Password changed',
  password_reset: 'Password reset', token_reset: 'Legacy API token reset',
  pat_created: 'Access token created', pat_revoked: 'Access token revoked',
  member_deactivated: 'Deactivated', member_reactivated: 'Reactivated',
  role_changed: 'Role changed', '2fa_enabled': 'Two-factor login turned on',
  '2fa_disabled': 'Two-factor login turned off', '2fa_failed': 'Wrong two-factor code',
  reset_link_created: 'Reset link created', reset_link_used: 'Password set with a reset link',
};

function activitySection() {
  const list = el('ul', { class: 'activity', id: 'activity-list' });
  const section = el('section', { class: 'panel', 'aria-labelledby': 'h-activity',
    id: 'activity-section' },
  el('h2', { id: 'h-activity' }, 'Recent security activity'), list);
  api('/api/current-user/activity').then((r) => {
    if (!r.data.length) list.append(el('li', { class: 'muted' }, 'Nothing yet.'));
    for (const e of r.data) {
      list.append(el('li', { 'data-event': e.event },
        el('span', { class: 'what' }, EVENT_TEXT[e.event] || e.event), ' ',
        timeEl(e.datetime), e.ip ? el('span', { class: 'muted' }, ` from ${e.ip}`) : ''));
    }
  }).catch((err) => list.append(el('li', { class: 'error' }, err.message)));
  return section;
}

// Whether the organization still takes the legacy token, with the way to
// change it (every member may: the community edition has no roles).
function legacyNote(settings) {
  if (!settings) return null;
  const on = settings.legacy_api_tokens_enabled;
  return el('p', { class: on ? 'muted' : 'notice', id: 'legacy-note' },
    on ? 'Legacy tokens are enabled for this organization.'
      : 'Legacy tokens are disabled for this organization: use a personal access token.',
    ' ', can.has('organization_settings')
      ? el('a', { href: `${prefix}/people/#org-settings` }, 'Organization settings')
      : 'An administrator can change this.');
}

async function main() {
  const [user, settings] = await Promise.all([api('/api/current-user/whoami'),
    api('/api/jwt/settings').catch(() => null)]);   // the page works without it

  // profile
  const f = {
    first_name: field('first_name', 'First name', { autocomplete: 'given-name', maxlength: 256 }),
    last_name: field('last_name', 'Last name', { autocomplete: 'family-name', maxlength: 256 }),
    phone: field('phone', 'Phone', { type: 'tel', autocomplete: 'tel', maxlength: 256 }),
  };
  for (const k of Object.keys(f)) f[k].input.value = user[k] || '';
  const profile = el('form', { id: 'profile-form', novalidate: true },
    Object.values(f).map((x) => x.node),
    el('button', { type: 'submit' }, 'Save'));
  profile.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const json = {};
      for (const k of Object.keys(f)) json[k] = f[k].input.value;
      await api(`/api/users/${me}`, { method: 'PATCH', json });
      showErrors(f, null);
      toast('Profile saved');
    } catch (err) {
      showErrors(f, err);
      toast(err.message, 'error');
    }
  });

  // avatar
  let current = user;
  const preview = el('div', { class: 'avatar-preview', id: 'avatar-preview' }, avatar(user, 'xl'));
  const file = el('input', { id: 'avatar-file', type: 'file', accept: 'image/png,image/jpeg,image/gif,image/webp' });
  const avatarError = el('p', { class: 'field-error', id: 'avatar-error', role: 'alert' });
  const upload = el('button', { type: 'button', id: 'avatar-upload', disabled: true }, 'Upload');
  const removeBtn = el('button', { type: 'button', class: 'secondary', id: 'avatar-remove',
    disabled: !user.avatar }, 'Remove');
  let chosen = null;
  file.addEventListener('change', async () => {
    chosen = null;
    upload.disabled = true;
    avatarError.textContent = '';
    const picked = file.files[0];
    if (!picked) return;
    if (picked.size > maxBytes) {
      avatarError.textContent = `Please use an image of at most ${Math.round(maxBytes / 1024)} KiB.`;
      return;
    }
    const url = URL.createObjectURL(picked);
    const img = new Image();
    img.onload = () => {
      if (img.naturalWidth > maxPx || img.naturalHeight > maxPx) {
        avatarError.textContent = `Please use an image that is ${maxPx} x ${maxPx} pixels or smaller.`;
        URL.revokeObjectURL(url);
        return;
      }
      img.className = 'avatar xl';
      img.alt = 'Preview';
      preview.replaceChildren(img);
      chosen = picked;
      upload.disabled = false;
    };
    img.onerror = () => {
      avatarError.textContent = 'This file is not an image the browser can show.';
      URL.revokeObjectURL(url);
    };
    img.src = url;
  });
  upload.addEventListener('click', async () => {
    if (!chosen) return;
    const form = new FormData();
    form.append('avatar', chosen);
    try {
      const r = await api(`/api/users/${me}/avatar`, { method: 'POST', form });
      current = { ...current, avatar: r.avatar };
      preview.replaceChildren(avatar(current, 'xl'));
      upload.disabled = true;
      removeBtn.disabled = false;
      toast('Avatar saved');
    } catch (err) {
      avatarError.textContent = err.message;
    }
  });
  removeBtn.addEventListener('click', async () => {
    try {
      await api(`/api/users/${me}/avatar`, { method: 'DELETE' });
      current = { ...current, avatar: null };
      preview.replaceChildren(avatar(current, 'xl'));
      removeBtn.disabled = true;
      toast('Avatar removed');
    } catch (err) {
      avatarError.textContent = err.message;
    }
  });

  // token
  const { token } = await api('/api/current-user/token');
  let shown = false;
  let value = token;
  const tokenBox = el('input', { id: 'token', type: 'password', readonly: true, value,
    'aria-label': 'API token', class: 'mono' });
  const toggle = el('button', { type: 'button', class: 'secondary', id: 'token-show' }, 'Show');
  const copy = el('button', { type: 'button', class: 'secondary', id: 'token-copy' }, 'Copy');
  const reset = el('button', { type: 'button', class: 'danger', id: 'token-reset' }, 'Reset');
  toggle.addEventListener('click', () => {
    shown = !shown;
    tokenBox.type = shown ? 'text' : 'password';
    toggle.textContent = shown ? 'Hide' : 'Show';
  });
  copy.addEventListener('click', async () => {
    const was = tokenBox.type;
    tokenBox.type = 'text';
    toast(await copyText(value, tokenBox) ? 'Token copied' : 'Select the token and copy it');
    tokenBox.type = was;
  });
  reset.addEventListener('click', async () => {
    if (!await confirmDialog('Reset your API token?',
      'Scripts using the current token stop working at once.', 'Reset token', true)) return;
    try {
      value = (await api('/api/current-user/reset-token', { method: 'POST' })).token;
      tokenBox.value = value;
      toast('New token made');
    } catch (err) {
      toast(err.message, 'error');
    }
  });

  // password
  const p = {
    current_password: field('current_password', 'Current password', { type: 'password', autocomplete: 'current-password' }),
    new_password: field('new_password', 'New password', { type: 'password', autocomplete: 'new-password' }),
  };
  const pwForm = el('form', { id: 'password-form', novalidate: true },
    Object.values(p).map((x) => x.node), el('button', { type: 'submit' }, 'Change password'));
  pwForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api('/api/current-user/password', { method: 'POST', json: {
        current_password: p.current_password.input.value, new_password: p.new_password.input.value } });
      showErrors(p, null);
      pwForm.reset();
      toast('Password changed; your other sessions ended');
    } catch (err) {
      showErrors(p, err);
      if (!Object.keys(err.fields || {}).length) toast(err.message, 'error');
    }
  });

  app.replaceChildren(
    el('h1', {}, 'Account & Settings'),
    el('div', { class: 'cards' },
      el('section', { class: 'panel', 'aria-labelledby': 'h-profile' },
        el('h2', { id: 'h-profile' }, 'Profile'),
        el('p', { class: 'muted' }, user.email), profile),
      el('section', { class: 'panel', 'aria-labelledby': 'h-avatar' },
        el('h2', { id: 'h-avatar' }, 'Profile picture'),
        preview,
        el('label', { for: 'avatar-file' }, `PNG, JPEG, GIF or WebP, up to ${maxPx} x ${maxPx} pixels`),
        file, avatarError, el('div', { class: 'actions' }, removeBtn, upload)),
      patSection(settings),
      el('section', { class: 'panel', 'aria-labelledby': 'h-token' },
        el('h2', { id: 'h-token' }, 'Legacy API token'),
        el('p', { class: 'muted' }, 'Send it as Authorization: Token <key>.'),
        legacyNote(settings),
        el('div', { class: 'copy-row' }, tokenBox),
        el('div', { class: 'actions' }, toggle, copy, reset)),
      el('section', { class: 'panel', 'aria-labelledby': 'h-password' },
        el('h2', { id: 'h-password' }, 'Change password'), pwForm),
      twoFactorSection(),
      activitySection()));
}

main().catch((e) => {
  app.replaceChildren(el('p', { class: 'error' }, e.message));
});
