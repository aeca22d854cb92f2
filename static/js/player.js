// The read-along player. Without this script the page has the browser's own
// audio controls and a plain transcript; with it, our control bar drives the
// same <audio> element, the sentence being spoken is marked
// (aria-current="true") and kept in view, a click or Enter on a sentence
// seeks there, a segment's time plays from there, and the "Now" panel lists
// the segment's terms and people.
(() => {
  "use strict";

  const player = document.getElementById("player");
  const audio = document.getElementById("audio");
  if (!player || !audio) return;

  const $ = (selector) => player.querySelector(selector);
  const controls = $(".controls");
  const toggleButton = $('[data-action="toggle"]');
  const followButton = $('[data-action="follow"]');
  const resumeButton = $('[data-action="resume"]');
  const seek = $("[data-seek]");
  const speed = $("[data-speed]");
  const elapsed = $("[data-elapsed]");
  const total = $("[data-total]");
  const status = $("[data-status]");
  const nowPanel = document.getElementById("now");
  const nowList = nowPanel?.querySelector(".now-list");
  const nowEmpty = nowPanel?.querySelector(".now-empty");

  const sentences = Array.from(document.querySelectorAll(".sentence[data-start]"));
  const starts = Float64Array.from(sentences, (s) => Number(s.dataset.start));
  const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
  const storageKey = `companion:position:${player.dataset.slug}`;

  let current = -1;
  let currentSegment = null;
  let following = true;
  let autoScrolling = false;
  let lastSecond = -1;
  let words = null; // {position: [[charStart, charEnd, tStart, tEnd], …]}
  let lastSaved = 0;

  // ---- time helpers -------------------------------------------------------
  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds || 0));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const ss = String(s % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
  }

  function parseMoment(value) {
    const match = /^(?:(?:(\d+):)?(\d+):)?(\d+(?:\.\d+)?)s?$/.exec(value || "");
    if (!match) return null;
    return Number(match[1] || 0) * 3600 + Number(match[2] || 0) * 60 + Number(match[3]);
  }

  // ---- finding the sentence: a binary search over start times ------------
  function indexAt(t) {
    let low = 0;
    let high = starts.length - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (starts[middle] <= t) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found;
  }

  function sync(t) {
    const index = indexAt(t);
    if (index !== current) {
      if (current >= 0) sentences[current].removeAttribute("aria-current");
      current = index;
      if (index >= 0) {
        const sentence = sentences[index];
        sentence.setAttribute("aria-current", "true");
        if (following) keepInView(sentence);
        updateNow(sentence.closest(".segment"));
      }
    }
    markWord(t);
    const second = Math.floor(t);
    if (second !== lastSecond) {
      lastSecond = second;
      elapsed.textContent = clock(t);
      if (document.activeElement !== seek) seek.value = String(second);
      seek.setAttribute("aria-valuetext", `${clock(t)} of ${clock(audio.duration)}`);
    }
  }

  // Whether a sentence is in view comes from an IntersectionObserver, and the
  // scroll itself waits for the next frame: an update never forces layout.
  const visible = new Set();
  let scrollTarget = null;
  let scrollFrame = 0;

  function watchVisibility() {
    const bottom = player.offsetHeight + 24; // measured once, not per update
    const observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        if (entry.isIntersecting) visible.add(entry.target);
        else visible.delete(entry.target);
      }
    }, { rootMargin: `-72px 0px -${bottom}px 0px` });
    for (const sentence of sentences) observer.observe(sentence);
  }

  function keepInView(sentence) {
    scrollTarget = sentence;
    if (scrollFrame) return;
    scrollFrame = requestAnimationFrame(() => {
      scrollFrame = 0;
      if (!following || visible.has(scrollTarget)) return;
      autoScrolling = true;
      scrollTarget.scrollIntoView({ block: "center", behavior: reducedMotion.matches ? "instant" : "smooth" });
      if (reducedMotion.matches) autoScrolling = false;
    });
  }

  // ---- following, and "Back to now" --------------------------------------
  function stopFollowing() {
    if (!following || audio.paused) return;
    following = false;
    followButton.hidden = false;
  }

  function follow() {
    following = true;
    followButton.hidden = true;
    if (current >= 0) keepInView(sentences[current]);
  }

  window.addEventListener("wheel", stopFollowing, { passive: true });
  window.addEventListener("touchmove", stopFollowing, { passive: true });
  window.addEventListener("scrollend", () => { autoScrolling = false; });
  window.addEventListener("scroll", () => { if (!autoScrolling) stopFollowing(); }, { passive: true });

  // ---- the Now panel -------------------------------------------------------
  // Each segment's list is built once and kept: seeking back and forth allocates nothing.
  const nowItems = new WeakMap();

  function updateNow(segment) {
    if (!nowList || segment === currentSegment) return;
    currentSegment = segment;
    let items = segment ? nowItems.get(segment) : [];
    if (!items) {
      items = nowItemsOf(segment);
      nowItems.set(segment, items);
    }
    nowList.replaceChildren(...items);
    nowEmpty.hidden = items.length > 0;
    if (!items.length) nowEmpty.textContent = "No glossary terms or people in this passage.";
  }

  function nowItemsOf(segment) {
    const seen = new Set();
    const items = [];
    for (const mention of segment.querySelectorAll("a.mention[data-popover]")) {
      const id = mention.dataset.popover;
      if (seen.has(id)) continue;
      seen.add(id);
      const title = document.getElementById(`${id}-title`);
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.className = mention.className;
      link.href = mention.getAttribute("href");
      link.dataset.popover = id;
      link.textContent = title?.querySelector("strong")?.textContent || mention.textContent;
      link.setAttribute("aria-haspopup", "dialog");
      item.append(link);
      items.push(item);
    }
    return items;
  }

  // ---- the current word (CSS Custom Highlight API, no DOM changes) -------
  const wordHighlight = window.Highlight && CSS.highlights ? new Highlight() : null;
  if (wordHighlight) CSS.highlights.set("current-word", wordHighlight);
  const textMaps = new WeakMap();

  function textMap(sentence) {
    // Text nodes of the sentence with their offsets, skipping footnote markers.
    let map = textMaps.get(sentence);
    if (map) return map;
    map = [];
    let offset = 0;
    const walker = document.createTreeWalker(sentence, NodeFilter.SHOW_TEXT, {
      acceptNode: (node) => (node.parentElement.closest(".fnref") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
    });
    while (walker.nextNode()) {
      map.push({ node: walker.currentNode, start: offset });
      offset += walker.currentNode.length;
    }
    textMaps.set(sentence, map);
    return map;
  }

  function locate(map, offset) {
    for (let i = map.length - 1; i >= 0; i--) {
      if (map[i].start <= offset) return [map[i].node, Math.min(offset - map[i].start, map[i].node.length)];
    }
    return [map[0].node, 0];
  }

  function markWord(t) {
    if (!wordHighlight || !words || current < 0) return;
    const sentence = sentences[current];
    const timings = words[sentence.dataset.position];
    wordHighlight.clear();
    if (!timings) return;
    let low = 0;
    let high = timings.length - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (timings[middle][2] <= t) { found = middle; low = middle + 1; } else { high = middle - 1; }
    }
    if (found < 0 || t > timings[found][3] + 0.05) return;
    const map = textMap(sentence);
    if (!map.length) return;
    const range = new Range();
    range.setStart(...locate(map, timings[found][0]));
    range.setEnd(...locate(map, timings[found][1]));
    wordHighlight.add(range);
  }

  function loadWords() {
    if (words || !player.dataset.words) return;
    words = {};
    fetch(player.dataset.words)
      .then((response) => (response.ok ? response.json() : { sentences: {} }))
      .then((data) => { words = data.sentences || {}; })
      .catch(() => { words = {}; });
  }

  // ---- playing --------------------------------------------------------------
  function seekTo(t) {
    audio.currentTime = Math.max(0, Math.min(t, audio.duration || t));
    sync(audio.currentTime);
  }

  function toggle() {
    if (audio.paused) audio.play().catch(() => {});
    else audio.pause();
  }

  function setSpeed(step) {
    const options = Array.from(speed.options);
    const index = Math.max(0, Math.min(options.length - 1, speed.selectedIndex + step));
    speed.selectedIndex = index;
    audio.playbackRate = Number(speed.value);
    announce(`Speed ${speed.value}×`);
  }

  function announce(text) {
    status.textContent = text;
  }

  function momentLink(sentence) {
    const t = Math.floor(sentence ? Number(sentence.dataset.start) : audio.currentTime);
    const anchor = sentence || sentences[current];
    const url = new URL(window.location.href);
    url.search = `?t=${t}`;
    url.hash = anchor ? anchor.id : "";
    return url.toString();
  }

  async function copyMoment(sentence) {
    const link = momentLink(sentence);
    try {
      await navigator.clipboard.writeText(link);
      announce(`Link copied: ${link}`);
    } catch {
      window.history.replaceState(null, "", link);
      announce(`Copy this link from the address bar: ${link}`);
    }
  }

  let frame = 0;
  function tick() {
    sync(audio.currentTime);
    frame = audio.paused ? 0 : requestAnimationFrame(tick);
  }

  audio.addEventListener("play", () => {
    toggleButton.textContent = "❚❚";
    toggleButton.setAttribute("aria-label", "Pause");
    loadWords();
    if (!frame) frame = requestAnimationFrame(tick);
  });
  audio.addEventListener("pause", () => {
    toggleButton.textContent = "▶";
    toggleButton.setAttribute("aria-label", "Play");
    savePosition(true);
  });
  audio.addEventListener("timeupdate", () => {
    if (audio.paused) sync(audio.currentTime);
    savePosition(false);
  });
  audio.addEventListener("seeked", () => sync(audio.currentTime));
  audio.addEventListener("loadedmetadata", () => {
    if (Number.isFinite(audio.duration)) {
      seek.max = String(Math.floor(audio.duration));
      total.textContent = clock(audio.duration);
    }
  });

  // ---- the control bar --------------------------------------------------------
  player.addEventListener("click", (event) => {
    const action = event.target.closest("[data-action]")?.dataset.action;
    if (action === "toggle") toggle();
    else if (action === "back") seekTo(audio.currentTime - 15);
    else if (action === "forward") seekTo(audio.currentTime + 30);
    else if (action === "copy") copyMoment(null);
    else if (action === "follow") follow();
    else if (action === "resume") {
      seekTo(Number(resumeButton.dataset.position));
      resumeButton.hidden = true;
      audio.play().catch(() => {});
    }
  });
  seek.addEventListener("input", () => seekTo(Number(seek.value)));
  speed.addEventListener("change", () => { audio.playbackRate = Number(speed.value); });

  // ---- sentences: click, tap or Enter seeks there ---------------------------
  const momentButton = document.createElement("button");
  momentButton.type = "button";
  momentButton.className = "moment-link";
  momentButton.textContent = "Copy link to this moment";
  momentButton.addEventListener("click", (event) => {
    event.stopPropagation();
    copyMoment(momentButton.previousElementSibling);
  });

  function seekToSentence(sentence) {
    following = true;
    followButton.hidden = true;
    seekTo(Number(sentence.dataset.start));
    sentence.after(momentButton);
  }

  for (const sentence of sentences) sentence.tabIndex = 0;
  document.addEventListener("click", (event) => {
    // A segment's time (a ?t= link without this script) plays from there, in place.
    const time = event.target.closest?.("a.segment-time");
    if (time && !(event.metaKey || event.ctrlKey || event.shiftKey || event.altKey)) {
      const first = time.closest(".segment")?.querySelector(".sentence[data-start]");
      if (!first) return;
      event.preventDefault();
      seekToSentence(first);
      audio.play().catch(() => {});
      return;
    }
    const sentence = event.target.closest?.(".sentence[data-start]");
    if (!sentence || event.target.closest("a, button") || window.getSelection().toString()) return;
    seekToSentence(sentence);
  });
  document.addEventListener("focusin", (event) => {
    if (event.target.matches?.(".sentence[data-start]")) event.target.after(momentButton);
  });

  // ---- keyboard shortcuts (never while typing) ------------------------------
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    const target = event.target;
    if (target.closest("input, select, textarea, [contenteditable], [popover]")) return;
    if (event.key === "Enter" && target.matches(".sentence[data-start]")) {
      event.preventDefault();
      seekToSentence(target);
    } else if (event.key === " " && !target.closest("button, a, summary")) {
      event.preventDefault();
      toggle();
    } else if (event.key === "ArrowLeft") {
      event.preventDefault();
      seekTo(audio.currentTime - 15);
    } else if (event.key === "ArrowRight") {
      event.preventDefault();
      seekTo(audio.currentTime + 30);
    } else if (event.key === "[") {
      setSpeed(-1);
    } else if (event.key === "]") {
      setSpeed(1);
    } else if (["PageUp", "PageDown", "ArrowUp", "ArrowDown", "Home", "End"].includes(event.key)) {
      stopFollowing();
    }
  });

  // ---- lock screen and headset controls -------------------------------------
  if ("mediaSession" in navigator) {
    navigator.mediaSession.metadata = new MediaMetadata({
      title: player.dataset.title,
      artist: "History of the Second World War",
      album: [player.dataset.episode, player.dataset.series].filter(Boolean).join(" · "),
    });
    const handlers = {
      play: () => audio.play(),
      pause: () => audio.pause(),
      seekbackward: (details) => seekTo(audio.currentTime - (details.seekOffset || 15)),
      seekforward: (details) => seekTo(audio.currentTime + (details.seekOffset || 30)),
      seekto: (details) => seekTo(details.seekTime),
    };
    for (const [action, handler] of Object.entries(handlers)) {
      try { navigator.mediaSession.setActionHandler(action, handler); } catch { /* unsupported */ }
    }
  }

  // ---- remembering where the listener was -----------------------------------
  function savePosition(now) {
    const stamp = Date.now();
    if (!now && stamp - lastSaved < 5000) return;
    lastSaved = stamp;
    try { localStorage.setItem(storageKey, String(Math.floor(audio.currentTime))); } catch { /* private mode */ }
  }

  function offerResume() {
    let saved = 0;
    try { saved = Number(localStorage.getItem(storageKey)) || 0; } catch { /* private mode */ }
    if (saved < 10) return;
    resumeButton.dataset.position = String(saved);
    resumeButton.textContent = `Resume at ${clock(saved)}`;
    resumeButton.hidden = false;
  }

  // ---- start ------------------------------------------------------------------
  audio.controls = false;
  controls.hidden = false;
  watchVisibility();
  if (nowPanel && sentences.length) nowPanel.hidden = false;
  document.body.classList.add("has-player");

  const hashMoment = /^#t=([\d:.]+)/.exec(window.location.hash);
  const moment = hashMoment ? parseMoment(hashMoment[1]) : player.dataset.moment ? Number(player.dataset.moment) : null;
  if (moment !== null && sentences.length) {
    if (audio.readyState >= 1) audio.currentTime = moment;
    else audio.addEventListener("loadedmetadata", () => { audio.currentTime = moment; }, { once: true });
    sync(moment);
  } else {
    offerResume();
  }

  // For the benchmark and tests: the same update the player runs each frame.
  window.Companion = { sync, indexAt, get current() { return current; } };
})();
