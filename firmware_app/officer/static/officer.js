// Officer console: reload when the pending review changes; count down the time left.
// No data is built into the page here: the server renders everything (officer_page in page.py).
(function () {
  'use strict';
  const shown = document.body.dataset.version;
  if (shown === undefined) return;
  const left = document.getElementById('seconds-left');
  async function poll() {
    try {
      const answer = await fetch('/state', {cache: 'no-store', credentials: 'same-origin'});
      if (answer.status === 401) { location.assign('/login'); return; }
      const state = await answer.json();
      if (String(state.version) !== shown) { location.reload(); return; }
      if (left && state.seconds_left !== null) left.textContent = Math.round(state.seconds_left);
    } catch (e) { /* the console keeps polling; a lost link shows in the next answer */ }
    setTimeout(poll, 1000);
  }
  setTimeout(poll, 1000);
})();
