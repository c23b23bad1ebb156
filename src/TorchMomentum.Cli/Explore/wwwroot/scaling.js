// The Batch size view: a small batch-size study trained live on the server (/api/scaling), steps to stay at a target
// against batch size for plain SGD and momentum each as chosen on the tuning seeds and counted on the held-out ones,
// their speed-up with its 95% interval, and a clicked batch size's held-out steps against the learning rate. Every
// number is the server's (ScalingStudy); this module only draws.

import { $, colors, dataAt, plotConfig, report, shortly } from "./page.js";
import { openStream, readStream, streamFailure } from "./streams.js";

// The study shown: its newest event, the batch size clicked, and the controller of its stream while it runs.
const scaling = { controller: null, study: null, batch: null };
const stepsMargin = { l: 60, r: 20, t: 40, b: 50, autoexpand: false };
const familyColor = (family) => (family === "sgd" ? colors.sgd ?? "#333" : colors.momentum);
const familyName = (family) => (family === "sgd" ? "plain SGD, chosen lr" : "momentum, chosen lr and momentum");

function settings() {
  const read = (id) => $(`scaling-${id}`).value.replace(/\s+/g, "");
  return Object.fromEntries(["batch-sizes", "lr-count", "tune-seeds", "eval-seeds", "label-noise", "steps"].map((id) => [id, read(id)]));
}

$("scaling-label-noise").oninput = () => ($("scaling-label-noise-shown").textContent = $("scaling-label-noise").value);

const targetIndex = () => Math.max(0, $("scaling-target").selectedIndex);

$("scaling-start").onclick = async () => {
  scaling.controller?.abort();
  const controller = new AbortController();
  Object.assign(scaling, { controller, study: null, batch: null });
  for (const id of ["scaling-steps-plot", "scaling-speedup", "scaling-by-lr"]) Plotly.purge(id);
  $("scaling-progress").value = 0;
  $("scaling-status").textContent = "starting";
  $("scaling-start").disabled = true;
  $("scaling-stop").disabled = false;
  let frame = null;
  try {
    const response = await openStream("api/scaling", settings(), controller.signal);
    report("scaling", null);
    await readStream(response, (kind, data) => {
      if (scaling.controller !== controller) return true; // stopped, or another study started
      if (kind === "progress") {
        $("scaling-progress").max = data.total;
        $("scaling-progress").value = data.cell_steps;
        return false;
      }
      if (kind === "study") {
        scaling.study = data;
        frame ??= requestAnimationFrame(() => { frame = null; if (scaling.study === data) drawAll(); });
        return false;
      }
      if (kind !== "done") {
        finish(controller, `failed: ${data.error}`, true);
        return true;
      }
      drawAll();
      finish(controller, `done: ${scaling.study.steps[0].length} cells in ${data.seconds.toFixed(2)} s; click a batch size`);
      return true;
    });
  } catch (error) {
    if (controller.signal.aborted) finish(controller, "stopped");
    else finish(controller, streamFailure(error), true);
  }
};

function finish(controller, message, failed = false) {
  if (scaling.controller !== controller) return;
  scaling.controller = null;
  controller.abort();
  $("scaling-status").textContent = message;
  report("scaling", failed ? `The batch-size study failed: ${message}` : null);
  $("scaling-start").disabled = false;
  $("scaling-stop").disabled = true;
}
$("scaling-stop").onclick = () => scaling.controller && finish(scaling.controller, "stopped");
$("scaling-target").onchange = () => scaling.study && drawAll();

function drawAll() {
  const study = scaling.study, select = $("scaling-target");
  if (select.options.length !== study.targets.length) {
    select.replaceChildren(...study.targets.map((t) => new Option(`excess ${t}`, String(t))));
    select.selectedIndex = 0; // the loosest: where most runs arrive within a small study's budget
  }
  drawSteps();
  drawSpeedUp();
  if (scaling.batch !== null) drawByLr();
}

// Log-log axes: log10 of the batch size across, of the steps up.
const batchAxis = (study) => {
  const x = study.batch_sizes.map(Math.log10), pad = 0.15;
  return { x, range: [Math.min(...x) - pad, Math.max(...x) + pad], tickvals: x, ticktext: study.batch_sizes.map(String) };
};

