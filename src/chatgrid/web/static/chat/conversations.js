// The sidebar: the user's conversations, searched by title, renamed in place
// and deleted; plus opening one and starting a new one.

import { h } from "./dom.js";

const untitled = (c) => c.title || "Untitled";

export function createConversations(chat) {
  const { els, state, api, errors, pages } = chat;

  async function load() {
    const q = els.search.value.trim();
    let items;
    try {
      items = await api.call("GET", "/conversations" + (q ? `?q=${encodeURIComponent(q)}` : ""));
    } catch (err) {
      errors.show(err);
      return;
    }
    els.list.replaceChildren(...items.map(item));
    els.listEmpty.hidden = items.length > 0;
    els.listEmpty.textContent = q ? "No conversation has that in its title." : "No conversations yet.";
    const current = items.find((c) => c.id === state.conversation);
    if (current) setTitle(current.title);
  }

  function item(c) {
    const li = h("li", "conversation");
    li.dataset.id = c.id;
    const link = h("a", "conversation-link", untitled(c));
    link.href = `${pages}/chat/${encodeURIComponent(c.id)}`;
    if (c.id === state.conversation) link.setAttribute("aria-current", "page");
    const rename = h("button", "small link-button", "Rename");
    rename.type = "button";
    rename.append(h("span", "visually-hidden", ` “${untitled(c)}”`));
    rename.addEventListener("click", () => startRename(li, c));
    const remove = h("button", "small link-button danger-link", "Delete");
    remove.type = "button";
    remove.append(h("span", "visually-hidden", ` “${untitled(c)}”`));
    remove.addEventListener("click", () => deleteConversation(c));
    const actions = h("span", "conversation-actions");
    actions.append(rename, remove);
    li.append(link, actions);
    return li;
  }

  /** Swap the list item for a small form; Escape or Cancel puts it back. */
  function startRename(li, c) {
    const form = h("form", "rename-form");
    const id = `rename-${c.id}`;
    const label = h("label", "visually-hidden", `New title for “${untitled(c)}”`);
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
      const fresh = item(c);
      li.replaceWith(fresh);
      fresh.querySelector("button").focus();
    };
    cancel.addEventListener("click", restore);
    input.addEventListener("keydown", (e) => {
      // Stop here so the page-wide Escape (stop / cancel edit) does not fire too.
      if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); restore(); }
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const title = input.value.trim();
      if (!title) { input.setAttribute("aria-invalid", "true"); input.focus(); return; }
      try {
        const updated = await api.call("PATCH", `/conversations/${encodeURIComponent(c.id)}`, { title });
        const fresh = item(updated);
        li.replaceWith(fresh);
        if (updated.id === state.conversation) setTitle(updated.title);
        fresh.querySelector("a").focus();
      } catch (err) {
        errors.show(err);
      }
    });
    form.append(label, input, save, cancel);
    li.replaceChildren(form);
    input.focus();
    input.select();
  }

  async function deleteConversation(c) {
    if (!window.confirm(`Delete “${untitled(c)}”? Its messages are removed for good.`)) return;
    try {
      await api.call("DELETE", `/conversations/${encodeURIComponent(c.id)}`);
    } catch (err) {
      errors.show(err);
      return;
    }
    if (c.id === state.conversation) newChat();
    await load();
    els.newChat.focus();
  }

  function setTitle(title) {
    els.title.textContent = title || "New chat";
    document.title = `${title || "Chat"} · ChatGrid`;
  }

  function newChat() {
    if (state.stream) chat.send.stop();
    state.conversation = "";
    state.messages = [];
    state.editing = false;
    history.pushState(null, "", `${pages}/chat`);
    setTitle("");
    chat.choices.chooseCollections([]);
    chat.log.render();
    errors.clear();
    for (const link of els.list.querySelectorAll("a[aria-current]")) link.removeAttribute("aria-current");
    els.prompt.value = "";
    els.prompt.focus();
  }

  /** Load the page's conversation (from the URL) into the log. */
  async function open() {
    if (!state.conversation) { chat.log.render(); return; }
    try {
      const data = await api.call("GET", `/conversations/${encodeURIComponent(state.conversation)}`);
      state.messages = data.messages;
      setTitle(data.conversation.title);
      if (data.conversation.model) chat.choices.selectModel(data.conversation.model);
      chat.choices.chooseCollections(data.conversation.collection_ids || []);
    } catch (err) {
      state.messages = [];
      errors.show(err);
    }
    chat.log.render();
  }

  els.newChat.addEventListener("click", newChat);
  let searchTimer = 0;
  els.search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(load, 200);
  });

  return { load, open, newChat, setTitle };
}
