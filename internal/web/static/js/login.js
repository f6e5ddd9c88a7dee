// The login page.
import { api, setCSRF } from './api.js';
import { el } from './dom.js';

export function showLogin(done, message = '') {
  const main = document.getElementById('main');
  const name = el('input', { name: 'name', id: 'login-name', autocomplete: 'username', required: true });
  const password = el('input', { name: 'password', id: 'login-password', type: 'password', autocomplete: 'current-password', required: true });
  const msg = el('p', { class: 'message', role: 'alert', id: 'login-message' }, message);
  const submit = el('button', { type: 'submit', class: 'primary' }, 'Log in');
  const form = el('form', { 'aria-label': 'Log in' },
    el('label', {}, 'User name', name), el('label', {}, 'Password', password), submit, msg);
  form.onsubmit = async ev => {
    ev.preventDefault();
    submit.disabled = true;
    msg.textContent = '';
    try {
      const who = await api('/login', { method: 'POST', body: { name: name.value, password: password.value } });
      setCSRF(who.csrf_token);
      done(who);
    } catch (err) {
      password.value = '';
      msg.textContent = err.status === 429
        ? `Too many failed logins. Try again in ${err.retryAfter || 60} seconds.`
        : err.status === 401 ? 'Wrong user name or password.' : err.message;
      password.focus();
    } finally {
      submit.disabled = false;
    }
  };
  main.replaceChildren(el('section', { class: 'login' }, el('h2', {}, 'Vigil — log in'), form));
  name.focus();
}
