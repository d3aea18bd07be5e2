// Charts as plain SVG: a donut by status and a stacked bar per weekday.

import { STATUS } from './format.js';

const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) el.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const STATUS_ORDER = ['completed', 'completed_late', 'missed', 'fix_expired', 'skipped', 'pending', 'scheduled'];

/**
 * A donut of instance counts by status, with its legend.
 * Each arc is a circle of circumference 100 drawn with a dash as long as its share.
 */
export function statusPie(counts) {
  const total = STATUS_ORDER.reduce((sum, key) => sum + (counts[key] || 0), 0);
  const done = (counts.completed || 0) + (counts.completed_late || 0);
  const radius = 100 / (2 * Math.PI);
  const svg = s('svg', {
    viewBox: '0 0 42 42',
    class: 'pie',
    role: 'img',
    'aria-label': total
      ? STATUS_ORDER.filter((k) => counts[k]).map((k) => `${STATUS[k].label}: ${counts[k]}`).join(', ')
      : 'No instances yet',
  });
  svg.append(s('circle', { cx: 21, cy: 21, r: radius, class: 'pie-track' }));
  let offset = 0;
  for (const key of STATUS_ORDER) {
    const count = counts[key] || 0;
    if (!count) continue;
    const share = (count / total) * 100;
    svg.append(
      s(
        'circle',
        {
          cx: 21,
          cy: 21,
          r: radius,
          class: `pie-slice tone-${STATUS[key].tone}`,
          'stroke-dasharray': `${share} ${100 - share}`,
          // Start at 12 o'clock and go clockwise.
          'stroke-dashoffset': 25 - offset,
        },
        s('title', {}, `${STATUS[key].label}: ${count}`),
      ),
    );
    offset += share;
  }
  svg.append(
    s('text', { x: 21, y: 20.5, class: 'pie-number', 'text-anchor': 'middle' }, String(done)),
    s('text', { x: 21, y: 26, class: 'pie-caption', 'text-anchor': 'middle' }, 'done'),
  );

  const legend = document.createElement('ul');
  legend.className = 'legend';
  // An answer from before skips has no `skipped` count: leave it out rather than show 0.
  for (const key of STATUS_ORDER.filter((k) => k in counts)) {
    const item = document.createElement('li');
    const swatch = document.createElement('span');
    swatch.className = `swatch tone-${STATUS[key].tone}`;
    const label = document.createElement('span');
    label.textContent = STATUS[key].label;
    const value = document.createElement('strong');
    value.textContent = String(counts[key] || 0);
    item.append(swatch, label, value);
    legend.append(item);
  }
  const wrap = document.createElement('div');
  wrap.className = 'pie-wrap';
  wrap.append(svg, legend);
  return wrap;
}

const WEEKDAY_LABELS = { mon: 'Mon', tue: 'Tue', wed: 'Wed', thu: 'Thu', fri: 'Fri', sat: 'Sat', sun: 'Sun' };

/** Done (bottom) and failed (top) per weekday, Monday first. */
export function weeklyBars(weekly) {
  const width = 320;
  const height = 170;
  const top = 18;
  const bottom = 24;
  const plot = height - top - bottom;
  const highest = Math.max(1, ...weekly.map((d) => d.done + d.failed));
  const slot = width / weekly.length;
  const bar = Math.min(28, slot * 0.55);
  const scale = (n) => (n / highest) * plot;

  const svg = s('svg', {
    viewBox: `0 0 ${width} ${height}`,
    class: 'bars',
    role: 'img',
    'aria-label': weekly.map((d) => `${WEEKDAY_LABELS[d.weekday]}: ${d.done} done, ${d.failed} failed`).join('; '),
  });
  for (const fraction of [0, 0.5, 1]) {
    const y = top + plot - fraction * plot;
    svg.append(s('line', { x1: 0, x2: width, y1: y, y2: y, class: 'grid' }));
  }
  weekly.forEach((day, index) => {
    const x = index * slot + (slot - bar) / 2;
    const doneHeight = scale(day.done);
    const failedHeight = scale(day.failed);
    const base = top + plot;
    const group = s('g', { class: 'bar' }, s('title', {}, `${WEEKDAY_LABELS[day.weekday]}: ${day.done} done, ${day.failed} failed`));
    if (day.done) {
      group.append(s('rect', { x, y: base - doneHeight, width: bar, height: doneHeight, rx: 3, class: 'bar-done' }));
    }
    if (day.failed) {
      group.append(s('rect', {
        x, y: base - doneHeight - failedHeight, width: bar, height: failedHeight, rx: 3, class: 'bar-failed',
      }));
    }
    const total = day.done + day.failed;
    if (total) {
      group.append(s('text', {
        x: x + bar / 2, y: base - doneHeight - failedHeight - 5, 'text-anchor': 'middle', class: 'bar-value',
      }, String(total)));
    }
    group.append(s('text', {
      x: x + bar / 2, y: height - 6, 'text-anchor': 'middle', class: 'bar-label',
    }, WEEKDAY_LABELS[day.weekday]));
    svg.append(group);
  });

  const legend = document.createElement('ul');
  legend.className = 'legend legend-inline';
  for (const [cls, text] of [['bar-done', 'Done'], ['bar-failed', 'Missed or expired']]) {
    const item = document.createElement('li');
    const swatch = document.createElement('span');
    swatch.className = `swatch ${cls}`;
    const label = document.createElement('span');
    label.textContent = text;
    item.append(swatch, label);
    legend.append(item);
  }
  const wrap = document.createElement('div');
  wrap.className = 'bars-wrap';
  wrap.append(svg, legend);
  return wrap;
}

/** A small ring showing `done` of `total`. */
export function progressRing(done, total) {
  const radius = 100 / (2 * Math.PI);
  const share = total ? (done / total) * 100 : 0;
  return s(
    'svg',
    { viewBox: '0 0 42 42', class: 'ring', 'aria-hidden': 'true' },
    s('circle', { cx: 21, cy: 21, r: radius, class: 'ring-track' }),
    // A zero-length dash with round caps would still draw a dot.
    share > 0
      ? s('circle', {
        cx: 21, cy: 21, r: radius, class: 'ring-fill',
        'stroke-dasharray': `${share} ${100 - share}`, 'stroke-dashoffset': 25,
      })
      : null,
  );
}
