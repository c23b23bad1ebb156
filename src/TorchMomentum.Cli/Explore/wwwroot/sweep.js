// The Sweep view (sections 5.3, 5.6): a small sweep trained live on the server (/api/sweep), its map redrawn
// after every epoch, and a clicked point's loss curves beside plain SGD at its lr and at lr/(1 − momentum).

import { $, colors, dataAt, plotConfig, report, server, shortly } from "./page.js";
import { StreamEnded, openStream, readStream, streamFailure } from "./streams.js";

// The sweep shown: the settings it was asked with, its newest map and that map's axes, every cell once it is
// done, the point clicked; the controllers of its stream and of the clicked point's plain-SGD request while they run.
const sweep = { controller: null, settings: null, map: null, axes: null, cells: null, selected: null, cellRequest: null };
const sweepMargin = { l: 60, r: 110, t: 40, b: 50, autoexpand: false };
const chapter = { lr: 0.01, momentum: 0.8 };

function sweepSettings() {
  const read = (id) => $(`sweep-${id}`).value.replace(/\s+/g, "");
  return Object.fromEntries(["lr-min", "lr-max", "lr-count", "momentum-min", "momentum-max", "momentum-count", "seeds", "epochs", "engine"]
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
  const largest = server.limits?.sweep["lr-max"].max ?? Infinity;
  const zero = map.momentum.indexOf(0);
  const rates = [...(zero < 0 ? [lr] : []), ...(effective <= largest ? [effective] : [])];
  $("sweep-cell").textContent = `lr ${shortly(lr)}, momentum ${shortly(momentum)}: lr/(1 − momentum) = ${shortly(effective)}`
    + (effective > largest ? `, past the largest learning rate the server trains (${largest}): no plain SGD there` : "");
  let trained = [];
  if (rates.length > 0) {
    const query = { "lr-min": rates[0], "lr-max": rates[rates.length - 1], "lr-count": rates.length, "momentum-min": 0, "momentum-count": 1,
      seeds: settings.seeds, epochs: settings.epochs, engine: settings.engine };
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
  if (effective <= largest) curves.push({ cells: trainedAt(rates.length - 1), name: `plain SGD, lr ${shortly(effective)} = lr/(1 − momentum)`, color: colors["sgd-effective"], dash: "dash" });
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

