// The service console: lists the services, methods and parameter names the server describes in
// rpc.discover, with a form per method (params as JSON), and shows each call's result or error
// and its latency. It calls through gaw/browser, served by the bridge under /gaw/. The token is
// kept in a variable of this module only (never in storage, cookies or the URL).
import { GawBrowserClient, RemoteError } from '/gaw/browser/index.js';

const apiUrl = new URL('/api', window.location.href).href;
let token = '';
let client = new GawBrowserClient({ url: apiUrl, isRaw: true });

const byId = (id) => document.getElementById(id);
const status = byId('status');

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) node.append(child); // text goes in as text, never as HTML
  return node;
}

function describeError(err) {
  if (err instanceof RemoteError) {
    const data = err.data === undefined ? '' : `\n${JSON.stringify(err.data, null, 2)}`;
    return `error ${err.rpcCode}: ${err.message}${data}`;
  }
  return `${err?.name ?? 'Error'}${err?.code ? ` ${err.code}` : ''}: ${err?.message ?? String(err)}`;
}

function setStatus(text, isError = false) {
  status.textContent = text;
  status.className = isError ? 'error' : '';
}

/** The params skeleton for a method: named params as an object, or [] when it takes none. */
function skeleton(params) {
  const named = params.filter((p) => !p['x-gaw-rest']);
  if (named.length === 0) return '[]';
  return JSON.stringify(Object.fromEntries(named.map((p) => [p.name, null])));
}

function methodForm(method) {
  const params = Array.isArray(method.params) ? method.params : [];
  const names = params.map((p) => `${p.name}${p.required ? '' : '?'}${p['x-gaw-rest'] ? '…' : ''}`);
  const input = element('textarea', { name: 'params', 'aria-label': `params of ${method.name}`, spellcheck: 'false' });
  input.value = skeleton(params);
  const output = element('output', { 'aria-live': 'polite' });
  const latency = element('span', { class: 'latency' });
  const form = element(
    'form',
    { class: 'method', 'data-method': method.name },
    element('h3', {}, method.name),
    element('p', { class: 'params' }, names.length > 0 ? `params: ${names.join(', ')}` : 'no params'),
    input,
    element('button', { type: 'submit' }, 'Call'),
    latency,
    output,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    let params;
    try {
      params = input.value.trim() === '' ? undefined : JSON.parse(input.value);
    } catch (err) {
      output.className = 'error';
      output.textContent = `the params are not JSON: ${err.message}`;
      return;
    }
    output.className = '';
    output.textContent = '…';
    const started = performance.now();
    try {
      const result = await client.call(method.name, params);
      output.className = 'ok';
      output.textContent = JSON.stringify(result, null, 2) ?? 'undefined';
    } catch (err) {
      output.className = 'error';
      output.textContent = describeError(err);
    } finally {
      latency.textContent = `${(performance.now() - started).toFixed(1)} ms`;
    }
  });
  return form;
}

async function load() {
  setStatus('Loading services…');
  const main = byId('services');
  try {
    const doc = await client.call('rpc.discover');
    main.replaceChildren();
    const methods = Array.isArray(doc?.methods) ? doc.methods : [];
    const services = Array.isArray(doc?.['x-gaw-services']) ? doc['x-gaw-services'] : [];
    for (const service of services) {
      const section = element('section', { 'data-service': service.name }, element('h2', {}, service.name));
      for (const method of methods.filter((m) => m.name.startsWith(`${service.name}.`))) section.append(methodForm(method));
      main.append(section);
    }
    setStatus(`${services.length} service${services.length === 1 ? '' : 's'}, ${methods.length} methods`);
  } catch (err) {
    const isAuth = err instanceof RemoteError && err.data?.httpStatus === 401;
    setStatus(isAuth ? 'This server needs its bearer token: enter it above.' : describeError(err), true);
  }
}

byId('connect').addEventListener('submit', (event) => {
  event.preventDefault();
  token = byId('token').value.trim();
  client.close();
  client = new GawBrowserClient({ url: apiUrl, isRaw: true, ...(token !== '' && { token }) });
  load();
});

load();
