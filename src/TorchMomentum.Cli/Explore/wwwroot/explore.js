// The explore page. It draws and animates; every number it shows comes from the server's API, which runs
// MomentumSgd on TorchSharp (see the Explore folder's C# files). Nothing here computes an optimizer step.
// A module: nothing it declares is global, so the page's state is its own and what it shows is in the DOM.

import { $, api, colors, plotConfig, report, shortly } from "./page.js";
import { refreshVelocity } from "./velocity.js";
import { refreshNoise } from "./noise.js";

const state = { lr: 0.09, momentum: 0.6, s: 10, iterations: 50, start: { x: -10, y: 1.5 }, shown: 0, paths: null, drawn: null, rateMap: null, limits: null };

// ---- limits ------------------------------------------------------------------------------------------------
// Each input's bounds are the server's (GET /api/limits), where data-limit="endpoint.parameter" names them. The
// page may narrow a range in the HTML (the lr slider stops at 0.2: past it, on the chapter's bowl, every
// momentum diverges along y, lr·2s > 2(1 + momentum)), never widen it. An open bound is not allowed itself: the input stops one step inside it.
function applyLimits(limits) {
  for (const input of document.querySelectorAll("[data-limit]")) {
    const [endpoint, name] = input.dataset.limit.split(".");
    const limit = limits[endpoint][name], step = Number(input.step) || 1;
    let min = limit.min_open ? limit.min + step : limit.min, max = limit.max_open ? limit.max - step : limit.max;
    // The page sends no value for the parameter this one is bounded by, so the server takes its default.
    if (limit.at_most) max = Math.min(max, limits[endpoint][limit.at_most].default);
    if (input.hasAttribute("min")) min = Math.max(min, Number(input.getAttribute("min")));
    if (input.hasAttribute("max")) max = Math.min(max, Number(input.getAttribute("max")));
    input.min = min;
    input.max = max;
  }
}

// ---- shared controls -------------------------------------------------------------------------------------
function showControls() {
  for (const name of ["lr", "momentum", "s", "iterations"]) {
    $(name).value = state[name];
    $(`${name}-value`).textContent = state[name];
  }
}

// A value is snapped to its slider's step and kept in its range, so that what the slider shows is what the
// server is asked.
function snap(name, value) {
  const input = $(name), step = Number(input.step), decimals = (input.step.split(".")[1] ?? "").length;
  // Until /api/limits has set the bounds (or if it failed: the page says so), a value is kept as it is.
  const max = input.max === "" ? Infinity : Number(input.max), min = input.min === "" ? -Infinity : Number(input.min);
  const inside = Math.min(max, Math.max(min, value));
  return Number((Math.round(inside / step) * step).toFixed(decimals));
}

function setParameters(changes) {
  for (const [name, value] of Object.entries(changes)) state[name] = snap(name, value);
  showControls();
  refreshBowl();
  if (state.rateMap) drawRateMapMarkers();
  refreshShownTheory();
}

// The velocity and noise views follow the shared lr and momentum; each asks the server only while it is shown.
let shownView = "bowl";
function refreshShownTheory() {
  if (shownView === "velocity") refreshVelocity(state);
  if (shownView === "noise") refreshNoise(state);
}

for (const name of ["lr", "momentum", "s", "iterations"]) {
  $(name).addEventListener("input", () => {
    const value = Number($(name).value);
    setParameters({ [name]: value });
    if (name === "s") loadRateMap();
  });
}
$("preset-chapter").onclick = () => setParameters({ lr: 0.05, momentum: 0.6 });
$("preset-none").onclick = () => setParameters({ momentum: 0 });
// Critical damping of the flat direction x at this lr, (1 − √(lr·h))²: the server's number (/api/bowl).
$("preset-critical").onclick = () => {
  const x = state.paths?.momentum.directions.find((d) => d.axis === "x");
  if (x) setParameters({ momentum: x.critical_momentum });
};
$("preset-optimal").onclick = async () => {
  const map = state.rateMap ?? await loadRateMap();
  if (map) setParameters({ lr: map.optimal.lr, momentum: map.optimal.momentum });
};
const round = (value, digits) => Number(value.toFixed(digits));

for (const tab of document.querySelectorAll(".tab")) {
  tab.onclick = () => {
    for (const other of document.querySelectorAll(".tab")) other.classList.toggle("active", other === tab);
    for (const view of document.querySelectorAll(".view")) view.classList.toggle("hidden", view.id !== `view-${tab.dataset.view}`);
    // The shared sliders drive the bowl, the rate map, the velocity and the noise; what is the bowl's alone (its
    // steepness, its directions' critical damping) says in data-views where it shows.
    shownView = tab.dataset.view;
    $("shared-controls").classList.toggle("hidden", ["train", "sweep"].includes(shownView));
    for (const part of document.querySelectorAll("[data-views]")) part.classList.toggle("hidden", !part.dataset.views.split(" ").includes(shownView));
    refreshShownTheory();
    // A plot drawn while its view was hidden has no size yet: give it the view's now; busy until it has it.
    for (const plot of document.querySelectorAll(`#view-${tab.dataset.view} .plot`)) {
      if (!plot.data) continue;
      plot.setAttribute("aria-busy", "true");
      Plotly.Plots.resize(plot).finally(() => plot.removeAttribute("aria-busy"));
    }
  };
}

