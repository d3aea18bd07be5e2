// Today: the day's instances in time order, each with its status, deadlines and "Done".

import { api } from '../api.js';
import { progressRing } from '../charts.js';
import { h, replace, toast } from '../dom.js';
import { OPEN, STATUS, clock, longDate, relative } from '../format.js';
import { emit, loadToday, on, store, timeZone, todayList, upsertInstance } from '../state.js';

const working = new Set(); // instance ids with a "Done" request in flight
const problems = new Map(); // instance id -> the API's refusal

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
    replace(
      summary,
      instances.length
        ? [progressRing(done, instances.length), h('div', {}, h('strong', {}, `${done} of ${instances.length}`), h('span', { class: 'muted' }, ' done'))]
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
    replace(list, instances.map(item));
  }

  const offs = [on('today', render), on('tick', render), on('habits', render)];
  if (!store.todayLoaded) loadToday().catch((error) => toast(error.message, 'error'));
  render();
  return () => offs.forEach((off) => off());
}

function item(instance) {
  const tz = timeZone();
  const status = STATUS[instance.status] || { label: instance.status, tone: 'upcoming' };
  const open = OPEN.has(instance.status);
  const inFlight = working.has(instance.id);
  const problem = problems.get(instance.id);

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
      problem ? h('p', { class: 'inline-error', role: 'alert' }, problem) : null,
    ),
    h(
      'div',
      { class: 'instance-side' },
      h('span', { class: `badge tone-${status.tone}` }, status.label),
      open
        ? h(
          'button',
          {
            type: 'button',
            class: 'btn btn-primary',
            disabled: inFlight,
            'aria-label': `Done: ${instance.action}`,
            onclick: () => complete(instance),
          },
          inFlight ? 'Saving…' : 'Done',
        )
        : null,
    ),
  );
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
    default:
      return '';
  }
}

async function complete(instance) {
  working.add(instance.id);
  problems.delete(instance.id);
  emit('today'); // re-render with the button busy
  try {
    const updated = await api('POST', `/instances/${instance.id}/complete/`);
    upsertInstance(updated);
  } catch (error) {
    problems.set(instance.id, error.message);
    // A refusal may have changed the instance (e.g. it is now expired): read today again.
    if (error.status === 409 || error.status === 404) await loadToday().catch(() => {});
  } finally {
    working.delete(instance.id);
    emit('today');
  }
}
