import { createClient } from './syncline.js';

const CHANNEL = 'demo:lobby';
const $ = (id) => document.getElementById(id);

function line(cls, who, text, offset) {
  const li = document.createElement('li');
  if (cls) li.className = cls;
  const off = document.createElement('span');
  off.className = 'off';
  off.textContent = offset === undefined ? '' : String(offset);
  const w = document.createElement('span');
  w.className = 'who';
  w.textContent = who;
  const t = document.createElement('span');
  t.textContent = text;
  li.append(off, w, t);
  $('log').append(li);
  $('log').scrollTop = $('log').scrollHeight;
}

async function devToken(name) {
  const res = await fetch('/dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (!res.ok) throw new Error((await res.json()).error?.message ?? res.statusText);
  return (await res.json()).token;
}

async function join(name) {
  const client = createClient({ url: location.origin, getToken: () => devToken(name) });
  client.on('state', ({ state }) => {
    $('state').textContent = state;
    $('dot').className = `dot ${state}`;
    $('send').disabled = state === 'closed';
  });
  $('me').textContent = `· signed in as ${name}`;

  // Show the latest history first, then live publications.
  const sub = client.subscribe(CHANNEL, {
    onPublication: (p) => line('', p.user ?? 'server', p.data?.text ?? JSON.stringify(p.data), p.offset),
    onRecovered: (ok) => {
      if (!ok) line('note', '', 'Some messages were missed while offline and are no longer retained.');
    },
  });
  await sub.ready;
  const pos = sub.position;
  if (pos && pos.offset > 0) {
    const h = await client.history(CHANNEL, { since: Math.max(0, pos.offset - 50), limit: 50 });
    for (const p of h.publications)
      if (p.offset <= pos.offset) line('', p.user ?? 'server', p.data?.text ?? '', p.offset);
  }

  $('send-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = $('text').value.trim();
    if (!text) return;
    $('text').value = '';
    try {
      await client.publish(CHANNEL, { text });
    } catch (err) {
      line('note', '', `Not sent: ${err.message}`);
    }
  });
}

$('signin-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const name = $('name').value.trim();
  if (!name) return;
  $('signin').hidden = true;
  $('room').hidden = false;
  join(name).catch((err) => line('note', '', err.message));
  $('text').focus();
});
