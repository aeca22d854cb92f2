// Popovers: a mention is a plain link to its glossary or people page, and a
// citation marker a plain link to the source list at the end; with this
// script each opens its popover instead (the entry, or the source with the
// quoted words), on hover, on tap, and on keyboard focus + Enter, without
// moving the page, so following along goes on. The popover attribute gives us
// the top layer, Escape, outside-click dismissal and "one at a time" for free.
//
// No side effects: hovering opens and closes a preview and changes nothing
// else (no focus, no attribute left behind); only opening by keyboard moves
// focus, into the preview and back to its link; and a tap or click outside an
// open popover only closes it (it doesn't also seek to the sentence under it).
(() => {
  "use strict";

  const HOVER_OPEN_MS = 250;
  const HOVER_CLOSE_MS = 300;
  let trigger = null; // the link whose popover is open
  let openedByHover = false;
  let focusMoved = false; // opened by keyboard: focus went into the popover
  let openTimer = 0;
  let closeTimer = 0;

  const popoverFor = (link) => document.getElementById(link.dataset.popover);

  function place(link, popover) {
    const rects = link.getClientRects();
    const anchor = rects.length ? rects[0] : link.getBoundingClientRect();
    const gap = 8;
    const width = popover.offsetWidth;
    const height = popover.offsetHeight;
    const left = Math.min(Math.max(gap, anchor.left), window.innerWidth - width - gap);
    const below = anchor.bottom + gap;
    const top = below + height > window.innerHeight && anchor.top - gap - height > 0
      ? anchor.top - gap - height
      : below;
    popover.style.left = `${Math.max(gap, left)}px`;
    popover.style.top = `${Math.max(gap, top)}px`;
  }

  function open(link, { byHover = false, focus = false } = {}) {
    const popover = popoverFor(link);
    if (!popover) return;
    if (trigger && trigger !== link) close();
    trigger = link;
    openedByHover = byHover;
    focusMoved = focus;
    link.setAttribute("aria-expanded", "true");
    // The link is the popover's source: a click on it is not a click outside (no light dismiss).
    if (!popover.matches(":popover-open")) popover.showPopover({ source: link });
    place(link, popover);
    if (focus) popover.querySelector("a")?.focus();
  }

  function close() {
    if (!trigger) return;
    const popover = popoverFor(trigger);
    if (popover?.matches(":popover-open")) popover.hidePopover();
  }

  function forget(popover) {
    // The popover closed (Escape, outside click, or close()): tidy up.
    if (!trigger || popoverFor(trigger) !== popover || popover.matches(":popover-open")) return;
    const link = trigger;
    trigger = null;
    link.setAttribute("aria-expanded", "false");
    popover.removeAttribute("style"); // placed afresh each time it opens
    const focusWasInside = popover.contains(document.activeElement) || document.activeElement === document.body;
    if (focusMoved && focusWasInside) {
      link.focus({ preventScroll: true }); // never move the page: following may have scrolled on
    }
    focusMoved = false;
  }

  function init() {
    for (const link of document.querySelectorAll("a[data-popover]")) {
      const popover = popoverFor(link);
      if (!popover) continue;
      link.setAttribute("aria-haspopup", "dialog");
      link.setAttribute("aria-expanded", "false");
      link.setAttribute("aria-controls", popover.id);
    }
    for (const popover of document.querySelectorAll(".popover[popover]")) {
      popover.addEventListener("toggle", (event) => {
        if (event.newState === "closed") forget(popover);
      });
      popover.addEventListener("pointerenter", () => clearTimeout(closeTimer));
      popover.addEventListener("pointerleave", (event) => {
        if (event.pointerType === "mouse" && openedByHover) scheduleClose();
      });
    }
  }

  function scheduleClose() {
    clearTimeout(closeTimer);
    closeTimer = setTimeout(() => { if (openedByHover) close(); }, HOVER_CLOSE_MS);
  }

  const triggerFrom = (event) => event.target.closest?.("a[data-popover]");

  document.addEventListener("pointerover", (event) => {
    const link = triggerFrom(event);
    if (!link || event.pointerType !== "mouse") return;
    clearTimeout(closeTimer);
    clearTimeout(openTimer);
    if (trigger === link) return;
    openTimer = setTimeout(() => open(link, { byHover: true }), HOVER_OPEN_MS);
  });

  document.addEventListener("pointerout", (event) => {
    const link = triggerFrom(event);
    if (!link || event.pointerType !== "mouse") return;
    clearTimeout(openTimer);
    if (trigger === link && openedByHover) scheduleClose();
  });

  document.addEventListener("click", (event) => {
    const link = triggerFrom(event);
    if (!link || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    // A second click on an open one follows the link; a first one opens it. A click on one
    // the pointer opened by hovering keeps it open (the page stays where it is).
    if (trigger === link && !openedByHover) return;
    event.preventDefault();
    if (trigger === link) {
      openedByHover = false;
      clearTimeout(closeTimer);
      // The pointer's press outside the popover light-dismissed it a moment ago: show it again.
      const popover = popoverFor(link);
      if (!popover.matches(":popover-open")) popover.showPopover({ source: link });
      return;
    }
    clearTimeout(openTimer);
    // detail is 0 for a click made with the keyboard (Enter): move focus inside.
    open(link, { focus: event.detail === 0 });
  });

  // A press outside an open popover (not a hover preview) only closes it: the click
  // it ends in is dropped before any other listener (and the focus it would give) sees it.
  let dismissing = false;
  window.addEventListener("pointerdown", (event) => {
    const open = document.querySelector(":popover-open");
    dismissing = Boolean(open) && !open.contains(event.target) && !(trigger && openedByHover)
      && !(trigger && trigger.contains(event.target)) && !event.target.closest?.("[popovertarget]");
  }, true);
  window.addEventListener("mousedown", (event) => { if (dismissing) event.preventDefault(); }, true);
  window.addEventListener("click", (event) => {
    if (!dismissing) return;
    dismissing = false;
    event.preventDefault();
    event.stopPropagation();
  }, true);

  const reposition = () => {
    if (trigger) place(trigger, popoverFor(trigger));
  };
  window.addEventListener("scroll", reposition, { passive: true });
  window.addEventListener("resize", reposition, { passive: true });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
