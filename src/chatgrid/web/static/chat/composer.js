// The composer: the prompt box, its keys (Enter sends, Shift+Enter breaks the
// line, Escape stops an answer or cancels an edit), Stop, and edit mode.

import { createAttachments } from "./attachments.js";

export function createComposer(chat) {
  const { els, state } = chat;
  chat.attachments = createAttachments(chat); // drop, paste or pick files
  const submit = () => chat.send.send(state.editing ? "edit" : "send");

  /** Put the last question back in the prompt; the next send replaces it. */
  function startEdit() {
    const user = state.messages[chat.log.lastIndex("user")];
    state.editing = true;
    els.editing.hidden = false;
    els.prompt.value = user.content;
    els.send.textContent = "Resend";
    els.prompt.focus();
  }

  function stopEditing() {
    state.editing = false;
    els.editing.hidden = true;
    els.send.textContent = "Send";
  }

  els.form.addEventListener("submit", (e) => {
    e.preventDefault();
    submit();
  });
  els.prompt.addEventListener("keydown", (e) => {
    // isComposing: Enter that confirms an IME composition must not send.
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      if (!state.stream) submit();
    }
  });
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    if (state.stream) { e.preventDefault(); chat.send.stop(); }
    else if (state.editing) { stopEditing(); els.prompt.value = ""; }
  });
  els.stop.addEventListener("click", () => { chat.send.stop(); els.prompt.focus(); });
  els.cancelEdit.addEventListener("click", () => { stopEditing(); els.prompt.value = ""; els.prompt.focus(); });

  return { startEdit, stopEditing };
}
