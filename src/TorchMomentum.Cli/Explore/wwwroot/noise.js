// The noise view (Distill's "Why Momentum Really Works", stochastic gradients): on f = h/2·x², every gradient gets
// Gaussian noise of standard deviation sigma. Many seeded runs of MomentumSgd and of plain gradient descent at the
// same lr (/api/noise) are drawn as a band (10th to 90th percentile of f), their mean f, and the closed-form f they
// settle at. Momentum shortens the transient, but its floor grows like lr/(1 − momentum).

import { $, api, colors, newestOnly, plotConfig, shortly } from "./page.js";

const refresh = newestOnly("noise", $("noise"), "The noisy runs could not be computed");
let shared = null; // the shared sliders' state, from the last refresh

/** Asks for and draws the runs at the shared sliders' lr and momentum and this view's sigma, runs and seed. */
export function refreshNoise(state) {
  shared = state;
  $("sigma-value").textContent = $("sigma").value;
  const params = { lr: state.lr, momentum: state.momentum, sigma: $("sigma").value, runs: $("noise-runs").value, seed: $("noise-seed").value };
  return refresh((signal) => api("api/noise", params, signal), (answer) => draw(answer, params));
}

function draw(answer, params) {
  const traces = [], shapes = [], annotations = [];
  for (const method of answer.methods) {
    const color = method.momentum === 0 ? colors.gd : colors.momentum, t = method.mean.map((_, i) => i);
    const label = method.momentum === 0 ? method.name : `${method.name} ${method.momentum}`;
    traces.push({ type: "scatter", mode: "lines", x: t, y: method.low, line: { width: 0 }, hoverinfo: "skip", showlegend: false, legendgroup: label });
    traces.push({ type: "scatter", mode: "lines", x: t, y: method.high, fill: "tonexty", fillcolor: `${color}33`, line: { width: 0 },
      name: `${label}: 10th to 90th percentile of ${params.runs} runs`, hoverinfo: "skip", legendgroup: label });
    traces.push({ type: "scatter", mode: "lines", x: t, y: method.mean, name: `${label}: mean f`, line: { color, width: 2.5 }, legendgroup: label });
    shapes.push({ type: "line", xref: "paper", x0: 0, x1: 1, y0: method.floor, y1: method.floor, line: { color, dash: "dot", width: 2 } });
    annotations.push({ xref: "paper", x: 1, y: Math.log10(method.floor), xanchor: "right", yanchor: method.momentum === 0 ? "top" : "bottom", showarrow: false,
      text: `${label} settles at ${shortly(method.floor)} (closed form)`, font: { color, size: 11 } });
  }
  Plotly.react("noise", traces, {
    title: { text: `f = x²/2 from x₀ = ${answer.start}, gradient noise sigma ${params.sigma}, lr ${params.lr}`, font: { size: 14 } },
    margin: { l: 70, r: 10, t: 40, b: 50 }, xaxis: { title: { text: "iteration" } },
    yaxis: { type: "log", title: { text: "f" }, exponentformat: "power" }, shapes, annotations,
    legend: { x: 1, xanchor: "right", y: 1, bgcolor: "rgba(255,255,255,0.8)" },
  }, plotConfig);
  $("noise").dataset.seed = params.seed; // which runs are drawn, for whoever reads the page
  const [momentum, plain] = [answer.methods.find((m) => m.momentum !== 0), answer.methods.find((m) => m.momentum === 0)];
  $("noise-summary").textContent = momentum
    ? `Momentum ${momentum.momentum} settles at f ≈ ${shortly(momentum.floor)}, ${shortly(momentum.floor / plain.floor)} times plain gradient descent's ${shortly(plain.floor)}: `
      + "its velocity sums the noise of about 1/(1 − momentum) steps, so it settles higher, however soon it got down."
    : `Plain gradient descent settles at f ≈ ${shortly(plain.floor)}.`;
}

for (const id of ["sigma", "noise-runs", "noise-seed"]) $(id).addEventListener("input", () => shared && refreshNoise(shared));
