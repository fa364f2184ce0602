// The documents page: collections, uploads, and each upload's progress until
// it is ready or failed (polled, since ingestion runs in the background).
// Every name and error from the server is shown with textContent.
"use strict";

(() => {
  const app = document.getElementById("documents-app");
  if (!app) return;

  const api = `/api/orgs/${encodeURIComponent(app.dataset.org)}`;
  const csrf = app.dataset.csrf;
  // Shared collections are curated by admins: a member gets no Upload or Delete there
  // (the server refuses them anyway), only a word on who can change it.
  const curator = app.dataset.curator === "yes";
  const canChange = (c) => c.scope !== "org" || curator;
  const list = document.getElementById("collections-list");
  const errorBox = document.getElementById("documents-error");
  const announcer = document.getElementById("documents-status");
  const form = document.getElementById("new-collection");
  const POLL_MS = 800;
  const polling = new Map(); // document id → timer

  function h(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined && text !== null) el.textContent = String(text);
    return el;
  }

  async function call(method, path, body) {
    const headers = { Accept: "application/json" };
    const init = { method, headers, credentials: "same-origin" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrf;
    if (body instanceof FormData) {
      init.body = body;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(api + path, init);
    if (!response.ok) {
      const data = await response.json().catch(() => null);
      const message = data && data.error && data.error.message;
      const err = new Error(message || `The server answered ${response.status}.`);
      err.status = response.status;
      throw err;
    }
    return response.status === 204 ? null : response.json();
  }

  function showError(err) {
    let text = err.message || "Something went wrong.";
    if (err.status === 413) text = "That file is too large to upload. " + text;
    errorBox.textContent = text;
    errorBox.hidden = false;
  }

  function clearError() {
    errorBox.hidden = true;
    errorBox.textContent = "";
  }

  function announce(text) {
    announcer.textContent = text;
  }

  function size(bytes) {
    if (bytes == null) return "—";
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  }

  // ---- collections ---------------------------------------------------------

  async function load() {
    let collections;
    try {
      collections = await call("GET", "/collections");
    } catch (err) {
      showError(err);
      return;
    }
    const sections = await Promise.all(collections.map(collectionView));
    list.replaceChildren(...sections);
    if (!collections.length) list.append(h("p", "muted", "No collections yet. Create one above, then upload documents into it."));
    list.setAttribute("aria-busy", "false");
  }

  async function collectionView(c) {
    const section = h("section", "card collection");
    section.dataset.id = c.id;
    const headingId = `collection-${c.id}`;
    section.setAttribute("aria-labelledby", headingId);
    const head = h("div", "page-head");
    const title = h("h2", "", c.name);
    title.id = headingId;
    title.append(" ", h("span", c.scope === "org" ? "badge ok" : "badge", c.scope === "org" ? "shared" : "private"));
    const remove = h("button", "danger small", "Delete collection");
    remove.type = "button";
    remove.append(h("span", "visually-hidden", ` ${c.name}`));
    remove.addEventListener("click", () => deleteCollection(c));
    if (canChange(c)) {
      head.append(title, remove);
      section.append(head, uploadForm(c));
    } else {
      head.append(title);
      section.append(head, h("p", "hint", "Shared with the organization: only an admin adds or removes its documents."));
    }

    const table = h("table", "dense documents");
    const caption = h("caption", "visually-hidden", `Documents in ${c.name}`);
    const thead = h("thead");
    const row = h("tr");
    for (const label of ["File", "Size", "Pages", "Status", ""]) {
      const th = h("th", "", label);
      th.scope = "col";
      if (!label) th.append(h("span", "visually-hidden", "Actions"));
      row.append(th);
    }
    thead.append(row);
    const tbody = h("tbody");
    table.append(caption, thead, tbody);
    section.append(table);
    let documents = [];
    try {
      documents = await call("GET", `/collections/${encodeURIComponent(c.id)}/documents`);
    } catch (err) {
      showError(err);
    }
    for (const d of documents) tbody.append(documentRow(d, canChange(c)));
    table.hidden = documents.length === 0;
    return section;
  }

  function uploadForm(c) {
    const upload = h("form", "row-form upload");
    const id = `file-${c.id}`;
    const field = h("div", "field");
    const label = h("label", "", `Upload to ${c.name}`);
    label.htmlFor = id;
    const input = h("input");
    input.type = "file";
    input.id = id;
    input.name = "file";
    input.accept = ".pdf,.docx,.md,.markdown,.txt,.text,.html,.htm";
    const hint = h("p", "hint", "PDF, DOCX, Markdown, text or HTML.");
    hint.id = `${id}-hint`;
    input.setAttribute("aria-describedby", hint.id);
    field.append(label, input, hint);
    const button = h("button", "primary", "Upload");
    button.type = "submit";
    upload.append(field, button);
    upload.addEventListener("submit", async (e) => {
      e.preventDefault();
      clearError();
      if (!input.files || !input.files.length) {
        showError(new Error("Choose a file to upload first."));
        input.focus();
        return;
      }
      const body = new FormData();
      body.append("file", input.files[0]);
      button.disabled = true;
      try {
        const d = await call("POST", `/collections/${encodeURIComponent(c.id)}/documents`, body);
        const section = upload.closest("section");
        const table = section.querySelector("table");
        table.hidden = false;
        table.querySelector("tbody").prepend(documentRow(d));
        input.value = "";
        announce(`${d.filename} uploaded; processing.`);
      } catch (err) {
        showError(err);
      } finally {
        button.disabled = false;
      }
    });
    return upload;
  }

  async function deleteCollection(c) {
    if (!window.confirm(`Delete the collection “${c.name}” and every document in it?`)) return;
    try {
      await call("DELETE", `/collections/${encodeURIComponent(c.id)}`);
      announce(`Collection ${c.name} deleted.`);
      await load();
      document.getElementById("collection-name").focus();
    } catch (err) {
      showError(err);
    }
  }

  // ---- documents -----------------------------------------------------------

  function documentRow(d, changeable = true) {
    const tr = h("tr", "document");
    tr.dataset.id = d.id;
    tr.append(h("td", "filename", d.filename), h("td", "num", size(d.size_bytes)), h("td", "num pages", d.pages ?? "—"));
    const status = h("td", "document-status");
    tr.append(status);
    const actions = h("td", "actions");
    const remove = h("button", "danger small", "Delete");
    remove.type = "button";
    remove.append(h("span", "visually-hidden", ` ${d.filename}`));
    remove.addEventListener("click", () => deleteDocument(d, tr));
    if (changeable) actions.append(remove);
    tr.append(actions);
    showStatus(tr, d);
    return tr;
  }

  function showStatus(tr, d) {
    tr.querySelector(".pages").textContent = d.pages ?? "—";
    const cell = tr.querySelector(".document-status");
    cell.replaceChildren();
    if (d.status === "ready") {
      cell.append(h("span", "badge ok", "ready"), h("span", "muted small", ` ${d.chunks_total ?? 0} passages`));
    } else if (d.status === "failed") {
      cell.append(h("span", "badge bad", "failed"), h("span", "document-error", ` ${d.error || "The file could not be read."}`));
    } else {
      const bar = h("progress");
      bar.max = 100;
      bar.value = Math.max(0, Math.min(100, d.progress || 0));
      bar.setAttribute("aria-label", `Processing ${d.filename}`);
      cell.append(bar, h("span", "small progress-text", ` ${d.status === "queued" ? "queued" : "processing"} ${bar.value}%`));
      watch(tr, d);
    }
  }

  function watch(tr, d) {
    if (polling.has(d.id)) return;
    const tick = async () => {
      polling.delete(d.id);
      if (!tr.isConnected) return;
      let fresh;
      try {
        fresh = await call("GET", `/documents/${encodeURIComponent(d.id)}`);
      } catch (err) {
        if (err.status === 404) { tr.remove(); return; }
        polling.set(d.id, setTimeout(tick, POLL_MS * 4));
        return;
      }
      showStatus(tr, fresh);
      if (fresh.status === "ready") announce(`${fresh.filename} is ready.`);
      if (fresh.status === "failed") announce(`${fresh.filename} failed: ${fresh.error || "unreadable"}.`);
    };
    polling.set(d.id, setTimeout(tick, POLL_MS));
  }

  async function deleteDocument(d, tr) {
    if (!window.confirm(`Delete “${d.filename}”? Its text and passages are removed too.`)) return;
    try {
      await call("DELETE", `/documents/${encodeURIComponent(d.id)}`);
      const section = tr.closest("section");
      tr.remove();
      clearTimeout(polling.get(d.id));
      polling.delete(d.id);
      announce(`${d.filename} deleted.`);
      if (section) section.querySelector("input[type=file]").focus();
    } catch (err) {
      showError(err);
    }
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearError();
    const name = form.elements.name.value.trim();
    if (!name) {
      form.elements.name.setAttribute("aria-invalid", "true");
      showError(new Error("Give the collection a name."));
      form.elements.name.focus();
      return;
    }
    form.elements.name.removeAttribute("aria-invalid");
    try {
      const created = await call("POST", "/collections", { name, scope: form.elements.scope.value });
      form.reset();
      announce(`Collection ${created.name} created.`);
      await load();
      const file = document.getElementById(`file-${created.id}`);
      if (file) file.focus();
    } catch (err) {
      showError(err);
    }
  });

  load();
})();
