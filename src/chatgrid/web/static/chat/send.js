// Sending: a new question, an edited one, or a regenerate; then streaming the
// answer into the log until it is done, fails, or the user stops it.

import { ApiError } from "./api.js";
import { fill } from "./messages.js";
import { readEvents } from "./sse.js";

/** A first title for a new conversation: the prompt's first line, shortened. */
function titleFrom(text) {
  const line = text.trim().split("\n")[0].replace(/\s+/g, " ");
  return line.length > 80 ? line.slice(0, 79) + "…" : line || "New chat";
}

export function createSend(chat) {
  const { els, state, api, errors, pages } = chat;
  // Every redraw may make the log taller: the view follows unless the reader scrolled up.
  const redraw = (article, m) => {
    fill(article, m, pages);
    chat.follow.grew();
  };

  function setStreaming(stream) {
    state.stream = stream;
    els.stop.hidden = !stream;
    els.send.disabled = Boolean(stream);
    els.log.setAttribute("aria-busy", stream ? "true" : "false");
    chat.log.refreshActions();
  }

  /** mode is "send", "edit" (replace the last question) or "regenerate" (replace the last answer). */
  async function send(mode) {
    if (state.stream) return;
    errors.clear();
    const content = els.prompt.value;
    if (mode !== "regenerate" && !content.trim()) {
      errors.show({ message: "Write a message first.", status: 0 });
      els.prompt.focus();
      return;
    }
    const model = els.model.value;
    if (!model) {
      await chat.choices.loadModels(); // says why no model can answer
      return;
    }
    const fresh = !state.conversation;
    if (fresh) {
      try {
        const created = await api.call("POST", "/conversations", { title: titleFrom(content), model });
        state.conversation = created.id;
        history.pushState(null, "", `${pages}/chat/${encodeURIComponent(created.id)}`);
        chat.conversations.setTitle(created.title);
        chat.conversations.load();
      } catch (err) {
        errors.show(err);
        return;
      }
    }
    const before = state.messages.slice();
    const { lastIndex } = chat.log;
    const userIndex = lastIndex("user");
    if (mode === "send") {
      state.messages.push({ id: "", role: "user", content, status: "complete", citations: [] });
    } else if (mode === "edit") {
      state.messages = state.messages.slice(0, userIndex + 1);
      state.messages[userIndex] = { ...state.messages[userIndex], content };
    } else if (lastIndex("assistant") > userIndex) {
      state.messages = state.messages.slice(0, lastIndex("assistant"));
    }
    const answer = { id: "", role: "assistant", content: "", html: null, model, status: "streaming", citations: [] };
    state.messages.push(answer);
    chat.log.render();
    const article = els.log.lastElementChild;
    const controller = new AbortController();
    setStreaming({ controller, article, answer });
    if (mode !== "regenerate") els.prompt.value = "";
    chat.composer.stopEditing();
    els.prompt.focus();
    try {
      const body = { content, model, collection_ids: chat.choices.chosenCollections(), mode };
      const path = `/conversations/${encodeURIComponent(state.conversation)}/messages`;
      const response = await api.stream(path, body, controller.signal);
      await readEvents(response, (event) => handleEvent(event, article, answer));
    } catch (err) {
      if (err && err.name === "AbortError") {
        answer.status = "stopped";
        redraw(article, answer);
        settleStopped(state.conversation, article, answer);
      } else if (err instanceof ApiError) {
        // Refused before anything was kept: put the text back for another try.
        if (fresh) await forget(state.conversation); // no empty conversation left behind
        state.messages = before;
        chat.log.render();
        if (mode === "edit") chat.composer.startEdit();
        if (mode !== "regenerate") els.prompt.value = content;
        if (/^model_/.test(err.code || "")) await chat.choices.loadModels(); // the list was stale
        errors.show(err);
      } else {
        answer.status = "failed";
        redraw(article, answer);
        errors.show({ message: "The connection to ChatGrid was lost before the answer finished.", status: 0 });
      }
    } finally {
      if (answer.status === "streaming") {
        answer.status = "failed";
        redraw(article, answer);
      }
      setStreaming(null);
      chat.conversations.load();
      chat.attachments.sync(); // sent images leave the composer
    }
  }

  function handleEvent({ name, payload }, article, answer) {
    if (!payload) return;
    if (name === "start") {
      answer.id = payload.assistant_message_id || "";
      article.dataset.id = answer.id;
      if (payload.user_message) {
        // The server's copy of the question replaces our optimistic one.
        const index = chat.log.lastIndex("user");
        if (index >= 0) {
          state.messages[index] = payload.user_message;
          const view = chat.log.articleAt(index);
          if (view) { view.dataset.id = payload.user_message.id; redraw(view, payload.user_message); }
        }
      }
    } else if (name === "delta") {
      answer.content += payload.text || "";
      if (typeof payload.html === "string") answer.html = payload.html;
      redraw(article, answer);
    } else if (name === "done") {
      Object.assign(answer, payload.message);
      redraw(article, answer);
    } else if (name === "error") {
      answer.status = "failed";
      answer.error = payload.message || "The answer failed.";
      answer.error_code = payload.code || "";
      redraw(article, answer);
      errors.show({ message: payload.message || "", code: payload.code || "", status: 0 });
    }
  }

  /** Delete a conversation made for a first message that was refused, and go back to a new chat. */
  async function forget(id) {
    try {
      await api.call("DELETE", `/conversations/${encodeURIComponent(id)}`);
    } catch {
      // Still there: it shows in the list, empty, and can be deleted by hand.
    }
    state.conversation = "";
    history.replaceState(null, "", `${pages}/chat`);
    chat.conversations.setTitle("");
  }

  /**
   * A stopped answer's tokens and cost come once the gateway has drained the
   * upstream and written the call's ledger row (up to
   * CHATGRID_DRAIN_TIMEOUT_SECONDS later): ask again, less and less often,
   * and show them as soon as the server has them.
   */
  async function settleStopped(conversation, article, answer) {
    if (!answer.id) return; // stopped before the server named it: nothing was kept
    const giveUp = Date.now() + 150_000;
    for (let wait = 500; Date.now() < giveUp; wait = Math.min(wait * 2, 8000)) {
      await new Promise((resolve) => setTimeout(resolve, wait));
      if (state.conversation !== conversation || !article.isConnected) return;
      let data;
      try {
        data = await api.call("GET", `/conversations/${encodeURIComponent(conversation)}`);
      } catch {
        return;
      }
      const kept = data.messages.find((m) => m.id === answer.id);
      if (!kept) return;
      if (kept.status !== "streaming" && (kept.prompt_tokens != null || kept.cost)) {
        Object.assign(answer, kept);
        redraw(article, answer);
        return;
      }
    }
  }

  /** Abort the answer being streamed; send() then marks it "stopped". */
  function stop() {
    if (state.stream) state.stream.controller.abort();
  }

  return { send, stop };
}
