// Notes (SPEC §8): an instance's note shown with it, and written, changed or removed in place
// (`PATCH /api/instances/{id}/`). Today and a habit's recent days both use these; a note
// written elsewhere (another page, Telegram) arrives as `instance.updated`.

import { api } from './api.js';
import { h, toast } from './dom.js';
import { upsertInstance } from './state.js';

export const NOTE_MAX = 1000;

const drafts = new Map(); // instance id -> the text in its open editor
const saving = new Set(); // instance ids with a save in flight
const problems = new Map(); // instance id -> the API's refusal, shown under the field

/** Whether an editor is open (a redraw for the clock alone waits). */
export function writing() {
  return drafts.size > 0;
}

/** The page is left: open editors do not wait for the user's return. */
export function forgetDrafts() {
  drafts.clear();
  problems.clear();
}

/** The note, as the row shows it; null without one. */
export function noteText(instance) {
  if (!instance.note) return null;
  return h('p', { class: 'note' }, h('span', { class: 'note-label' }, 'Note: '), instance.note);
}

/** "Add note" or "Edit note" (none while its editor is open); `name` tells rows apart. */
export function noteButton(instance, name, redraw) {
  if (drafts.has(instance.id)) return null;
  const verb = instance.note ? 'Edit note' : 'Add note';
  return h(
    'button',
    {
      type: 'button',
      class: 'btn btn-ghost btn-small',
      'aria-label': `${verb}: ${name}`,
      dataset: { focus: `note-${instance.id}` },
      onclick: () => {
        drafts.set(instance.id, instance.note || '');
        problems.delete(instance.id);
        redraw();
        focusOn(`note-text-${instance.id}`);
      },
    },
    verb,
  );
}

/** The editor of an instance whose note is being written, or null. */
export function noteEditor(instance, name, redraw) {
  if (!drafts.has(instance.id)) return null;
  const id = `note-text-${instance.id}`;
  const problem = problems.get(instance.id);
  const busy = saving.has(instance.id);
  const count = h('span', { class: 'note-count muted' });
  const text = h('textarea', {
    id,
    name: 'note',
    rows: 3,
    'aria-describedby': `${id}-hint ${id}-error`,
    'aria-invalid': problem ? 'true' : null,
    dataset: { focus: id },
    oninput: () => {
      drafts.set(instance.id, text.value);
      showCount();
    },
  });
  text.value = drafts.get(instance.id);
  function showCount() {
    const length = [...text.value].length; // characters, as the API counts them
    count.textContent = `${length.toLocaleString('en-GB')} / ${NOTE_MAX.toLocaleString('en-GB')}`;
    count.classList.toggle('over', length > NOTE_MAX);
  }
  showCount();
  const close = () => {
    drafts.delete(instance.id);
    problems.delete(instance.id);
    redraw();
    focusOn(`note-${instance.id}`);
  };
  const form = h(
    'form',
    {
      class: 'note-editor',
      'aria-label': `Note on ${name}`,
      novalidate: true,
      onkeydown: (event) => {
        if (event.key === 'Escape') close();
      },
    },
    h('label', { for: id }, 'Note'),
    text,
    h(
      'p',
      { class: 'hint', id: `${id}-hint` },
      count,
      ' · up to 1,000 characters; saved empty, the note is removed.',
    ),
    h('p', { class: 'field-error', id: `${id}-error`, role: 'alert', hidden: !problem }, problem || ''),
    h(
      'div',
      { class: 'form-actions' },
      h(
        'button',
        { type: 'submit', class: 'btn btn-primary btn-small', disabled: busy, 'aria-label': `Save note: ${name}` },
        busy ? 'Saving…' : 'Save',
      ),
      h('button', { type: 'button', class: 'btn btn-ghost btn-small', onclick: close }, 'Cancel'),
    ),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    save(instance, text.value, redraw);
  });
  return form;
}

async function save(instance, note, redraw) {
  saving.add(instance.id);
  problems.delete(instance.id);
  redraw();
  try {
    const updated = await api('PATCH', `/instances/${instance.id}/`, { note });
    drafts.delete(instance.id);
    upsertInstance(updated);
  } catch (error) {
    if (error.status === 404) {
      drafts.delete(instance.id);
      toast(error.message, 'error');
    } else {
      problems.set(instance.id, refusal(error));
    }
  } finally {
    saving.delete(instance.id);
    redraw();
  }
  focusOn(drafts.has(instance.id) ? `note-text-${instance.id}` : `note-${instance.id}`);
}

/** The API's words about the note ("String should have…" reads "The note should have…"). */
function refusal(error) {
  const messages = error.status === 422 ? error.fieldErrors().note : null;
  if (!messages) return error.message;
  return messages.map((message) => message.replace(/^String\b/, 'The note')).join(' ');
}

function focusOn(key) {
  const el = document.querySelector(`[data-focus="${CSS.escape(key)}"]`);
  if (el) el.focus();
}

/** Redraw `container` with `draw()`, keeping the keyboard (and a caret) where it was. */
export function keepingFocus(container, draw) {
  const el = document.activeElement;
  const key = el && container.contains(el) ? el.dataset.focus : null;
  const caret = key && typeof el.selectionStart === 'number' ? [el.selectionStart, el.selectionEnd] : null;
  draw();
  if (!key) return;
  const again = container.querySelector(`[data-focus="${CSS.escape(key)}"]`);
  if (!again) return;
  again.focus();
  if (caret && typeof again.setSelectionRange === 'function') again.setSelectionRange(...caret);
}
