// Discussion notes, as an enhancement: without this file every note form still
// posts and redirects back. With it: "Annotate" among the passage tools (for
// a selection or a sentence in the transcript), the note <dialog>, live character
// counters, and htmx's error answers shown in #flash. User content never goes
// through innerHTML here: htmx swaps HTML the server rendered and sanitised,
// and this file only sets textContent, attributes and form values.
(() => {
  "use strict";

  // ---- every page with note forms -----------------------------------------
  function count(textarea) {
    const counter = document.getElementById(textarea.dataset.counter);
    if (!counter) return;
    const max = Number(counter.dataset.max);
    const used = textarea.value.replace(/\r\n/g, "\n").length;
    counter.textContent = used > max
      ? `${used} of ${max} characters: ${used - max} too many`
      : `${used} of ${max} characters`;
    counter.classList.toggle("over", used > max);
  }
  const countAll = (root) => root?.querySelectorAll?.("textarea[data-counter]").forEach(count);

  document.addEventListener("input", (event) => {
    if (event.target.matches?.("textarea[data-counter]")) count(event.target);
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    const swapped = event.detail.target.isConnected
      ? event.detail.target
      : document.getElementById(event.detail.target.id);
    if (!swapped) return;
    countAll(swapped);
    if (swapped.id === "compose" && swapped.closest("dialog")) {
      afterCompose(swapped);
    } else if (!document.activeElement || document.activeElement === document.body) {
      // The element that had focus was swapped out: keep the reader in place.
      (swapped.querySelector("[aria-invalid='true']") || swapped).focus?.();
    }
  });

  countAll(document);

  // ---- the episode page: notes on a passage ---------------------------------
  // The "Annotate" button sits among the passage tools (static/js/transcript.js),
  // which show it under a text selection in the transcript or under the sentence
  // reached by keyboard or clicked, and name that passage in data-first/data-last.
  const transcript = document.getElementById("transcript");
  const trigger = document.querySelector("[data-note-trigger]");
  if (!transcript || !trigger || trigger.tagName !== "BUTTON") return; // signed out: a link to log in
  const tools = document.getElementById("passage-tools");
  const dialog = document.getElementById("note-dialog");
  const sentences = [...transcript.querySelectorAll(".sentence")];
  let returnTo = null;

  // A sentence's words as the server stores them: no citation markers, times or badges.
  const IGNORED = ".fnref, .note-badge, .segment-time";
  function plainText(node) {
    const copy = node.cloneNode(true);
    copy.querySelectorAll(IGNORED).forEach((element) => element.remove());
    return copy.textContent;
  }

  // Where each sentence starts in the episode text (sentences joined by single spaces).
  let offsets = null;
  function offsetOf(sentence) {
    if (!offsets) {
      offsets = new Map();
      let at = 0;
      for (const each of sentences) {
        offsets.set(each, at);
        at += plainText(each).length + 1;
      }
    }
    return offsets.get(sentence);
  }

  function fromSelection() {
    const selection = window.getSelection();
    if (!selection.rangeCount || selection.isCollapsed) return null;
    const range = selection.getRangeAt(0);
    if (!transcript.contains(range.commonAncestorContainer)) return null;
    const touched = sentences.filter((sentence) => range.intersectsNode(sentence));
    const raw = plainText(range.cloneContents());
    const exact = raw.replace(/\s+/g, " ").trim();
    if (!touched.length || !exact) return null;
    const first = touched[0];
    let start = offsetOf(first);
    if (first.contains(range.startContainer)) {
      const before = document.createRange();
      before.setStart(first, 0);
      before.setEnd(range.startContainer, range.startOffset);
      start += plainText(before.cloneContents()).length + (raw.length - raw.trimStart().length);
    }
    return { first: first.dataset.position, last: touched.at(-1).dataset.position, exact, start, label: exact, sentence: first, lastSentence: touched.at(-1) };
  }

  // The episode's text, as offsetOf counts it, for the words around a quote.
  let wholeText = null;
  function episodeText() {
    if (wholeText === null) wholeText = sentences.map(plainText).join(" ");
    return wholeText;
  }

  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const ss = String(s % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
  }

  function fromSentence(sentence) {
    const position = sentence.dataset.position;
    const label = plainText(sentence).replace(/\s+/g, " ").trim();
    return { first: position, last: position, exact: "", start: "", label, sentence, lastSentence: sentence };
  }

  function annotate() {
    const sentence = document.getElementById(`s-${tools?.dataset.first}`);
    const chosen = fromSelection() || (sentence && fromSentence(sentence));
    if (chosen) open(chosen);
  }
  trigger.addEventListener("click", annotate);

  // N annotates the words selected, or the sentence with focus, from the keyboard.
  transcript.addEventListener("keydown", (event) => {
    if (event.key !== "n" || event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    const sentence = event.target.closest?.(".sentence");
    const chosen = fromSelection() || (sentence && fromSentence(sentence));
    if (!chosen) return;
    event.preventDefault();
    open(chosen);
  });

  // "Note this moment", while listening: the sentence being read (static/js/player.js marks it).
  const sheet = document.getElementById("player-sheet");
  if (sheet) {
    const now = document.createElement("button");
    now.type = "button";
    now.className = "note-now";
    now.textContent = "Note this moment";
    sheet.prepend(now);
    now.addEventListener("click", () => {
      const sentence = transcript.querySelector('.sentence[aria-current="true"]') || sentences[0];
      sheet.hidePopover?.();
      open(fromSentence(sentence));
    });
  }

  // The words around the quote, the quote marked: built from text nodes, never from HTML.
  function showContext(form, anchor) {
    const context = form.querySelector("[data-note-context]");
    if (!context) return;
    const text = episodeText();
    let start = Number(anchor.start);
    let end = start + anchor.exact.length;
    if (!anchor.exact) {
      start = offsetOf(anchor.sentence);
      end = offsetOf(anchor.lastSentence) + plainText(anchor.lastSentence).length;
    }
    const before = text.slice(Math.max(0, start - 80), start);
    const after = text.slice(end, end + 80);
    const mark = document.createElement("mark");
    mark.textContent = text.slice(start, end);
    context.replaceChildren(
      `${start > 80 ? "…" : ""}${before.replace(/^\S*\s/, start > 80 ? "" : "$&")}`,
      mark,
      `${after.replace(/\s\S*$/, end + 80 < text.length ? "" : "$&")}${end + 80 < text.length ? "…" : ""}`,
    );
    context.hidden = false;
    form.querySelector("[data-note-quote]").hidden = true; // the marked words say it
  }

  // The moment the words were heard, and a button that plays them again (to the passage's end).
  let stopAt = null;
  const audio = document.getElementById("audio");
  audio?.addEventListener("timeupdate", () => {
    if (stopAt !== null && audio.currentTime >= stopAt) {
      stopAt = null;
      audio.pause();
    }
  });
  function showMoment(form, anchor) {
    const line = form.querySelector("[data-note-moment]");
    if (!line) return;
    const start = anchor.sentence.dataset.start;
    line.hidden = start === undefined || !audio;
    if (line.hidden) return;
    const time = line.querySelector("[data-note-time]");
    time.textContent = clock(Number(start));
    time.dateTime = `PT${Math.floor(Number(start))}S`;
    const hear = line.querySelector("[data-note-hear]");
    hear.onclick = () => {
      audio.currentTime = Number(start);
      stopAt = Number(anchor.lastSentence.dataset.end || start + 10);
      audio.play().catch(() => {});
    };
  }

  function setValue(form, name, value) {
    const field = form.elements.namedItem(name);
    if (field) field.value = value;
  }

  function open(anchor) {
    const compose = document.getElementById("compose");
    compose.querySelector(".note-created")?.remove();
    const form = compose.querySelector("form");
    form.hidden = false;
    setValue(form, "first", anchor.first);
    setValue(form, "last", anchor.last);
    setValue(form, "exact", anchor.exact);
    setValue(form, "start", anchor.start);
    form.querySelector("[data-note-quote]").textContent = anchor.label;
    showContext(form, anchor);
    showMoment(form, anchor);
    returnTo = anchor.sentence;
    if (tools) tools.hidden = true;
    dialog.showModal();
    form.querySelector("textarea").focus();
  }

  function afterCompose(compose) {
    const created = compose.querySelector(".note-created");
    if (!created) {
      (compose.querySelector("[aria-invalid='true']") || compose.querySelector("textarea"))?.focus();
      return;
    }
    compose.querySelector("form").hidden = true; // a fresh form, for the next passage
    updateBadge(created);
    document.dispatchEvent(new CustomEvent("notes-changed")); // static/js/highlights.js lights its words
    created.querySelector("a")?.focus();
  }

  function updateBadge(created) {
    // The server sends the reader's note counts by first sentence; the badge sums its segment's.
    const segment = document.getElementById(`s-${created.dataset.first}`)?.closest(".segment");
    if (!segment) return;
    const first = Number(segment.dataset.first);
    const last = Number(segment.dataset.last);
    let count = 0;
    for (const [position, threads] of Object.entries(JSON.parse(created.dataset.counts || "{}"))) {
      if (Number(position) >= first && Number(position) <= last) count += threads;
    }
    if (!count) return;
    let badge = segment.querySelector(".note-badge");
    if (!badge) {
      badge = document.createElement("a");
      badge.className = "note-badge";
      badge.dataset.segment = segment.id.slice("seg-".length);
      badge.href = `${created.dataset.notesUrl}?passage=${first}-${last}`;
      badge.tabIndex = -1; // reached from its segment's first sentence, not by Tab (static/js/transcript.js)
      segment.prepend(badge);
    }
    badge.textContent = String(count);
    badge.setAttribute("aria-label", `${count} note${count === 1 ? "" : "s"} on this passage`);
  }

  dialog.addEventListener("click", (event) => {
    if (event.target.closest("[data-note-close]")) dialog.close();
  });
  dialog.addEventListener("close", () => {
    if (!returnTo?.isConnected) return;
    if (!returnTo.hasAttribute("tabindex")) returnTo.tabIndex = -1;
    returnTo.focus({ preventScroll: true });
  });
})();
