// Runs in <head>, before the stylesheet paints anything: puts the remembered
// theme ("light" or "dark", chosen with the top bar's toggle) on <html>, so a
// reload never flashes the other one. With no choice remembered, the CSS
// follows the system's prefers-color-scheme. console.js owns the toggle.
"use strict";
try {
  const theme = window.localStorage.getItem("chatgrid-theme");
  if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
} catch {
  // Storage is blocked (private mode, policy): follow the system.
}
