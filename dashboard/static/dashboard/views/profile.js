// Profile: time zone, quiet hours, pauses (every habit or one, for a range of days), Telegram connection,
// the calendar feed, exporting and importing your data, personal tokens, webhooks, and ending
// sessions.

import { api, download, logout, logoutEverywhere } from '../api.js';
import { h, replace, toast } from '../dom.js';
import { SKIP_REASONS, clock, localDate, longDate, relative, shortDate } from '../format.js';
import { busy, clearErrors, field, formError, showErrors } from '../forms.js';
import {
  habitsSorted, loadPauses, on, pausesSorted, removePause, setMe, store, timeZone, upsertPause,
} from '../state.js';
import { timeZoneSelect } from './auth.js';
import { tokensSection } from './tokens.js';
import { importSection } from './importing.js';
import { webhookSection } from './webhooks.js';

const UNAVAILABLE = 'Connecting Telegram is not available on this server yet. Please try again later.';

export function mount(root) {
  const me = store.me;
  const zone = timeZoneSelect(me.timezone);
  const zoneForm = h(
    'form',
    { class: 'stack', novalidate: true },
    formError(),
    field('timezone', 'Your habits run on the local time of', zone, {
      hint: 'Habits happen at their local time in this zone; upcoming ones move with it.',
    }),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save time zone')),
  );
  zoneForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    await busy(zoneForm, async () => {
      try {
        setMe(await api('PATCH', '/auth/me/', { timezone: zone.value }));
        toast(`Time zone set to ${zone.value.replace(/_/g, ' ')}`);
      } catch (error) {
        showErrors(zoneForm, error);
      }
    });
  });

  const quiet = quietSection();
  const pauses = pauseSection();
  const calendar = calendarSection();
  const importer = importSection();
  const exports = exportSection();
  const tokens = tokensSection();
  const webhooks = webhookSection();
  let deliveredSoon = null;

  const telegramBody = h('div', { class: 'stack' });
  const telegram = { status: 'loading', name: null, code: null, problem: null, busy: false };

  replace(
    root,
    h(
      'section',
      { class: 'page narrow' },
      h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, 'Profile'), h('p', { class: 'muted' }, me.email))),
      h('section', { class: 'card' }, h('h2', {}, 'Time zone'), zoneForm),
      quiet.element,
      pauses.element,
      h('section', { class: 'card', 'aria-labelledby': 'telegram-title' }, h('h2', { id: 'telegram-title' }, 'Telegram'), telegramBody),
      calendar.element,
      exports,
      importer.element,
      tokens.element,
      webhooks.element,
      h(
        'section',
        { class: 'card stack' },
        h('h2', {}, 'Sessions'),
        h('p', { class: 'muted' }, `Member since ${longDate(localDate(timeZone(), new Date(me.date_joined)))}.`),
        h(
          'div',
          { class: 'form-actions' },
          h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => logout() }, 'Log out'),
          h('button', {
            type: 'button',
            class: 'btn btn-ghost btn-danger-text',
            onclick: async () => {
              try {
                await logoutEverywhere();
              } catch (error) {
                toast(error.message, 'error');
              }
            },
          }, 'Log out everywhere'),
        ),
        h('p', { class: 'hint' }, '“Log out everywhere” ends every login of yours, on every device, at once.'),
      ),
    ),
  );

  function renderTelegram() {
    const parts = [];
    if (telegram.status === 'loading') parts.push(h('p', { class: 'muted' }, 'Checking…'));
    else if (telegram.status === 'bound') {
      parts.push(
        h('p', { class: 'telegram-status' }, h('span', { class: 'badge tone-done' }, 'Connected'),
          telegram.name ? h('span', {}, ` as ${telegram.name}`) : null),
        h('p', { class: 'muted' }, 'Reminders arrive in Telegram, and “Done” there shows up here at once.'),
        h('div', { class: 'form-actions' }, h('button', { type: 'button', class: 'btn btn-ghost btn-danger-text', onclick: unbind }, 'Disconnect Telegram')),
      );
    } else {
      parts.push(
        h('p', { class: 'telegram-status' }, h('span', { class: 'badge tone-paused' }, 'Not connected')),
        h('p', { class: 'muted' }, 'Connect Telegram to get a reminder when a habit is due and tick it off from the chat.'),
      );
      if (telegram.code) parts.push(codeBox(telegram.code));
      parts.push(
        h('div', { class: 'form-actions' }, h('button', {
          type: 'button',
          class: telegram.code ? 'btn btn-ghost' : 'btn btn-primary',
          disabled: telegram.busy,
          onclick: bindCode,
        }, telegram.code ? 'Get a new code' : 'Connect Telegram')),
      );
    }
    if (telegram.problem) parts.push(h('p', { class: 'inline-error', role: 'alert' }, telegram.problem));
    replace(telegramBody, parts);
  }

  function codeBox(code) {
    const expired = new Date(code.expires_at).getTime() <= Date.now();
    const command = `/start ${code.code}`;
    return h(
      'div',
      { class: 'code-box' },
      h('p', {}, code.link ? 'Open the bot and press Start, or send it this message:' : 'Send this message to the bot:'),
      h('p', {}, h('code', { class: 'bind-code' }, command)),
      h(
        'div',
        { class: 'form-actions' },
        code.link ? h('a', { class: 'btn btn-primary', href: code.link, target: '_blank', rel: 'noopener noreferrer' }, 'Open in Telegram') : null,
        h('button', {
          type: 'button',
          class: 'btn btn-ghost',
          onclick: () => navigator.clipboard.writeText(command).then(() => toast('Copied'), () => toast('Copy it by hand, please')),
        }, 'Copy'),
      ),
      h('p', { class: expired ? 'inline-error' : 'muted small' }, expired
        ? 'This code has expired. Get a new one.'
        : `The code works once, until ${clock(code.expires_at, timeZone())} (${relative(code.expires_at)}).`),
    );
  }

  async function loadTelegram() {
    try {
      const status = await api('GET', '/telegram/');
      applyStatus(status);
    } catch (error) {
      if (error.status === 401) return;
      // 404: the server has no Telegram side (yet); keep any state a live event gave us.
      if (telegram.status === 'loading') telegram.status = 'unbound';
      if (error.status !== 404) telegram.problem = error.message;
    }
    renderTelegram();
  }

  function applyStatus(status) {
    const bound = Boolean(status && (status.bound ?? status.is_bound ?? status.connected ?? (status.chat_id || status.telegram_user_id)));
    telegram.status = bound ? 'bound' : 'unbound';
    telegram.name = status ? (status.username ? `@${status.username}` : status.telegram_username || status.name || null) : null;
    if (bound) telegram.code = null;
  }

  async function bindCode() {
    telegram.busy = true;
    telegram.problem = null;
    renderTelegram();
    try {
      telegram.code = await api('POST', '/telegram/bind-code/');
    } catch (error) {
      telegram.code = null;
      if (error.status === 404) telegram.problem = UNAVAILABLE;
      else if (error.status === 429) telegram.problem = 'Too many codes asked for; wait a little and try again.';
      else if (error.status === 409) telegram.problem = error.message;
      else telegram.problem = error.message;
    } finally {
      telegram.busy = false;
      renderTelegram();
    }
  }

  async function unbind() {
    telegram.problem = null;
    try {
      await api('DELETE', '/telegram/');
      telegram.status = 'unbound';
      telegram.name = null;
    } catch (error) {
      telegram.problem = error.status === 404 ? UNAVAILABLE : error.message;
    }
    renderTelegram();
  }

  const offs = [
    on('telegram', ({ bound, data }) => {
      telegram.status = bound ? 'bound' : 'unbound';
      if (bound) {
        telegram.code = null;
        if (data) applyStatus({ bound: true, ...data });
      } else telegram.name = null;
      telegram.problem = null;
      renderTelegram();
      loadTelegram();
    }),
    on('tick', () => { if (telegram.code) renderTelegram(); }),
    on('resync', loadTelegram),
    on('me', quiet.render),
    on('pauses', pauses.render),
    on('habits', () => { pauses.refreshHabits(); pauses.render(); }),
    on('tick', pauses.dayChanged),
    on('import', importer.heard),
    // A change of yours is delivered a moment after it: its delivery shows then.
    on('instance', () => {
      clearTimeout(deliveredSoon);
      deliveredSoon = setTimeout(webhooks.refresh, 1500);
    }),
    on('webhook.disabled', webhooks.refresh),
    on('resync', webhooks.refresh),
  ];
  renderTelegram();
  loadTelegram();
  tokens.load();
  quiet.render();
  pauses.render();
  webhooks.render();
  webhooks.refresh();
  if (!store.pausesLoaded) loadPauses().catch((error) => pauses.fail(error));
  return () => {
    clearTimeout(deliveredSoon);
    offs.forEach((off) => off());
    importer.stop();
  };
}

