// Profile: webhooks (SPEC §10). Add one (its URL and the events it receives; the signing
// secret is shown once, with a copy button), see each with its last deliveries, turn it off
// and on again, delete it. A hook the server switched off says why.

import { api } from '../api.js';
import { h, replace, toast } from '../dom.js';
import { relative } from '../format.js';
import { busy, clearErrors, field, formError, showErrors } from '../forms.js';

// The frame types a hook may receive (docs/API.md, Webhooks).
export const WEBHOOK_EVENTS = [
  ['instance.updated', 'An instance done, skipped, missed or changed'],
  ['instance.created', 'New instances'],
  ['habit.created', 'A habit created'],
  ['habit.updated', 'A habit changed or its course finished'],
  ['habit.deleted', 'A habit deleted'],
  ['pause.created', 'A pause begun'],
  ['pause.updated', 'A pause ended early'],
  ['pause.deleted', 'A pause deleted'],
  ['telegram.bound', 'Telegram connected'],
  ['telegram.unbound', 'Telegram disconnected'],
  ['webhook.disabled', 'Another webhook switched off'],
];
const SHOWN_DELIVERIES = 5;

/** The section, and `refresh` for the page to call when something may have been delivered. */
export function webhookSection() {
  const list = h('ul', { class: 'webhook-list', 'aria-label': 'Your webhooks' });
  const secretSlot = h('div', { 'aria-live': 'polite' });
  const hooks = new Map(); // id -> hook
  const deliveries = new Map(); // id -> its last deliveries
  const problems = new Map(); // id -> the API's refusal
  let loadProblem = null;
  let loaded = false;

  const url = h('input', { type: 'url', placeholder: 'https://example.com/hooks/habits', required: true });
  const boxes = WEBHOOK_EVENTS.map(([value, text]) => h(
    'label',
    { class: 'check' },
    h('input', { type: 'checkbox', value, checked: value === 'instance.updated' }),
    ` ${text} `,
    h('code', { class: 'small' }, value),
  ));
  const form = h(
    'form',
    { class: 'stack webhook-form', novalidate: true, 'aria-labelledby': 'webhook-form-title' },
    h('h3', { id: 'webhook-form-title' }, 'New webhook'),
    formError(),
    field('url', 'Send to', url, { hint: 'An http or https address on the public internet.' }),
    h(
      'fieldset',
      { class: 'stack' },
      h('legend', {}, 'Events'),
      boxes,
      h('p', { class: 'field-error', 'data-error-for': 'events', hidden: true }),
    ),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Add webhook')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    await busy(form, async () => {
      clearErrors(form);
      const events = boxes.map((box) => box.querySelector('input')).filter((box) => box.checked).map((box) => box.value);
      try {
        const made = await api('POST', '/webhooks/', { url: url.value.trim(), events });
        showSecret(made.secret);
        url.value = '';
        hooks.set(made.id, made);
        deliveries.set(made.id, []);
        render();
        toast('Webhook added');
      } catch (error) {
        showErrors(form, error, { url: 'the address', events: 'the events' });
      }
    });
  });

  function showSecret(secret) {
    replace(secretSlot, h(
      'div',
      { class: 'code-box webhook-secret-box' },
      h('p', {}, 'Your signing secret, shown this once. Keep it to verify each delivery:'),
      h('p', {}, h('code', { class: 'webhook-secret' }, secret)),
      h('div', { class: 'form-actions' },
        h('button', {
          type: 'button',
          class: 'btn btn-ghost',
          onclick: () => navigator.clipboard.writeText(secret).then(() => toast('Copied'), () => toast('Copy it by hand, please')),
        }, 'Copy secret'),
        h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => replace(secretSlot) }, 'I have kept it')),
    ));
  }

  function deliveryRow(one) {
    const ok = one.delivered_at !== null;
    return h(
      'li',
      { class: 'delivery' },
      h('span', { class: `badge ${ok ? 'tone-done' : 'tone-missed'}` }, one.status_code === null ? 'no answer' : String(one.status_code)),
      h('span', {}, ` ${one.event} · ${relative(one.created_at)}`),
      one.attempt > 1 ? h('span', { class: 'muted' }, ` · try ${one.attempt}`) : null,
      one.error ? h('span', { class: 'inline-error' }, ` ${one.error}`) : null,
    );
  }

  function item(hook) {
    const last = deliveries.get(hook.id) || [];
    const problem = problems.get(hook.id);
    return h(
      'li',
      { dataset: { webhookId: hook.id } },
      h('div', { class: 'webhook-what' },
        h('strong', { class: 'webhook-url' }, hook.url),
        h('span', { class: 'muted small' }, hook.events.join(', '))),
      h('span', { class: `badge ${hook.enabled ? 'tone-done' : 'tone-paused'}` }, hook.enabled ? 'On' : 'Off'),
      hook.disabled_reason ? h('p', { class: 'inline-error', role: 'status' }, `Switched off: ${hook.disabled_reason}`) : null,
      h('div', { class: 'form-actions' },
        h('button', {
          type: 'button',
          class: 'btn btn-ghost btn-small',
          'aria-label': `${hook.enabled ? 'Turn off' : 'Turn on'}: ${hook.url}`,
          onclick: () => toggle(hook),
        }, hook.enabled ? 'Turn off' : 'Turn on'),
        h('button', {
          type: 'button',
          class: 'btn btn-ghost btn-small btn-danger-text',
          'aria-label': `Delete webhook: ${hook.url}`,
          onclick: () => remove(hook),
        }, 'Delete')),
      h('ul', { class: 'delivery-list', 'aria-label': `Last deliveries to ${hook.url}` },
        last.length ? last.slice(0, SHOWN_DELIVERIES).map(deliveryRow) : h('li', { class: 'muted' }, 'Nothing sent yet.')),
      problem ? h('p', { class: 'inline-error', role: 'alert' }, problem) : null,
    );
  }

  function render() {
    if (!loaded) {
      replace(list, h('li', { class: loadProblem ? 'inline-error' : 'empty' }, loadProblem || 'Loading webhooks…'));
      return;
    }
    const all = [...hooks.values()].sort((a, b) => a.id - b.id);
    replace(list, all.length ? all.map(item) : h('li', { class: 'empty' }, 'No webhooks yet.'));
  }

  async function refresh() {
    try {
      const all = await api('GET', '/webhooks/');
      hooks.clear();
      for (const hook of all) hooks.set(hook.id, hook);
      await Promise.all(all.map(async (hook) => {
        deliveries.set(hook.id, await api('GET', `/webhooks/${hook.id}/deliveries/`));
      }));
      loaded = true;
      loadProblem = null;
    } catch (error) {
      if (error.status === 401) return;
      loadProblem = error.message;
    }
    render();
  }

  async function toggle(hook) {
    problems.delete(hook.id);
    try {
      hooks.set(hook.id, await api('PATCH', `/webhooks/${hook.id}/`, { enabled: !hook.enabled }));
      toast(hook.enabled ? 'Webhook turned off' : 'Webhook turned on');
    } catch (error) {
      problems.set(hook.id, error.message);
    }
    render();
  }

  async function remove(hook) {
    try {
      await api('DELETE', `/webhooks/${hook.id}/`);
      hooks.delete(hook.id);
      toast('Webhook deleted');
    } catch (error) {
      if (error.status === 404) hooks.delete(hook.id);
      else problems.set(hook.id, error.message);
    }
    render();
  }

  const element = h(
    'section',
    { class: 'card stack', 'aria-labelledby': 'webhooks-title' },
    h('h2', { id: 'webhooks-title' }, 'Webhooks'),
    h('p', { class: 'muted' }, 'Your changes, sent as they happen to an address of yours, signed (Standard Webhooks). Failed deliveries are retried for hours; after 10 failures in a row a webhook is switched off.'),
    h('div', { class: 'form-actions' }, h('button', { type: 'button', class: 'btn btn-ghost btn-small', onclick: refresh }, 'Refresh deliveries')),
    list,
    secretSlot,
    form,
  );
  return { element, render, refresh };
}