// Data coordinates under a mouse event on a plot whose margins and axis ranges the page sets itself: with
// margin.autoexpand off, nothing (legend, colour bar) moves the plot area, which is the element's box less
// the margins, and the axes are linear over their fixed ranges.
function dataAt(event, plot, margin, xRange, yRange) {
  const box = plot.getBoundingClientRect();
  const fx = (event.clientX - box.left - margin.l) / (box.width - margin.l - margin.r);
  const fy = (event.clientY - box.top - margin.t) / (box.height - margin.t - margin.b);
  return { x: xRange[0] + fx * (xRange[1] - xRange[0]), y: yRange[1] - fy * (yRange[1] - yRange[0]) };
}

// ---- bowl ------------------------------------------------------------------------------------------------
const bowlRange = { x: [-12, 12], y: [-4, 4] };
const bowlMargin = { l: 40, r: 10, t: 40, b: 30, autoexpand: false };

function contours() {
  const xs = [], ys = [];
  for (let i = 0; i <= 120; i++) xs.push(bowlRange.x[0] + (bowlRange.x[1] - bowlRange.x[0]) * i / 120);
  for (let j = 0; j <= 80; j++) ys.push(bowlRange.y[0] + (bowlRange.y[1] - bowlRange.y[0]) * j / 80);
  // Only the picture of f for the contour lines; the paths come from the server.
  const z = ys.map((y) => xs.map((x) => Math.log10(x * x + state.s * y * y + 1e-3)));
  return { type: "contour", x: xs, y: ys, z, showscale: false, hoverinfo: "skip", colorscale: "Greys", reversescale: true,
    contours: { coloring: "lines" }, line: { width: 1 }, ncontours: 24 };
}

// The paths for the settings shown. #bowl is aria-busy while the newest request is on its way; when it is
// drawn, #bowl-json links to the numbers of the momentum path drawn.
let bowlRequest = 0;
async function refreshBowl() {
  const request = ++bowlRequest;
  $("bowl").setAttribute("aria-busy", "true");
  const common = { lr: state.lr, x: state.start.x, y: state.start.y, iterations: state.iterations, s: state.s };
  const query = { ...common, momentum: state.momentum };
  try {
    const [gd, momentum] = await Promise.all([api("api/bowl", { ...common, momentum: 0 }), api("api/bowl", query)]);
    if (request !== bowlRequest) return; // a newer request is on its way
    report("bowl", null);
    state.paths = { gd, momentum };
    state.drawn = query;
    state.shown = Math.min(Math.max(state.shown, 0), state.drawn.iterations);
    if (!playing) state.shown = state.drawn.iterations;
    drawBowl();
    drawDirections();
    showCriticalMomenta(momentum.directions);
    $("bowl-json").href = `api/bowl?${new URLSearchParams(query)}`;
  } catch (error) {
    if (request === bowlRequest) report("bowl", `The paths could not be computed: ${error.message}`);
  } finally {
    if (request === bowlRequest) $("bowl").removeAttribute("aria-busy");
  }
}

function visible(path) {
  return path.points.slice(0, state.shown + 1);
}

function drawBowl() {
  const traces = [contours()];
  for (const name of ["gd", "momentum"]) {
    const points = visible(state.paths[name]);
    traces.push({ type: "scatter", mode: "lines+markers", name: name === "gd" ? "gradient descent" : "momentum",
      x: points.map((p) => p.x), y: points.map((p) => p.y), line: { color: colors[name] }, marker: { size: 5 } });
    const ball = points[points.length - 1];
    traces.push({ type: "scatter", mode: "markers", showlegend: false, hoverinfo: "skip", x: [ball.x], y: [ball.y],
      marker: { size: 14, color: colors[name], line: { color: "white", width: 2 } } });
  }
  Plotly.react("bowl", traces, {
    title: { text: `f(x, y) = x² + ${state.drawn.s}·y²`, font: { size: 14 } }, margin: bowlMargin,
    xaxis: { range: bowlRange.x, fixedrange: true }, yaxis: { range: bowlRange.y, fixedrange: true },
    legend: { x: 0, y: 1, bgcolor: "rgba(255,255,255,0.7)" }, dragmode: false,
  }, plotConfig);
  const loss = ["gd", "momentum"].map((name) => {
    const points = visible(state.paths[name]);
    return { type: "scatter", mode: "lines", name: name === "gd" ? "gradient descent" : "momentum",
      x: points.map((_, i) => i), y: points.map((p) => Math.max(p.f, 1e-300)), line: { color: colors[name] } };
  });
  Plotly.react("bowl-loss", loss, {
    title: { text: "f against iteration", font: { size: 14 } }, margin: { l: 60, r: 10, t: 40, b: 40 },
    xaxis: { title: { text: "iteration" }, range: [0, state.drawn.iterations] }, yaxis: { type: "log", title: { text: "f" } },
    legend: { x: 1, xanchor: "right", y: 1 },
  }, plotConfig);
  drawErrors();
  $("iteration-now").textContent = `iteration ${state.shown} of ${state.drawn.iterations}`
    + (state.paths.momentum.diverged || state.paths.gd.diverged ? " (a path diverged and is cut where f passed 1e12)" : "");
}

