// Export and share on the chat page: download the open conversation as
// Markdown or JSON, and share it read-only with the org (or stop sharing).
// Kept apart from chat.js: it only reads the page's conversation from the
// URL, and follows it when the title changes (a conversation opened, made or
// left), so chat.js needs to know nothing about it.

const app = document.getElementById("chat-app");
const heading = document.getElementById("chat-title");

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

if (app && heading) {
  const org = app.dataset.org;
  const csrf = app.dataset.csrf;
  const base = `/api/orgs/${encodeURIComponent(org)}/conversations`;
  const chatPath = `/orgs/${org}/chat/`;

  const tools = el("div", { class: "share-tools small", role: "group", "aria-label": "Export and share" });
  const markdown = el("a", { download: "" }, "Export Markdown");
  const json = el("a", { download: "" }, "Export JSON");
  const toggle = el("button", { type: "button", class: "small" }, "Share with org");
  const link = el("a", { hidden: "" }, "Shared link");
  const copy = el("button", { type: "button", class: "small", hidden: "" }, "Copy link");
  const status = el("span", { class: "muted", role: "status", "aria-live": "polite" });
  tools.append(markdown, " · ", json, " · ", toggle, " ", link, " ", copy, " ", status);
  tools.hidden = true;
  heading.after(tools);

  let current = "";
  let shared = null;

  const conversationId = () =>
    location.pathname.startsWith(chatPath)
      ? decodeURIComponent(location.pathname.slice(chatPath.length).split("/")[0])
      : "";

  async function call(method, path) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrf;
    const response = await fetch(path, { method, headers, credentials: "same-origin" });
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      throw new Error((body && body.error && body.error.message) || `HTTP ${response.status}`);
    }
    return response.status === 204 ? null : response.json();
  }

  function show(share) {
    shared = share;
    toggle.textContent = share ? "Stop sharing" : "Share with org";
    toggle.setAttribute("aria-pressed", share ? "true" : "false");
    link.hidden = copy.hidden = !share;
    if (share) link.href = share.url;
  }

  async function sync() {
    const id = conversationId();
    if (id === current) return;
    current = id;
    status.textContent = "";
    tools.hidden = !id;
    show(null);
    if (!id) return;
    const path = `${base}/${encodeURIComponent(id)}`;
    markdown.href = `${path}/export.md`;
    json.href = `${path}/export.json`;
    try {
      const state = await call("GET", `${path}/share`);
      if (current === id) show(state.share);
    } catch (err) {
      if (current === id) status.textContent = err.message;
    }
  }

  toggle.addEventListener("click", async () => {
    const id = current;
    if (!id) return;
    const path = `${base}/${encodeURIComponent(id)}/share`;
    toggle.disabled = true;
    try {
      if (shared) {
        await call("DELETE", path);
        show(null);
        status.textContent = "Sharing stopped: the link no longer opens.";
      } else {
        show(await call("POST", path));
        status.textContent = "Shared read-only with your organization's members.";
      }
    } catch (err) {
      status.textContent = err.message;
    } finally {
      toggle.disabled = false;
    }
  });

  copy.addEventListener("click", async () => {
    if (!shared) return;
    try {
      await navigator.clipboard.writeText(new URL(shared.url, location.origin).href);
      status.textContent = "Link copied.";
    } catch {
      status.textContent = new URL(shared.url, location.origin).href;
    }
  });

  new MutationObserver(() => sync()).observe(heading, { childList: true, characterData: true, subtree: true });
  window.addEventListener("popstate", () => sync());
  sync();
}
