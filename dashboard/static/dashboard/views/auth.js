// Log in and sign up.

import { login, register } from '../api.js';
import { h, replace } from '../dom.js';
import { browserTimeZone, timeZones } from '../format.js';
import { busy, field, formError, showErrors } from '../forms.js';

export function mount(root, { mode, notice }) {
  const signingUp = mode === 'signup';
  const email = h('input', { type: 'email', autocomplete: 'email', required: true });
  const password = h('input', {
    type: 'password',
    autocomplete: signingUp ? 'new-password' : 'current-password',
    required: true,
  });
  const zone = timeZoneSelect(browserTimeZone());

  const form = h(
    'form',
    { class: 'stack', novalidate: true },
    formError(),
    field('email', 'Email', email),
    field('password', 'Password', password, {
      hint: signingUp ? 'At least 8 characters; not a common or all-digit password.' : null,
    }),
    signingUp
      ? field('timezone', 'Time zone', zone, {
        hint: 'Your habits happen at local times in this zone. You can change it later.',
      })
      : null,
    h('button', { type: 'submit', class: 'btn btn-primary btn-wide' }, signingUp ? 'Create account' : 'Log in'),
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    await busy(form, async () => {
      try {
        if (signingUp) await register(email.value.trim(), password.value, zone.value);
        else await login(email.value.trim(), password.value);
      } catch (error) {
        if (!signingUp && error.status === 401) error.message = 'Wrong email or password.';
        if (error.status === 429) {
          const wait = error.retryAfter ? ` Try again in ${Math.ceil(error.retryAfter / 60)} min.` : '';
          error.message = `Too many attempts.${wait}`;
        }
        showErrors(form, error);
      }
    }, signingUp ? 'Creating account…' : 'Logging in…');
  });

  replace(
    root,
    h(
      'section',
      { class: 'auth' },
      h(
        'div',
        { class: 'auth-intro' },
        h('h1', {}, 'Small habits, tracked live.'),
        h('p', { class: 'lead' }, 'Plan what you will do, where and when. Tick it off here or in Telegram, and watch your streaks grow.'),
        h('p', { class: 'muted' }, 'Curious what others practise? ', h('a', { href: '#/public' }, 'Browse public habits'), '.'),
      ),
      h(
        'div',
        { class: 'card auth-card' },
        h(
          'div',
          { class: 'tabs', role: 'tablist' },
          h('a', { href: '#/login', role: 'tab', 'aria-selected': String(!signingUp), class: signingUp ? '' : 'active' }, 'Log in'),
          h('a', { href: '#/signup', role: 'tab', 'aria-selected': String(signingUp), class: signingUp ? 'active' : '' }, 'Sign up'),
        ),
        notice ? h('p', { class: 'notice', role: 'status' }, notice) : null,
        form,
      ),
    ),
  );
  email.focus();
  return () => {};
}

export function timeZoneSelect(selected) {
  const zones = timeZones();
  if (!zones.includes(selected)) zones.unshift(selected);
  const select = h('select', {});
  for (const zone of zones) {
    select.append(h('option', { value: zone, selected: zone === selected }, zone.replace(/_/g, ' ')));
  }
  select.value = selected;
  return select;
}
