// The web view of oaibatch serve: the batches with progress, one batch's
// detail and its lines (paged, filtered by custom_id), cancel and download. The API key (when the server has keys) is
// asked once and kept in sessionStorage; it is sent as a header, never put
// in a URL.
'use strict';
const KEY = 'oaibatch.key';
const $ = (s) => document.querySelector(s);
const seen = {}; // batch id -> [{t, n}] for the rate
let timer = null;

function key() { return sessionStorage.getItem(KEY) || ''; }

async function api(method, path) {
  const h = {};
  if (key()) h.Authorization = 'Bearer ' + key();
  const r = await fetch('/v1' + path, { method, headers: h });
  if (r.status === 401) { askKey(key() ? 'That key was refused.' : ''); throw new Error('401'); }
  if (!r.ok) throw new Error(method + ' ' + path + ': HTTP ' + r.status);
  return r;
}

function askKey(msg) {
  $('#keyform').hidden = false;
  $('#list').hidden = true;
  $('#detail').hidden = true;
  $('#linesec').hidden = true;
  $('#keyerr').textContent = msg || '';
  if (timer) { clearTimeout(timer); timer = null; }
}

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v; else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
}

function counts(b) {
  const c = b.request_counts || {};
  return { total: c.total || 0, done: c.completed || 0, failed: c.failed || 0 };
}

function progress(b) {
  const c = counts(b);
  const pct = c.total ? Math.floor(100 * (c.done + c.failed) / c.total) : (b.status === 'completed' ? 100 : 0);
  const bar = el('span', { class: 'bar' }, el('span', { style: 'width:' + pct + '%' }));
  return el('span', {}, bar, el('span', { class: 'pct', 'data-pct': pct }, pct + '%'));
}

function rate(b) {
  const c = counts(b), n = c.done + c.failed, now = Date.now() / 1000;
  const h = (seen[b.id] = seen[b.id] || []);
  h.push({ t: now, n });
  while (h.length > 30) h.shift();
  if (!['in_progress', 'finalizing'].includes(b.status) || h.length < 2) return '';
  const dt = h[h.length - 1].t - h[0].t, dn = h[h.length - 1].n - h[0].n;
  if (dt <= 0 || dn <= 0) return '';
  const r = dn / dt, left = c.total - n;
  return r.toFixed(1) + ' lines/s, ETA ' + Math.ceil(left / r) + ' s';
}

const ACTIVE = ['validating', 'in_progress', 'finalizing', 'cancelling'];

async function cancel(id) {
  try { await api('POST', '/batches/' + encodeURIComponent(id) + '/cancel'); } catch (e) { $('#state').textContent = e.message; }
  refresh();
}

