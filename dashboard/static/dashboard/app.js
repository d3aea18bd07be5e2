// The dashboard's entry point: session, live socket, and a hash router between the screens.

import { logout, onSession, signedIn, api } from './api.js';
import { h, replace, toast } from './dom.js';
import { Live } from './live.js';
import {
  emit, loadHabits, loadPauses, on, removeHabit, removePause, reloadTodaySoon, reset, setMe,
  setStats, setToday, store, upsertHabit, upsertInstance, upsertPause,
} from './state.js';
import * as auth from './views/auth.js';
import * as habit from './views/habit.js';
import * as habits from './views/habits.js';
import * as profile from './views/profile.js';
import * as publicFeed from './views/public.js';
import * as today from './views/today.js';

const ROUTES = [
  [/^\/today$/, 'today', today, true],
  [/^\/habits$/, 'habits', habits, true],
  [/^\/habits\/(?<id>\d+)$/, 'habits', habit, true],
  [/^\/public$/, 'public', publicFeed, false],
  [/^\/profile$/, 'profile', profile, true],
  [/^\/(?<mode>login|signup)$/, 'auth', auth, false],
];
const TITLES = { today: 'Today', habits: 'Habits', public: 'Public habits', profile: 'Profile', auth: 'Welcome' };

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const sessionBox = document.getElementById('session');
const liveBadge = document.getElementById('live');
const loginLink = document.getElementById('login-link');
const live = new Live();
let unmount = () => {};
let started = false;
let notice = null; // shown once on the login screen

// --- live events -> state --------------------------------------------------------------------

const LIVE_STATES = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

live.addEventListener('state', ({ detail }) => {
  liveBadge.dataset.state = detail.state;
  liveBadge.querySelector('.live-text').textContent = LIVE_STATES[detail.state] || detail.state;
  liveBadge.title = detail.state === 'live'
    ? 'Changes from other tabs, the Telegram bot and the scheduler appear here as they happen.'
    : detail.retryIn ? `Trying again in ${Math.ceil(detail.retryIn / 1000)} s` : '';
});

// The snapshot that follows `hello` is the connection's; any later one follows a move to
// another timezone, made in another tab or by another door, whose zone comes with `me`.
let snapshotAfterHello = false;

function applyLaterSnapshot(instances) {
  api('GET', '/auth/me/').then(
    (me) => { setMe(me); setToday(instances); },
    () => setToday(instances),
  );
}

const handlers = {
  hello: () => {
    snapshotAfterHello = true;
    emit('resync');
    loadPauses().catch(() => {});
  },
  'today.snapshot': (instances) => {
    if (snapshotAfterHello) {
      snapshotAfterHello = false;
      setToday(instances);
    } else {
      applyLaterSnapshot(instances);
    }
  },
  'instance.created': upsertInstance,
  'instance.updated': upsertInstance,
  'habit.created': (data) => { upsertHabit(data); reloadTodaySoon(); },
  'habit.updated': (data) => { upsertHabit(data); reloadTodaySoon(); },
  'habit.deleted': (data) => removeHabit(data.id),
  'stats.updated': (data) => setStats(data.habit_id, data.stats),
  'pause.created': upsertPause,
  'pause.updated': upsertPause,
  'pause.deleted': (data) => removePause(data.id),
  'telegram.bound': (data) => {
    emit('telegram', { bound: true, data });
    toast('Telegram connected');
  },
  'telegram.unbound': (data) => emit('telegram', { bound: false, data }),
  'import.progress': (data) => emit('import', { progress: data }),
  'import.finished': (data) => {
    emit('import', { finished: data });
    // No frame came for each imported row: read everything again.
    if (data.status === 'finished') {
      loadHabits().catch(() => {});
      loadPauses().catch(() => {});
      reloadTodaySoon();
      emit('resync');
    }
  },
  'webhook.disabled': (data) => {
    emit('webhook.disabled', data);
    toast(`Webhook switched off: ${data.url}. ${data.reason}`, 'error');
  },
};
for (const [type, handler] of Object.entries(handlers)) {
  live.addEventListener(type, (event) => handler(event.detail));
}

on('finished', (habit) => {
  toast(`“${habit.action}” is finished: ${habit.program.done} of ${habit.program.limit} done`);
});

// --- session ---------------------------------------------------------------------------------

/** Load the user and their habits, then go live. False when that failed. */
async function startSession() {
  if (started) return true;
  started = true;
  try {
    setMe(await api('GET', '/auth/me/'));
    await loadHabits();
  } catch (error) {
    started = false;
    reset();
    if (error.status !== 401) unreachable(error);
    return false;
  }
  live.start();
  nav.hidden = false;
  sessionBox.hidden = false;
  return true;
}

/** The server did not answer at start-up: say so, and offer to try again. */
function unreachable(error) {
  unmount();
  unmount = () => {};
  replace(
    main,
    h(
      'section',
      { class: 'page' },
      h(
        'div',
        { class: 'card empty' },
        h('p', {}, error.message),
        h('button', {
          type: 'button',
          class: 'btn btn-primary',
          onclick: async () => {
            if (await startSession()) route();
          },
        }, 'Try again'),
      ),
    ),
  );
}

function endSession() {
  started = false;
  live.stop();
  reset();
  nav.hidden = true;
  sessionBox.hidden = true;
}

onSession(async (reason) => {
  if (reason === 'renewed') {
    live.renew();
  } else if (reason === 'signed-in') {
    if (!(await startSession())) return;
    const wanted = sessionStorage.getItem('aht.after-login');
    sessionStorage.removeItem('aht.after-login');
    go(wanted || '#/today');
  } else if (reason === 'signed-out' || reason === 'expired') {
    endSession();
    notice = reason === 'expired' ? 'Your session has ended. Please log in again.' : null;
    go('#/login');
  }
});

document.getElementById('logout').addEventListener('click', () => logout());

// --- routing ---------------------------------------------------------------------------------

function route() {
  const path = location.hash.replace(/^#/, '') || '/today';
  const found = ROUTES.map(([pattern, name, view, needsAuth]) => [path.match(pattern), name, view, needsAuth])
    .find(([match]) => match);
  if (!found) {
    location.hash = signedIn() ? '#/today' : '#/login';
    return;
  }
  const [match, name, view, needsAuth] = found;
  if (needsAuth && !signedIn()) {
    sessionStorage.setItem('aht.after-login', `#${path}`);
    location.hash = '#/login';
    return;
  }
  loginLink.hidden = signedIn() || name === 'auth';
  if (name === 'auth' && signedIn()) {
    location.hash = '#/today';
    return;
  }
  if (needsAuth && !store.me) {
    replace(main, h('p', { class: 'muted page' }, 'Loading…'));
    return; // startSession() routes again once the user is known
  }
  for (const link of nav.querySelectorAll('a')) {
    if (link.dataset.route === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${TITLES[name]} · Atomic Habits`;
  unmount();
  const params = { ...(match.groups || {}), notice };
  notice = null;
  unmount = view.mount(main, params) || (() => {});
  window.scrollTo(0, 0);
}

/** Show `hash`: a new hash routes through `hashchange`, the same one routes again here. */
function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

window.addEventListener('hashchange', route);

(async () => {
  if (signedIn()) {
    route(); // "Loading…" until the user is known
    // Failed: the page says the server is unreachable, or the login screen is up.
    if (!(await startSession())) return;
  }
  route();
})();
