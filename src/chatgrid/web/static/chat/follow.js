// Following the answer: the log stays scrolled to its newest line while an
// answer streams, unless the reader has scrolled up to read something; then
// it stays put and "Jump to latest" brings them back.

/** Slack, in pixels, within which the log still counts as "at the bottom". */
const SLACK = 48;

export function createFollow(chat) {
  const { els } = chat;
  const log = els.log;
  let following = true;

  const atBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight <= SLACK;

  /** Scroll to the newest message and follow from now on. */
  function latest() {
    following = true;
    log.scrollTop = log.scrollHeight;
    els.jump.hidden = true;
  }

  /** The log has grown: keep up with it, or offer the way back if the reader left. */
  function grew() {
    if (following) latest();
    else els.jump.hidden = false;
  }

  // Every scroll (the reader's or ours) says whether we are still at the bottom;
  // ours always lands there, so only the reader can stop the following.
  log.addEventListener("scroll", () => {
    following = atBottom();
    if (following) els.jump.hidden = true;
    else if (chat.state.stream) els.jump.hidden = false;
  });
  els.jump.addEventListener("click", () => {
    latest();
    els.prompt.focus();
  });

  return { latest, grew };
}
