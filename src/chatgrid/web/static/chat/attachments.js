// Attachments in the composer: drop, paste or pick files (several at once).
// Each file is sent on its own to the conversation's attachments route, so one
// refusal (too large, wrong type, too many) names its file and the others still
// go. Documents are read into the conversation's own collection (shown until
// ready); images wait for the next message. A conversation is made first when
// the page has none yet.

import { ApiError } from "./api.js";
import { h } from "./dom.js";

const POLL_MS = 1500;

export function createAttachments(chat) {
  const { els, state, api, errors, pages } = chat;
  const { org, csrf } = document.getElementById("chat-app").dataset;
  const base = `/api/orgs/${encodeURIComponent(org)}/conversations/`;

  const input = h("input");
  input.type = "file";
  input.multiple = true;
  input.id = "attach-input";
  input.className = "visually-hidden";
  input.setAttribute("aria-label", "Attach files");
  const button = h("button", "attach-button", "Attach files");
  button.type = "button";
  const list = h("ul", "attachments");
  list.id = "attachments";
  list.setAttribute("aria-label", "Attached files");
  list.setAttribute("aria-live", "polite");
  list.hidden = true;
  els.prompt.before(list);
  els.send.parentElement.prepend(button, input);

  let timer = 0;

  /** One file to the server; the conversation is made first if needed. */
  async function upload(file) {
    const body = new FormData();
    body.append("files", file, file.name);
    const response = await fetch(`${base}${encodeURIComponent(state.conversation)}/attachments`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
      body,
    });
    if (!response.ok) {
      const failure = await response.json().catch(() => null);
      throw new ApiError(response.status, failure, response.headers.get("Retry-After"));
    }
  }

  async function ensureConversation() {
    if (state.conversation) return;
    const created = await api.call("POST", "/conversations", { title: "New chat", model: els.model.value || null });
    state.conversation = created.id;
    history.pushState(null, "", `${pages}/chat/${encodeURIComponent(created.id)}`);
    chat.conversations.load();
  }

  async function add(files) {
    if (!files.length) return;
    errors.clear();
    try {
      await ensureConversation();
    } catch (err) {
      errors.show(err);
      return;
    }
    for (const file of files) {
      try {
        await upload(file);
      } catch (err) {
        errors.show({ ...err, code: err.code, status: err.status, message: `${file.name}: ${err.message}` });
      }
    }
    await sync();
    els.prompt.focus();
  }

  function describe(a) {
    if (a.kind === "image") return "goes with your next message";
    if (a.status === "ready") return "ready";
    if (a.status === "failed") return "could not be read";
    return "reading…";
  }

  function show(items) {
    list.replaceChildren();
    for (const a of items) {
      const item = h("li", `attachment attachment-${a.kind}`);
      item.dataset.status = a.status;
      item.append(h("span", "attachment-name", a.filename), h("span", "attachment-state", ` · ${describe(a)}`));
      if (a.kind === "image") {
        const remove = h("button", "link-button", "Remove");
        remove.type = "button";
        remove.setAttribute("aria-label", `Remove ${a.filename}`);
        remove.addEventListener("click", async () => {
          try {
            await api.call("DELETE", `/conversations/${encodeURIComponent(state.conversation)}/attachments/${encodeURIComponent(a.id)}`);
          } catch (err) {
            errors.show(err);
          }
          sync();
        });
        item.append(remove);
      }
      list.append(item);
    }
    list.hidden = items.length === 0;
  }

  /** Show what this conversation has attached: its documents and its unsent images. */
  async function sync() {
    clearTimeout(timer);
    const id = state.conversation;
    if (!id) { show([]); return; }
    let items = [];
    try {
      items = await api.call("GET", `/conversations/${encodeURIComponent(id)}/attachments`);
    } catch (err) {
      // The conversation's own errors are shown by the page; a busy server is asked again.
      const refused = err instanceof ApiError && err.status < 500;
      if (!refused && state.conversation === id) timer = setTimeout(sync, POLL_MS);
      return;
    }
    if (state.conversation !== id) return;
    show(items.filter((a) => a.kind === "document" || a.status === "waiting"));
    if (items.some((a) => a.kind === "document" && a.status !== "ready" && a.status !== "failed")) {
      timer = setTimeout(sync, POLL_MS);
    }
  }

  button.addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    const files = Array.from(input.files || []);
    input.value = "";
    add(files);
  });
  els.prompt.addEventListener("paste", (e) => {
    const files = Array.from((e.clipboardData && e.clipboardData.files) || []);
    if (files.length) { e.preventDefault(); add(files); }
  });
  els.form.addEventListener("dragover", (e) => {
    if (e.dataTransfer && Array.from(e.dataTransfer.types).includes("Files")) {
      e.preventDefault();
      els.form.classList.add("dropping");
    }
  });
  els.form.addEventListener("dragleave", () => els.form.classList.remove("dropping"));
  els.form.addEventListener("drop", (e) => {
    els.form.classList.remove("dropping");
    const files = Array.from((e.dataTransfer && e.dataTransfer.files) || []);
    if (files.length) { e.preventDefault(); add(files); }
  });
  els.newChat.addEventListener("click", () => sync());

  sync();
  return { sync };
}
