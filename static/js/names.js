// Names said again. Each segment of the transcript links an entry once, at its
// first mention; its later mentions are span.mention-repeat[data-entity], not
// links (episodes/rendering.py). Here: hovering or focusing a linked name
// lights up its other mentions in the segment, and the "Show all names"
// switch underlines every one. The light is a CSS Custom Highlight, so the
// page's DOM is never changed by it; the switch is remembered in this browser
// (localStorage), so the page itself is the same for every reader and can be
// cached. Without this script the first mentions are plain links.
(() => {
  "use strict";

  const transcript = document.getElementById("transcript");
  const toggle = document.querySelector("[data-names-switch]");
  if (!transcript) return;
  const storageKey = "companion:show-all-names";
  const NAME = "a.mention[data-popover], .mention-repeat[data-entity]";

  // ---- the switch ----------------------------------------------------------
  function showAll(on) {
    transcript.classList.toggle("show-all-names", on);
    toggle?.setAttribute("aria-checked", String(on));
  }

  if (toggle) {
    let saved = false;
    try { saved = localStorage.getItem(storageKey) === "on"; } catch { /* private mode */ }
    showAll(saved);
    toggle.hidden = false;
    toggle.addEventListener("click", () => {
      const on = toggle.getAttribute("aria-checked") !== "true";
      showAll(on);
      try { localStorage.setItem(storageKey, on ? "on" : "off"); } catch { /* private mode */ }
    });
  }

  // ---- the light on the same entry's other mentions --------------------------
  if (!(window.Highlight && CSS.highlights)) return;
  const light = new Highlight();
  CSS.highlights.set("same-name", light);

  function lightUp(name) {
    light.clear();
    const entity = name.dataset.popover || name.dataset.entity;
    const segment = name.closest(".segment");
    if (!segment || !entity) return;
    const selector = `a.mention[data-popover="${CSS.escape(entity)}"], .mention-repeat[data-entity="${CSS.escape(entity)}"]`;
    for (const other of segment.querySelectorAll(selector)) {
      if (other === name) continue;
      const range = new Range();
      range.selectNodeContents(other);
      light.add(range);
    }
  }

  // A repeat lights up the others only while the names are shown (it is plain text otherwise).
  const nameFrom = (target) => {
    const name = target.closest?.(NAME);
    if (!name || (name.matches(".mention-repeat") && !transcript.classList.contains("show-all-names"))) return null;
    return name;
  };

  transcript.addEventListener("pointerover", (event) => {
    const name = nameFrom(event.target);
    if (name) lightUp(name);
  });
  transcript.addEventListener("pointerout", (event) => {
    if (nameFrom(event.target)) light.clear(); // pointerover on the next name, if any, comes after
  });
  transcript.addEventListener("focusin", (event) => {
    const name = nameFrom(event.target);
    if (name) lightUp(name);
  });
  transcript.addEventListener("focusout", () => light.clear());
})();
