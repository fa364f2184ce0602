// The prompt library in the composer: "/" at the start of an empty message
// lists the member's saved prompts and the org's shared ones, filtered by what
// follows the "/". Up/Down move, Enter or Tab (or a click) puts the prompt's
// text in the message box, Escape closes the list. The message box keeps focus
// and names the highlighted option with aria-activedescendant (a listbox of
// options, as the ARIA combobox pattern has it).
//
// Prompts are fetched on the first "/" and again after the tab regains focus,
// so edits on the Prompts page show up. Prompt text is only ever set as
// textContent or as the textarea's value, never as HTML.

const COMMAND = /^\/([a-z0-9_-]{0,40})$/i;
const PREVIEW = 90;

function start(app, box, form) {
  const stylesheet = document.createElement("link");
  stylesheet.rel = "stylesheet";
  stylesheet.href = "/static/prompts.css";
  document.head.append(stylesheet);

  const list = document.createElement("ul");
  list.id = "prompt-library";
  list.className = "prompt-library";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "Saved prompts");
  list.hidden = true;
  const status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  box.before(list);
  list.after(status);
  // The composer's hint (its aria-describedby) says the feature is there.
  document.getElementById("prompt-hint")?.append(" Type / at the start for saved prompts.");
  box.setAttribute("aria-autocomplete", "list");
  box.setAttribute("aria-controls", list.id);

  let prompts = null; // null: not loaded (or stale)
  let loading = null;
  let shown = [];
  let active = -1;
  let inserting = false;

  function load() {
    if (prompts) return Promise.resolve(prompts);
    if (!loading) {
      loading = fetch(`/api/orgs/${app.dataset.org}/prompts`, {
        credentials: "same-origin", headers: { Accept: "application/json" },
      })
        .then((r) => (r.ok ? r.json() : []))
        .catch(() => [])
        .then((found) => { prompts = found; loading = null; return found; });
    }
    return loading;
  }

  function matches(query) {
    const q = query.toLowerCase();
    const first = prompts.filter((p) => p.name.startsWith(q));
    const then = prompts.filter((p) => !p.name.startsWith(q) && p.name.includes(q));
    return first.concat(then);
  }

  function close() {
    if (list.hidden) return;
    list.hidden = true;
    list.replaceChildren();
    shown = [];
    active = -1;
    box.removeAttribute("aria-activedescendant");
    status.textContent = "";
  }

  function highlight(index) {
    active = index;
    list.querySelectorAll("[role=option]").forEach((li, i) => {
      li.setAttribute("aria-selected", String(i === index));
      if (i === index) {
        box.setAttribute("aria-activedescendant", li.id);
        li.scrollIntoView({ block: "nearest" });
      }
    });
  }

  function option(prompt, index) {
    const li = document.createElement("li");
    li.id = `prompt-option-${index}`;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", "false");
    const name = document.createElement("span");
    name.className = "prompt-option-name";
    name.textContent = `/${prompt.name}`;
    li.append(name);
    if (prompt.scope === "org") {
      const shared = document.createElement("span");
      shared.className = "prompt-option-scope";
      shared.textContent = "shared";
      li.append(" ", shared);
    }
    const preview = document.createElement("span");
    preview.className = "prompt-option-preview";
    const text = prompt.text.replace(/\s+/g, " ").trim();
    preview.textContent = text.length > PREVIEW ? `${text.slice(0, PREVIEW)}…` : text;
    li.append(preview);
    // mousedown would move focus out of the message box; keep it there.
    li.addEventListener("mousedown", (e) => e.preventDefault());
    li.addEventListener("click", () => insert(prompt));
    return li;
  }

  function show(query) {
    shown = matches(query);
    if (!shown.length) { close(); return; }
    list.replaceChildren(...shown.map(option));
    list.hidden = false;
    highlight(0);
    const n = shown.length;
    status.textContent = `${n} saved prompt${n === 1 ? "" : "s"}; arrow keys to choose, Enter to insert.`;
  }

  function insert(prompt) {
    inserting = true;
    box.value = prompt.text;
    box.setSelectionRange(box.value.length, box.value.length);
    close();
    box.dispatchEvent(new Event("input", { bubbles: true }));
    inserting = false;
    box.focus();
  }

  box.addEventListener("input", () => {
    if (inserting) return;
    const typed = COMMAND.exec(box.value);
    if (!typed) { close(); return; }
    const query = typed[1];
    load().then(() => {
      const still = COMMAND.exec(box.value); // the member may have typed on meanwhile
      if (still && still[1] === query) show(query);
    });
  });
  box.addEventListener("blur", close);
  window.addEventListener("focus", () => { prompts = null; });

  // Capture on the form: runs before the composer's own keys (Enter sends,
  // Escape stops), so while the list is open these keys belong to it.
  form.addEventListener("keydown", (e) => {
    if (list.hidden || e.target !== box || e.isComposing) return;
    let handled = true;
    if (e.key === "ArrowDown") highlight((active + 1) % shown.length);
    else if (e.key === "ArrowUp") highlight((active - 1 + shown.length) % shown.length);
    else if ((e.key === "Enter" || e.key === "Tab") && !e.shiftKey) insert(shown[active]);
    else if (e.key === "Escape") close();
    else handled = false;
    if (handled) { e.preventDefault(); e.stopPropagation(); }
  }, true);
}

const app = document.getElementById("chat-app");
const box = document.getElementById("prompt");
const form = document.getElementById("composer");
if (app && box && form) start(app, box, form);
