// The transcript as one widget, and the tools for a passage of it.
//
// One tab stop: Tab reaches one sentence (the one being read, while the
// reader is elsewhere; else the last one they were on) and the next Tab
// leaves the transcript. Inside it, ↑ and ↓ move sentence by sentence, Home
// and End to the first and last; → and ← step through the sentence's own
// links (for a segment's first sentence, the segment's time and note badge
// first, then its names and source markers) and back to the sentence, as
// Escape does. Enter and Space on a sentence are the player's
// (static/js/player.js).
//
// Passage tools: a small toolbar ("Copy link to this moment", the notes'
// control) under the sentence reached by keyboard or clicked, or under words
// selected in the transcript. It sits outside the text, can't be selected and
// is placed over the page, so it never reflows a line or ends up in a copied
// passage. It says which passage it is for in data-first and data-last
// (sentence positions), for the scripts whose buttons it holds.
(() => {
  "use strict";

  const transcript = document.getElementById("transcript");
  const sentences = transcript ? Array.from(transcript.querySelectorAll(".sentence")) : [];
  if (!sentences.length) return;
  const tools = document.getElementById("passage-tools");
  const LINKS = "a[href], button";

  // ---- one tab stop ----------------------------------------------------------
  for (const link of transcript.querySelectorAll(LINKS)) link.tabIndex = -1;
  for (const sentence of sentences) sentence.tabIndex = -1;
  let stop = transcript.querySelector('.sentence[aria-current="true"]') || sentences[0];
  stop.tabIndex = 0;

  function rove(sentence) {
    if (sentence === stop) return;
    stop.tabIndex = -1;
    sentence.tabIndex = 0;
    stop = sentence;
  }

  // While the reader is elsewhere on the page, Tab brings them to the sentence being read.
  transcript.addEventListener("reading", (event) => {
    if (!transcript.contains(document.activeElement)) rove(event.detail);
  });

  const firstOfSegment = (segment) => segment.querySelector(".sentence");

  function sentenceOf(element) {
    const sentence = element.closest(".sentence");
    if (sentence) return sentence;
    const segment = element.closest(".segment");
    return segment ? firstOfSegment(segment) : null;
  }

  function itemsOf(sentence) {
    const items = Array.from(sentence.querySelectorAll(LINKS));
    const segment = sentence.closest(".segment");
    if (segment && firstOfSegment(segment) === sentence) items.unshift(...segment.querySelectorAll(":scope > a[href]"));
    return items;
  }

  function moveTo(element) {
    element.focus({ preventScroll: true });
    // "nearest" honours the sentence's scroll margins: never under the player at the foot.
    element.scrollIntoView({ block: "nearest", behavior: "instant" });
  }

  transcript.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.shiftKey) return;
    const target = event.target;
    const sentence = sentenceOf(target);
    if (!sentence) return;
    const onSentence = target === sentence;
    const index = sentences.indexOf(sentence);
    let next = null;
    if (event.key === "ArrowDown") next = sentences[index + 1];
    else if (event.key === "ArrowUp") next = sentences[index - 1];
    else if (event.key === "Home") next = sentences[0];
    else if (event.key === "End") next = sentences.at(-1);
    else if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
      const items = itemsOf(sentence);
      const at = onSentence ? -1 : items.indexOf(target);
      next = event.key === "ArrowRight" ? items[at + 1] : at > 0 ? items[at - 1] : sentence;
      event.preventDefault(); // the page never scrolls sideways
    } else if (event.key === "Escape" && !onSentence) next = sentence;
    else if (event.key === "Escape") hide();
    if (!next || next === target) return;
    event.preventDefault();
    moveTo(next);
    if (next.matches(".sentence")) showFor(next);
  });

  // ---- the passage tools -----------------------------------------------------
  if (!tools) return;
  transcript.after(tools); // next in the tab order after the transcript's own stop
  const copyMoment = tools.querySelector('[data-passage-action="copy-moment"]');
  let chosenBy = null; // "sentence" or "selection"
  let lastKeyAt = -Infinity;

  function place(rects) {
    tools.hidden = false;
    const gap = 6;
    const first = rects[0];
    const last = rects[rects.length - 1];
    const width = tools.offsetWidth;
    const height = tools.offsetHeight;
    const dock = document.getElementById("player")?.offsetHeight || 0;
    // Under the passage's last line, from where that line of it starts.
    const left = Math.min(Math.max(gap, last.left), document.documentElement.clientWidth - width - gap);
    let top = last.bottom + gap;
    if (top + height > window.innerHeight - dock && first.top - gap - height > 0) top = first.top - gap - height;
    tools.style.left = `${window.scrollX + left}px`;
    tools.style.top = `${window.scrollY + top}px`;
  }

  function show(first, last, rects, kind) {
    if (!rects.length) return;
    tools.dataset.first = first.dataset.position;
    tools.dataset.last = last.dataset.position;
    if (copyMoment) copyMoment.hidden = !first.dataset.start;
    if (!tools.querySelector("a[href], button:not([hidden])")) return;
    chosenBy = kind;
    place(rects);
  }

  function showFor(sentence) {
    show(sentence, sentence, sentence.getClientRects(), "sentence");
  }

  function hide() {
    chosenBy = null;
    tools.hidden = true;
  }

  function selectedRange() {
    const selection = window.getSelection();
    if (!selection.rangeCount || selection.isCollapsed) return null;
    const range = selection.getRangeAt(0);
    return transcript.contains(range.commonAncestorContainer) ? range : null;
  }

  function followSelection() {
    const range = selectedRange();
    if (range) {
      const touched = sentences.filter((sentence) => range.intersectsNode(sentence));
      if (touched.length) show(touched[0], touched.at(-1), range.getClientRects(), "selection");
    } else if (chosenBy === "selection") {
      hide();
    }
  }

  let selectionTimer = 0;
  document.addEventListener("selectionchange", () => {
    clearTimeout(selectionTimer);
    selectionTimer = setTimeout(followSelection, 120);
  });

  // A sentence reached by keyboard (Tab into the transcript), or clicked, gets the tools; hovering does nothing.
  document.addEventListener("keydown", (event) => { lastKeyAt = event.timeStamp; }, true);
  transcript.addEventListener("focusin", (event) => {
    const sentence = event.target.closest?.(".sentence");
    if (sentence) rove(sentence);
    if (event.target === sentence && event.timeStamp - lastKeyAt < 1000) showFor(sentence);
    else if (event.target !== sentence && chosenBy === "sentence") hide(); // on a name or a source: its own preview
  });
  transcript.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.target.closest("a, button")) return;
    const sentence = event.target.closest(".sentence");
    if (sentence && window.getSelection().isCollapsed) showFor(sentence);
  });
  document.addEventListener("focusout", (event) => {
    const to = event.relatedTarget;
    if (chosenBy === "sentence" && !(to && (transcript.contains(to) || tools.contains(to)))) hide();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !tools.hidden && tools.contains(event.target)) {
      document.getElementById(`s-${tools.dataset.first}`)?.focus({ preventScroll: true });
      hide(); // after the focus, which would show them again
    }
  });
  // A click on a tool keeps the words selected.
  tools.addEventListener("mousedown", (event) => event.preventDefault());
  window.addEventListener("resize", () => { if (chosenBy) hide(); }, { passive: true });
})();
