// The explore page. It draws and animates; every number it shows comes from the server's API, which runs
// MomentumSgd on TorchSharp (see the Explore folder's C# files). Nothing here computes an optimizer step.
// This module starts the page: the inputs' limits, the shared sliders and the tabs, and the two views they drive
// most, the Bowl and the Rate map; the other views are modules of their own (velocity.js, noise.js, train.js,
// sweep.js). Modules declare nothing global, so the page's state is its own and what it shows is in the DOM.

import { $, api, colors, dataAt, newestOnly, plotConfig, report, server, whileBusy } from "./page.js";
import { refreshVelocity } from "./velocity.js";
import { refreshNoise } from "./noise.js";
import { showContestants } from "./train.js";
import "./sweep.js";
import "./scaling.js";

const state = { lr: 0.09, momentum: 0.6, s: 10, iterations: 50, start: { x: -10, y: 1.5 }, shown: 0, paths: null, drawn: null, rateMap: null };

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
  if (x && x.critical_momentum !== null) setParameters({ momentum: x.critical_momentum });
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
    $("shared-controls").classList.toggle("hidden", ["train", "sweep", "scaling"].includes(shownView));
    for (const part of document.querySelectorAll("[data-views]")) part.classList.toggle("hidden", !part.dataset.views.split(" ").includes(shownView));
    refreshShownTheory();
    // A plot drawn while its view was hidden has no size yet: give it the view's now; busy until it has it.
    for (const plot of document.querySelectorAll(`#view-${tab.dataset.view} .plot`)) {
      if (plot.data) whileBusy(plot, Plotly.Plots.resize(plot));
    }
  };
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
const bowlRefresh = newestOnly("bowl", $("bowl"), "The paths could not be computed");
function refreshBowl() {
  const common = { lr: state.lr, x: state.start.x, y: state.start.y, iterations: state.iterations, s: state.s };
  const query = { ...common, momentum: state.momentum };
  return bowlRefresh((signal) => Promise.all([api("api/bowl", { ...common, momentum: 0 }, signal), api("api/bowl", query, signal)]), ([gd, momentum]) => {
    state.paths = { gd, momentum };
    state.drawn = query;
    state.shown = Math.min(Math.max(state.shown, 0), state.drawn.iterations);
    if (!playing) state.shown = state.drawn.iterations;
    drawBowl();
    drawDirections();
    showCriticalMomenta(momentum.directions);
    $("bowl-json").href = `api/bowl?${new URLSearchParams(query)}`;
  });
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
// direction, and in words. There its eigenvalues meet in one root, 1 − √(lr·h), and it converges fastest: without
// oscillating while lr·h < 1, flipping sign every step past it; from lr·h = 4 on no momentum below 1 has one.
// A tick sits where the slider's thumb centre would be: the track is the input's width less one thumb.
function showCriticalMomenta(directions) {
  const slider = $("momentum"), min = Number(slider.min), max = Number(slider.max);
  $("critical-marks").replaceChildren(...directions.filter((d) => d.critical_momentum !== null && d.critical_momentum <= max).map((d) => {
    const tick = document.createElement("i");
    tick.dataset.value = d.critical_momentum;
    tick.textContent = d.axis;
    tick.style.left = `calc(8px + ${(d.critical_momentum - min) / (max - min)} * (100% - 16px))`;
    return tick;
  }));
  $("critical-value").textContent = "critical damping at this lr: " + directions.map((d) => `${d.axis} `
    + (d.critical_momentum === null ? "none (lr·h ≥ 4)" : d.critical_momentum.toFixed(3) + (d.critical_root < 0 ? " (flips sign)" : ""))).join(", ");
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

// The map for the steepness shown, or null when there is none yet (a failure is said in #error). #ratemap is
// aria-busy until the newest one is drawn.
const rateMapRefresh = newestOnly("ratemap", $("ratemap"), "The rate map could not be computed");
async function loadRateMap() {
  await rateMapRefresh((signal) => api("api/ratemap", { s: state.s }, signal), drawRateMap);
  return state.rateMap;
}

function drawRateMap(map) {
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

// ---- start -----------------------------------------------------------------------------------------------
try {
  server.limits = await api("api/limits");
  applyLimits(server.limits);
  showContestants(server.limits.contestants);
  report("limits", null);
} catch (error) {
  report("limits", `The inputs' limits could not be read, so they are the browser's: ${error.message}`);
}
showControls();
refreshBowl();
loadRateMap();
