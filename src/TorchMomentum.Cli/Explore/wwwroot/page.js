// What every view of the explore page shares: the element lookup, the server's limits, the API's requests and how
// their failures are said, the plots' configuration and colours, a click's data coordinates. None of the page's
// modules computes an optimizer step.

export const $ = (id) => document.getElementById(id);
// Gradient descent and momentum on the bowl; every contestant's colour joins them from /api/limits (ContestantKinds).
export const colors = { gd: "#d62728", momentum: "#1f77b4" };
export const plotConfig = { displayModeBar: false, responsive: true };
export const shortly = (value) => Number(value.toPrecision(3));
// The server's /api/limits once it answered (explore.js asks at the start), else null.
export const server = { limits: null };

// ---- requests and their failures ---------------------------------------------------------------------------
// Every request that fails says so on the page, in #error (role="alert"): one line per part of the page
// (bowl, rate map, training, limits, ...), cleared when that part's next request succeeds.
const failures = new Map();
export function report(part, message) {
  if (message) failures.set(part, message); else failures.delete(part);
  $("error").textContent = [...failures.values()].join("\n");
  $("error").hidden = failures.size === 0;
}

// The API's answer as JSON; an Error saying what went wrong otherwise: no answer (the server stopped), an
// answer that is not JSON, or the server's own one-line {"error"} with its status.
// A request given an AbortSignal is dropped when it fires (its AbortError thrown as it is).
export async function api(path, params = {}, signal = undefined) {
  let response, text;
  try {
    response = await fetch(`${path}?${new URLSearchParams(params)}`, { signal });
    text = await response.text();
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new Error(`the server did not answer ${path} (is torchmomentum explore still running?)`);
  }
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${path} answered HTTP ${response.status} with something other than JSON`);
  }
  if (!response.ok) throw new Error(`${path}: ${body?.error ?? `HTTP ${response.status}`}`);
  return body;
}

// An element is aria-busy while any of the page's work on it is pending (requests, a resize), counted per element.
const pending = new WeakMap();
export async function whileBusy(element, work) {
  pending.set(element, (pending.get(element) ?? 0) + 1);
  element.setAttribute("aria-busy", "true");
  try {
    return await work;
  } finally {
    const left = pending.get(element) - 1;
    pending.set(element, left);
    if (left === 0) element.removeAttribute("aria-busy");
  }
}

// Requests of one part of the page that follow each other (a slider sends one per move): a new one aborts the one
// before, so the server never computes an answer nobody will see, and only the newest answer is drawn. The part's
// element is aria-busy until it is drawn, or its failure said in #error under the part's name. Returns
// refresh(load, draw): load(signal) asks, draw(answer) draws.
export function newestOnly(part, element, failure) {
  let newest = null; // the newest request's AbortController
  return (load, draw) => {
    newest?.abort();
    const controller = newest = new AbortController();
    return whileBusy(element, (async () => {
      try {
        const answer = await load(controller.signal);
        if (controller !== newest) return;
        report(part, null);
        draw(answer);
      } catch (error) {
        if (controller === newest) report(part, `${failure}: ${error.message}`);
      }
    })());
  };
}

// Data coordinates under a mouse event on a plot whose margins and axis ranges the page sets itself: with
// margin.autoexpand off, nothing (legend, colour bar) moves the plot area, which is the element's box less
// the margins, and the axes are linear over their fixed ranges.
export function dataAt(event, plot, margin, xRange, yRange) {
  const box = plot.getBoundingClientRect();
  const fx = (event.clientX - box.left - margin.l) / (box.width - margin.l - margin.r);
  const fy = (event.clientY - box.top - margin.t) / (box.height - margin.t - margin.b);
  return { x: xRange[0] + fx * (xRange[1] - xRange[0]), y: yRange[1] - fy * (yRange[1] - yRange[0]) };
}
