// One habit: its program ("12 of 21"), streaks, rates, strength, a pie by status, a bar per
// weekday and recent days, each with its note ("Add note"). The numbers follow
// `stats.updated` and `habit.updated` live, the days `instance.*`.

import { api } from '../api.js';
import { statusPie, weeklyBars } from '../charts.js';
import { h, replace } from '../dom.js';
import {
  EVERY, STATUS, clock, percent, programDetail, programText, shortDate, statusLabel,
} from '../format.js';
import {
  forgetDrafts, keepingFocus, noteButton, noteEditor, noteText,
} from '../notes.js';
import { on, setStats, store, timeZone, upsertHabit } from '../state.js';

const HISTORY = 14;

export function mount(root, { id }) {
  const habitId = Number(id);
  const head = h('div', { class: 'page-head' });
  const tiles = h('div', { class: 'tiles' });
  const pie = h('div', { class: 'chart-body' });
  const bars = h('div', { class: 'chart-body' });
  const history = h('ol', { class: 'history', 'aria-label': 'Recent days' });
  let instances = new Map();
  let shown = null; // the stats on screen, to highlight what changed

  replace(
    root,
    h(
      'section',
      { class: 'page' },
      h('p', { class: 'crumbs' }, h('a', { href: '#/habits' }, '← All habits')),
      head,
      tiles,
      h(
        'div',
        { class: 'charts' },
        h('section', { class: 'card chart', 'aria-labelledby': 'pie-title' }, h('h2', { id: 'pie-title' }, 'By status'), pie),
        h('section', { class: 'card chart', 'aria-labelledby': 'bars-title' }, h('h2', { id: 'bars-title' }, 'By weekday'), bars),
      ),
      h('section', { class: 'card' }, h('h2', {}, 'Recent days'), history),
    ),
  );

  function renderHead() {
    const habit = store.habits.get(habitId);
    if (!habit) return;
    let reward = '';
    if (habit.is_pleasant) reward = 'Pleasant: its own reward';
    else if (habit.reward_text) reward = `Reward: ${habit.reward_text}`;
    else {
      const related = store.habits.get(habit.related_pleasant_habit);
      reward = `Reward: ${related ? related.action : 'a pleasant habit'}`;
    }
    replace(
      head,
      h(
        'div',
        {},
        h('h1', {}, habit.action),
        h('p', { class: 'muted' }, [habit.time_of_day, EVERY[habit.periodicity_days], habit.place, reward].filter(Boolean).join(' · ')),
      ),
      habit.is_active ? null : h('span', { class: 'badge tone-paused' }, 'Paused'),
      program(habit.program),
    );
  }

  /** The course: "12 of 21" done with a bar, or nothing when the answer has no `program`. */
  function program(course) {
    const text = programText(course);
    if (!text) return null;
    const fraction = course.done / course.limit;
    const bar = meterBar(fraction);
    bar.removeAttribute('aria-hidden');
    bar.setAttribute('role', 'progressbar');
    bar.setAttribute('aria-label', 'Program');
    bar.setAttribute('aria-valuemin', '0');
    bar.setAttribute('aria-valuemax', String(course.limit));
    bar.setAttribute('aria-valuenow', String(course.done));
    bar.setAttribute('aria-valuetext', `${text} done`);
    return h(
      'div',
      { class: `program${course.finished ? ' finished' : ''}`, role: 'group', 'aria-label': 'Program' },
      h('div', { class: 'program-numbers' }, h('strong', {}, text), h('span', { class: 'muted' }, 'done')),
      bar,
      h('div', { class: 'muted small' }, programDetail(course)),
    );
  }

  function tile(label, value, { detail = null, meter = null } = {}) {
    const changed = shown && shown[label] !== undefined && shown[label] !== value;
    return h(
      'div',
      { class: `tile${changed ? ' flash' : ''}`, role: 'group', 'aria-label': label },
      h('div', { class: 'tile-value' }, value),
      h('div', { class: 'tile-label' }, label),
      meter !== null ? meterBar(meter) : null,
      detail ? h('div', { class: 'tile-detail muted' }, detail) : null,
    );
  }

  function renderStats(stats) {
    const values = {
      'Current streak': String(stats.streak.current),
      'Best streak': String(stats.streak.max),
      'Success rate': percent(stats.success_rate),
      'On time': percent(stats.on_time_rate),
      Strength: percent(stats.score),
    };
    replace(
      tiles,
      tile('Current streak', values['Current streak'], { detail: 'done in a row' }),
      tile('Best streak', values['Best streak'], { detail: 'longest run' }),
      tile('Success rate', values['Success rate'], {
        detail: [
          `${stats.done} done`,
          `${stats.failed} missed`,
          // Left out of the rate; only answers that know of skips have the count.
          stats.counts && stats.counts.skipped !== undefined ? `${stats.counts.skipped} skipped` : null,
        ].filter(Boolean).join(' · '),
      }),
      tile('On time', values['On time'], { detail: 'of the done ones' }),
      tile('Strength', values.Strength, { meter: stats.score }),
    );
    shown = values;
    replace(pie, statusPie(stats.counts));
    replace(bars, weeklyBars(stats.weekly));
  }

  function renderHistory() {
    const tz = timeZone();
    const items = [...instances.values()]
      .sort((a, b) => b.date.localeCompare(a.date) || b.id - a.id)
      .slice(0, HISTORY);
    if (!items.length) {
      replace(history, h('li', { class: 'empty' }, 'No days yet.'));
      return;
    }
    keepingFocus(history, () => replace(
      history,
      items.map((instance) => {
        const status = STATUS[instance.status] || { label: instance.status, tone: 'upcoming' };
        const day = shortDate(instance.date);
        return h(
          'li',
          { dataset: { date: instance.date } },
          h('span', { class: 'history-date' }, day),
          h('span', { class: 'muted' }, clock(instance.scheduled_at, tz)),
          h('span', { class: `badge tone-${status.tone}` }, statusLabel(instance)),
          h('span', { class: 'muted small history-done' }, instance.completed_at ? `done ${clock(instance.completed_at, tz)}` : ''),
          h('span', { class: 'history-note-action' }, noteButton(instance, day, renderHistory)),
          noteText(instance),
          noteEditor(instance, day, renderHistory),
        );
      }),
    ));
  }

  async function load() {
    try {
      const [habit, stats, page] = await Promise.all([
        api('GET', `/habits/${habitId}/`),
        api('GET', `/habits/${habitId}/stats/`),
        api('GET', `/habits/${habitId}/instances/?limit=${HISTORY}`),
      ]);
      upsertHabit(habit);
      renderHead();
      setStats(habitId, stats);
      instances = new Map(page.items.map((instance) => [instance.id, instance]));
      renderHistory();
    } catch (error) {
      if (error.status === 401) return;
      replace(
        root,
        h(
          'section',
          { class: 'page' },
          h('div', { class: 'card empty' },
            h('p', {}, error.status === 404 ? 'This habit does not exist, or it is not yours.' : error.message),
            h('a', { class: 'btn btn-primary', href: '#/habits' }, 'Back to habits')),
        ),
      );
    }
  }

  const offs = [
    on('stats', ({ habit_id: changed, stats }) => { if (changed === habitId) renderStats(stats); }),
    on('instance', (instance) => {
      if (instance.habit_id !== habitId) return;
      instances.set(instance.id, instance);
      renderHistory();
    }),
    on('habits', () => {
      if (store.habitsLoaded && !store.habits.has(habitId)) {
        replace(head, h('div', { class: 'notice', role: 'status' }, 'This habit was deleted.'));
        return;
      }
      renderHead();
    }),
    on('resync', load),
  ];
  renderHead();
  if (store.stats.has(habitId)) renderStats(store.stats.get(habitId));
  load();
  return () => {
    offs.forEach((off) => off());
    forgetDrafts();
  };
}

function meterBar(fraction) {
  const bar = h('div', { class: 'meter', 'aria-hidden': 'true' }, h('span', {}));
  bar.firstChild.style.width = `${Math.round(Math.max(0, Math.min(1, fraction)) * 100)}%`;
  return bar;
}