function drawSteps() {
  const study = scaling.study, t = targetIndex(), target = study.targets[t], axis = batchAxis(study);
  const traces = [];
  for (const family of ["sgd", "momentum"]) {
    const best = study.rows.filter((b) => b.family === family && b.target === target && b.steps !== null);
    if (best.length === 0) continue;
    const x = best.map((b) => Math.log10(b.batch_size));
    traces.push({ type: "scatter", mode: "lines+markers", name: familyName(family), x, y: best.map((b) => b.steps),
      customdata: best.map((b) => [b.batch_size, b.lr, b.momentum]),
      hovertemplate: "batch %{customdata[0]}: %{y} steps (held-out median)<br>lr %{customdata[1]:.3g}, momentum %{customdata[2]:.2g}<extra></extra>",
      line: { color: familyColor(family), width: 2.5 }, error_y: { type: "data", symmetric: false, color: familyColor(family),
        array: best.map((b) => (b.most === null ? 0 : b.most - b.steps)), arrayminus: best.map((b) => b.steps - b.fewest) } });
    // Perfect scaling from the smallest batch size that reached the target: steps x batch size stays the same.
    const first = best[0], last = Math.log10(Math.max(...study.batch_sizes));
    traces.push({ type: "scatter", mode: "lines", name: `perfect scaling from batch ${first.batch_size}`, hoverinfo: "skip", showlegend: family === "sgd",
      x: [Math.log10(first.batch_size), last], y: [first.steps, first.steps * first.batch_size / 10 ** last],
      line: { color: familyColor(family), dash: "dot", width: 1.2 } });
  }
  // The noisy quadratic model of the net (the last study event brings it): thin and dashed, each family in its colour.
  for (const family of ["sgd", "momentum"]) {
    const model = (study.model ?? []).filter((b) => b.family === family && b.target === target && b.steps !== null);
    if (model.length === 0) continue;
    traces.push({ type: "scatter", mode: "lines", name: `${family === "sgd" ? "plain SGD" : "momentum"}: noisy quadratic model`,
      x: model.map((b) => Math.log10(b.batch_size)), y: model.map((b) => b.steps), hoverinfo: "x+y",
      line: { color: familyColor(family), dash: "dashdot", width: 1.2 } });
  }
  const critical = study.critical[t];
  const shapes = ["sgd", "momentum"].filter((f) => critical[f] !== null).map((f) => ({ type: "line", xref: "x", yref: "paper",
    x0: Math.log10(critical[f]), x1: Math.log10(critical[f]), y0: 0, y1: 1, line: { color: familyColor(f), dash: "dash", width: 1 } }));
  const reached = [...study.rows, ...(study.model ?? [])].filter((b) => b.target === target && b.steps !== null).map((b) => b.steps);
  const yRange = reached.length ? [Math.log10(Math.min(...reached)) - 0.3, Math.log10(Math.max(...reached)) + 0.2] : [0, 3];
  Plotly.react("scaling-steps-plot", traces, {
    title: { text: `steps to stay at excess ${target}, held out; dashed: critical batch sizes`, font: { size: 14 } }, margin: stepsMargin, shapes,
    xaxis: { title: { text: "batch size" }, fixedrange: true, range: axis.range, tickvals: axis.tickvals, ticktext: axis.ticktext },
    yaxis: { title: { text: "steps to stay (held-out median)" }, type: "log", range: yRange },
    legend: { x: 1, xanchor: "right", y: 1, bgcolor: "rgba(255,255,255,0.7)" },
  }, plotConfig);
}

