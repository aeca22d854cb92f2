// The read-along player. Without this script the page has the browser's own
// audio controls (in the bar at the foot of the window) and a plain
// transcript; with it, our control bar drives the same <audio> element, the
// sentence being spoken is marked (aria-current="true") and kept in the
// reading zone of the window, a click or Enter on a sentence seeks there, a
// segment's time plays from there, and the "Now" panel names the people and
// terms of the sentence being read, each with a line about it, then the rest
// of its segment's. On a phone that panel is a strip above the player.
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
  const transcript = document.getElementById("transcript");
  const tools = document.getElementById("passage-tools");

  const sentences = Array.from(document.querySelectorAll(".sentence[data-start]"));
  const starts = Float64Array.from(sentences, (s) => Number(s.dataset.start));
  const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
  const phone = window.matchMedia("(max-width: 40rem)");
  const storageKey = `companion:position:${player.dataset.slug}`;

  let current = -1;
  let following = true;
  let autoScrolling = false; // the page is scrolling because we asked it to
  let autoScrollStarted = 0;
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
        updateNow(sentence);
        // static/js/transcript.js moves the transcript's tab stop here while the reader is elsewhere.
        transcript?.dispatchEvent(new CustomEvent("reading", { detail: sentence }));
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

  // ---- the reading zone ---------------------------------------------------
  // The sentence being read stays between 15% and 55% of the window's height,
  // clear of the player at the foot, at any speed: once it leaves that band
  // the page brings its first line to a fifth of the way down (the sentence's
  // scroll-margin-top). Whether it is in the band comes from an
  // IntersectionObserver, and the scroll waits for the next frame: an update
  // never forces layout.
  const inZone = new Set();
  let scrollTarget = null;
  let scrollFrame = 0;

  function watchZone() {
    const observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        if (entry.isIntersecting) inZone.add(entry.target);
        else inZone.delete(entry.target);
      }
    }, { rootMargin: "-15% 0px -45% 0px" });
    for (const sentence of sentences) observer.observe(sentence);
  }

  function keepInView(sentence) {
    scrollTarget = sentence;
    if (scrollFrame) return;
    scrollFrame = requestAnimationFrame(() => {
      scrollFrame = 0;
      if (!following || inZone.has(scrollTarget)) return;
      autoScrolling = true;
      autoScrollStarted = performance.now();
      scrollTarget.scrollIntoView({ block: "start", behavior: reducedMotion.matches ? "instant" : "smooth" });
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
  // A smooth scroll cut short by the next one ends too: that end is not ours to count.
  window.addEventListener("scrollend", () => {
    if (reducedMotion.matches || performance.now() - autoScrollStarted > 100) autoScrolling = false;
  });
  window.addEventListener("scroll", () => { if (!autoScrolling) stopFollowing(); }, { passive: true });

  // ---- the Now panel ------------------------------------------------------
  // One list item per entry, built the first time it is named and then only
  // moved between the two lists; each sentence's pair of lists is worked out
  // once. Not a live region: it changes every few seconds, under the voice.
  const nowPanel = document.getElementById("now");
  const nowHere = nowPanel?.querySelector(".now-sentence");
  const nowRest = nowPanel?.querySelector(".now-segment");
  const nowRestHeading = nowPanel?.querySelector(".now-rest-heading");
  const nowEmpty = nowPanel?.querySelector(".now-empty");
  const nowToggle = nowPanel?.querySelector(".now-toggle");
  const NAMED = "a.mention[data-popover], .mention-repeat[data-entity]";
  const entryItems = new Map(); // popover id -> <li>
  const nowLists = new WeakMap(); // sentence -> [items named in it, the rest of its segment's]
  let nowFor = null;

  const namedIn = (element) =>
    Array.from(new Set(Array.from(element.querySelectorAll(NAMED), (name) => name.dataset.popover || name.dataset.entity)));

  function entryItem(id) {
    let item = entryItems.get(id);
    if (item) return item;
    const popover = document.getElementById(id);
    const link = document.createElement("a");
    link.className = `mention mention-${id.split("-")[1]}`;
    link.href = popover?.querySelector("p:last-child a")?.getAttribute("href") || "#";
    link.dataset.popover = id;
    link.setAttribute("aria-haspopup", "dialog");
    link.setAttribute("aria-expanded", "false");
    link.setAttribute("aria-controls", id);
    link.textContent = popover?.querySelector(".popover-title strong")?.textContent || id;
    const gist = document.createElement("span");
    gist.className = "now-gist";
    gist.textContent = popover?.dataset.gist || "";
    item = document.createElement("li");
    item.append(link, " ", gist);
    entryItems.set(id, item);
    return item;
  }

  function listsFor(sentence) {
    let lists = nowLists.get(sentence);
    if (!lists) {
      const here = namedIn(sentence);
      const segment = sentence.closest(".segment");
      const rest = segment ? namedIn(segment).filter((id) => !here.includes(id)) : [];
      lists = [here.map(entryItem), rest.map(entryItem)];
      nowLists.set(sentence, lists);
    }
    return lists;
  }

  function updateNow(sentence) {
    if (!nowPanel || sentence === nowFor) return;
    nowFor = sentence;
    const [here, rest] = listsFor(sentence);
    nowHere.replaceChildren(...here);
    nowRest.replaceChildren(...rest);
    nowRestHeading.hidden = rest.length === 0;
    nowEmpty.hidden = here.length + rest.length > 0;
    if (!nowEmpty.hidden) nowEmpty.textContent = "No people or terms named in this passage.";
    nowToggle.textContent = `All ${here.length + rest.length}`;
    nowPanel.classList.toggle("has-more", here.length + rest.length > 1);
  }

  // On a phone the panel is a strip in the player's bar, showing the first entry; "All" opens the rest.
  const layout = nowPanel?.parentElement;
  function placeNow() {
    if (!nowPanel) return;
    if (phone.matches) player.prepend(nowPanel);
    else layout.append(nowPanel);
    nowToggle.hidden = !phone.matches;
  }

  nowToggle?.addEventListener("click", () => {
    const open = nowToggle.getAttribute("aria-expanded") !== "true";
    nowToggle.setAttribute("aria-expanded", String(open));
    nowPanel.classList.toggle("open", open);
  });

  // ---- the current word (CSS Custom Highlight API, no DOM changes) -------
  const wordHighlight = window.Highlight && CSS.highlights ? new Highlight() : null;
  if (wordHighlight) CSS.highlights.set("current-word", wordHighlight);
  const { textMap, locate } = window.CompanionText; // static/js/text-map.js

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
    const index = Math.max(0, Math.min(speed.options.length - 1, speed.selectedIndex + step));
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

  async function copyMoment(sentence, button) {
    const link = momentLink(sentence);
    try {
      await navigator.clipboard.writeText(link);
      announce(`Link copied: ${link}`);
      if (button) {
        const label = button.textContent;
        button.textContent = "Link copied";
        setTimeout(() => { button.textContent = label; }, 2000);
      }
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
    resumeButton.hidden = true;
    loadWords();
    if (!frame) frame = requestAnimationFrame(tick);
  });
  audio.addEventListener("pause", () => {
    toggleButton.textContent = "▶";
    toggleButton.setAttribute("aria-label", "Play");
    savePosition(true);
  });
  audio.addEventListener("ended", forgetPosition);
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
    const button = event.target.closest("[data-action]");
    const action = button?.dataset.action;
    if (action === "toggle") toggle();
    else if (action === "back") seekTo(audio.currentTime - 15);
    else if (action === "forward") seekTo(audio.currentTime + 30);
    else if (action === "copy") copyMoment(null, button);
    else if (action === "follow") follow();
    else if (action === "resume") {
      seekTo(Number(resumeButton.dataset.position));
      audio.play().catch(() => {});
    }
  });
  seek.addEventListener("input", () => seekTo(Number(seek.value)));
  speed.addEventListener("change", () => { audio.playbackRate = Number(speed.value); });

  // ---- sentences: click, tap or Enter seeks there ---------------------------
  function seekToSentence(sentence) {
    following = true;
    followButton.hidden = true;
    seekTo(Number(sentence.dataset.start));
  }

  document.addEventListener("click", (event) => {
    if (event.defaultPrevented) return; // e.g. a tap that only closed a preview (static/js/popovers.js)
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

  // The passage tools' "Copy link to this moment": the first sentence of the passage chosen.
  tools?.addEventListener("click", (event) => {
    const button = event.target.closest('[data-passage-action="copy-moment"]');
    const sentence = button && document.getElementById(`s-${tools.dataset.first}`);
    if (sentence?.dataset.start) copyMoment(sentence, button);
  });

  // ---- keyboard shortcuts: only with focus in the player or the transcript (WCAG 2.1.4) ----
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    const target = event.target;
    const where = player.contains(target) ? "player" : transcript?.contains(target) ? "transcript" : null;
    if (!where || target.closest("textarea, [contenteditable], [popover]:not(.player-sheet)")) return;
    const native = target.closest("select, input[type=range]"); // they use arrows themselves
    if (event.key === "Enter" && target.matches(".sentence[data-start]")) {
      event.preventDefault();
      seekToSentence(target);
    } else if (event.key === " " && !target.closest("button, a, summary, select")) {
      event.preventDefault();
      toggle();
    } else if (event.key === "[") {
      setSpeed(-1);
    } else if (event.key === "]") {
      setSpeed(1);
    } else if (where === "player" && !native && event.key === "ArrowLeft") {
      event.preventDefault();
      seekTo(audio.currentTime - 15);
    } else if (where === "player" && !native && event.key === "ArrowRight") {
      event.preventDefault();
      seekTo(audio.currentTime + 30);
    } else if (where === "transcript" && ["PageUp", "PageDown", "ArrowUp", "ArrowDown", "Home", "End"].includes(event.key)) {
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

  // ---- remembering where the listener was (the home page offers it too) -------
  function savePosition(now) {
    const stamp = Date.now();
    if (!now && stamp - lastSaved < 5000) return;
    lastSaved = stamp;
    try { localStorage.setItem(storageKey, String(Math.floor(audio.currentTime))); } catch { /* private mode */ }
  }

  function forgetPosition() {
    try { localStorage.removeItem(storageKey); } catch { /* private mode */ }
  }

  function offerResume() {
    let saved = 0;
    try { saved = Number(localStorage.getItem(storageKey)) || 0; } catch { /* private mode */ }
    if (saved < 10) return;
    resumeButton.dataset.position = String(saved);
    resumeButton.textContent = `Continue at ${clock(saved)}`;
    resumeButton.hidden = false;
  }

  // ---- start ------------------------------------------------------------------
  audio.controls = false;
  controls.hidden = false;
  watchZone();
  if (nowPanel && sentences.length) {
    nowPanel.hidden = false;
    placeNow();
    phone.addEventListener("change", placeNow);
  }
  document.body.classList.add("has-player");
  // The page keeps clear of the bar at the foot of the window, however tall it grows.
  new ResizeObserver(() => {
    document.documentElement.style.setProperty("--dock-height", `${player.offsetHeight}px`);
  }).observe(player);

  // #t=754 (a media fragment) opens at a moment, like ?t=; #play, from the home page's Listen, starts playing.
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const moment = fragment.has("t") ? parseMoment(fragment.get("t")) : player.dataset.moment ? Number(player.dataset.moment) : null;
  if (moment !== null && sentences.length) {
    if (audio.readyState >= 1) audio.currentTime = moment;
    else audio.addEventListener("loadedmetadata", () => { audio.currentTime = moment; }, { once: true });
    sync(moment);
  } else {
    offerResume();
  }
  if (fragment.has("play")) {
    const rest = window.location.hash.slice(1).split("&").filter((part) => part !== "play").join("&");
    window.history.replaceState(null, "", rest ? `#${rest}` : window.location.pathname + window.location.search);
    // A browser that refuses to play before a click on this page leaves Play focused, one key away.
    audio.play().catch(() => toggleButton.focus());
  }

  // For the benchmark and tests: the same update the player runs each frame.
  window.Companion = { sync, indexAt, get current() { return current; } };
})();