// --- calendar feed --------------------------------------------------------------------------

/**
 * A secret .ics URL for calendar apps (SPEC §9). The server keeps only a hash of it, so the
 * URL is shown once, when made; a new one ends the one before, "Revoke" ends it.
 */
function calendarSection() {
  const state = { url: null, revoked: false, busy: false, problem: null };
  const body = h('div', { class: 'stack' });

  async function act(work) {
    state.busy = true;
    state.problem = null;
    render();
    try {
      await work();
    } catch (error) {
      if (error.status !== 401) state.problem = error.message;
    } finally {
      state.busy = false;
      render();
    }
  }

  const subscribe = () => act(async () => {
    const { url } = await api('POST', '/calendar/');
    Object.assign(state, { url, revoked: false });
    toast('New calendar URL ready');
  });

  const revoke = () => act(async () => {
    await api('DELETE', '/calendar/');
    Object.assign(state, { url: null, revoked: true });
    toast('Calendar URL revoked');
  });

  function urlBox(url) {
    const input = h('input', {
      type: 'text', readonly: true, value: url, id: 'calendar-url', class: 'calendar-url',
      onfocus: (event) => event.target.select(),
    });
    return h(
      'div',
      { class: 'code-box' },
      h('label', { for: 'calendar-url' }, 'Your calendar URL'),
      input,
      h('div', { class: 'form-actions' }, h('button', {
        type: 'button',
        class: 'btn btn-ghost',
        onclick: () => navigator.clipboard.writeText(url).then(() => toast('Copied'), () => toast('Copy it by hand, please')),
      }, 'Copy URL')),
      h('p', { class: 'muted small' }, 'Shown only now. Anyone with it sees your habits: keep it private. In your calendar app, add a calendar “from URL” and paste it.'),
    );
  }

  function render() {
    const parts = [];
    if (state.url) parts.push(urlBox(state.url));
    else if (state.revoked) parts.push(h('p', { class: 'calendar-state', role: 'status' }, 'Revoked: no calendar URL of yours works any more.'));
    parts.push(h(
      'div',
      { class: 'form-actions' },
      h('button', { type: 'button', class: state.url ? 'btn btn-ghost' : 'btn btn-primary', disabled: state.busy, onclick: subscribe }, state.url ? 'New URL' : 'Subscribe'),
      h('button', { type: 'button', class: 'btn btn-ghost btn-danger-text', disabled: state.busy, onclick: revoke }, 'Revoke'),
    ));
    parts.push(h('p', { class: 'hint' }, '“Subscribe” makes a new URL and ends any made before; “Revoke” ends it.'));
    if (state.problem) parts.push(h('p', { class: 'inline-error', role: 'alert' }, state.problem));
    replace(body, parts);
  }

  render();
  const element = h(
    'section',
    { class: 'card stack', 'aria-labelledby': 'calendar-title' },
    h('h2', { id: 'calendar-title' }, 'Calendar'),
    h('p', { class: 'muted' }, 'See your habits in Google Calendar, Apple Calendar or any calendar app: done ones with a ✓, planned ones at their time, two weeks back and a month ahead.'),
    body,
  );
  return { element };
}

