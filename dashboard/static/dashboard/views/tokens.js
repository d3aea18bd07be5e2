// Personal tokens on the profile (SPEC §10): list, create (the secret shown once, with a copy
// button) and revoke. Managing them takes the login this page holds; a token cannot.

import { api } from '../api.js';
import { h, replace, toast } from '../dom.js';
import { localDate, relative, shortDate } from '../format.js';
import { busy, clearErrors, field, formError, showErrors } from '../forms.js';
import { timeZone } from '../state.js';

const SCOPES = [
  ['read', 'Read', 'See habits, today, stats and pauses; the live socket.'],
  ['complete', 'Complete', 'Read, and mark done, skip, snooze and write notes.'],
  ['write', 'Write', 'Everything a habit, instance, pause, import or export can do.'],
];
// The API's messages name no field (they show by the field they are about).
const WORDS = {};

function day(iso) {
  return shortDate(localDate(timeZone(), new Date(iso)));
}

/** The "Personal tokens" card: its element and `load` (call once mounted). */
export function tokensSection() {
  const list = h('ul', { class: 'token-list', 'aria-label': 'Your personal tokens' });
  const secretBox = h('div', { class: 'code-box token-secret', hidden: true, 'aria-live': 'polite' });
  const name = h('input', { type: 'text', maxlength: 100, required: true, placeholder: 'Home Assistant tag' });
  const checks = SCOPES.map(([value]) => h('input', { type: 'checkbox', value, checked: value === 'read' }));
  const expiry = h(
    'select',
    {},
    h('option', { value: '' }, 'Never'),
    [30, 90, 365].map((days) => h('option', { value: String(days) }, `In ${days} days`)),
  );
  const scopeField = h(
    'fieldset',
    { class: 'field scope-choice', dataset: { field: 'scopes' } },
    h('legend', {}, 'Scopes'),
    SCOPES.map(([value, label, hint], i) => h('label', { class: 'check' }, checks[i], ` ${label} `, h('span', { class: 'hint' }, hint))),
    h('p', { class: 'field-error', 'data-error-for': 'scopes', hidden: true }),
  );
  const form = h(
    'form',
    { class: 'stack token-form', novalidate: true, 'aria-labelledby': 'token-form-title' },
    h('h3', { id: 'token-form-title' }, 'New token'),
    formError(),
    field('name', 'Name', name, { hint: 'What it is for; at most 100 characters.' }),
    scopeField,
    field('expires_in_days', 'Expires', expiry),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create token')),
  );
  let tokens = null;
  let problem = null;

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    await busy(form, async () => {
      clearErrors(form);
      const body = { name: name.value.trim(), scopes: checks.filter((c) => c.checked).map((c) => c.value) };
      if (expiry.value) body.expires_in_days = Number(expiry.value);
      try {
        const made = await api('POST', '/tokens/', body);
        showSecret(made);
        tokens = [made, ...(tokens || [])];
        name.value = '';
        render();
      } catch (error) {
        showErrors(form, error, WORDS);
      }
    });
  });

  function showSecret(made) {
    const secret = h('code', { class: 'token-value' }, made.token);
    replace(
      secretBox,
      h('p', {}, h('strong', {}, `“${made.name}” is ready.`), ' Copy it now: it is shown only this once.'),
      h('p', {}, secret),
      h('div', { class: 'form-actions' },
        h('button', {
          type: 'button',
          class: 'btn btn-primary',
          onclick: () => navigator.clipboard.writeText(made.token).then(() => toast('Copied'), () => toast('Copy it by hand, please')),
        }, 'Copy'),
        h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => { secretBox.hidden = true; replace(secretBox); } }, 'Done')),
    );
    secretBox.hidden = false;
  }

  function item(token) {
    const used = token.last_used_at ? `last used ${relative(token.last_used_at)}` : 'never used';
    const expires = token.expires_at
      ? (new Date(token.expires_at) <= Date.now() ? `expired ${day(token.expires_at)}` : `expires ${day(token.expires_at)}`)
      : 'never expires';
    return h(
      'li',
      { dataset: { tokenId: token.id } },
      h('div', { class: 'token-what' },
        h('strong', {}, token.name),
        h('span', { class: 'muted' }, ` ${token.prefix}… · ${token.scopes.join(', ')}`),
        h('span', { class: 'muted small token-dates' }, `created ${day(token.created_at)} · ${used} · ${expires}`)),
      h('button', {
        type: 'button',
        class: 'btn btn-ghost btn-small btn-danger-text',
        'aria-label': `Revoke: ${token.name}`,
        onclick: () => revoke(token),
      }, 'Revoke'),
    );
  }

  async function revoke(token) {
    try {
      await api('DELETE', `/tokens/${token.id}/`);
      tokens = tokens.filter((one) => one.id !== token.id);
      toast(`Revoked: ${token.name}`);
    } catch (error) {
      problem = error.message;
    }
    render();
  }

  function render() {
    if (tokens === null) {
      replace(list, h('li', { class: problem ? 'inline-error' : 'empty' }, problem || 'Loading tokens…'));
      return;
    }
    replace(
      list,
      tokens.length ? tokens.map(item) : h('li', { class: 'empty' }, 'No personal tokens.'),
      problem && tokens ? h('li', { class: 'inline-error', role: 'alert' }, problem) : null,
    );
  }

  async function load() {
    render();
    try {
      tokens = await api('GET', '/tokens/');
      problem = null;
    } catch (error) {
      if (error.status === 401) return;
      problem = error.message;
    }
    render();
  }

  const element = h(
    'section',
    { class: 'card stack', 'aria-labelledby': 'tokens-title' },
    h('h2', { id: 'tokens-title' }, 'Personal tokens'),
    h('p', { class: 'muted' }, 'For scripts and gadgets: send one as “Authorization: Bearer aht_…”. Log out everywhere or a new password ends them all.'),
    secretBox,
    list,
    form,
  );
  return { element, load };
}
