// What the page knows: the user, today's instances, the habits, the latest stats.
// Views read from here and re-render on the events below; the socket and the REST calls
// write here.
//
// Events: "me", "today", "instance" (one changed instance), "habits", "stats"
// ({habit_id, stats}), "pauses", "finished" (a habit whose program just finished), "telegram"
// ({bound, data}), "resync" (the socket (re)connected: re-read anything not covered by the
// snapshot), "tick" (every 30 s, for relative times), "import" ({progress} or {finished}: an
// import's frames).

import { api } from './api.js';
import { localDate } from './format.js';

export const store = {
  me: null,
  todayDate: null,
  today: new Map(),
  todayLoaded: false,
  habits: new Map(),
  habitsLoaded: false,
  stats: new Map(),
  pauses: new Map(),
  pausesLoaded: false,
};

const bus = new EventTarget();

export function on(type, listener) {
  const wrapped = (event) => listener(event.detail);
  bus.addEventListener(type, wrapped);
  return () => bus.removeEventListener(type, wrapped);
}

export function emit(type, detail = null) {
  bus.dispatchEvent(new CustomEvent(type, { detail }));
}

export function reset() {
  store.me = null;
  store.todayDate = null;
  store.today = new Map();
  store.todayLoaded = false;
  store.habits = new Map();
  store.habitsLoaded = false;
  store.stats = new Map();
  store.pauses = new Map();
  store.pausesLoaded = false;
}

export function timeZone() {
  return (store.me && store.me.timezone) || 'UTC';
}

export function setMe(me) {
  const moved = store.me && store.me.timezone !== me.timezone;
  store.me = me;
  emit('me', me);
  if (moved) loadToday().catch(() => {});
}

// --- today ----------------------------------------------------------------------------------

export function todayList() {
  return [...store.today.values()].sort(
    (a, b) => a.scheduled_at.localeCompare(b.scheduled_at) || a.id - b.id,
  );
}

export function setToday(instances) {
  store.todayDate = localDate(timeZone());
  store.today = new Map(instances.map((instance) => [instance.id, instance]));
  store.todayLoaded = true;
  emit('today');
}

function belongsToToday(instance) {
  const habit = store.habits.get(instance.habit_id);
  return instance.date === store.todayDate && (!habit || habit.is_active);
}

/** A created or changed instance, from the socket or from our own request. */
export function upsertInstance(instance) {
  const known = store.today.get(instance.id);
  // Frames and answers can cross: never let an older copy replace a finished state.
  if (known && isDone(known.status) && !isDone(instance.status)) return;
  if (belongsToToday(instance)) store.today.set(instance.id, instance);
  else store.today.delete(instance.id);
  emit('today');
  emit('instance', instance);
}

function isDone(status) {
  return status === 'completed' || status === 'completed_late';
}

export async function loadToday() {
  setToday(await api('GET', '/instances/today/'));
}

let todayReload = null;

/** Re-read today soon; several habit events in a row cause one request. */
export function reloadTodaySoon() {
  clearTimeout(todayReload);
  todayReload = setTimeout(() => loadToday().catch(() => {}), 250);
}

// --- habits ---------------------------------------------------------------------------------

export async function loadHabits() {
  const all = [];
  for (let offset = 0; ; offset += 100) {
    const page = await api('GET', `/habits/?limit=100&offset=${offset}`);
    all.push(...page.items);
    if (all.length >= page.count || page.items.length === 0) break;
  }
  store.habits = new Map(all.map((habit) => [habit.id, habit]));
  store.habitsLoaded = true;
  emit('habits');
}

export function upsertHabit(habit) {
  const known = store.habits.get(habit.id);
  if (known && known.updated_at > habit.updated_at) return; // an older copy arrived late
  store.habits.set(habit.id, habit);
  // The moment a course ends: the copy we had was still running, this one is finished.
  if (known && known.program && !known.program.finished && habit.program && habit.program.finished) {
    emit('finished', habit);
  }
  for (const instance of store.today.values()) {
    if (instance.habit_id === habit.id) {
      instance.action = habit.action;
      instance.place = habit.place;
    }
  }
  emit('habits');
}

export function removeHabit(id) {
  store.habits.delete(id);
  store.stats.delete(id);
  for (const instance of [...store.today.values()]) {
    if (instance.habit_id === id) store.today.delete(instance.id);
  }
  emit('habits');
  emit('today');
}

export function habitsSorted() {
  return [...store.habits.values()].sort(
    (a, b) =>
      Number(b.is_active) - Number(a.is_active) ||
      a.time_of_day.localeCompare(b.time_of_day) ||
      a.id - b.id,
  );
}

export function setStats(habitId, stats) {
  store.stats.set(habitId, stats);
  emit('stats', { habit_id: habitId, stats });
}

// --- pauses ---------------------------------------------------------------------------------

/** Pauses not ended yet (under way or to come), soonest first. */
export function pausesSorted() {
  return [...store.pauses.values()].sort(
    (a, b) => a.start_date.localeCompare(b.start_date) || a.id - b.id,
  );
}

function pauseToday() {
  return store.todayDate || localDate(timeZone());
}

export async function loadPauses() {
  const pauses = await api('GET', '/pauses/');
  store.pauses = new Map(pauses.map((pause) => [pause.id, pause]));
  store.pausesLoaded = true;
  emit('pauses');
}

/** A created or changed pause; one ended before today has left the list. */
export function upsertPause(pause) {
  if (pause.end_date < pauseToday()) store.pauses.delete(pause.id);
  else store.pauses.set(pause.id, pause);
  emit('pauses');
}

export function removePause(id) {
  store.pauses.delete(id);
  emit('pauses');
}

/** The pause that keeps this instance skipped, if we know of one. */
export function pauseCovering(instance) {
  return pausesSorted().find(
    (pause) =>
      pause.start_date <= instance.date &&
      instance.date <= pause.end_date &&
      (pause.habit_id === null || pause.habit_id === instance.habit_id),
  ) || null;
}

setInterval(() => {
  if (!store.me) return;
  if (store.todayLoaded && localDate(timeZone()) !== store.todayDate) {
    loadToday().catch(() => {});
  }
  emit('tick');
}, 30_000);