// Distill's decomposition: each eigen-direction's distance to the minimum, |x_t − x*| and |y_t − y*| (the minimum
// is 0), on a log scale, with the envelope |e_0|·rho^t its spectral radius predicts (the server's, dashed). A
// coordinate that reached exactly 0 has no point on a log scale: its line ends there.
function drawErrors() {
  const traces = [];
  for (const name of ["gd", "momentum"]) {
    const path = state.paths[name], points = visible(path), method = name === "gd" ? "gradient descent" : "momentum";
    for (const direction of path.directions) {
      const errors = points.map((p) => Math.abs(direction.axis === "x" ? p.x : p.y));
      const dash = direction.axis === "x" ? "solid" : "dot";
      traces.push({ type: "scatter", mode: "lines", name: `${method}, |${direction.axis}_t|`, legendgroup: `${name}-${direction.axis}`,
        x: errors.map((_, t) => t), y: errors.map((e) => (e > 0 ? e : null)), line: { color: colors[name], dash, width: 2 } });
      traces.push({ type: "scatter", mode: "lines", name: `rho^t, rho ${direction.rho.toFixed(3)}`, legendgroup: `${name}-${direction.axis}`, showlegend: false,
        hovertemplate: `${method}, ${direction.axis}: |e_0|·rho^t, rho = ${direction.rho.toFixed(4)}<extra></extra>`,
        x: direction.envelope.slice(0, points.length).map((_, t) => t), y: direction.envelope.slice(0, points.length).map((e) => (e > 0 ? e : null)),
        line: { color: colors[name], dash: "dash", width: 1 }, opacity: 0.55 });
    }
  }
  Plotly.react("bowl-errors", traces, {
    title: { text: "distance to the minimum per direction; dashed: |e₀|·rho^t", font: { size: 14 } }, margin: { l: 60, r: 10, t: 40, b: 40 },
    xaxis: { title: { text: "iteration" }, range: [0, state.drawn.iterations] }, yaxis: { type: "log", title: { text: "|x_t|, |y_t|" }, exponentformat: "power" },
    legend: { x: 1, xanchor: "right", y: 1, bgcolor: "rgba(255,255,255,0.7)", font: { size: 10 } },
  }, plotConfig);
}

// Each direction's critical damping at this lr, (1 − √(lr·h))², as a tick under the momentum slider, named by its
// direction, and in words: below it the direction creeps in, above it it oscillates, at it it converges fastest.
// A tick sits where the slider's thumb centre would be: the track is the input's width less one thumb.
function showCriticalMomenta(directions) {
  const slider = $("momentum"), min = Number(slider.min), max = Number(slider.max);
  $("critical-marks").replaceChildren(...directions.map((d) => {
    const tick = document.createElement("i"), at = (Math.min(max, Math.max(min, d.critical_momentum)) - min) / (max - min);
    tick.dataset.value = d.critical_momentum;
    tick.textContent = d.axis;
    tick.style.left = `calc(8px + ${at} * (100% - 16px))`;
    return tick;
  }));
  $("critical-value").textContent = "critical damping at this lr: " + directions.map((d) => `${d.axis} ${d.critical_momentum.toFixed(3)}`).join(", ");
}

function drawDirections() {
  const rows = [];
  for (const name of ["gd", "momentum"]) {
    for (const d of state.paths[name].directions) {
      // No rate when the path reached 0 too soon to measure one, or is too short (fewer than 4 iterations).
      const measured = d.measured !== null ? d.measured.toFixed(4)
        : d.converged_within !== null ? `converged to 0 within ${d.converged_within} steps` : "-";
      rows.push(`<tr><td>${d.axis}</td><td>${d.h}</td><td>${name === "gd" ? "gradient descent" : "momentum " + state.drawn.momentum}</td>`
        + `<td>${d.rho.toFixed(4)}</td><td>${measured}</td></tr>`);
    }
  }
  document.querySelector("#directions tbody").innerHTML = rows.join("");
}

// Click or drag on the contours to move the start point.
function startAt(event) {
  const { x, y } = dataAt(event, $("bowl"), bowlMargin, bowlRange.x, bowlRange.y);
  const clamp = (v, [lo, hi]) => Math.min(hi, Math.max(lo, v));
  return { x: round(clamp(x, bowlRange.x), 2), y: round(clamp(y, bowlRange.y), 2) };
}
let dragging = false;
$("bowl").addEventListener("mousedown", (event) => { dragging = true; moveStart(event); });
window.addEventListener("mousemove", (event) => { if (dragging) moveStart(event); });
window.addEventListener("mouseup", () => { dragging = false; });
function moveStart(event) {
  state.start = startAt(event);
  refreshBowl();
}

// Play, pause and step through the iterations: the balls roll along their paths, in at most about 100 frames
// however many iterations there are.
let playing = null;
$("play").onclick = () => {
  if (playing) return stop();
  if (!state.drawn) return;
  if (state.shown >= state.drawn.iterations) state.shown = 0;
  $("play").textContent = "pause";
  playing = setInterval(() => {
    const last = state.drawn.iterations;
    state.shown = Math.min(last, state.shown + Math.ceil(last / 100));
    drawBowl();
    if (state.shown >= last) stop();
  }, 120);
};
function stop() {
  clearInterval(playing);
  playing = null;
  $("play").textContent = "play";
}
$("step").onclick = () => { if (!state.drawn) return; stop(); state.shown = Math.min(state.shown + 1, state.drawn.iterations); drawBowl(); };
$("reset").onclick = () => { if (!state.drawn) return; stop(); state.shown = 0; drawBowl(); };

