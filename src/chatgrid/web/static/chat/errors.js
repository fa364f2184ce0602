// Errors said for a person: what happened and what to do next, shown in the
// page's alert box. The server's own message is kept as a detail.

import { h } from "./dom.js";

/** A plain-language explanation of an ApiError (or any {code, status, message}). */
export function explain(err) {
  const code = err.code || "";
  const status = err.status || 0;
  const seconds = parseInt(err.retryAfter || "", 10);
  if (code === "trial_ended") {
    return "Your organization's free trial has ended. To continue, an admin chooses a plan on the organization's Overview page; your history stays readable meanwhile.";
  }
  if (code === "insufficient_quota" || status === 402 || /allowance|quota|budget|cap_/.test(code)) {
    return "The shared-credit allowance for this month (or your own spending cap) is used up. An admin can raise the cap or allow overage; the allowance renews next month.";
  }
  if (/^model_/.test(code)) {
    return "This model is not allowed in your organization. Pick another model in the list.";
  }
  if (code === "no_upstream_credential") {
    return "Your organization has no working OpenAI key connected (an admin may have revoked it), so ChatGrid cannot reach the model. Ask an admin to connect a key on the Key page.";
  }
  if (/key|credential/.test(code)) {
    return "Your organization's OpenAI key was rejected or revoked, so ChatGrid cannot reach the model. Ask an admin to connect a working key on the Key page.";
  }
  if (code === "org_suspended") {
    return "Your organization is suspended, so no calls can be made. Contact whoever runs this ChatGrid.";
  }
  if (code === "signin_required" || status === 401) {
    return "Your session has ended. Sign in again to continue.";
  }
  if (status === 429 || /rate_limit/.test(code)) {
    const wait = Number.isFinite(seconds) ? ` Try again in ${seconds} second${seconds === 1 ? "" : "s"}.` : " Wait a moment and try again.";
    return "You are over a rate limit." + wait;
  }
  if (status === 404) return "This conversation no longer exists.";
  if (status >= 500 || /upstream/.test(code)) {
    return "The model's service did not answer properly. Try again in a moment.";
  }
  return err.message || "Something went wrong.";
}

/** show(err) / clear() for the page's role="alert" box. */
export function createErrorBox(box) {
  function show(err) {
    box.replaceChildren();
    const friendly = explain(err);
    box.append(h("strong", "", friendly));
    // status 0 marks our own messages, which are already friendly.
    if (err.message && err.message !== friendly && err.status !== 0) {
      box.append(h("span", "error-detail", ` (${err.message})`));
    }
    box.hidden = false;
  }

  function clear() {
    box.hidden = true;
    box.replaceChildren();
  }

  return { show, clear };
}
