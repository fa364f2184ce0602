// Talking to the org's JSON API: same-origin cookies, the CSRF header on every
// change, and refusals turned into ApiError so callers can tell them apart
// from a dropped connection.

/** The server refused: its status, its error code and any Retry-After. */
export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || "";
    this.retryAfter = retryAfter;
  }
}

async function failure(response) {
  const body = await response.json().catch(() => null);
  return new ApiError(response.status, body, response.headers.get("Retry-After"));
}

/** A client for `/api/orgs/<org>`; every method throws ApiError on a non-2xx answer. */
export function createApi(org, csrf) {
  const base = `/api/orgs/${encodeURIComponent(org)}`;

  /** One JSON request; resolves to the parsed body, or null for 204. */
  async function call(method, path, body) {
    const headers = { Accept: "application/json" };
    const init = { method, headers, credentials: "same-origin" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrf;
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(base + path, init);
    if (!response.ok) throw await failure(response);
    return response.status === 204 ? null : response.json();
  }

  /** POST `body` and hand back the open text/event-stream response, for sse.js to read. */
  async function stream(path, body, signal) {
    const response = await fetch(base + path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
      signal,
    });
    if (!response.ok) throw await failure(response);
    return response;
  }

  return { call, stream };
}
