// Drawing one message. Model output is untrusted: only the server's sanitized
// `html` field is ever put into innerHTML; the raw `content`, prompts,
// filenames and errors all go through textContent (see dom.js).

import { addCopyButtons } from "./copy.js";
import { h } from "./dom.js";
import { explain } from "./errors.js";

/** A new <article> for message `m`; `pages` is the org's page prefix, for citation links. */
export function messageView(m, pages) {
  const article = h("article", `message message-${m.role === "user" ? "user" : "assistant"}`);
  article.dataset.id = m.id || "";
  article.append(h("h2", "message-who", m.role === "user" ? "You" : "Assistant"));
  article.append(h("div", "message-body"));
  article.append(h("footer", "message-meta"));
  fill(article, m, pages);
  return article;
}

/** (Re)draw one message's body, usage, citations and status; called on every streamed delta. */
export function fill(article, m, pages) {
  const body = article.querySelector(".message-body");
  if (m.role === "assistant" && typeof m.html === "string") {
    body.innerHTML = m.html; // sanitized by the server; never `content`
  } else {
    body.textContent = m.content || "";
  }
  article.classList.toggle("is-streaming", m.status === "streaming");
  const meta = article.querySelector(".message-meta");
  meta.replaceChildren();
  if (m.role === "assistant") fillMeta(meta, m);
  addCopyButtons(article, body, meta, m);
  const old = article.querySelector(".citations");
  if (old) old.remove();
  if (m.citations && m.citations.length) {
    article.insertBefore(citations(m.citations, pages), meta);
  }
}

function fillMeta(meta, m) {
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

/** The conversation shown now, for the passage page's way back to it. */
function backTo() {
  const open = location.pathname.split("/chat/")[1];
  return open ? `?conversation=${encodeURIComponent(decodeURIComponent(open))}` : "";
}

function citations(items, pages) {
  const nav = h("nav", "citations");
  nav.setAttribute("aria-label", "Sources");
  const list = h("ol");
  for (const c of items) {
    const link = h("a", "citation", `[${c.n}] ${c.filename}${c.page ? `, p. ${c.page}` : ""}`);
    link.href = `${pages}/documents/${encodeURIComponent(c.document_id)}/passages/${encodeURIComponent(c.chunk_id)}${backTo()}`;
    const item = h("li");
    item.append(link);
    if (c.heading) item.append(h("span", "muted small", ` — ${c.heading}`));
    list.append(item);
  }
  nav.append(list);
  return nav;
}
