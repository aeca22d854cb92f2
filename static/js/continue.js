// "Continue at 12:34" on the home page, from this browser's memory of where
// the listener stopped (static/js/player.js keeps it in localStorage). The
// page is the same for every reader, so it can be cached; only this script
// makes it personal. The link opens the episode at that moment and plays.
(() => {
  "use strict";

  function clock(seconds) {
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = String(seconds % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
  }

  for (const link of document.querySelectorAll("[data-continue]")) {
    let saved = 0;
    try { saved = Math.floor(Number(localStorage.getItem(`companion:position:${link.dataset.continue}`)) || 0); } catch { /* private mode */ }
    if (saved < 10) continue;
    link.href = `${link.pathname}#t=${saved}&play`;
    link.textContent = `Continue at ${clock(saved)}`;
    link.hidden = false;
  }
})();
