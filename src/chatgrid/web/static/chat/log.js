// The message log: the conversation's messages in order, with Regenerate on
// the last answer and Edit on the last question.

import { listenForCopies } from "./copy.js";
import { h } from "./dom.js";
import { messageView } from "./messages.js";

/** The log over `chat.state.messages`; its buttons call into chat.send and chat.composer. */
export function createLog(chat) {
  const { els, state } = chat;
  listenForCopies(els.log, (article) => state.messages[[...els.log.querySelectorAll("article.message")].indexOf(article)]);

  function render() {
    const nodes = state.messages.map((m) => messageView(m, chat.pages));
    els.empty.hidden = nodes.length > 0;
    els.log.replaceChildren(els.empty, ...nodes);
    refreshActions();
    chat.follow.latest(); // a conversation opens at its newest message
  }

  function lastIndex(role) {
    for (let i = state.messages.length - 1; i >= 0; i -= 1) {
      if (state.messages[i].role === role) return i;
    }
    return -1;
  }

  /** The drawn <article> for state.messages[index], if any. */
  function articleAt(index) {
    return els.log.querySelectorAll("article.message")[index];
  }

  /** Regenerate sits on the last answer, Edit on the last question; none while streaming. */
  function refreshActions() {
    for (const old of els.log.querySelectorAll(".message-actions")) old.remove();
    if (state.stream) return;
    const add = (index, label, hidden, action) => {
      const article = articleAt(index);
      if (!article) return;
      const bar = h("div", "message-actions");
      const button = h("button", "small", label);
      button.type = "button";
      button.append(h("span", "visually-hidden", hidden));
      button.addEventListener("click", action);
      bar.append(button);
      article.append(bar);
    };
    const user = lastIndex("user");
    const answer = lastIndex("assistant");
    if (answer > user) add(answer, "Regenerate", " the last answer", () => chat.send.send("regenerate"));
    if (user >= 0) add(user, "Edit and resend", " your last message", () => chat.composer.startEdit());
    chat.follow.grew();
  }

  return { render, lastIndex, articleAt, refreshActions };
}