// --- export ---------------------------------------------------------------------------------

const EXPORTS = [
  { format: 'json', label: 'Download JSON', what: 'JSON' },
  { format: 'loop-csv', label: 'Download Loop CSV', what: 'Loop CSV' },
];

/** Two downloads of everything: this app's JSON, and a zip Loop Habit Tracker reads (SPEC §9). */
function exportSection() {
  const problem = h('p', { class: 'inline-error', role: 'alert', hidden: true });
  const buttons = EXPORTS.map(({ format, label, what }) => {
    const button = h('button', { type: 'button', class: 'btn btn-ghost' }, label);
    button.addEventListener('click', async () => {
      buttons.forEach((one) => { one.disabled = true; });
      problem.hidden = true;
      try {
        const filename = await download(`/export/?format=${format}`);
        toast(`${what} export downloaded: ${filename}`);
      } catch (error) {
        if (error.status === 401) return;
        problem.textContent = error.message;
        problem.hidden = false;
      } finally {
        buttons.forEach((one) => { one.disabled = false; });
      }
    });
    return button;
  });
  return h(
    'section',
    { class: 'card stack', 'aria-labelledby': 'export-title' },
    h('h2', { id: 'export-title' }, 'Export'),
    h('p', { class: 'muted' }, 'Everything yours, to keep or take elsewhere: JSON holds every habit, day, note and pause; the Loop CSV zip is Loop Habit Tracker’s export layout, for spreadsheets and the trackers that read it (days, notes and scores only).'),
    h('div', { class: 'form-actions' }, buttons),
    problem,
  );
}

