// The timing review. Without this script each "Play" link opens the audio
// at the sentence's start and the forms post and redirect; with it, "Play"
// seeks the page's own player (so does a skipped stretch's), a row is selected by playing it or moving
// into it, and keys work on the selected row while the audio plays:
// S sets its start to the playback time (then selects the next row),
// [ and ] nudge it by 0.1 s, P plays it, K pauses or resumes. Saving goes
// through the row's form, which htmx posts and swaps in place.
(() => {
  "use strict";

  const audio = document.getElementById("review-audio");
  const list = document.querySelector(".review-list");
  if (!audio || !list) return;

  let selected = null; // the selected row's sentence position (rows are replaced on save)

  document.querySelector("[data-review-keys]")?.removeAttribute("hidden");
  const reveal = (root) => root.querySelectorAll("[data-set-now]").forEach((b) => b.removeAttribute("hidden"));
  reveal(list);

  const row = (position) => document.getElementById(`review-s-${position}`);

  function select(element) {
    if (!element) return;
    row(selected)?.classList.remove("is-selected");
    selected = element.dataset.position;
    element.classList.add("is-selected");
  }

  function play(element) {
    if (!element?.dataset.start) return;
    select(element);
    audio.currentTime = Number(element.dataset.start);
    audio.play().catch(() => {}); // a refused autoplay leaves the player paused, nothing more
  }

  function submit(element, nudge) {
    const form = element?.querySelector(".review-form");
    if (!form) return;
    if (nudge) {
      form.querySelector(`[data-nudge="${nudge}"]`)?.click();
    } else {
      form.requestSubmit(form.querySelector('button[type="submit"]:not([name])'));
    }
  }

  function setToNow(element) {
    if (!element) return;
    const input = element.querySelector('input[name="start"]');
    input.value = audio.currentTime.toFixed(2);
    submit(element);
  }

  list.addEventListener("click", (event) => {
    const link = event.target.closest("[data-play]");
    if (link) {
      event.preventDefault();
      play(link.closest(".review-row"));
      return;
    }
    const button = event.target.closest("[data-set-now]");
    if (button) setToNow(button.closest(".review-row"));
  });

  // A skipped stretch's "Play" seeks the page's player too.
  document.querySelector(".skipped-list")?.addEventListener("click", (event) => {
    const link = event.target.closest("[data-play-at]");
    if (!link) return;
    event.preventDefault();
    audio.currentTime = Number(link.dataset.playAt);
    audio.play().catch(() => {});
  });

  list.addEventListener("focusin", (event) => select(event.target.closest(".review-row")));

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, textarea, select, [contenteditable]")) return;
    const current = row(selected);
    switch (event.key) {
      case "s":
      case "S":
        if (!current) return;
        setToNow(current);
        // Tap along: the next sentence is the one to catch next.
        select(current.nextElementSibling);
        break;
      case "[":
        submit(current, "-0.1");
        break;
      case "]":
        submit(current, "0.1");
        break;
      case "p":
      case "P":
        play(current);
        break;
      case "k":
      case "K":
        if (audio.paused) audio.play().catch(() => {});
        else audio.pause();
        break;
      default:
        return;
    }
    event.preventDefault();
  });

  // A saved row comes back as a new element: keep it selected, show its button.
  document.body.addEventListener("htmx:afterSettle", () => {
    reveal(list);
    row(selected)?.classList.add("is-selected");
  });
})();
