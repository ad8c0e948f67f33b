// The dashboard's only script, inline and allowed by the page's CSP nonce: every `data-every`
// seconds it asks GET /portal/api/dashboard (same origin, the session cookie) and swaps in each
// section whose hash changed, unless the keyboard focus is inside it. Without JavaScript the page
// is complete as rendered; a reload shows the same. When the session has ended (401) it stops and
// says so; when the server does not answer it says so and keeps trying.
export const REFRESH_SCRIPT = `(() => {
  const root = document.querySelector('[data-refresh]');
  if (!root || !window.fetch) return;
  const every = Math.max(5, Number(root.getAttribute('data-every')) || 15) * 1000;
  const asOf = document.getElementById('as-of');
  const note = document.getElementById('live-note');
  const utc = (iso) => iso.slice(0, 10) + ' ' + iso.slice(11, 16) + ' UTC';
  const headings = { live: 'live status', sla: 'figures', incidents: 'incidents', runs: 'runs', credits: 'credits' };
  async function tick() {
    try {
      const res = await fetch(root.getAttribute('data-refresh'), {
        credentials: 'same-origin', headers: { accept: 'application/json' }, cache: 'no-store',
      });
      if (res.status === 401) {
        note.textContent = 'Your session has ended: figures are no longer updated. ';
        const a = document.createElement('a');
        a.href = '/portal/login';
        a.textContent = 'Sign in again';
        note.appendChild(a);
        return;
      }
      if (!res.ok) throw new Error('status ' + res.status);
      const body = await res.json();
      const changed = [];
      for (const [id, part] of Object.entries(body.sections)) {
        const el = document.querySelector('[data-section="' + id + '"]');
        if (!el || el.getAttribute('data-hash') === part.hash) continue;
        if (el.contains(document.activeElement)) continue;
        el.innerHTML = part.html;
        el.setAttribute('data-hash', part.hash);
        changed.push(headings[id] || id);
      }
      asOf.textContent = utc(body.generatedAt);
      asOf.setAttribute('datetime', body.generatedAt);
      document.body.setAttribute('data-refreshed', body.generatedAt);
      note.textContent = changed.length ? 'Updated: ' + changed.join(', ') + '.' : '';
    } catch (err) {
      note.textContent = 'Live updates are paused: the server did not answer. Retrying.';
    }
    setTimeout(tick, every);
  }
  setTimeout(tick, every);
})();`