async function download(fileId, name) {
  const r = await api('GET', '/files/' + encodeURIComponent(fileId) + '/content');
  const url = URL.createObjectURL(await r.blob());
  const a = el('a', { href: url, download: name });
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

async function showList() {
  const r = await api('GET', '/batches?limit=100');
  const list = (await r.json()).data || [];
  const tb = $('#batches tbody');
  tb.replaceChildren(...list.map((b) => {
    const c = counts(b);
    const tr = el('tr', { 'data-id': b.id, 'data-status': b.status },
      el('td', { class: 'id' }, el('a', { href: '#' + b.id }, b.id)),
      el('td', {}, el('span', { class: 'status ' + b.status }, b.status)),
      el('td', {}, progress(b)),
      el('td', {}, c.done + ' / ' + c.failed + ' / ' + c.total),
      el('td', {}, rate(b)),
      el('td', {}, new Date(b.created_at * 1000).toLocaleString()),
      el('td', {}, ['validating', 'in_progress'].includes(b.status)
        ? el('button', { class: 'cancel', onclick: () => cancel(b.id) }, 'Cancel') : ''));
    return tr;
  }));
  $('#empty').hidden = list.length > 0;
  $('#list').hidden = false;
  $('#detail').hidden = true;
  $('#linesec').hidden = true;
  return list.some((b) => ACTIVE.includes(b.status));
}

async function showDetail(id) {
  const r = await api('GET', '/batches/' + encodeURIComponent(id));
  const b = await r.json();
  const c = counts(b);
  const d = $('#detail');
  const dl = el('dl', {});
  const row = (k, v) => dl.append(el('dt', {}, k), el('dd', {}, v));
  row('id', b.id);
  row('status', el('span', { class: 'status ' + b.status }, b.status));
  row('progress', progress(b));
  row('lines', c.done + ' done, ' + c.failed + ' failed, ' + c.total + ' in all');
  row('rate', rate(b) || '-');
  row('endpoint', b.endpoint || '');
  row('model', b.model || '');
  row('input file', b.input_file_id || '');
  for (const [k, name] of [['output_file_id', 'output.jsonl'], ['error_file_id', 'errors.jsonl']])
    if (b[k]) row(k.replace(/_/g, ' '), el('button', { onclick: () => download(b[k], b.id + '-' + name) }, 'Download ' + name));
  if (b.usage) row('tokens', b.usage.input_tokens + ' in, ' + b.usage.output_tokens + ' out');
  const kids = [el('p', {}, el('a', { href: '#' }, '< all batches')), dl];
  if (['validating', 'in_progress'].includes(b.status))
    kids.push(el('button', { class: 'cancel', onclick: () => cancel(b.id) }, 'Cancel this batch'));
  if (b.metadata) kids.push(el('h3', {}, 'metadata'), el('pre', {}, JSON.stringify(b.metadata, null, 2)));
  if (b.errors) kids.push(el('h3', {}, 'errors'), el('pre', {}, JSON.stringify(b.errors, null, 2)));
  d.replaceChildren(...kids);
  d.hidden = false;
  $('#list').hidden = true;
  await showLines(b.id);
  return ACTIVE.includes(b.status);
}

// One page of a batch's lines (GET /v1/batches/{id}/lines, the server's
// extension). The page's cursors are kept so Previous can go back; the
// filter and the page stay while the detail refreshes.
const lines = { id: null, q: '', pages: [null], next: null };

async function showLines(id) {
  if (lines.id !== id) {
    Object.assign(lines, { id, q: '', pages: [null], next: null });
    $('#linesq').value = '';
  }
  const qs = new URLSearchParams({ limit: '50' });
  const after = lines.pages[lines.pages.length - 1];
  if (after) qs.set('after', after);
  if (lines.q) qs.set('custom_id', lines.q);
  const r = await api('GET', '/batches/' + encodeURIComponent(id) + '/lines?' + qs);
  const p = await r.json();
  $('#lines tbody').replaceChildren(...p.data.map((x) => el('tr', { 'data-cid': x.custom_id, 'data-state': x.state },
    el('td', { class: 'id' }, x.custom_id),
    el('td', {}, el('span', { class: 'status ' + x.state }, x.state)),
    el('td', {}, x.status_code === null ? '' : x.status_code),
    el('td', {}, x.error_code === null ? '' : x.error_code))));
  lines.next = p.has_more ? p.last_id : null;
  $('#linesnext').disabled = !lines.next;
  $('#linesprev').disabled = lines.pages.length < 2;
  $('#linesinfo').textContent = 'page ' + lines.pages.length + ', ' + p.data.length + ' lines' +
    (lines.q ? ' with "' + lines.q + '" in the custom_id' : '');
  $('#linesec').hidden = false;
}

async function refresh() {
  if (timer) { clearTimeout(timer); timer = null; }
  let busy = false;
  try {
    const id = location.hash.slice(1);
    busy = id ? await showDetail(id) : await showList();
    $('#keyform').hidden = true;
    $('#forget').hidden = !key();
    $('#state').textContent = 'updated ' + new Date().toLocaleTimeString();
  } catch (e) {
    if (e.message === '401') return;
    $('#state').textContent = e.message;
  }
  timer = setTimeout(refresh, busy ? 1000 : 3000);
}

$('#keyform').addEventListener('submit', (ev) => {
  ev.preventDefault();
  sessionStorage.setItem(KEY, $('#key').value.trim());
  $('#key').value = '';
  refresh();
});
$('#linesform').addEventListener('submit', (ev) => {
  ev.preventDefault();
  Object.assign(lines, { q: $('#linesq').value.trim(), pages: [null], next: null });
  refresh();
});
$('#linesnext').addEventListener('click', () => { if (lines.next) { lines.pages.push(lines.next); refresh(); } });
$('#linesprev').addEventListener('click', () => { if (lines.pages.length > 1) { lines.pages.pop(); refresh(); } });
$('#forget').addEventListener('click', () => { sessionStorage.removeItem(KEY); askKey(''); });
window.addEventListener('hashchange', refresh);
refresh();
