// The trainings (/api/train, /api/sweep) answer with server-sent events: how they are opened and read, and why one
// failed, said the same way for each: refused (the server's one-line {"error"}), not answered, or ended before its
// last event.
export class Refused extends Error {}
export class StreamEnded extends Error {}

export const streamFailure = (error) => error instanceof Refused ? `refused: ${error.message}`
  : error instanceof StreamEnded ? error.message
  : error instanceof TypeError ? "the server did not answer (is torchmomentum explore still running?)" : `the stream ended: ${error.message}`;

// The stream's response, or a Refused with the server's reason.
export async function openStream(path, params, signal) {
  const response = await fetch(`${path}?${new URLSearchParams(params)}`, { signal });
  if (response.ok) return response;
  const text = await response.text();
  let reason;
  try {
    reason = JSON.parse(text).error;
  } catch {
    reason = `HTTP ${response.status}`;
  }
  throw new Refused(reason);
}

// Server-sent events read off a response: blocks of "event:" and "data:" lines, each ended by a blank line, each
// handed to onEvent(kind, data) ("message" when it has no name) until onEvent says it was the last by returning
// true. A stream that ends before is a StreamEnded.
export async function readStream(response, onEvent) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new StreamEnded("the stream ended early");
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const kind = /^event: (.*)$/m.exec(block)?.[1] ?? "message", data = JSON.parse(/^data: (.*)$/m.exec(block)[1]);
      if (onEvent(kind, data)) return; // the server ends the stream after its last event
    }
  }
}

