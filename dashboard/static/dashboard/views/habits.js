// Habits: the list (edit, pause, delete) and the form that creates or edits one.

import { api } from '../api.js';
import { h, replace, toast } from '../dom.js';
import {
  EVERY, cueText, programDetail, programText, remindersText, shortDate,
} from '../format.js';
import { busy, clearErrors, field, formError, showErrors } from '../forms.js';
import {
  habitsSorted, on, reloadTodaySoon, removeHabit, store, upsertHabit,
} from '../state.js';

// The API's messages name fields; the form's labels are what a person reads.
const FIELD_WORDS = {
  reward_text: 'a treat',
  related_pleasant_habit: 'one of your pleasant habits',
  reminders: 'reminders',
  cue_habit_id: 'the habit it follows',
};
const SCHEDULE_FIELDS = new Set(['periodicity_days', 'repeat_limit', 'grace_minutes', 'fix_minutes', 'start_date', 'reminders', 'cue_habit_id', 'cue_delay_minutes']);

// "-15, 0, 30" -> [-15, 0, 30]; a word that is not a whole number goes as it is, so the
// API names the field (the rules — how many, distinct, in range — are the API's).
function parseOffsets(text) {
  return text.split(/[\s,]+/).filter(Boolean).map((word) => (/^[-+]?\d+$/.test(word) ? Number(word) : word));
}

export function mount(root) {
  const confirming = new Set(); // habit ids asking "really delete?"
  const cardErrors = new Map(); // habit id -> the API's refusal
  const list = h('ul', { class: 'habit-list', 'aria-label': 'Your habits' });
  const form = habitForm();

  replace(
    root,
    h(
      'section',
      { class: 'page' },
      h(
        'div',
        { class: 'page-head' },
        h('div', {}, h('h1', {}, 'Habits'), h('p', { class: 'muted' }, 'What you will do, where and when — and what you get for it.')),
      ),
      h('div', { class: 'columns' }, h('div', { class: 'column-main' }, list), h('aside', { class: 'column-side' }, form.element)),
    ),
  );

  function render() {
    if (!store.habitsLoaded) {
      replace(list, h('li', { class: 'empty' }, 'Loading habits…'));
      return;
    }
    const habits = habitsSorted();
    if (!habits.length) {
      replace(
        list,
        h(
          'li',
          { class: 'empty' },
          h('p', {}, 'No habits yet.'),
          h('p', { class: 'muted' }, 'Start small: “After my morning coffee, I will meditate for one minute.”'),
        ),
      );
      return;
    }
    replace(list, habits.map((habit) => card(habit)));
  }

  function card(habit) {
    const related = habit.related_pleasant_habit ? store.habits.get(habit.related_pleasant_habit) : null;
    let reward;
    if (habit.is_pleasant) reward = 'Pleasant: its own reward';
    else if (habit.reward_text) reward = `Reward: ${habit.reward_text}`;
    else reward = `Reward: ${related ? related.action : 'a pleasant habit'}`;
    const problem = cardErrors.get(habit.id);
    const cue = habit.cue_habit_id ? store.habits.get(habit.cue_habit_id) : null;

    const actions = confirming.has(habit.id)
      ? h(
        'div',
        { class: 'card-actions confirm', role: 'group', 'aria-label': 'Confirm delete' },
        h('span', {}, 'Delete this habit and its history?'),
        h('button', { type: 'button', class: 'btn btn-danger', onclick: () => remove(habit) }, 'Yes, delete'),
        h('button', {
          type: 'button',
          class: 'btn btn-ghost',
          onclick: () => { confirming.delete(habit.id); render(); },
        }, 'Cancel'),
      )
      : h(
        'div',
        { class: 'card-actions' },
        h('a', { class: 'btn btn-ghost', href: `#/habits/${habit.id}` }, 'Stats'),
        h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => form.edit(habit) }, 'Edit'),
        h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => toggleActive(habit) }, habit.is_active ? 'Pause' : 'Resume'),
        h('button', {
          type: 'button',
          class: 'btn btn-ghost btn-danger-text',
          onclick: () => { cardErrors.delete(habit.id); confirming.add(habit.id); render(); },
        }, 'Delete'),
      );

    return h(
      'li',
      { class: `card habit-card${habit.is_active ? '' : ' paused'}`, dataset: { habitId: habit.id } },
      h(
        'div',
        { class: 'habit-head' },
        h('h2', {}, h('a', { href: `#/habits/${habit.id}` }, habit.action)),
        h(
          'div',
          { class: 'badges' },
          h('span', { class: `badge ${habit.is_pleasant ? 'tone-pleasant' : 'tone-useful'}` }, habit.is_pleasant ? 'Pleasant' : 'Useful'),
          habit.is_public ? h('span', { class: 'badge tone-public' }, 'Public') : null,
          habit.is_active ? null : h('span', { class: 'badge tone-paused' }, 'Paused'),
        ),
      ),
      h('p', { class: 'meta' }, [habit.time_of_day, EVERY[habit.periodicity_days], habit.place].filter(Boolean).join(' · ')),
      h('p', { class: 'meta' }, reward),
      h('p', { class: 'meta small' }, [remindersText(habit.reminders), cue ? cueText(cue.action, habit.cue_delay_minutes) : null].filter(Boolean).join(' · ')),
      h('p', { class: 'meta small muted' }, programText(habit.program)
        ? [`${programText(habit.program)} done`, programDetail(habit.program)].filter(Boolean).join(' · ')
        : `${habit.repeat_limit} times from ${shortDate(habit.start_date)}`),
      problem ? h('p', { class: 'inline-error', role: 'alert' }, problem) : null,
      actions,
    );
  }

  async function toggleActive(habit) {
    cardErrors.delete(habit.id);
    try {
      upsertHabit(await api('PATCH', `/habits/${habit.id}/`, { is_active: !habit.is_active }));
      reloadTodaySoon();
      toast(habit.is_active ? `Paused “${habit.action}”` : `Resumed “${habit.action}”`);
    } catch (error) {
      cardErrors.set(habit.id, error.message);
      render();
    }
  }

  async function remove(habit) {
    confirming.delete(habit.id);
    try {
      await api('DELETE', `/habits/${habit.id}/`);
      removeHabit(habit.id);
      if (form.editing() === habit.id) form.reset();
      reloadTodaySoon();
      toast(`Deleted “${habit.action}”`);
    } catch (error) {
      if (error.status === 404) removeHabit(habit.id);
      else cardErrors.set(habit.id, error.message);
      render();
    }
  }

  const offs = [on('habits', () => { render(); form.refreshOptions(); })];
  render();
  return () => offs.forEach((off) => off());
}

