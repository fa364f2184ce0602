// Building elements. Text always goes in through textContent, so a title, a
// prompt or an error from the server can never become markup.

/** A new `tag` element with an optional class and text. */
export function h(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined && text !== null) el.textContent = String(text);
  return el;
}
