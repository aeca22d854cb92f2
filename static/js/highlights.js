// Notes in the transcript, as Hypothesis shows annotations: each visible
// thread's words highlighted in place, a mark beside its first line, and its
// thread in a side panel (a bottom sheet on a phone) that opens without moving
// the listening position. The words are lit with the CSS Custom Highlight API,
// as the current word is (static/js/player.js): the transcript's DOM is never
// changed, so copying, finding and reading aloud see the text as it is.
// Without this file (or the API) the segments' note badges link to the notes.
//
// The threads come from notes:highlights (one small JSON, shared by anonymous
// readers like the page), placed by sentence and character offsets within
// their first and last sentences. #note-<id> opens the page at that note: its
// words lit, its thread open, the player at its moment. The reader's filter
// (all notes, mine, none) is kept in their browser.
(() => {
  "use strict";

  const transcript = document.getElementById("transcript");
  const panel = document.getElementById("note-panel");
  if (!transcript || !panel || !(window.Highlight && CSS.highlights)) return;
  const reading = transcript.closest(".reading") || transcript.parentElement;
  const body = panel.querySelector("[data-note-panel-body]");
  const tools = document.getElementById("passage-tools");
  const here = tools?.querySelector("[data-notes-here]");
  const switcher = document.querySelector("[data-note-filter]");
  const storageKey = "companion:note-filter";

  const lit = new Highlight();
  const chosen = new Highlight();
  lit.priority = -2; // under the current word (priority 0) and the note being read
  chosen.priority = -1;
  CSS.highlights.set("note", lit);
  CSS.highlights.set("note-chosen", chosen);

  const marks = document.createElement("div");
  marks.className = "note-marks";
  reading.append(marks);

  let notes = []; // [{data, range}]
  let filter = "all";
  try { filter = localStorage.getItem(storageKey) || "all"; } catch { /* private mode */ }
  let returnTo = null;

  // ---- placing a thread's words ------------------------------------------------
  const { textMap, locate } = window.CompanionText; // static/js/text-map.js

  const squeeze = (text) => text.replace(/\s+/g, " ").trim();

  function rangeOf(data) {
    const first = document.getElementById(`s-${data.first}`);
    const last = document.getElementById(`s-${data.last}`);
    if (!first || !last) return null;
    const firstMap = textMap(first);
    const lastMap = first === last ? firstMap : textMap(last);
    if (!firstMap.length || !lastMap.length) return null;
    const range = new Range();
    range.setStart(...locate(firstMap, data.start));
    range.setEnd(...locate(lastMap, data.end));
    // A transcript rendered since the notes were placed: light nothing rather than the wrong words.
    const words = squeeze(range.toString());
    return words && squeeze(data.quote).startsWith(words.slice(0, 12)) ? range : null;
  }

  // ---- showing them ------------------------------------------------------------
  const shown = () => notes.filter((note) => filter === "all" || (filter === "mine" && note.data.mine));

  function draw() {
    lit.clear();
    marks.replaceChildren();
    const origin = reading.getBoundingClientRect();
    let previous = null;
    for (const note of shown()) {
      lit.add(note.range);
      const top = note.range.getClientRects()[0]?.top - origin.top;
      if (!Number.isFinite(top)) continue;
      if (previous && Math.abs(previous.top - top) < 4) { // one mark a line
        previous.ids.push(note.data.id);
        label(previous);
        continue;
      }
      const mark = document.createElement("button");
      mark.type = "button";
      mark.className = "note-mark";
      mark.tabIndex = -1; // reached by keyboard through the passage tools' "Notes here"
      mark.style.top = `${top}px`;
      previous = { mark, top, ids: [note.data.id] };
      mark.dataset.notes = String(note.data.id);
      label(previous);
      marks.append(mark);
    }
    transcript.classList.toggle("notes-lit", true);
  }

  function label(group) {
    const n = group.ids.length;
    group.mark.dataset.notes = group.ids.join(" ");
    group.mark.textContent = n > 1 ? String(n) : "";
    group.mark.setAttribute("aria-label", n > 1 ? `${n} notes here` : "Note here");
  }

  let drawFrame = 0;
  const redraw = () => {
    cancelAnimationFrame(drawFrame);
    drawFrame = requestAnimationFrame(draw);
  };
  new ResizeObserver(redraw).observe(transcript);

  // ---- the thread panel --------------------------------------------------------
  function open(ids, { focus = true } = {}) {
    chosen.clear();
    for (const id of ids) {
      const note = notes.find((each) => each.data.id === id);
      if (note) chosen.add(note.range);
    }
    const list = document.createElement("ol");
    list.className = "note-threads";
    body.replaceChildren(list);
    const loads = ids.map((id) => {
      const item = document.createElement("li");
      const slot = document.createElement("div");
      item.append(slot);
      list.append(item);
      // The server's own partial (notes/note.html): replies, edits and flags work in place.
      return window.htmx.ajax("GET", panel.dataset.threadUrl.replace(/\/0\/$/, `/${id}/`), { target: slot, swap: "outerHTML" });
    });
    if (!panel.hidden && !focus) return Promise.all(loads);
    // Back, on closing, to what had focus, or else to the passage (the tools hide once focus leaves them).
    const first = notes.find((each) => each.data.id === ids[0]);
    returnTo = { from: document.activeElement, passage: document.getElementById(`s-${first?.data.first}`) };
    panel.hidden = false;
    document.body.classList.add("note-panel-open");
    if (focus) panel.querySelector("h2").focus({ preventScroll: true });
    return Promise.all(loads).then(() => keepClear(ids[0]));
  }

  // On a phone the sheet covers the lower part of the window: the words move above it.
  function keepClear(id) {
    const rect = notes.find((each) => each.data.id === id)?.range.getClientRects()[0];
    const sheetTop = panel.getBoundingClientRect().top;
    if (rect && rect.bottom > sheetTop - 8) window.scrollBy({ top: rect.top - window.innerHeight * 0.12, behavior: "instant" });
  }

  function close() {
    panel.hidden = true;
    chosen.clear();
    document.body.classList.remove("note-panel-open");
    const back = [returnTo?.from, returnTo?.passage].find(
      (element) => element?.isConnected && element !== document.body && element.checkVisibility(),
    );
    back?.focus({ preventScroll: true });
    returnTo = null;
  }

  // "Listen from 2:43" in the panel plays from there, on this page.
  function listenFrom(moment) {
    const audio = document.getElementById("audio");
    if (!audio) return false;
    const at = () => { audio.currentTime = moment; window.Companion?.sync?.(moment); };
    if (audio.readyState >= 1) at();
    else audio.addEventListener("loadedmetadata", at, { once: true });
    window.Companion?.sync?.(moment);
    return true;
  }

  panel.addEventListener("click", (event) => {
    if (event.target.closest("[data-note-panel-close]")) close();
    const moment = event.target.closest("a.note-moment[data-moment]");
    if (moment && !(event.metaKey || event.ctrlKey || event.shiftKey) && listenFrom(Number(moment.dataset.moment))) {
      event.preventDefault();
      document.getElementById("audio").play().catch(() => {});
    }
  });
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.target.closest("textarea, input, select")) close();
  });

  marks.addEventListener("click", (event) => {
    const mark = event.target.closest(".note-mark");
    if (mark) open(mark.dataset.notes.split(" ").map(Number));
  });

  // A click on lit words opens their thread, and does not seek (player.js seeks on a
  // sentence's click, from the document: this listener runs first and stops it).
  transcript.addEventListener("click", (event) => {
    if (!window.getSelection().isCollapsed || event.target.closest("a, button")) return;
    const caret = document.caretPositionFromPoint?.(event.clientX, event.clientY);
    const node = caret ? caret.offsetNode : document.caretRangeFromPoint?.(event.clientX, event.clientY)?.startContainer;
    const offset = caret ? caret.offset : document.caretRangeFromPoint?.(event.clientX, event.clientY)?.startOffset;
    if (!node) return;
    const hit = shown().filter((note) => {
      try { return note.range.isPointInRange(node, offset) && note.range.toString().length > 0; } catch { return false; }
    });
    if (!hit.length) return;
    event.preventDefault();
    event.stopPropagation();
    open(hit.map((note) => note.data.id));
  }, true);

  // ---- "Notes here" among the passage tools --------------------------------------
  function notesIn(first, last) {
    return shown().filter((note) => note.data.first <= last && note.data.last >= first);
  }

  function updateHere() {
    if (!here) return;
    const found = notesIn(Number(tools.dataset.first), Number(tools.dataset.last));
    here.hidden = !found.length;
    here.textContent = found.length === 1 ? "1 note here" : `${found.length} notes here`;
  }
  if (here) {
    new MutationObserver(updateHere).observe(tools, { attributes: true, attributeFilter: ["data-first", "data-last", "hidden"] });
    here.addEventListener("click", () => {
      const found = notesIn(Number(tools.dataset.first), Number(tools.dataset.last));
      if (found.length) open(found.map((note) => note.data.id));
    });
  }

  // ---- the filter ----------------------------------------------------------------
  function setFilter(value) {
    filter = value;
    try { localStorage.setItem(storageKey, value); } catch { /* private mode */ }
    redraw();
    updateHere();
  }
  if (switcher) {
    switcher.addEventListener("change", (event) => {
      if (event.target.name === "note-filter") setFilter(event.target.value);
    });
  }

  // ---- #note-<id>: the page at that note, its words lit, the player at its moment ----
  function goToNote(id) {
    const note = notes.find((each) => each.data.id === id);
    if (!note) return;
    if (!shown().includes(note)) setFilter("all");
    if (switcher) switcher.querySelector('input[value="all"]').checked = true;
    const first = document.getElementById(`s-${note.data.first}`);
    first?.scrollIntoView({ block: "center", behavior: "instant" });
    if (note.data.moment !== null) listenFrom(note.data.moment);
    open([id], { focus: false });
  }

  // ---- the notes -----------------------------------------------------------------
  // notes.js asks for a fresh copy after the reader posts a note (the "notes-changed" event).
  function load() {
    return fetch(panel.dataset.highlightsUrl, { headers: { Accept: "application/json" }, cache: "no-cache" })
      .then((response) => (response.ok ? response.json() : { notes: [] }))
      .then((data) => {
        notes = data.notes.map((each) => ({ data: each, range: rangeOf(each) })).filter((note) => note.range);
        panel.dataset.notes = String(notes.length); // how many notes this reader's page has (read by the tests)
        if (switcher) {
          switcher.hidden = !notes.length; // nothing to filter on an episode without notes
          const input = switcher.querySelector(`input[value="${filter}"]`) || switcher.querySelector('input[value="all"]');
          filter = input.value;
          input.checked = true;
        }
        draw();
        updateHere();
      })
      .catch(() => {});
  }

  document.addEventListener("notes-changed", load);
  load().then(() => {
    const match = /^#note-(\d+)$/.exec(window.location.hash);
    if (match) goToNote(Number(match[1]));
  });
  window.addEventListener("hashchange", () => {
    const match = /^#note-(\d+)$/.exec(window.location.hash);
    if (match) goToNote(Number(match[1]));
  });
})();
