// Small progressive enhancements; every page works without them.
"use strict";

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  if (!field) return;
  field.select();
  const done = () => {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  };
  if (navigator.clipboard) {
    navigator.clipboard.writeText(field.value).then(done, () => {});
  }
});

document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// The theme toggle: pressed means dark. The choice is remembered in localStorage
// (theme.js applies it before the next page paints); until one is made, the page
// follows the system's prefers-color-scheme, and so does the button.
(() => {
  const button = document.getElementById("theme-toggle");
  if (!button) return;
  const root = document.documentElement;
  const system = window.matchMedia("(prefers-color-scheme: dark)");
  const isDark = () => (root.dataset.theme ? root.dataset.theme === "dark" : system.matches);
  const show = () => button.setAttribute("aria-pressed", String(isDark()));
  button.hidden = false;
  show();
  system.addEventListener("change", show);
  button.addEventListener("click", () => {
    const theme = isDark() ? "light" : "dark";
    root.dataset.theme = theme;
    try { window.localStorage.setItem("chatgrid-theme", theme); } catch { /* not remembered */ }
    show();
  });
})();

// The drawer: on a phone the page's left column (the org's pages, and on the chat
// page its conversations) slides in behind the Menu button. Escape, the backdrop
// and "Close menu" close it and give focus back to the button.
(() => {
  const menu = document.getElementById("menu-button");
  const drawer = document.getElementById("drawer");
  const backdrop = document.getElementById("drawer-backdrop");
  const close = document.getElementById("drawer-close");
  if (!menu || !drawer || !backdrop || !close) return;
  const isOpen = () => menu.getAttribute("aria-expanded") === "true";
  const setOpen = (open) => {
    document.body.classList.toggle("drawer-open", open);
    menu.setAttribute("aria-expanded", String(open));
    backdrop.hidden = !open;
    if (open) close.focus();
    else if (drawer.contains(document.activeElement)) menu.focus();
  };
  menu.addEventListener("click", () => setOpen(!isOpen()));
  close.addEventListener("click", () => setOpen(false));
  backdrop.addEventListener("click", () => setOpen(false));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && isOpen()) {
      event.preventDefault();
      event.stopImmediatePropagation();
      setOpen(false);
      menu.focus();
    }
  });
  // Picking a conversation or a page is done with the drawer.
  drawer.addEventListener("click", (event) => {
    if (event.target.closest("a[href]") && isOpen()) setOpen(false);
  });
})();
