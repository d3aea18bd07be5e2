// Today: the day's instances in time order, each with its status, deadlines, "Done" and
// "Skip" (with a reason), "Undo skip" on a skipped one, and its note ("Add note").

import { api } from '../api.js';
import { progressRing } from '../charts.js';
import { h, replace, toast } from '../dom.js';
import {
  forgetDrafts, keepingFocus, noteButton, noteEditor, noteText, writing,
} from '../notes.js';
import {
  OPEN, SKIP_REASONS, STATUS, clock, longDate, relative, shortDate, statusLabel,
} from '../format.js';
import {
  emit, loadToday, on, pauseCovering, store, timeZone, todayList, upsertInstance,
} from '../state.js';

const working = new Set(); // instance ids with a request ("Done", "Skip", "Undo") in flight
const problems = new Map(); // instance id -> the API's refusal
const choosing = new Map(); // instance id -> the reason picked in its open "Skip" picker

export function mount(root) {
  const heading = h('h1', {}, 'Today');
  const date = h('p', { class: 'muted' });
  const summary = h('div', { class: 'summary' });
  const list = h('ol', { class: 'instances', 'aria-label': 'Today’s habits' });

  replace(
    root,
    h(
      'section',
      { class: 'page' },
      h('div', { class: 'page-head' }, h('div', {}, heading, date), summary),
      list,
    ),
  );

  function render() {
    if (!store.todayLoaded) {
      replace(list, h('li', { class: 'empty' }, 'Loading today…'));
      return;
    }
    date.textContent = `${longDate(store.todayDate)} · ${timeZone().replace(/_/g, ' ')}`;
    const instances = todayList();
    const done = instances.filter((i) => i.status === 'completed' || i.status === 'completed_late').length;
    // A skipped one neither counts for the day nor against it.
    const skipped = instances.filter((i) => i.status === 'skipped').length;
    const counted = instances.length - skipped;
    replace(
      summary,
      instances.length
        ? [
          progressRing(done, counted),
          h(
            'div',
            {},
            h('strong', {}, counted ? `${done} of ${counted}` : 'Nothing due'),
            counted ? h('span', { class: 'muted' }, ' done') : null,
            skipped ? h('span', { class: 'muted' }, ` · ${skipped} skipped`) : null,
          ),
        ]
        : null,
    );
    if (!instances.length) {
      const hasHabits = store.habits.size > 0;
      replace(
        list,
        h(
          'li',
          { class: 'empty' },
          h('p', {}, hasHabits ? 'Nothing planned for today.' : 'No habits yet.'),
          h('a', { class: 'btn btn-primary', href: '#/habits' }, hasHabits ? 'Plan a habit' : 'Create your first habit'),
        ),
      );
      return;
    }
    // The list is drawn anew on every change; keep the keyboard (and a note's caret) where
    // it was.
    keepingFocus(list, () => replace(list, instances.map(item)));
  }

  const offs = [
    on('today', render),
    // Relative times move; not while a reason picker is open (a redraw would close its list)
    // or a note is being written.
    on('tick', () => { if (!choosing.size && !writing()) render(); }),
    on('habits', render),
    on('pauses', render),
  ];
  if (!store.todayLoaded) loadToday().catch((error) => toast(error.message, 'error'));
  render();
  return () => {
    offs.forEach((off) => off());
    choosing.clear(); // an open picker does not wait for the user's return
    forgetDrafts();
  };
}

function item(instance) {
  const tz = timeZone();
  const status = STATUS[instance.status] || { label: instance.status, tone: 'upcoming' };
  const open = OPEN.has(instance.status);
  const inFlight = working.has(instance.id);
  const problem = problems.get(instance.id);
  if (!open) choosing.delete(instance.id); // done or skipped elsewhere meanwhile
  const picking = choosing.has(instance.id);
  const skippedRow = instance.status === 'skipped';
  const cover = skippedRow ? pauseCovering(instance) : null;

  return h(
    'li',
    { class: `instance tone-${status.tone}`, dataset: { status: instance.status } },
    h(
      'div',
      { class: 'instance-time' },
      h('strong', {}, clock(instance.scheduled_at, tz)),
      instance.status === 'scheduled' ? h('span', { class: 'muted' }, relative(instance.scheduled_at)) : null,
    ),
    h(
      'div',
      { class: 'instance-body' },
      h(
        'p',
        { class: 'instance-title' },
        h('a', { href: `#/habits/${instance.habit_id}` }, instance.action),
        instance.place ? h('span', { class: 'muted' }, ` · ${instance.place}`) : null,
      ),
      h('p', { class: 'instance-when' }, deadlines(instance, tz)),
      noteText(instance),
      problem ? h('p', { class: 'inline-error', role: 'alert' }, problem) : null,
    ),
    h(
      'div',
      { class: 'instance-side' },
      h('span', { class: `badge tone-${status.tone}` }, statusLabel(instance)),
      open && !picking
        ? [
          rowButton(instance, { label: 'Done', key: 'done', primary: true, busyLabel: true, onclick: () => complete(instance) }),
          rowButton(instance, { label: 'Skip', key: 'skip', onclick: () => openPicker(instance) }),
        ]
        : null,
      skippedRow && !cover
        ? rowButton(instance, { label: 'Undo skip', key: 'unskip', busyLabel: true, onclick: () => unskip(instance) })
        : null,
      skippedRow && cover
        ? h('a', { class: 'btn btn-ghost', href: '#/profile', dataset: { focus: `pauses-${instance.id}` } }, 'Manage pauses')
        : null,
      picking ? null : noteButton(instance, instance.action, redraw),
    ),
    open && picking ? picker(instance, inFlight) : null,
    noteEditor(instance, instance.action, redraw),
  );
}