// ---- rate map --------------------------------------------------------------------------------------------
// Room on the right for the colour bar, which may not push the margins (see dataAt).
const rateMapMargin = { l: 60, r: 110, t: 40, b: 50, autoexpand: false };

// The map for the steepness shown, or null when it could not be had (said in #error). #ratemap is aria-busy
// until the newest one is drawn.
let rateMapRequest = 0;
async function loadRateMap() {
  const request = ++rateMapRequest;
  $("ratemap").setAttribute("aria-busy", "true");
  let map;
  try {
    map = await api("api/ratemap", { s: state.s });
  } catch (error) {
    if (request === rateMapRequest) {
      report("ratemap", `The rate map could not be computed: ${error.message}`);
      $("ratemap").removeAttribute("aria-busy");
    }
    return null;
  }
  if (request !== rateMapRequest) return state.rateMap; // a newer s is on its way
  report("ratemap", null);
  state.rateMap = map;
  Plotly.react("ratemap", [
    { type: "heatmap", x: map.lr_h, y: map.momentum, z: map.rho.map((row) => row.map((r) => Math.min(r, 1.05))), zmin: 0, zmax: 1.05,
      colorscale: [[0, "#08306b"], [0.5, "#6baed6"], [0.93, "#f7fbff"], [0.952, "#444"], [1, "#222"]],
      colorbar: { title: { text: "rho(A)" } }, hovertemplate: "lr·h %{x:.3f}<br>momentum %{y:.2f}<br>rho %{z:.4f}<extra></extra>" },
    // Between real and complex eigenvalues: critical damping, momentum = (1 − √(lr·h))² (the server's curve).
    { type: "scatter", mode: "lines", x: map.critical.lr_h, y: map.critical.momentum, name: "critical damping (1 − √(lr·h))²",
      hovertemplate: "critical damping<br>lr·h %{x:.3f}<br>momentum %{y:.3f}<extra></extra>", line: { color: "#ffbf00", width: 2, dash: "dash" } },
  ], {
    title: { text: "rho(A) over lr·h and momentum (section 5.2)", font: { size: 14 } }, margin: rateMapMargin,
    annotations: [criticalLabel(map.critical)],
    // Fixed ranges: markers added later must not move the axes under a click.
    xaxis: { title: { text: "lr · h" }, fixedrange: true, range: rateMapRange(map).x },
    yaxis: { title: { text: "momentum" }, fixedrange: true, range: rateMapRange(map).y }, showlegend: false,
  }, plotConfig);
  drawRateMapMarkers();
  $("ratemap").removeAttribute("aria-busy");
  return map;
}

// The critical-damping curve's name, written beside it where lr·h is about 0.4.
function criticalLabel(critical) {
  const i = critical.lr_h.findIndex((a) => a >= 0.4);
  return { x: critical.lr_h[i], y: critical.momentum[i], text: "critical damping (1 − √(lr·h))²", showarrow: false,
    xanchor: "left", yanchor: "bottom", font: { color: "#ffbf00", size: 12 } };
}

const rateMapRange = (map) => ({ x: [0, map.lr_h[map.lr_h.length - 1]], y: [0, map.momentum[map.momentum.length - 1]] });

function drawRateMapMarkers() {
  const map = state.rateMap, [hx, hy] = map.curvatures;
  const markers = (lr, momentum, symbol, color, label) => ({ type: "scatter", mode: "markers+text", hoverinfo: "skip",
    x: [lr * hx, lr * hy], y: [momentum, momentum], text: [`${label} x`, `${label} y`], textposition: "top center",
    marker: { symbol, size: 13, color, line: { color: "white", width: 1.5 } }, textfont: { color: "white" } });
  const extra = $("ratemap").data.length - 2;
  if (extra > 0) Plotly.deleteTraces("ratemap", [...Array(extra).keys()].map((i) => i + 2));
  Plotly.addTraces("ratemap", [
    markers(state.lr, state.momentum, "circle", "#e6550d", "now"),
    markers(map.optimal.lr, map.optimal.momentum, "star", "#31a354", "optimal"),
  ]);
}

$("ratemap").addEventListener("click", (event) => {
  if (!state.rateMap) return;
  const range = rateMapRange(state.rateMap);
  const { x: lrH, y: momentum } = dataAt(event, $("ratemap"), rateMapMargin, range.x, range.y);
  if (!(lrH > 0 && lrH <= range.x[1] && momentum >= 0 && momentum <= range.y[1])) return;
  // The click places the steep direction's point (h = 2s); the flat one follows at lr * 2. The sliders'
  // ranges bound both (snap).
  setParameters({ lr: lrH / state.rateMap.curvatures[1], momentum });
});

// ---- streams -----------------------------------------------------------------------------------------------
// The trainings (/api/train, /api/sweep) answer with server-sent events. Why a stream failed is said the same way
// for each: refused (the server's one-line {"error"}), not answered, or ended before its last event.
class Refused extends Error {}
class StreamEnded extends Error {}

