// Form fields with a slot for the API's message next to each, and the code that fills the
// slots from a 422 `{"detail": [{"loc": ["body", field], "msg": ...}]}`.

import { h } from './dom.js';

let sequence = 0;

/** A labelled control with its hint and an error slot that the API's 422 can fill. */
export function field(name, labelText, control, { hint = null, className = '' } = {}) {
  sequence += 1;
  const id = control.id || `f-${name}-${sequence}`;
  control.id = id;
  control.name = control.name || name;
  const error = h('p', { class: 'field-error', id: `${id}-error`, 'data-error-for': name, hidden: true });
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  control.setAttribute('aria-describedby', [hintEl && hintEl.id, error.id].filter(Boolean).join(' '));
  return h(
    'div',
    { class: `field ${className}`.trim(), dataset: { field: name } },
    h('label', { for: id }, labelText),
    control,
    hintEl,
    error,
  );
}

/** The slot for errors that belong to no single field. */
export function formError() {
  return h('div', { class: 'form-error', role: 'alert', hidden: true });
}

export function clearErrors(form) {
  for (const slot of form.querySelectorAll('[data-error-for]')) {
    slot.hidden = true;
    slot.textContent = '';
  }
  for (const control of form.querySelectorAll('[aria-invalid]')) control.removeAttribute('aria-invalid');
  for (const box of form.querySelectorAll('.form-error')) {
    box.hidden = true;
    box.textContent = '';
  }
}

/**
 * Show an ApiError on a form: each field's messages next to it, the rest on top.
 * `words` maps API field names that messages mention to what the form calls them.
 * Returns true when anything was shown.
 */
export function showErrors(form, error, words = {}) {
  clearErrors(form);
  const general = [];
  let first = null;
  const byField = error.status === 422 ? error.fieldErrors() : { '': [error.message] };
  for (const [name, raw] of Object.entries(byField)) {
    const messages = raw.map((message) => reword(message, words));
    const slot = name ? form.querySelector(`[data-error-for="${CSS.escape(name)}"]`) : null;
    if (!slot) {
      general.push(...messages.map((m) => (name ? `${label(name)}: ${m}` : m)));
      continue;
    }
    slot.textContent = messages.join(' ');
    slot.hidden = false;
    const control = form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (control) {
      control.setAttribute('aria-invalid', 'true');
      first ||= control;
    }
  }
  const box = form.querySelector('.form-error');
  if (general.length && box) {
    box.textContent = general.join(' ');
    box.hidden = false;
  }
  if (first) first.focus();
  return Boolean(first || general.length);
}

function reword(message, words) {
  let text = message;
  for (const [name, word] of Object.entries(words)) {
    text = text.replace(new RegExp(`\\b${name}\\b`, 'g'), word);
  }
  return text;
}

function label(name) {
  return name.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

/** Disable a form's submit button while `work` runs. */
export async function busy(form, work, working = 'Saving…') {
  const button = form.querySelector('button[type="submit"]');
  const text = button ? button.textContent : '';
  if (button) {
    button.disabled = true;
    button.textContent = working;
  }
  try {
    return await work();
  } finally {
    if (button) {
      button.disabled = false;
      // The work may have relabelled the button (an edit form back to "Create").
      if (button.textContent === working) button.textContent = text;
    }
  }
}
