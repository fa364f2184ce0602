// The payment method page: Stripe.js's card form, saved as a SetupIntent.
// ChatGrid asks for the SetupIntent, Stripe.js sends the card to Stripe, and
// ChatGrid is told which SetupIntent succeeded (the setup_intent.succeeded
// webhook tells it too, in case this page is closed before it can).
"use strict";

(() => {
  const form = document.getElementById("card-form");
  if (!form || typeof window.Stripe !== "function") return;
  const status = document.getElementById("card-status");
  const button = form.querySelector("button[type=submit]");
  const api = `/api/orgs/${encodeURIComponent(form.dataset.org)}/payment-method`;
  const stripe = window.Stripe(form.dataset.key);
  const card = stripe.elements().create("card");
  card.mount("#card-element");

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        "Content-Type": "application/json",
        "X-CSRF-Token": form.dataset.csrf,
      },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const message = data && data.error && data.error.message;
      throw new Error(message || `The server answered ${response.status}.`);
    }
    return data;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    status.textContent = "Saving the card with Stripe…";
    try {
      const setup = await post(`${api}/setup`, {});
      const result = await stripe.confirmCardSetup(setup.client_secret, {
        payment_method: { card },
      });
      if (result.error) {
        throw new Error(result.error.message || "Stripe did not save the card.");
      }
      await post(api, { setup_intent: result.setupIntent.id });
      location.assign(`${location.pathname}?notice=card_saved`);
    } catch (error) {
      status.textContent = error.message;
      button.disabled = false;
    }
  });
})();