const streamFailure = (error) => error instanceof Refused ? `refused: ${error.message}`
  : error instanceof StreamEnded ? error.message
  : error instanceof TypeError ? "the server did not answer (is torchmomentum explore still running?)" : `the stream ended: ${error.message}`;

// The stream's response, or a Refused with the server's reason.
async function openStream(path, params, signal) {
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
async function readStream(response, onEvent) {
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

// ---- train -----------------------------------------------------------------------------------------------
// The contestants, their order and colours are the server's (/api/limits' "contestants"), one definition for the
// page and losses.png; until it answers, the default race.
let contestants = { names: ["sgd", "momentum", "handwritten"], default: "sgd,momentum,handwritten", dashed: ["handwritten"] };
let training = null; // the AbortController of the stream being read

function showContestants(info) {
  contestants = info;
  Object.assign(colors, info.colors);
  const chosen = info.default.split(",");
  $("train-contestants").replaceChildren(...info.names.map((name) => {
    const label = document.createElement("label"), box = document.createElement("input");
    box.type = "checkbox";
    box.value = name;
    box.checked = chosen.includes(name);
    label.style.color = info.colors[name];
    label.append(box, ` ${name}`);
    return label;
  }));
}

// The ticked contestants in the server's order (the default race before /api/limits answered).
function chosenContestants() {
  const boxes = [...document.querySelectorAll("#train-contestants input")];
  return boxes.length ? boxes.filter((box) => box.checked).map((box) => box.value) : contestants.default.split(",");
}

function trainSettings() {
  const read = (id) => $(`train-${id}`).value;
  return { lr: read("lr"), momentum: read("momentum"), "batch-size": read("batch-size"), epochs: read("epochs"), seed: read("seed"),
    contestants: chosenContestants().join(",") };
}

$("train-chapter").onclick = () => {
  for (const [id, value] of Object.entries({ lr: 0.01, momentum: 0.8, "batch-size": 32, epochs: 12, seed: 1 })) $(`train-${id}`).value = value;
};

$("train-start").onclick = async () => {
  training?.abort();
  const settings = trainSettings(), controller = new AbortController();
  training = controller;
  const names = settings.contestants.split(",");
  Plotly.react("train", names.map((name) => ({ type: "scatter", mode: "lines", name, x: [], y: [],
    line: { color: colors[name], width: contestants.dashed.includes(name) ? 1.5 : 2, dash: contestants.dashed.includes(name) ? "dash" : "solid" } })), {
    title: { text: "loss per step", font: { size: 14 } }, margin: { l: 60, r: 10, t: 40, b: 40 },
    xaxis: { title: { text: "step" } }, yaxis: { title: { text: "loss" }, type: "log" },
    // What no net can beat on average: the targets' noise variance (the server's, from /api/limits).
    ...(state.limits ? {
      shapes: [{ type: "line", xref: "paper", x0: 0, x1: 1, y0: state.limits.noise_floor, y1: state.limits.noise_floor, line: { color: "gray", dash: "dot", width: 1.5 } }],
      annotations: [{ xref: "paper", x: 1, y: Math.log10(state.limits.noise_floor), xanchor: "right", yanchor: "bottom", showarrow: false,
        text: `noise floor ${Number(state.limits.noise_floor.toPrecision(3))} (0.1²)`, font: { color: "gray", size: 11 } }],
    } : {}),
  }, plotConfig);
  Plotly.purge("train-fit");
  $("train-status").textContent = "starting";
  $("train-start").disabled = true;
  $("train-stop").disabled = false;
  try {
    const response = await openStream("api/train", settings, controller.signal);
    report("train", null);
    await readEvents(response, settings, controller);
  } catch (error) {
    if (controller.signal.aborted) finish(controller, "stopped");
    else finish(controller, streamFailure(error), true);
  }
};

// The training's events: steps, and the newest predictions, are drawn once per animation frame, however many
// arrived since the last.
async function readEvents(response, settings, controller) {
  let pending = [], fit = null, frame = null;
  const names = settings.contestants.split(",");
  const draw = () => {
    frame = null;
    if (training !== controller) return; // stopped, or another training started: these steps are not shown
    if (fit) {
      Plotly.restyle("train-fit", { y: names.map((name) => fit[name]) }, names.map((_, i) => i + 2));
      Plotly.relayout("train-fit", { "title.text": fitTitle(fit.step) });
      fit = null;
    }
    const steps = pending;
    pending = [];
    if (steps.length === 0) return;
    Plotly.extendTraces("train", { x: names.map(() => steps.map((s) => s.step)), y: names.map((name) => steps.map((s) => s[name])) }, names.map((_, i) => i));
    const last = steps[steps.length - 1];
    $("train-status").textContent = `step ${last.step + 1}, epoch ${last.epoch + 1} of ${settings.epochs}`;
  };
  await readStream(response, (kind, data) => {
    if (kind === "message" || kind === "fit") {
      if (kind === "message") pending.push(data); else fit = data;
      frame ??= requestAnimationFrame(draw);
      return false;
    }
    if (kind === "data") {
      drawFitData(data, names);
      return false;
    }
    draw();
    const divergence = data.divergence;
    if (kind !== "done") finish(controller, `failed: ${data.error}`, true);
    else finish(controller, divergence ? `${divergence.optimizer} diverged at step ${divergence.step}` : `done: ${data.steps} steps`);
    return true;
  });
}

// What the nets learn (train's fit.png): the run's data, y = x² dashed, and each contestant's predictions on the
// server's grid, which its fit events replace as the training goes.
function drawFitData(data, names) {
  Plotly.react("train-fit", [
    { type: "scatter", mode: "markers", name: "data", x: data.x, y: data.y,
      hoverinfo: "skip", marker: { size: 3, color: "rgba(120,120,120,0.45)" } },
    { type: "scatter", mode: "lines", name: "y = x²", x: data.grid, y: data.curve, hoverinfo: "skip", line: { color: "black", dash: "dash", width: 1.5 } },
    ...names.map((name) => ({ type: "scatter", mode: "lines", name, x: data.grid, y: data.grid.map(() => null),
      line: { color: colors[name], width: contestants.dashed.includes(name) ? 1.5 : 2.5, dash: contestants.dashed.includes(name) ? "dash" : "solid" } })),
  ], {
    title: { text: fitTitle(-1), font: { size: 14 } }, margin: { l: 50, r: 10, t: 40, b: 40 },
    xaxis: { title: { text: "x" } }, yaxis: { title: { text: "y" } },
  }, plotConfig);
}
const fitTitle = (step) => `what the nets predict, ${step < 0 ? "before the first step" : `after step ${step + 1}`}`;

// Ends the training the page shows with a status; a failure is said in #error too.
function finish(controller, message, failed = false) {
  if (training !== controller) return;
  training = null;
  controller.abort();
  $("train-status").textContent = message;
  report("train", failed ? `The training failed: ${message}` : null);
  $("train-start").disabled = false;
  $("train-stop").disabled = true;
}
$("train-stop").onclick = () => training && finish(training, "stopped");

// ---- sweep -----------------------------------------------------------------------------------------------
// The sweep shown: the settings it was asked with, its newest map and that map's axes, every cell once it is
// done, the point clicked; the controllers of its stream and of the clicked point's plain-SGD request while they run.
const sweep = { controller: null, settings: null, map: null, axes: null, cells: null, selected: null, cellRequest: null };
const sweepMargin = { l: 60, r: 110, t: 40, b: 50, autoexpand: false };
const chapter = { lr: 0.01, momentum: 0.8 };

function sweepSettings() {
  const read = (id) => $(`sweep-${id}`).value.replace(/\s+/g, "");
  return Object.fromEntries(["lr-min", "lr-max", "lr-count", "momentum-min", "momentum-max", "momentum-count", "seeds", "epochs"]
    .map((id) => [id, read(id)]));
}

$("sweep-start").onclick = async () => {
  sweep.controller?.abort();
  sweep.cellRequest?.abort();
  const settings = sweepSettings(), controller = new AbortController();
  Object.assign(sweep, { controller, settings, map: null, axes: null, cells: null, selected: null, cellRequest: null });
  Plotly.purge("sweep-map");
  Plotly.purge("sweep-curves");
  $("sweep-curves").removeAttribute("aria-busy");
  $("sweep-cell").textContent = "";
  $("sweep-progress").value = 0;
  $("sweep-status").textContent = "starting";
  $("sweep-start").disabled = true;
  $("sweep-stop").disabled = false;
  let frame = null;
  try {
    const response = await openStream("api/sweep", settings, controller.signal);
    report("sweep", null);
    await readStream(response, (kind, data) => {
      if (sweep.controller !== controller) return true; // stopped, or another sweep started
      if (kind === "progress") {
        $("sweep-progress").max = data.total;
        $("sweep-progress").value = data.cell_steps;
        return false;
      }
      if (kind === "map") {
        // Drawn once per animation frame: a small grid's epochs come faster than they can be drawn.
        sweep.map = data;
        $("sweep-status").textContent = `epoch ${data.epoch} of ${settings.epochs}`;
        frame ??= requestAnimationFrame(() => { frame = null; if (sweep.controller === controller) drawSweepMap(); });
        return false;
      }
      if (kind !== "done") {
        finishSweep(controller, `failed: ${data.error}`, true);
        return true;
      }
      sweep.cells = data.cells;
      drawSweepMap();
      const diverged = data.cells.filter((c) => c.diverged_step !== null).length;
      finishSweep(controller, `done: ${data.cells.length} cells in ${data.seconds.toFixed(2)} s${diverged ? `, ${diverged} diverged` : ""}; click a point`);
      return true;
    });
  } catch (error) {
    if (controller.signal.aborted) finishSweep(controller, "stopped");
    else finishSweep(controller, streamFailure(error), true);
  }
};

// Ends the sweep's stream with a status; a failure is said in #error too.
function finishSweep(controller, message, failed = false) {
  if (sweep.controller !== controller) return;
  sweep.controller = null;
  controller.abort();
  $("sweep-status").textContent = message;
  report("sweep", failed ? `The sweep failed: ${message}` : null);
  $("sweep-start").disabled = false;
  $("sweep-stop").disabled = true;
}
$("sweep-stop").onclick = () => sweep.controller && finishSweep(sweep.controller, "stopped");

// The map's axes: log10 of the learning rate across (they are log-spaced), momentum up, each range half a step
// past the outer points so that every point's brick is whole.
function sweepAxes(map) {
  const x = map.lr.map(Math.log10), y = map.momentum;
  const half = (values, alone) => {
    const step = values.length > 1 ? (values[values.length - 1] - values[0]) / (values.length - 1) : 0;
    return step > 0 ? step / 2 : alone;
  };
  const dx = half(x, 0.25), dy = half(y, 0.02);
  return { x, y, xRange: [x[0] - dx, x[x.length - 1] + dx], yRange: [y[0] - dy, y[y.length - 1] + dy] };
}

function drawSweepMap() {
  const map = sweep.map, axes = sweep.axes = sweepAxes(map);
  const finite = map.loss.flat().filter((loss) => loss !== null);
  // Colours by the loss's log10, stopping at a loss of 1: a diverging point's loss passes 1e30 on the way.
  const bottom = finite.length ? Math.min(-1, Math.floor(Math.log10(Math.min(...finite)))) : -3;
  const decades = Array.from({ length: 1 - bottom }, (_, i) => bottom + i);
  const z = map.loss.map((row) => row.map((loss) => (loss === null ? null : Math.min(Math.log10(loss), 0))));
  const text = map.loss.map((row, m) => row.map((loss, l) => `lr ${shortly(map.lr[l])}<br>momentum ${shortly(map.momentum[m])}<br>`
    + (loss === null ? `diverged (${map.diverged_seeds[m][l]} of its seeds)` : `loss ${shortly(loss)}`)));
  const diverged = map.loss.flatMap((row, m) => row.flatMap((loss, l) => (loss === null ? [[axes.x[l], axes.y[m]]] : [])));
  const traces = [
    { type: "heatmap", x: axes.x, y: axes.y, z, customdata: map.loss, text, hovertemplate: "%{text}<extra></extra>", zmin: bottom, zmax: 0,
      colorscale: "Viridis", colorbar: { title: { text: "loss" }, tickvals: decades, ticktext: decades.map((k) => (k === 0 ? "≥ 1" : `1e${k}`)) } },
    { type: "scatter", mode: "markers", name: "diverged", hoverinfo: "skip", x: diverged.map((p) => p[0]), y: diverged.map((p) => p[1]),
      marker: { symbol: "x-thin", size: 7, line: { color: "#333", width: 1.5 } } },
    ...effectiveLrLines(map, axes),
    { type: "scatter", mode: "markers+text", name: "chapter", hoverinfo: "skip", x: [Math.log10(chapter.lr)], y: [chapter.momentum],
      text: ["chapter"], textposition: "top center", textfont: { color: "white" },
      marker: { symbol: "star", size: 15, color: "#ff7f0e", line: { color: "white", width: 1.5 } } },
  ];
  if (sweep.selected) {
    const { l, m } = sweep.selected;
    traces.push({ type: "scatter", mode: "markers", name: "clicked", hoverinfo: "skip", x: [axes.x[l]], y: [axes.y[m]],
      marker: { symbol: "square-open", size: 14, color: "#d62728", line: { width: 3 } } });
  }
  const seeds = sweep.settings.seeds.split(",").length;
  const lrTicks = Array.from({ length: 9 }, (_, i) => i - 6).filter((k) => k >= axes.xRange[0] && k <= axes.xRange[1]);
  Plotly.react("sweep-map", traces, {
    title: { text: `mean loss of epoch ${map.epoch}${seeds > 1 ? `, median of ${seeds} seeds` : ""}`, font: { size: 14 } },
    margin: sweepMargin, showlegend: false, plot_bgcolor: "#bbb", // a diverged point has no colour: grey
    // Fixed ranges: they are what a click is read against (dataAt).
    xaxis: { title: { text: "learning rate" }, fixedrange: true, range: axes.xRange, tickvals: lrTicks, ticktext: lrTicks.map((k) => `${10 ** k}`) },
    yaxis: { title: { text: "momentum" }, fixedrange: true, range: axes.yRange },
  }, plotConfig);
}

// Dashed lines of constant lr/(1 - momentum): every power of 10 that crosses the map, and the chapter's 0.05.
function effectiveLrLines(map, axes) {
  const top = Math.min(axes.yRange[1], 0.999), bottom = Math.max(axes.yRange[0], 0);
  const momenta = Array.from({ length: 41 }, (_, i) => bottom + (top - bottom) * i / 40);
  const first = Math.floor(axes.xRange[0]), last = Math.ceil(axes.xRange[1] - Math.log10(1 - top));
  const values = [...Array.from({ length: last - first + 1 }, (_, i) => 10 ** (first + i)), chapter.lr / (1 - chapter.momentum)];
  return values.map((effective) => ({ type: "scatter", mode: "lines+text", name: `lr/(1 − momentum) = ${shortly(effective)}`, hoverinfo: "skip",
    x: momenta.map((m) => Math.log10(effective * (1 - m))), y: momenta,
    text: momenta.map((_, i) => (i === 20 ? `${shortly(effective)}` : "")), textposition: "middle right", textfont: { color: "white", size: 11 },
    line: { color: "white", width: 1.2, dash: "dash" } }));
}

// A click picks the point nearest it, once the sweep is done: every cell's losses come with its end.
$("sweep-map").addEventListener("click", (event) => {
  if (!sweep.cells) return;
  const { x, y, xRange, yRange } = sweep.axes;
  const at = dataAt(event, $("sweep-map"), sweepMargin, xRange, yRange);
  if (!(at.x >= xRange[0] && at.x <= xRange[1] && at.y >= yRange[0] && at.y <= yRange[1])) return;
  const nearest = (values, v) => values.reduce((best, value, i) => (Math.abs(value - v) < Math.abs(values[best] - v) ? i : best), 0);
  showPoint(nearest(x, at.x), nearest(y, at.y));
});

// The clicked point's loss per epoch, for each seed, next to plain SGD at its learning rate (the grid's momentum-0
// row, or trained) and plain SGD at its lr/(1 - momentum), trained as a sweep of its own: a cell's numbers are
// the same whatever cells it is trained with.
async function showPoint(l, m) {
  const { map, cells, settings } = sweep, lrs = map.lr.length, momenta = map.momentum.length;
  const lr = map.lr[l], momentum = map.momentum[m], effective = lr / (1 - momentum);
  const seeds = cells.length / (lrs * momenta);
  const cellsAt = (row) => Array.from({ length: seeds }, (_, s) => cells[(s * momenta + row) * lrs + l]);
  sweep.selected = { l, m };
  drawSweepMap();
  sweep.cellRequest?.abort();
  const controller = new AbortController();
  sweep.cellRequest = controller;
  $("sweep-curves").setAttribute("aria-busy", "true");
  const largest = state.limits?.sweep["lr-max"].max ?? Infinity;
  const zero = map.momentum.indexOf(0);
  const rates = [...(zero < 0 ? [lr] : []), ...(effective <= largest ? [effective] : [])];
  $("sweep-cell").textContent = `lr ${shortly(lr)}, momentum ${shortly(momentum)}: lr/(1 − momentum) = ${shortly(effective)}`
    + (effective > largest ? `, past the largest learning rate the server trains (${largest}): no plain SGD there` : "");
  let trained = [];
  if (rates.length > 0) {
    const query = { "lr-min": rates[0], "lr-max": rates[rates.length - 1], "lr-count": rates.length, "momentum-min": 0, "momentum-count": 1,
      seeds: settings.seeds, epochs: settings.epochs };
    try {
      trained = await sweepCells(query, controller.signal);
      report("sweep-point", null);
    } catch (error) {
      if (controller.signal.aborted) return; // another point was clicked
      report("sweep-point", `Plain SGD for the clicked point could not be trained: ${streamFailure(error)}`);
      $("sweep-curves").removeAttribute("aria-busy");
      return;
    }
  }
  if (sweep.cellRequest !== controller) return;
  // The trained cells, seed by seed, each its learning rates in order.
  const trainedAt = (index) => Array.from({ length: seeds }, (_, s) => trained[s * rates.length + index]);
  const curves = [
    { cells: cellsAt(m), name: `momentum ${shortly(momentum)}, lr ${shortly(lr)}`, color: colors.momentum, dash: "solid" },
    { cells: zero >= 0 ? cellsAt(zero) : trainedAt(0), name: `plain SGD, lr ${shortly(lr)}`, color: colors.sgd, dash: "solid" },
  ];
  if (effective <= largest) curves.push({ cells: trainedAt(rates.length - 1), name: `plain SGD, lr ${shortly(effective)} = lr/(1 − momentum)`, color: colors.handwritten, dash: "dash" });
  const seedNames = settings.seeds.split(",");
  Plotly.react("sweep-curves", curves.flatMap((curve) => curve.cells.map((cell, s) => ({
    type: "scatter", mode: "lines+markers", x: cell.epoch_losses.map((_, e) => e + 1), y: cell.epoch_losses,
    name: curve.name + (seeds > 1 ? `, seed ${seedNames[s]}` : "") + (cell.diverged_step !== null ? ` (diverged at step ${cell.diverged_step})` : ""),
    legendgroup: curve.name, line: { color: curve.color, dash: curve.dash, width: 2 }, marker: { size: 4 } }))), {
    title: { text: "mean loss per epoch", font: { size: 14 } }, margin: { l: 60, r: 10, t: 40, b: 40 },
    xaxis: { title: { text: "epoch" }, range: [0.5, Number(settings.epochs) + 0.5] }, yaxis: { title: { text: "loss" }, type: "log" },
    legend: { x: 1, xanchor: "right", y: 1, bgcolor: "rgba(255,255,255,0.7)" },
  }, plotConfig);
  $("sweep-curves").removeAttribute("aria-busy");
}

// Every cell of a sweep, read to its done event; its progress and maps are not shown.
async function sweepCells(params, signal) {
  const response = await openStream("api/sweep", params, signal);
  let cells;
  await readStream(response, (kind, data) => {
    if (kind === "progress" || kind === "map") return false;
    if (kind !== "done") throw new StreamEnded(`failed: ${data.error}`);
    cells = data.cells;
    return true;
  });
  return cells;
}

// ---- start -----------------------------------------------------------------------------------------------
try {
  state.limits = await api("api/limits");
  applyLimits(state.limits);
  showContestants(state.limits.contestants);
  report("limits", null);
} catch (error) {
  report("limits", `The inputs' limits could not be read, so they are the browser's: ${error.message}`);
}
showControls();
refreshBowl();
loadRateMap();