function drawSpeedUp() {
  const study = scaling.study, axis = batchAxis(study);
  const traces = study.targets.map((target) => {
    const rows = study.batch_sizes.map((b) => study.rows.find((r) => r.family === "momentum" && r.target === target && r.batch_size === b));
    const y = rows.map((r) => (r && r.verdict !== "unreached" ? r.speed_up : null));
    return { type: "scatter", mode: "lines+markers", name: `excess ${target}`, x: axis.x, y, connectgaps: false,
      customdata: rows.map((r) => [r?.low ?? 0, r?.high ?? Infinity, r?.verdict ?? "-"]),
      hovertemplate: "%{y:.2f} [%{customdata[0]:.2f}, %{customdata[1]:.2f}]: %{customdata[2]}<extra></extra>",
      error_y: { type: "data", symmetric: false, array: rows.map((r, i) => (y[i] === null || r.high === null ? 0 : r.high - y[i])),
        arrayminus: rows.map((r, i) => (y[i] === null || r.low === null ? 0 : y[i] - r.low)) } };
  });
  Plotly.react("scaling-speedup", traces, {
    title: { text: "plain SGD's steps / momentum's, held out (bars: 95% interval)", font: { size: 14 } }, margin: { l: 60, r: 20, t: 40, b: 50 },
    shapes: [{ type: "line", xref: "paper", x0: 0, x1: 1, y0: 1, y1: 1, line: { color: "#999", dash: "dash", width: 1 } }],
    xaxis: { title: { text: "batch size" }, fixedrange: true, range: axis.range, tickvals: axis.tickvals, ticktext: axis.ticktext },
    yaxis: { title: { text: "speed-up" }, rangemode: "tozero" },
    legend: { x: 0, y: 1, bgcolor: "rgba(255,255,255,0.7)" },
  }, plotConfig);
}

// A click on the steps plot picks the batch size nearest it.
$("scaling-steps-plot").addEventListener("click", (event) => {
  if (!scaling.study) return;
  const axis = batchAxis(scaling.study), layout = $("scaling-steps-plot")._fullLayout;
  const at = dataAt(event, $("scaling-steps-plot"), stepsMargin, axis.range, layout.yaxis.range);
  if (!(at.x >= axis.range[0] && at.x <= axis.range[1])) return;
  const nearest = axis.x.reduce((best, value, i) => (Math.abs(value - at.x) < Math.abs(axis.x[best] - at.x) ? i : best), 0);
  scaling.batch = scaling.study.batch_sizes[nearest];
  drawByLr();
});

// The clicked batch size's held-out steps against the learning rate: each family's menu, each point the median over
// the held-out seeds of a setting's steps (a cell that never stays at the target counts as never), read off the
// study's cells in their id order: (seed x batch sizes + batch) x settings + setting, tuning seeds first.
function drawByLr() {
  const study = scaling.study, t = targetIndex(), b = study.batch_sizes.indexOf(scaling.batch);
  const K = study.settings.length, B = study.batch_sizes.length, tune = study.tune_seeds.length, held = study.eval_seeds.length;
  const median = (values) => {
    const sorted = values.map((v) => v ?? Infinity).sort((p, q) => p - q), n = sorted.length;
    const m = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    return Number.isFinite(m) ? m : null;
  };
  const traces = ["sgd", "momentum"].map((family) => {
    const menu = study.settings.map((s, k) => ({ ...s, k })).filter((s) => (s.momentum === 0) === (family === "sgd"));
    return {
      type: "scatter", mode: family === "sgd" ? "lines+markers" : "markers", name: family === "sgd" ? "plain SGD" : "momentum",
      x: menu.map((s) => s.lr), y: menu.map((s) => median(Array.from({ length: held }, (_, i) => study.steps[t][((tune + i) * B + b) * K + s.k]))),
      customdata: menu.map((s) => s.momentum), hovertemplate: "lr %{x:.3g}, momentum %{customdata:.2g}: %{y} steps<extra></extra>",
      line: { color: familyColor(family), width: 2 }, marker: { color: familyColor(family), size: 8 },
    };
  });
  Plotly.react("scaling-by-lr", traces, {
    title: { text: `batch ${scaling.batch}: every setting's held-out steps (gaps: never stayed)`, font: { size: 14 } },
    margin: { l: 60, r: 20, t: 40, b: 50 },
    xaxis: { title: { text: "learning rate" }, type: "log" }, yaxis: { title: { text: "steps (held-out median)" }, type: "log" },
    legend: { x: 1, xanchor: "right", y: 1, bgcolor: "rgba(255,255,255,0.7)" },
  }, plotConfig);
}