/** One of a row's buttons: named with the habit for a screen reader, disabled while the row
 * has a request in flight ("Saving…" on it with `busyLabel`), and found again after a redraw by
 * its `data-focus` key. */
function rowButton(instance, { label, key, primary = false, busyLabel = false, onclick }) {
  const inFlight = working.has(instance.id);
  return h(
    'button',
    {
      type: 'button',
      class: `btn ${primary ? 'btn-primary' : 'btn-ghost'}`,
      disabled: inFlight,
      'aria-label': `${label}: ${instance.action}`,
      dataset: { focus: `${key}-${instance.id}` },
      onclick,
    },
    inFlight && busyLabel ? 'Saving…' : label,
  );
}

/** The reason picker under an open instance: a labelled select, "Skip it" and "Cancel". */
function picker(instance, inFlight) {
  const id = `skip-reason-${instance.id}`;
  const reason = h(
    'select',
    {
      id,
      dataset: { focus: `reason-${instance.id}` },
      onchange: () => choosing.set(instance.id, reason.value),
    },
    Object.entries(SKIP_REASONS).map(([value, text]) => h('option', { value }, text)),
  );
  reason.value = choosing.get(instance.id) || 'other';
  const form = h(
    'form',
    {
      class: 'skip-picker',
      'aria-label': `Skip ${instance.action}`,
      novalidate: true,
      onkeydown: (event) => {
        if (event.key === 'Escape') closePicker(instance);
      },
    },
    h('label', { for: id }, 'Why skip it?'),
    reason,
    h(
      'button',
      {
        type: 'submit',
        class: 'btn btn-primary btn-small',
        disabled: inFlight,
        'aria-label': `Skip it: ${instance.action}`,
        dataset: { focus: `confirm-${instance.id}` },
      },
      inFlight ? 'Saving…' : 'Skip it',
    ),
    h(
      'button',
      {
        type: 'button',
        class: 'btn btn-ghost btn-small',
        dataset: { focus: `cancel-${instance.id}` },
        onclick: () => closePicker(instance),
      },
      'Cancel',
    ),
    h('p', { class: 'hint' }, 'A skipped day gets no reminder, keeps your streak as it is, and adds a day at the end of the course.'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    skip(instance, reason.value);
  });
  return form;
}

function openPicker(instance) {
  choosing.set(instance.id, choosing.get(instance.id) || 'other');
  problems.delete(instance.id);
  emit('today');
  const select = document.getElementById(`skip-reason-${instance.id}`);
  if (select) select.focus();
}

function closePicker(instance) {
  choosing.delete(instance.id);
  emit('today');
  focusOn(`skip-${instance.id}`);
}

function redraw() {
  emit('today');
}

function focusOn(key) {
  const el = document.querySelector(`[data-focus="${CSS.escape(key)}"]`);
  if (el) el.focus();
}

/** The deadlines that matter for the instance's current state, in words. */
function deadlines(instance, tz) {
  const grace = clock(instance.grace_deadline, tz);
  const fix = clock(instance.fix_deadline, tz);
  switch (instance.status) {
    case 'scheduled':
      return `On time until ${grace} · can fix until ${fix}`;
    case 'pending':
      return `On time until ${grace} (${relative(instance.grace_deadline)}) · can fix until ${fix}`;
    case 'missed':
      return `Missed at ${grace} — fix it until ${fix} (${relative(instance.fix_deadline)})`;
    case 'completed':
    case 'completed_late': {
      const via = instance.source === 'telegram' ? ' via Telegram' : instance.source === 'web' ? ' on the web' : '';
      return `Done at ${clock(instance.completed_at, tz)}${via}`;
    }
    case 'fix_expired':
      return `The fix window closed at ${fix}`;
    case 'skipped': {
      const cover = pauseCovering(instance);
      // The note has its own line (notes.js).
      return cover
        ? `Paused until ${shortDate(cover.end_date)} — no reminder`
        : 'Set aside — no reminder, the streak waits';
    }
    default:
      return '';
  }
}

/** One request for a row: its buttons busy meanwhile, the answer into the store, a refusal
 * shown on the row. A 409 or 404 means the instance changed elsewhere (done, expired, gone):
 * `settled` runs as on success, and today is read again. */
async function send(instance, method, path, body, settled = () => {}) {
  working.add(instance.id);
  problems.delete(instance.id);
  emit('today'); // re-render with the buttons busy
  try {
    const updated = await api(method, path, body);
    settled();
    upsertInstance(updated);
  } catch (error) {
    problems.set(instance.id, error.message);
    if (error.status === 409 || error.status === 404) {
      settled();
      await loadToday().catch(() => {});
    }
  } finally {
    working.delete(instance.id);
    emit('today');
  }
}

async function skip(instance, reason) {
  await send(instance, 'POST', `/instances/${instance.id}/skip/`, { reason }, () => choosing.delete(instance.id));
  focusOn(choosing.has(instance.id) ? `reason-${instance.id}` : `unskip-${instance.id}`);
}

async function unskip(instance) {
  await send(instance, 'DELETE', `/instances/${instance.id}/skip/`);
  focusOn(`skip-${instance.id}`);
}

async function complete(instance) {
  await send(instance, 'POST', `/instances/${instance.id}/complete/`);
}
