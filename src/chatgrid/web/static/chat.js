// The chat workspace: conversations, streaming answers, stop, regenerate, edit.
// Each part lives in static/chat/; this entry finds the page's elements, builds
// the shared `chat` object and starts loading. Parts reach each other through
// `chat` at call time (chat.send.send, chat.log.render, ...), so the order they
// are created in does not matter.
//
// Model output is untrusted: only the server's sanitized `html` is ever put
// into innerHTML (chat/messages.js); every other string goes through textContent.

import { createApi } from "./chat/api.js";
import { createChoices } from "./chat/choices.js";
import { createComposer } from "./chat/composer.js";
import { createConversations } from "./chat/conversations.js";
import { createErrorBox } from "./chat/errors.js";
import { createFollow } from "./chat/follow.js";
import { createLog } from "./chat/log.js";
import { createSend } from "./chat/send.js";

function start(app) {
  const $ = (id) => document.getElementById(id);
  const els = {
    list: $("conversations"), listEmpty: $("conversations-empty"), search: $("conversation-search"),
    newChat: $("new-chat"), title: $("chat-title"), log: $("messages"), empty: $("messages-empty"),
    error: $("chat-error"), form: $("composer"), prompt: $("prompt"), model: $("model"),
    collections: $("collections"), collectionsEmpty: $("collections-empty"),
    send: $("send"), stop: $("stop"), editing: $("editing"), cancelEdit: $("cancel-edit"),
    jump: $("jump-latest"),
  };
  const state = {
    conversation: app.dataset.conversation || "",
    messages: [],
    stream: null, // {controller, article, answer} while an answer streams
    editing: false,
  };
  const chat = {
    els,
    state,
    pages: `/orgs/${encodeURIComponent(app.dataset.org)}`,
    api: createApi(app.dataset.org, app.dataset.csrf),
    errors: createErrorBox(els.error),
  };
  chat.follow = createFollow(chat);
  chat.log = createLog(chat);
  chat.choices = createChoices(chat);
  chat.conversations = createConversations(chat);
  chat.send = createSend(chat);
  chat.composer = createComposer(chat);

  window.addEventListener("popstate", () => window.location.reload());
  els.prompt.focus(); // typing starts at once, no Tab needed
  Promise.all([chat.choices.loadModels(), chat.choices.loadCollections()])
    .then(chat.conversations.open)
    .then(chat.conversations.load);
}

const app = document.getElementById("chat-app");
if (app) start(app);
