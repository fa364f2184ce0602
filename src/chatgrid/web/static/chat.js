// The chat workspace: conversations, streaming answers, stop, regenerate, edit.
// Model output is untrusted: only the server's sanitized `html` is ever put into
// innerHTML; every other string (prompts, raw content, titles, errors) goes
// through textContent.
"use strict";

(() => {
  const app = document.getElementById("chat-app");
  if (!app) return;

  const org = app.dataset.org;
  const csrf = app.dataset.csrf;
  const api = `/api/orgs/${encodeURIComponent(org)}`;
  const pages = `/orgs/${encodeURIComponent(org)}`;
  const $ = (id) => document.getElementById(id);
  const els = {
    list: $("conversations"), listEmpty: $("conversations-empty"), search: $("conversation-search"),
    newChat: $("new-chat"), title: $("chat-title"), log: $("messages"), empty: $("messages-empty"),
    error: $("chat-error"), form: $("composer"), prompt: $("prompt"), model: $("model"),
    collections: $("collections"), collectionsEmpty: $("collections-empty"),
    send: $("send"), stop: $("stop"), editing: $("editing"), cancelEdit: $("cancel-edit"),
  };
  const state = {
    conversation: app.dataset.conversation || "",
    messages: [],
    stream: null, // {controller, el, message}
    editing: false,
  };

  // ---- small helpers -------------------------------------------------------

  function h(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined && text !== null) el.textContent = String(text);
    return el;
  }

  class ApiError extends Error {
    constructor(status, body, retryAfter) {
      const error = (body && body.error) || {};
      super(error.message || `HTTP ${status}`);
      this.status = status;
      this.code = error.code || "";
      this.retryAfter = retryAfter;
    }
  }

  async function failure(response) {
    const body = await response.json().catch(() => null);
    return new ApiError(response.status, body, response.headers.get("Retry-After"));
  }

  async function call(method, path, body) {
    const headers = { Accept: "application/json" };
    const init = { method, headers, credentials: "same-origin" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrf;
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(api + path, init);
    if (!response.ok) throw await failure(response);
    return response.status === 204 ? null : response.json();
  }

  /** What went wrong, said for a person: what happened and what to do next. */
  function explain(err) {
    const code = err.code || "";
    const status = err.status || 0;
    const seconds = parseInt(err.retryAfter || "", 10);
    if (code === "trial_ended") {
      return "Your organization's free trial has ended. To continue, an admin chooses a plan on the organization's Overview page; your history stays readable meanwhile.";
    }
    if (code === "insufficient_quota" || status === 402 || /allowance|quota|budget|cap_/.test(code)) {
      return "The shared-credit allowance for this month (or your own spending cap) is used up. An admin can raise the cap or allow overage; the allowance renews next month.";
    }
    if (/^model_/.test(code)) {
      return "This model is not allowed in your organization. Pick another model in the list.";
    }
    if (/key|credential/.test(code)) {
      return "Your organization's OpenAI key was rejected or revoked, so ChatGrid cannot reach the model. Ask an admin to connect a working key on the Key page.";
    }
    if (code === "org_suspended") {
      return "Your organization is suspended, so no calls can be made. Contact whoever runs this ChatGrid.";
    }
    if (code === "signin_required" || status === 401) {
      return "Your session has ended. Sign in again to continue.";
    }
    if (status === 429 || /rate_limit/.test(code)) {
      const wait = Number.isFinite(seconds) ? ` Try again in ${seconds} second${seconds === 1 ? "" : "s"}.` : " Wait a moment and try again.";
      return "You are over a rate limit." + wait;
    }
    if (status === 404) return "This conversation no longer exists.";
    if (status >= 500 || /upstream/.test(code)) {
      return "The model's service did not answer properly. Try again in a moment.";
    }
    return err.message || "Something went wrong.";
  }

  function showError(err) {
    els.error.replaceChildren();
    const friendly = explain(err);
    els.error.append(h("strong", "", friendly));
    if (err.message && err.message !== friendly && err.status !== 0) {
      els.error.append(h("span", "error-detail", ` (${err.message})`));
    }
    els.error.hidden = false;
  }

  function clearError() {
    els.error.hidden = true;
    els.error.replaceChildren();
  }

  // ---- conversations -------------------------------------------------------

  async function loadConversations() {
    const q = els.search.value.trim();
    let items;
    try {
      items = await call("GET", "/conversations" + (q ? `?q=${encodeURIComponent(q)}` : ""));
    } catch (err) {
      showError(err);
      return;
    }
    els.list.replaceChildren(...items.map(conversationItem));
    els.listEmpty.hidden = items.length > 0;
    els.listEmpty.textContent = q ? "No conversation has that in its title." : "No conversations yet.";
    const current = items.find((c) => c.id === state.conversation);
    if (current) setTitle(current.title);
  }

  function conversationItem(c) {
    const li = h("li", "conversation");
    li.dataset.id = c.id;
    const link = h("a", "conversation-link", c.title || "Untitled");
    link.href = `${pages}/chat/${encodeURIComponent(c.id)}`;
    if (c.id === state.conversation) link.setAttribute("aria-current", "page");
    const rename = h("button", "small link-button", "Rename");
    rename.type = "button";
    rename.append(h("span", "visually-hidden", ` “${c.title || "Untitled"}”`));
    rename.addEventListener("click", () => startRename(li, c));
    const remove = h("button", "small link-button danger-link", "Delete");
    remove.type = "button";
    remove.append(h("span", "visually-hidden", ` “${c.title || "Untitled"}”`));
    remove.addEventListener("click", () => deleteConversation(c));
    const actions = h("span", "conversation-actions");
    actions.append(rename, remove);
    li.append(link, actions);
    return li;
  }

  function startRename(li, c) {
    const form = h("form", "rename-form");
    const id = `rename-${c.id}`;
    const label = h("label", "visually-hidden", `New title for “${c.title || "Untitled"}”`);
    label.htmlFor = id;
    const input = h("input");
    input.id = id;
    input.type = "text";
    input.maxLength = 200;
    input.value = c.title || "";
    const save = h("button", "small primary", "Save");
    save.type = "submit";
    const cancel = h("button", "small", "Cancel");
    cancel.type = "button";
    const restore = () => {
      const fresh = conversationItem(c);
      li.replaceWith(fresh);
      fresh.querySelector("button").focus();
    };
    cancel.addEventListener("click", restore);
    input.addEventListener("keydown", (e) => {
      if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); restore(); }
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const title = input.value.trim();
      if (!title) { input.setAttribute("aria-invalid", "true"); input.focus(); return; }
      try {
        const updated = await call("PATCH", `/conversations/${encodeURIComponent(c.id)}`, { title });
        const fresh = conversationItem(updated);
        li.replaceWith(fresh);
        if (updated.id === state.conversation) setTitle(updated.title);
        fresh.querySelector("a").focus();
      } catch (err) {
        showError(err);
      }
    });
    form.append(label, input, save, cancel);
    li.replaceChildren(form);
    input.focus();
    input.select();
  }

  async function deleteConversation(c) {
    if (!window.confirm(`Delete “${c.title || "Untitled"}”? Its messages are removed for good.`)) return;
    try {
      await call("DELETE", `/conversations/${encodeURIComponent(c.id)}`);
    } catch (err) {
      showError(err);
      return;
    }
    if (c.id === state.conversation) newChat();
    await loadConversations();
    els.newChat.focus();
  }

  function setTitle(title) {
    els.title.textContent = title || "New chat";
    document.title = `${title || "Chat"} · ChatGrid`;
  }

  function newChat() {
    if (state.stream) stop();
    state.conversation = "";
    state.messages = [];
    state.editing = false;
    history.pushState(null, "", `${pages}/chat`);
    setTitle("");
    renderMessages();
    clearError();
    for (const link of els.list.querySelectorAll("a[aria-current]")) link.removeAttribute("aria-current");
    els.prompt.value = "";
    els.prompt.focus();
  }

  async function openConversation() {
    if (!state.conversation) { renderMessages(); return; }
    try {
      const data = await call("GET", `/conversations/${encodeURIComponent(state.conversation)}`);
      state.messages = data.messages;
      setTitle(data.conversation.title);
      if (data.conversation.model) selectModel(data.conversation.model);
    } catch (err) {
      state.messages = [];
      showError(err);
    }
    renderMessages();
  }

  // ---- models and collections ---------------------------------------------

  function selectModel(id) {
    if ([...els.model.options].some((o) => o.value === id)) els.model.value = id;
  }

  async function loadModels() {
    try {
      const data = await call("GET", "/models");
      els.model.replaceChildren(...data.models.map((id) => {
        const option = h("option", "", id);
        option.value = id;
        return option;
      }));
      if (data.default) selectModel(data.default);
    } catch (err) {
      showError(err);
    }
  }

  async function loadCollections() {
    let items = [];
    try {
      items = await call("GET", "/collections");
    } catch (err) {
      showError(err);
    }
    els.collections.replaceChildren(...items.map((c) => {
      const label = h("label", "checkbox");
      const box = h("input");
      box.type = "checkbox";
      box.name = "collection_ids";
      box.value = c.id;
      const scope = c.scope === "private" ? "private" : "shared with the org";
      label.append(box, h("span", "", c.name), h("span", "muted small", ` (${scope}, ${c.documents} doc${c.documents === 1 ? "" : "s"})`));
      return label;
    }));
    els.collectionsEmpty.hidden = items.length > 0;
  }

  function chosenCollections() {
    return [...els.collections.querySelectorAll("input:checked")].map((box) => box.value);
  }

  // ---- messages ------------------------------------------------------------

  function renderMessages() {
    const nodes = state.messages.map(messageView);
    els.empty.hidden = nodes.length > 0;
    els.log.replaceChildren(els.empty, ...nodes);
    refreshActions();
  }

  function messageView(m) {
    const article = h("article", `message message-${m.role === "user" ? "user" : "assistant"}`);
    article.dataset.id = m.id || "";
    article.append(h("h2", "message-who", m.role === "user" ? "You" : "Assistant"));
    article.append(h("div", "message-body"));
    article.append(h("footer", "message-meta"));
    fill(article, m);
    return article;
  }

  /** (Re)draw one message's body, usage, citations and status. */
  function fill(article, m) {
    const body = article.querySelector(".message-body");
    if (m.role === "assistant" && typeof m.html === "string") {
      body.innerHTML = m.html; // sanitized by the server; never `content`
    } else {
      body.textContent = m.content || "";
    }
    article.classList.toggle("is-streaming", m.status === "streaming");
    const meta = article.querySelector(".message-meta");
    meta.replaceChildren();
    if (m.role === "assistant") {
      const parts = [];
      if (m.model) parts.push(m.model);
      if (m.prompt_tokens != null || m.completion_tokens != null) {
        parts.push(`${m.prompt_tokens ?? "?"} in / ${m.completion_tokens ?? "?"} out tokens`);
      }
      if (m.cost) parts.push(m.cost);
      if (parts.length) meta.append(h("span", "usage", parts.join(" · ")));
      if (m.status && m.status !== "complete") {
        const label = m.status === "streaming" ? "answering…" : m.status;
        meta.append(h("span", `badge status-${m.status}${m.status === "failed" ? " bad" : ""}`, label));
      }
      if (m.error) meta.append(h("span", "message-error", explain({ code: m.error_code || "", message: m.error, status: 0 })));
    }
    const old = article.querySelector(".citations");
    if (old) old.remove();
    if (m.citations && m.citations.length) {
      const nav = h("nav", "citations");
      nav.setAttribute("aria-label", "Sources");
      const list = h("ol");
      for (const c of m.citations) {
        const link = h("a", "citation", `[${c.n}] ${c.filename}${c.page ? `, p. ${c.page}` : ""}`);
        link.href = `${pages}/documents/${encodeURIComponent(c.document_id)}/passages/${encodeURIComponent(c.chunk_id)}`;
        const item = h("li");
        item.append(link);
        if (c.heading) item.append(h("span", "muted small", ` — ${c.heading}`));
        list.append(item);
      }
      nav.append(list);
      article.insertBefore(nav, article.querySelector(".message-meta"));
    }
  }

  function lastIndex(role) {
    for (let i = state.messages.length - 1; i >= 0; i -= 1) {
      if (state.messages[i].role === role) return i;
    }
    return -1;
  }

  /** Regenerate sits on the last answer, Edit on the last question; none while streaming. */
  function refreshActions() {
    for (const old of els.log.querySelectorAll(".message-actions")) old.remove();
    if (state.stream) return;
    const articles = els.log.querySelectorAll("article.message");
    const add = (index, label, hidden, action) => {
      const article = articles[index];
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
    if (answer > user) add(answer, "Regenerate", " the last answer", () => send("regenerate"));
    if (user >= 0) add(user, "Edit and resend", " your last message", startEdit);
  }

  function startEdit() {
    const user = state.messages[lastIndex("user")];
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

  // ---- sending and streaming ----------------------------------------------

  function titleFrom(text) {
    const line = text.trim().split("\n")[0].replace(/\s+/g, " ");
    return line.length > 80 ? line.slice(0, 79) + "…" : line || "New chat";
  }

  function setStreaming(stream) {
    state.stream = stream;
    els.stop.hidden = !stream;
    els.send.disabled = Boolean(stream);
    els.log.setAttribute("aria-busy", stream ? "true" : "false");
    refreshActions();
  }

  async function send(mode) {
    if (state.stream) return;
    clearError();
    const content = els.prompt.value;
    if (mode !== "regenerate" && !content.trim()) {
      showError({ message: "Write a message first.", status: 0 });
      els.prompt.focus();
      return;
    }
    const model = els.model.value;
    if (!state.conversation) {
      try {
        const created = await call("POST", "/conversations", { title: titleFrom(content), model });
        state.conversation = created.id;
        history.pushState(null, "", `${pages}/chat/${encodeURIComponent(created.id)}`);
        setTitle(created.title);
        loadConversations();
      } catch (err) {
        showError(err);
        return;
      }
    }
    const before = state.messages.slice();
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
    renderMessages();
    const article = els.log.lastElementChild;
    const controller = new AbortController();
    setStreaming({ controller, article, answer });
    if (mode !== "regenerate") els.prompt.value = "";
    stopEditing();
    els.prompt.focus();
    try {
      const response = await fetch(`${api}/conversations/${encodeURIComponent(state.conversation)}/messages`, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream", "X-CSRF-Token": csrf },
        body: JSON.stringify({ content, model, collection_ids: chosenCollections(), mode }),
        signal: controller.signal,
      });
      if (!response.ok) throw await failure(response);
      await readEvents(response, article, answer);
    } catch (err) {
      if (err && err.name === "AbortError") {
        answer.status = "stopped";
        fill(article, answer);
      } else if (err instanceof ApiError) {
        // Refused before anything was kept: put the text back for another try.
        state.messages = before;
        renderMessages();
        if (mode === "edit") startEdit();
        if (mode !== "regenerate") els.prompt.value = content;
        showError(err);
      } else {
        answer.status = "failed";
        fill(article, answer);
        showError({ message: "The connection to ChatGrid was lost before the answer finished.", status: 0 });
      }
    } finally {
      if (answer.status === "streaming") {
        answer.status = "failed";
        fill(article, answer);
      }
      setStreaming(null);
      loadConversations();
    }
  }

  async function readEvents(response, article, answer) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer = (buffer + decoder.decode(value, { stream: true })).replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        handleEvent(parseEvent(block), article, answer);
      }
    }
  }

  function parseEvent(block) {
    let name = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") name = value;
      else if (field === "data") data.push(value);
    }
    let payload = null;
    try { payload = data.length ? JSON.parse(data.join("\n")) : null; } catch { payload = null; }
    return { name, payload };
  }

  function handleEvent({ name, payload }, article, answer) {
    if (!payload) return;
    if (name === "start") {
      answer.id = payload.assistant_message_id || "";
      article.dataset.id = answer.id;
      if (payload.user_message) {
        const index = lastIndex("user");
        if (index >= 0) {
          state.messages[index] = payload.user_message;
          const view = els.log.querySelectorAll("article.message")[index];
          if (view) { view.dataset.id = payload.user_message.id; fill(view, payload.user_message); }
        }
      }
    } else if (name === "delta") {
      answer.content += payload.text || "";
      if (typeof payload.html === "string") answer.html = payload.html;
      fill(article, answer);
    } else if (name === "done") {
      Object.assign(answer, payload.message);
      fill(article, answer);
    } else if (name === "error") {
      answer.status = "failed";
      answer.error = payload.message || "The answer failed.";
      answer.error_code = payload.code || "";
      fill(article, answer);
      showError({ message: payload.message || "", code: payload.code || "", status: 0 });
    }
  }

  function stop() {
    if (state.stream) state.stream.controller.abort();
  }

  // ---- wiring --------------------------------------------------------------

  els.form.addEventListener("submit", (e) => {
    e.preventDefault();
    send(state.editing ? "edit" : "send");
  });
  els.prompt.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      if (!state.stream) send(state.editing ? "edit" : "send");
    }
  });
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    if (state.stream) { e.preventDefault(); stop(); }
    else if (state.editing) { stopEditing(); els.prompt.value = ""; }
  });
  els.stop.addEventListener("click", () => { stop(); els.prompt.focus(); });
  els.cancelEdit.addEventListener("click", () => { stopEditing(); els.prompt.value = ""; els.prompt.focus(); });
  els.newChat.addEventListener("click", newChat);
  let searchTimer = 0;
  els.search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(loadConversations, 200);
  });
  window.addEventListener("popstate", () => window.location.reload());

  Promise.all([loadModels(), loadCollections()]).then(openConversation).then(loadConversations);
})();
