// Copy buttons: a whole answer (its Markdown, as the model wrote it) and each
// code block (its text). The buttons are drawn with the message; the click is
// handled once for the whole log.

import { h } from "./dom.js";

/** A "Copy" button for the answer, and one in each finished code block. */
export function addCopyButtons(article, body, meta, m) {
  if (m.role !== "assistant" || m.status === "streaming" || !m.content) return;
  const whole = h("button", "copy small", "Copy");
  whole.type = "button";
  whole.dataset.copyText = "answer";
  whole.setAttribute("aria-label", "Copy the answer");
  meta.append(whole);
  for (const pre of body.querySelectorAll("pre")) {
    const code = h("button", "copy copy-code small", "Copy code");
    code.type = "button";
    code.dataset.copyText = "code";
    // Outside the block: code blocks keep their light palette in the dark theme.
    (pre.closest(".code-block") || pre).before(code);
  }
}

async function writeText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Not a secure context (plain http on a LAN address): the older way.
    const area = h("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.append(area);
    area.select();
    const done = document.execCommand("copy");
    area.remove();
    return done;
  }
}

/** Handle every copy button in `log`; `messageOf(article)` gives the message drawn there. */
export function listenForCopies(log, messageOf) {
  log.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-copy-text]");
    if (!button) return;
    const article = button.closest("article");
    let text = "";
    if (button.dataset.copyText === "answer") {
      text = (messageOf(article) || {}).content || "";
    } else {
      const block = button.nextElementSibling;
      const pre = block && (block.matches("pre") ? block : block.querySelector("pre"));
      text = pre ? pre.textContent : "";
    }
    const label = button.textContent;
    button.textContent = (await writeText(text)) ? "Copied" : "Copy failed";
    setTimeout(() => { button.textContent = label; }, 1500);
  });
}
