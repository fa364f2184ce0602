// The composer's choices: which model answers, and which document collections
// it may answer from.

import { h } from "./dom.js";

export function createChoices(chat) {
  const { els, api, errors } = chat;

  /** Pick model `id` if the org allows it; otherwise leave the choice alone. */
  function selectModel(id) {
    if ([...els.model.options].some((o) => o.value === id)) els.model.value = id;
  }

  async function loadModels() {
    try {
      const data = await api.call("GET", "/models");
      els.model.replaceChildren(...data.models.map((id) => {
        const option = h("option", "", id);
        option.value = id;
        return option;
      }));
      if (data.default) selectModel(data.default);
      if (data.problem) {
        // Nothing can be sent right now (trial over, no working key, …): say why at once.
        errors.show({ message: data.problem.message, code: data.problem.code || "" });
      } else if (!data.models.length) {
        errors.show({
          message: "No model is available to your organization right now. Ask an admin to check the Key and Limits & models pages.",
          status: 0,
        });
      }
    } catch (err) {
      errors.show(err);
    }
  }

  async function loadCollections() {
    let items = [];
    try {
      items = await api.call("GET", "/collections");
    } catch (err) {
      errors.show(err);
    }
    els.collections.replaceChildren(...items.map((c) => {
      const label = h("label", "checkbox");
      const box = h("input");
      box.type = "checkbox";
      box.name = "collection_ids";
      box.value = c.id;
      const scope = c.scope === "private" ? "private" : "shared with the org";
      label.append(box, h("span", "", c.name), h("span", "muted small", ` (${scope}, ${c.documents} doc${c.documents === 1 ? "" : "s"})`));
      return label;
    }));
    els.collectionsEmpty.hidden = items.length > 0;
  }

  function chosenCollections() {
    return [...els.collections.querySelectorAll("input:checked")].map((box) => box.value);
  }

  /** Tick exactly these collections (a conversation's own choice; [] for a new chat). */
  function chooseCollections(ids) {
    const wanted = new Set(ids);
    for (const box of els.collections.querySelectorAll("input[type=checkbox]")) {
      box.checked = wanted.has(box.value);
    }
  }

  return { selectModel, loadModels, loadCollections, chosenCollections, chooseCollections };
}
