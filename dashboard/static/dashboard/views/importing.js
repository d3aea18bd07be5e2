// The profile's "Import" card: upload a file (Loop's CSV zip or .db backup, HabitBull's CSV,
// or this app's JSON export), watch the worker's progress (`import.progress` frames), and
// read the result (`import.finished`); the app then reloads the data (app.js).

import { api } from '../api.js';
import { h } from '../dom.js';
import { busy, field, formError, showErrors } from '../forms.js';

const POLL_MS = 2_000; // in case a frame is missed (the socket reconnecting): ask the job

function plural(count, word) {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** "2 habits, 164 days" and what was there already. */
export function resultLine(job) {
  const parts = [`${plural(job.habits_created + job.habits_merged, 'habit')}, ${plural(job.instances_created, 'day')}`];
  if (job.habits_merged) parts.push(`${plural(job.habits_merged, 'habit')} you had took only the days it lacked`);
  if (job.days_existing) parts.push(`${plural(job.days_existing, 'day')} were there already`);
  return `Imported: ${parts.join('; ')}.`;
}

export function importSection() {
  const file = h('input', {
    type: 'file', name: 'file', required: true,
    accept: '.zip,.db,.csv,.json,application/zip,application/json,text/csv',
  });
  const bar = h('progress', { class: 'import-bar', max: 1, value: 0, hidden: true, 'aria-label': 'Import progress' });
  const line = h('p', { class: 'import-result', role: 'status', 'aria-live': 'polite' });
  const button = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Import');
  const form = h(
    'form',
    { class: 'stack', novalidate: true, 'aria-labelledby': 'import-title' },
    formError(),
    field('file', 'File to import', file, {
      hint: 'Loop Habit Tracker: Settings → Export as CSV (.zip) or Export full backup (.db). HabitBull: its CSV export. Or this app’s own JSON export. At most 20 MB.',
    }),
    h('div', { class: 'form-actions' }, button),
    bar,
    line,
  );

  let jobId = null;
  let poll = null;
  // Frames heard while the upload's answer is still on its way: the worker can start (and
  // finish) before the page knows the job's id. Replayed once it does.
  let early = null;

  function stop() {
    clearInterval(poll);
    poll = null;
  }

  function progress({ id, done, total }) {
    if (id !== jobId) return;
    bar.hidden = false;
    bar.max = Math.max(total, 1);
    bar.value = done;
    line.className = 'import-result';
    line.textContent = `Importing… ${done} of ${plural(total, 'day')}`;
  }

  function finished(job) {
    if (job.id !== jobId) return;
    stop();
    jobId = null;
    button.disabled = false;
    if (job.status === 'finished') {
      bar.max = 1;
      bar.value = 1;
      line.className = 'import-result';
      line.textContent = resultLine(job);
    } else {
      bar.hidden = true;
      line.className = 'import-result inline-error';
      line.textContent = `The import failed: ${job.error}`;
    }
  }

  async function check() {
    if (jobId === null) return;
    try {
      const job = await api('GET', `/import/${jobId}/`);
      if (job.status === 'finished' || job.status === 'failed') finished(job);
    } catch {
      // the next poll, or the frame, tells
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!file.files.length) {
      showErrors(form, { status: 422, fieldErrors: () => ({ file: ['Choose a file first.'] }) });
      return;
    }
    await busy(form, async () => {
      const body = new FormData();
      body.append('file', file.files[0]);
      early = [];
      try {
        const job = await api('POST', '/import/', body);
        jobId = job.id;
        bar.hidden = false;
        bar.removeAttribute('value'); // indeterminate until the first frame
        line.className = 'import-result';
        line.textContent = 'Queued…';
        stop();
        poll = setInterval(check, POLL_MS);
        const heardEarly = early;
        early = null;
        heardEarly.forEach(heard);
      } catch (error) {
        early = null;
        showErrors(form, error);
      }
    });
    button.disabled = jobId !== null;
  });

  function heard(frame) {
    if (early !== null) {
      early.push(frame);
      return;
    }
    if (frame.progress) progress(frame.progress);
    if (frame.finished) finished(frame.finished);
  }

  const element = h(
    'section',
    { class: 'card stack', 'aria-labelledby': 'import-title' },
    h('h2', { id: 'import-title' }, 'Import'),
    h('p', { class: 'muted' }, 'Bring your history from another tracker. A habit you have already (same name) gets only the days it lacks; importing a file twice adds nothing.'),
    form,
  );
  return { element, heard, stop };
}
