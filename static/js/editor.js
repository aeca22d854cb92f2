// The transcript editor (episodes/editing.py): selecting words in a sentence
// fills that sentence's "Link or unlink words" form and opens it, with the
// selection's offset so the right occurrence is linked. Without this script
// the editor types the words; the server finds their first occurrence.
document.addEventListener("selectionchange", () => {
  const selection = document.getSelection();
  if (!selection || selection.isCollapsed || selection.rangeCount !== 1) return;
  const range = selection.getRangeAt(0);
  const text = range.startContainer.parentElement?.closest(".sentence-text");
  if (!text || range.startContainer !== range.endContainer) return;
  const words = selection.toString();
  const trimmed = words.trim();
  if (!trimmed) return;
  const row = text.closest(".review-row");
  const form = row?.querySelector("[data-link-form]");
  if (!form) return;
  form.open = true;
  form.querySelector("input[name=words]").value = trimmed;
  form.querySelector("input[name=at]").value = String(range.startOffset + (words.length - words.trimStart().length));
});
