// Dates and times are shown in the user's profile timezone, not the browser's: a habit at
// 08:00 Berlin time is at 08:00 on every device.

const cache = new Map();

function formatter(timeZone, options) {
  const key = timeZone + JSON.stringify(options);
  if (!cache.has(key)) {
    cache.set(key, new Intl.DateTimeFormat('en-GB', { timeZone, ...options }));
  }
  return cache.get(key);
}

/** Today's date (YYYY-MM-DD) in `timeZone`. */
export function localDate(timeZone, at = new Date()) {
  const parts = formatter(timeZone, { year: 'numeric', month: '2-digit', day: '2-digit' })
    .formatToParts(at);
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** "08:30" for an ISO instant, in `timeZone`. */
export function clock(iso, timeZone) {
  if (!iso) return '';
  return formatter(timeZone, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .format(new Date(iso));
}

// A date of another year says its year ("Sun, 5 Dec 2027"): a token expiring next December
// must not read as this week. The browser's year stands for the current one (around New
// Year, as far apart as the browser's zone and the profile's, up to a day, a date may show
// its year, or not, early or late).
function yearIfOther(y) {
  return y === new Date().getFullYear() ? {} : { year: 'numeric' };
}

/** "Tuesday, 14 May" for a YYYY-MM-DD date ("Friday, 14 May 2027" in another year). */
export function longDate(ymd) {
  const [y, m, d] = ymd.split('-').map(Number);
  return formatter('UTC', { weekday: 'long', day: 'numeric', month: 'long', ...yearIfOther(y) })
    .format(new Date(Date.UTC(y, m - 1, d)));
}

/** "Tue 14 May" for a YYYY-MM-DD date ("Fri, 14 May 2027" in another year). */
export function shortDate(ymd) {
  const [y, m, d] = ymd.split('-').map(Number);
  return formatter('UTC', { weekday: 'short', day: 'numeric', month: 'short', ...yearIfOther(y) })
    .format(new Date(Date.UTC(y, m - 1, d)));
}

/** "in 25 min", "2 h ago". */
export function relative(iso, now = Date.now()) {
  const minutes = Math.round((new Date(iso).getTime() - now) / 60000);
  const abs = Math.abs(minutes);
  let text;
  if (abs < 1) return 'now';
  if (abs < 60) text = `${abs} min`;
  else if (abs < 48 * 60) {
    const hours = Math.floor(abs / 60);
    const rest = abs % 60;
    text = rest ? `${hours} h ${rest} min` : `${hours} h`;
  } else text = `${Math.round(abs / 1440)} days`;
  return minutes > 0 ? `in ${text}` : `${text} ago`;
}

/** 0.9167 -> "92%"; null -> "—". */
export function percent(value) {
  if (value === null || value === undefined) return '—';
  return `${Math.round(value * 100)}%`;
}

export const EVERY = {
  1: 'every day', 2: 'every 2 days', 3: 'every 3 days', 5: 'every 5 days', 7: 'every week',
};

export const STATUS = {
  scheduled: { label: 'Upcoming', tone: 'upcoming' },
  pending: { label: 'Due now', tone: 'due' },
  completed: { label: 'Done', tone: 'done' },
  completed_late: { label: 'Done late', tone: 'late' },
  missed: { label: 'Missed', tone: 'missed' },
  fix_expired: { label: 'Expired', tone: 'expired' },
  skipped: { label: 'Skipped', tone: 'skipped' },
};

/** Why an instance was set aside (SPEC §7), in the order the pickers offer them. */
export const SKIP_REASONS = {
  sick: 'Sick',
  travel: 'Travel',
  rest: 'Rest',
  other: 'Other',
};

/** "Skipped (sick)" for a skipped instance; the plain label for any other. */
export function statusLabel(instance) {
  const status = STATUS[instance.status] || { label: instance.status };
  if (instance.status === 'skipped' && instance.skip_reason) {
    return `${status.label} (${instance.skip_reason})`;
  }
  return status.label;
}

/** A habit's course as words: "12 of 21 done", or null when the answer has no `program`. */
export function programText(program) {
  if (!program || !program.limit) return null;
  return `${program.done} of ${program.limit}`;
}

/** "2 missed · 1 skipped · 6 to come" for a program (the parts that are not zero). */
export function programDetail(program) {
  if (!program) return '';
  if (program.finished) return 'Finished';
  return [
    program.failed ? `${program.failed} missed` : null,
    program.skipped ? `${program.skipped} skipped` : null,
    program.remaining ? `${program.remaining} to come` : null,
  ].filter(Boolean).join(' · ');
}

/** 90 -> "1 h 30 min", 120 -> "2 h", 10 -> "10 min". */
export function minutes(count) {
  const hours = Math.floor(count / 60);
  const rest = count % 60;
  return [hours ? `${hours} h` : null, rest || !hours ? `${rest} min` : null].filter(Boolean).join(' ');
}

/** [-10, 0, 30] -> "Reminders: 10 min before, on time, 30 min after" (earliest first). */
export function remindersText(offsets) {
  if (!offsets || !offsets.length) return '';
  const words = [...offsets].sort((a, b) => a - b).map((offset) => {
    if (offset === 0) return 'on time';
    return `${minutes(Math.abs(offset))} ${offset < 0 ? 'before' : 'after'}`;
  });
  return `${words.length > 1 ? 'Reminders' : 'Reminder'}: ${words.join(', ')}`;
}

/** The cue of a stacked habit: "After Pour coffee, +5 min" ("After Pour coffee" with no delay). */
export function cueText(cueAction, delayMinutes) {
  return delayMinutes ? `After ${cueAction}, +${minutes(delayMinutes)}` : `After ${cueAction}`;
}

export const OPEN = new Set(['scheduled', 'pending', 'missed']);

export function browserTimeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

export function timeZones() {
  try {
    const zones = Intl.supportedValuesOf('timeZone');
    return zones.includes('UTC') ? zones : ['UTC', ...zones];
  } catch {
    return ['UTC'];
  }
}