function select(options, value) {
  const el = h('select', {});
  for (const [optionValue, text] of options) el.append(h('option', { value: String(optionValue) }, text));
  el.value = String(value);
  return el;
}

function habitForm() {
  let editing = null;

  const title = h('h2', {}, 'New habit');
  const action = h('input', { type: 'text', maxlength: 255, placeholder: 'Read 10 pages', autocomplete: 'off' });
  const place = h('input', { type: 'text', maxlength: 255, placeholder: 'On the sofa', autocomplete: 'off' });
  const time = h('input', { type: 'time', required: true });
  const useful = h('input', { type: 'radio', name: 'is_pleasant', value: 'false', checked: true });
  const pleasant = h('input', { type: 'radio', name: 'is_pleasant', value: 'true' });
  const rewardText = h('input', { type: 'text', maxlength: 255, placeholder: 'A square of dark chocolate', autocomplete: 'off' });
  const related = h('select', {});
  const relatedHint = h('span', {});
  const periodicity = select(Object.entries(EVERY), 1);
  const repeat = select([[21, '21 times'], [30, '30 times'], [45, '45 times']], 21);
  const grace = h('input', { type: 'number', min: 0, max: 720, step: 1, value: 30, inputmode: 'numeric' });
  const fix = h('input', { type: 'number', min: 0, max: 1440, step: 1, value: 120, inputmode: 'numeric' });
  const start = h('input', { type: 'date' });
  const reminders = h('input', { type: 'text', value: '0', placeholder: '-15, 0, 30', autocomplete: 'off', inputmode: 'numeric' });
  const cue = h('select', {});
  const cueDelay = h('input', { type: 'number', min: 0, max: 240, step: 1, value: 0, inputmode: 'numeric' });
  const isPublic = h('input', { type: 'checkbox', name: 'is_public' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create habit');
  const cancel = h('button', { type: 'button', class: 'btn btn-ghost', hidden: true, onclick: () => reset() }, 'Cancel');

  const reward = h(
    'fieldset',
    { class: 'reward' },
    h('legend', {}, 'Reward — exactly one'),
    field('reward_text', 'A treat', rewardText, { hint: 'What you give yourself right after.' }),
    h('p', { class: 'or', 'aria-hidden': 'true' }, 'or'),
    field('related_pleasant_habit', 'One of your pleasant habits', related, { hint: relatedHint }),
  );

  const schedule = h(
    'details',
    { class: 'schedule' },
    h('summary', {}, 'Schedule and deadlines'),
    h(
      'div',
      { class: 'grid-2' },
      field('periodicity_days', 'How often', periodicity),
      field('repeat_limit', 'How many times', repeat),
      field('grace_minutes', 'On time within (min)', grace, { hint: 'Done within this after its time counts as on time.' }),
      field('fix_minutes', 'Can fix for (min)', fix, { hint: 'After that, still fixable (done late) for this long.' }),
      field('start_date', 'Starting', start, { hint: 'Leave empty for today.' }),
      field('reminders', 'Reminders (min from its time)', reminders, { hint: 'Up to five, e.g. -15, 0, 30: before (-), at (0) or after its time.' }),
      field('cue_habit_id', 'After which habit', cue, { hint: 'Habit stacking: once that one is done, you get a reminder for this one.' }),
      field('cue_delay_minutes', 'Remind me after (min)', cueDelay, { hint: '0 to 240 minutes after the cue is done.' }),
    ),
  );

  const element = h(
    'form',
    { class: 'card stack habit-form', novalidate: true, 'aria-labelledby': 'habit-form-title' },
    title,
    formError(),
    field('action', 'I will…', action),
    h('div', { class: 'grid-2' }, field('time_of_day', 'At what time', time), field('place', 'Where', place)),
    h(
      'fieldset',
      { class: 'kind' },
      h('legend', {}, 'Kind'),
      h('label', { class: 'choice' }, useful, h('span', {}, h('strong', {}, 'Useful'), ' — something to build, with a reward')),
      h('label', { class: 'choice' }, pleasant, h('span', {}, h('strong', {}, 'Pleasant'), ' — something you enjoy')),
      h('p', { class: 'field-error', 'data-error-for': 'is_pleasant', hidden: true }),
    ),
    h(
      'div',
      { class: 'rule', role: 'note' },
      h('p', {}, h('strong', {}, 'The rule. '), 'A pleasant habit is its own reward, so it has none. A useful habit has exactly one reward: a treat you name, ', h('em', {}, 'or'), ' one of your own pleasant habits — not both, not neither.'),
    ),
    reward,
    schedule,
    h('label', { class: 'choice' }, isPublic, h('span', {}, 'Show it in the public feed (never with your name)')),
    h('p', { class: 'field-error', 'data-error-for': 'is_public', hidden: true }),
    h('div', { class: 'form-actions' }, submit, cancel),
  );
  title.id = 'habit-form-title';

  function kindChanged() {
    reward.hidden = pleasant.checked;
  }
  useful.addEventListener('change', kindChanged);
  pleasant.addEventListener('change', kindChanged);

  function refreshOptions() {
    const chosen = related.value;
    const options = [...store.habits.values()].filter(
      (habit) => habit.is_pleasant && (!editing || habit.id !== editing.id),
    );
    replace(
      related,
      h('option', { value: '' }, '— none —'),
      options.map((habit) => h('option', { value: String(habit.id) }, habit.action)),
    );
    related.value = options.some((habit) => String(habit.id) === chosen) ? chosen : '';
    const cueChosen = cue.value;
    const cues = [...store.habits.values()].filter((habit) => !editing || habit.id !== editing.id);
    replace(
      cue,
      h('option', { value: '' }, '— none —'),
      cues.map((habit) => h('option', { value: String(habit.id) }, habit.action)),
    );
    cue.value = cues.some((habit) => String(habit.id) === cueChosen) ? cueChosen : '';
    relatedHint.textContent = options.length
      ? 'Do the useful one, then enjoy this.'
      : 'You have no pleasant habits yet; create one to use it as a reward.';
  }

  function fill(habit) {
    action.value = habit ? habit.action : '';
    place.value = habit ? habit.place : '';
    time.value = habit ? habit.time_of_day : '';
    (habit && habit.is_pleasant ? pleasant : useful).checked = true;
    rewardText.value = habit && habit.reward_text ? habit.reward_text : '';
    refreshOptions();
    related.value = habit && habit.related_pleasant_habit ? String(habit.related_pleasant_habit) : '';
    periodicity.value = String(habit ? habit.periodicity_days : 1);
    repeat.value = String(habit ? habit.repeat_limit : 21);
    grace.value = String(habit ? habit.grace_minutes : 30);
    fix.value = String(habit ? habit.fix_minutes : 120);
    start.value = habit ? habit.start_date : '';
    reminders.value = habit ? habit.reminders.join(', ') : '0';
    cue.value = habit && habit.cue_habit_id ? String(habit.cue_habit_id) : '';
    cueDelay.value = String(habit ? habit.cue_delay_minutes : 0);
    isPublic.checked = Boolean(habit && habit.is_public);
    kindChanged();
  }

  function edit(habit) {
    editing = habit;
    title.textContent = `Edit “${habit.action}”`;
    submit.textContent = 'Save changes';
    cancel.hidden = false;
    clearErrors(element);
    fill(habit);
    element.scrollIntoView({ behavior: 'smooth', block: 'start' });
    action.focus({ preventScroll: true });
  }

  function reset() {
    editing = null;
    title.textContent = 'New habit';
    submit.textContent = 'Create habit';
    cancel.hidden = true;
    clearErrors(element);
    fill(null);
  }

  function number(input) {
    return input.value === '' ? undefined : Number(input.value);
  }

  function body() {
    const isPleasant = pleasant.checked;
    const data = {
      action: action.value.trim(),
      place: place.value.trim(),
      time_of_day: time.value || undefined,
      is_pleasant: isPleasant,
      reward_text: isPleasant ? null : rewardText.value.trim() || null,
      related_pleasant_habit: isPleasant || !related.value ? null : Number(related.value),
      periodicity_days: Number(periodicity.value),
      repeat_limit: Number(repeat.value),
      grace_minutes: number(grace),
      fix_minutes: number(fix),
      reminders: parseOffsets(reminders.value),
      cue_habit_id: cue.value ? Number(cue.value) : null,
      cue_delay_minutes: number(cueDelay),
      is_public: isPublic.checked,
    };
    if (start.value) data.start_date = start.value;
    return data;
  }

  element.addEventListener('submit', async (event) => {
    event.preventDefault();
    await busy(element, async () => {
      const wasEditing = editing;
      try {
        const habit = wasEditing
          ? await api('PATCH', `/habits/${wasEditing.id}/`, body())
          : await api('POST', '/habits/', body());
        upsertHabit(habit);
        reloadTodaySoon();
        reset();
        toast(wasEditing ? `Saved “${habit.action}”` : `Created “${habit.action}”`);
      } catch (error) {
        if (error.status === 422 && Object.keys(error.fieldErrors()).some((f) => SCHEDULE_FIELDS.has(f))) {
          schedule.open = true;
        }
        showErrors(element, error, FIELD_WORDS);
      }
    });
  });

  fill(null);
  return { element, edit, reset, refreshOptions, editing: () => (editing ? editing.id : null) };
}
