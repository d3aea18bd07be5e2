// The public feed: habits people chose to share, without who shared them.

import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { EVERY } from '../format.js';

const PAGE = 20;

export function mount(root) {
  const list = h('ul', { class: 'feed', 'aria-label': 'Public habits' });
  const more = h('button', { type: 'button', class: 'btn btn-ghost', hidden: true }, 'Show more');
  const status = h('p', { class: 'muted', role: 'status' }, 'Loading…');
  let offset = 0;
  let alive = true;

  replace(
    root,
    h(
      'section',
      { class: 'page' },
      h(
        'div',
        { class: 'page-head' },
        h('div', {}, h('h1', {}, 'Public habits'), h('p', { class: 'muted' }, 'Ideas from people who chose to share. No names, just habits.')),
      ),
      status,
      list,
      h('div', { class: 'center' }, more),
    ),
  );

  async function next() {
    more.disabled = true;
    try {
      const page = await api('GET', `/habits/public/?limit=${PAGE}&offset=${offset}`, undefined, { auth: false });
      if (!alive) return;
      offset += page.items.length;
      list.append(...page.items.map(card));
      status.textContent = page.count ? `${page.count} shared habit${page.count === 1 ? '' : 's'}` : 'Nobody has shared a habit yet.';
      more.hidden = offset >= page.count || page.items.length === 0;
    } catch (error) {
      status.textContent = error.message;
    } finally {
      more.disabled = false;
    }
  }

  more.addEventListener('click', next);
  next();
  return () => { alive = false; };
}

function card(habit) {
  return h(
    'li',
    { class: 'card feed-card' },
    h(
      'div',
      { class: 'habit-head' },
      h('h2', {}, habit.action),
      h('span', { class: `badge ${habit.is_pleasant ? 'tone-pleasant' : 'tone-useful'}` }, habit.is_pleasant ? 'Pleasant' : 'Useful'),
    ),
    h('p', { class: 'meta' }, [habit.time_of_day, EVERY[habit.periodicity_days], habit.place].filter(Boolean).join(' · ')),
    habit.reward_text ? h('p', { class: 'meta' }, `Reward: ${habit.reward_text}`) : null,
    h('p', { class: 'meta small muted' }, `${habit.repeat_limit} times`),
  );
}