// --- quiet hours ----------------------------------------------------------------------------

/** Quiet hours: reminders due inside them wait in Telegram until they end (SPEC §8). */
function quietSection() {
  const start = h('input', { type: 'time', required: true });
  const end = h('input', { type: 'time', required: true });
  const state = h('p', { class: 'quiet-state', 'aria-live': 'polite' });
  const clear = h('button', { type: 'button', class: 'btn btn-ghost btn-danger-text' }, 'Clear quiet hours');
  const form = h(
    'form',
    { class: 'stack', novalidate: true, 'aria-labelledby': 'quiet-title' },
    formError(),
    state,
    h(
      'div',
      { class: 'grid-2' },
      field('quiet_start', 'Quiet from', start),
      field('quiet_end', 'Quiet until', end, { hint: 'Your local time; the end may be after midnight.' }),
    ),
    // The API names the pair `quiet_hours`; its refusals show here.
    h('p', { class: 'field-error', 'data-error-for': 'quiet_hours', hidden: true }),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save quiet hours'), clear),
  );

  async function save(quietHours, done) {
    await busy(form, async () => {
      clearErrors(form);
      try {
        setMe(await api('PATCH', '/auth/me/', { quiet_hours: quietHours }));
        toast(done);
      } catch (error) {
        showErrors(form, error, { quiet_hours: 'quiet hours' });
      }
    });
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!start.value || !end.value) {
      showErrors(form, { status: 422, fieldErrors: () => ({ quiet_hours: ['Choose when they start and end.'] }) });
      return;
    }
    save({ start: start.value, end: end.value }, `Quiet hours set: ${start.value} – ${end.value}`);
  });
  clear.addEventListener('click', () => save(null, 'Quiet hours cleared'));

  function render() {
    const quiet = store.me && store.me.quiet_hours;
    state.textContent = quiet
      ? `Reminders wait from ${quiet.start} until ${quiet.end}, then come if there is still time.`
      : 'No quiet hours: reminders come when they are due.';
    clear.hidden = !quiet;
    if (quiet && document.activeElement !== start && document.activeElement !== end) {
      start.value = quiet.start;
      end.value = quiet.end;
    }
  }

  const element = h(
    'section',
    { class: 'card stack', 'aria-labelledby': 'quiet-title' },
    h('h2', { id: 'quiet-title' }, 'Quiet hours'),
    h('p', { class: 'muted' }, 'No Telegram reminders in these hours: one due then waits until they end, or is dropped if its time to fix it has passed by then.'),
    form,
  );
  return { element, render };
}

// --- pauses ---------------------------------------------------------------------------------

const PAUSE_WORDS = { start_date: 'the first day', end_date: 'the last day', habit_id: 'the habit' };

