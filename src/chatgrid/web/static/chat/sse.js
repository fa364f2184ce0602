// Reading a text/event-stream response body. fetch() is used rather than
// EventSource because the request is a POST carrying the CSRF header.

/** Call onEvent({name, payload}) for each event until the stream ends. */
export async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer = (buffer + decoder.decode(value, { stream: true })).replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      onEvent(parseEvent(block));
    }
  }
}

/** One event block: its name and its JSON data (null if absent or not JSON). */
export function parseEvent(block) {
  let name = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") name = value;
    else if (field === "data") data.push(value);
  }
  let payload = null;
  try { payload = data.length ? JSON.parse(data.join("\n")) : null; } catch { payload = null; }
  return { name, payload };
}
