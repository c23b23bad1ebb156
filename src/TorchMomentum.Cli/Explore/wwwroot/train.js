// The Train view (sections 5.5, 5.6): the chapter's experiment trained live on the server (/api/train), its loss
// curves growing step by step above the noise floor, and what the nets learn, redrawn as they train.

import { $, colors, plotConfig, report, server } from "./page.js";
import { openStream, readStream, streamFailure } from "./streams.js";

// The contestants, their order, colours and dashes are the server's (/api/limits' "contestants", from its one table
// of contestants), the same as losses.png's: a training can start once it has answered.
let contestants = { names: [], dashed: [] };
$("train-start").disabled = true;
let training = null; // the AbortController of the stream being read

export function showContestants(info) {
  contestants = info;
  $("train-start").disabled = false;
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

// The ticked contestants, in the server's order.
function chosenContestants() {
  return [...document.querySelectorAll("#train-contestants input")].filter((box) => box.checked).map((box) => box.value);
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
    ...(server.limits ? {
      shapes: [{ type: "line", xref: "paper", x0: 0, x1: 1, y0: server.limits.noise_floor, y1: server.limits.noise_floor, line: { color: "gray", dash: "dot", width: 1.5 } }],
      annotations: [{ xref: "paper", x: 1, y: Math.log10(server.limits.noise_floor), xanchor: "right", yanchor: "bottom", showarrow: false,
        text: `noise floor ${Number(server.limits.noise_floor.toPrecision(3))} (0.1²)`, font: { color: "gray", size: 11 } }],
    } : {}),
  }, plotConfig);
  drawSharpnessAxes(settings, names);
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
  let pending = [], fit = null, frame = null, sharp = [];
  const names = settings.contestants.split(",");
  const draw = () => {
    frame = null;
    if (training !== controller) return; // stopped, or another training started: these steps are not shown
    if (fit) {
      Plotly.restyle("train-fit", { y: names.map((name) => fit[name]) }, names.map((_, i) => i + 2));
      Plotly.relayout("train-fit", { "title.text": fitTitle(fit.step) });
      fit = null;
    }
    if (sharp.length > 0) {
      const points = sharp;
      sharp = [];
      Plotly.extendTraces("train-sharpness", { x: names.map(() => points.map((p) => p.step + 1)), y: names.map((name) => points.map((p) => p[name])) }, names.map((_, i) => i));
    }
    const steps = pending;
    pending = [];
    if (steps.length === 0) return;
    Plotly.extendTraces("train", { x: names.map(() => steps.map((s) => s.step)), y: names.map((name) => steps.map((s) => s[name])) }, names.map((_, i) => i));
    const last = steps[steps.length - 1];
    $("train-status").textContent = `step ${last.step + 1}, epoch ${last.epoch + 1} of ${settings.epochs}`;
  };
  await readStream(response, (kind, data) => {
    if (kind === "message" || kind === "fit" || kind === "sharpness") {
      if (kind === "message") pending.push(data); else if (kind === "fit") fit = data; else sharp.push(data);
      frame ??= requestAnimationFrame(draw);
      return false;
    }
    if (kind === "data") {
      if (training === controller) drawFitData(data, names);
      return false;
    }
    draw();
    if (kind === "done" && !data.sharpness) Plotly.relayout("train-sharpness", { "title.text": "sharpness: not measured for a net this large (its Hessian would cost too much per event)" });
    const divergence = data.divergence;
    if (kind !== "done") finish(controller, `failed: ${data.error}`, true);
    else finish(controller, divergence ? `${divergence.optimizer} diverged at step ${divergence.step}` : `done: ${data.steps} steps`);
    return true;
  });
}

// Section 5.2 on the net itself: each contestant's lambda_max, the full-data loss's sharpest curvature, after each
// batch of steps (the server's /api/train sharpness events), under plain SGD's edge 2/lr and heavy ball's 2(1 + m)/lr.
function drawSharpnessAxes(settings, names) {
  const lr = Number(settings.lr), m = Number(settings.momentum);
  const edges = [{ value: 2 / lr, text: `2/lr = ${Number((2 / lr).toPrecision(3))}: plain SGD's edge` }];
  if (m > 0) edges.push({ value: 2 * (1 + m) / lr, text: `2(1 + m)/lr = ${Number((2 * (1 + m) / lr).toPrecision(3))}: heavy ball's` });
  Plotly.react("train-sharpness", names.map((name) => ({ type: "scatter", mode: "lines+markers", name, x: [], y: [], marker: { size: 3 },
    line: { color: colors[name], width: contestants.dashed.includes(name) ? 1.5 : 2, dash: contestants.dashed.includes(name) ? "dash" : "solid" } })), {
    title: { text: "sharpness: the Hessian's largest eigenvalue, lambda_max", font: { size: 14 } }, margin: { l: 60, r: 10, t: 40, b: 40 },
    xaxis: { title: { text: "step" } }, yaxis: { title: { text: "lambda_max" }, type: "log" },
    shapes: lr > 0 ? edges.map((e, i) => ({ type: "line", xref: "paper", x0: 0, x1: 1, y0: e.value, y1: e.value, line: { color: i ? "gray" : "black", dash: "dash", width: 1.5 } })) : [],
    annotations: lr > 0 ? edges.map((e) => ({ xref: "paper", x: 1, y: Math.log10(e.value), xanchor: "right", yanchor: "bottom", showarrow: false, text: e.text, font: { size: 11 } })) : [],
  }, plotConfig);
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