/** The pauses under way and to come (kept live by the pause frames), and the form for one. */
function pauseSection() {
  const list = h('ul', { class: 'pause-list', 'aria-label': 'Your pauses' });
  const problems = new Map(); // pause id -> the API's refusal
  const working = new Set(); // pause ids with a request in flight
  let loadProblem = null;

  const today = () => store.todayDate || localDate(timeZone());
  const habit = h('select', {});
  const start = h('input', { type: 'date', required: true });
  const end = h('input', { type: 'date', required: true });
  const reason = h('select', {}, Object.entries(SKIP_REASONS).map(([value, text]) => h('option', { value }, text)));
  reason.value = 'rest';
  start.value = today();
  end.value = today();

  const form = h(
    'form',
    { class: 'stack pause-form', novalidate: true, 'aria-labelledby': 'pause-form-title' },
    h('h3', { id: 'pause-form-title' }, 'New pause'),
    formError(),
    field('habit_id', 'What to pause', habit),
    h(
      'div',
      { class: 'grid-2' },
      field('start_date', 'From', start),
      field('end_date', 'Until', end, { hint: 'Both days included; at most 365 days.' }),
    ),
    field('reason', 'Reason', reason),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Pause')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    await busy(form, async () => {
      clearErrors(form);
      const body = { start_date: start.value, end_date: end.value, reason: reason.value };
      if (habit.value) body.habit_id = Number(habit.value);
      try {
        const pause = await api('POST', '/pauses/', body);
        upsertPause(pause);
        toast(`Paused: ${whatOf(pause)}, ${range(pause)}`);
      } catch (error) {
        showErrors(form, error, PAUSE_WORDS);
      }
    });
  });

  const element = h(
    'section',
    { class: 'card stack', 'aria-labelledby': 'pauses-title' },
    h('h2', { id: 'pauses-title' }, 'Pauses'),
    h('p', { class: 'muted' }, 'Ill, away or resting? Pause every habit, or one, for some days: those days are skipped — no reminders, and your streaks wait for you.'),
    list,
    form,
  );

  function whatOf(pause) {
    if (pause.habit_id === null) return 'Every habit';
    const known = store.habits.get(pause.habit_id);
    return known ? known.action : 'A habit';
  }

  function range(pause) {
    return pause.start_date === pause.end_date
      ? shortDate(pause.start_date)
      : `${shortDate(pause.start_date)} – ${shortDate(pause.end_date)}`;
  }

  function refreshHabits() {
    const chosen = habit.value;
    replace(
      habit,
      h('option', { value: '' }, 'Every habit'),
      habitsSorted().map((one) => h('option', { value: String(one.id) }, one.action)),
    );
    habit.value = store.habits.has(Number(chosen)) ? chosen : '';
  }

  function item(pause) {
    const underWay = pause.start_date <= today();
    const what = whatOf(pause);
    const label = `${what}, ${range(pause)}`;
    const problem = problems.get(pause.id);
    const inFlight = working.has(pause.id);
    return h(
      'li',
      { dataset: { pauseId: pause.id } },
      h(
        'div',
        { class: 'pause-what' },
        h('strong', {}, what),
        h('span', { class: 'muted' }, `${range(pause)} · ${SKIP_REASONS[pause.reason] || pause.reason}`),
      ),
      h('span', { class: `badge ${underWay ? 'tone-skipped' : 'tone-upcoming'}` }, underWay ? 'Under way' : 'To come'),
      underWay
        ? h('button', {
          type: 'button',
          class: 'btn btn-ghost btn-small',
          disabled: inFlight,
          'aria-label': `End now: ${label}`,
          onclick: () => endNow(pause),
        }, 'End now')
        : h('button', {
          type: 'button',
          class: 'btn btn-ghost btn-small btn-danger-text',
          disabled: inFlight,
          'aria-label': `Delete: ${label}`,
          onclick: () => remove(pause),
        }, 'Delete'),
      problem ? h('p', { class: 'inline-error', role: 'alert' }, problem) : null,
    );
  }

  let shownDay = null; // the day "under way" and "to come" were judged on

  /** At midnight a pause to come may be under way, or one under way over. */
  function dayChanged() {
    if (shownDay !== today()) render();
  }

  function render() {
    shownDay = today();
    if (!store.pausesLoaded) {
      replace(list, h('li', { class: loadProblem ? 'inline-error' : 'empty' }, loadProblem || 'Loading pauses…'));
      return;
    }
    const all = pausesSorted().filter((pause) => pause.end_date >= today());
    replace(list, all.length ? all.map(item) : h('li', { class: 'empty' }, 'No pause under way or to come.'));
  }

  async function act(pause, work) {
    working.add(pause.id);
    problems.delete(pause.id);
    render();
    try {
      await work();
    } catch (error) {
      if (error.status === 404) removePause(pause.id);
      else problems.set(pause.id, error.message);
    } finally {
      working.delete(pause.id);
      render();
    }
  }

  function endNow(pause) {
    return act(pause, async () => {
      const ended = await api('POST', `/pauses/${pause.id}/end/`);
      if (ended) upsertPause(ended); // ended before today: it leaves the list
      else removePause(pause.id); // it had not begun: deleted
      toast(`Pause ended: ${whatOf(pause)}`);
    });
  }

  function remove(pause) {
    return act(pause, async () => {
      await api('DELETE', `/pauses/${pause.id}/`);
      removePause(pause.id);
      toast(`Pause deleted: ${whatOf(pause)}`);
    });
  }

  function fail(error) {
    if (error.status === 401) return;
    loadProblem = error.message;
    render();
  }

  refreshHabits();
  return { element, render, dayChanged, refreshHabits, fail };
}
