// The velocity view (section 5.3, d2l's beta^t plot): how much the gradient k steps back counts in today's velocity,
// lr·momentum^k as MomentumSgd measures it (/api/velocity), for the shared momentum slider's value beside a few fixed
// momenta, each with what all its weights add up to, lr/(1 − momentum): the bigger step a steady gradient builds.

import { $, api, colors, newestOnly, plotConfig, shortly } from "./page.js";

const Steps = 60;
const refresh = newestOnly("velocity", $("velocity"), "The weights of past gradients could not be measured");
// The fixed momenta's colours, lightest for the smallest; the slider's momentum is drawn in momentum's blue.
const shades = ["#bdbdbd", "#969696", "#737373", "#525252", "#252525"];

/** Asks for and draws the weights at the shared sliders' lr and momentum (state.lr, state.momentum). */
export function refreshVelocity(state) {
  const { lr, momentum: asked } = state;
  return refresh((signal) => api("api/velocity", { lr, momentum: asked, steps: Steps }, signal), (answer) => draw(answer, lr, asked));
}

function draw(answer, lr, asked) {
  let shade = 0;
  const traces = answer.momenta.map((m) => {
    const chosen = m.momentum === asked;
    return { type: "scatter", mode: "lines+markers", x: answer.k, y: m.weights,
      name: `momentum ${m.momentum}${chosen ? " (slider)" : ""}: all weights sum to lr/(1 − m) = ${shortly(m.sum)}`,
      line: { color: chosen ? colors.momentum : shades[shade++], width: chosen ? 3 : 1.5 }, marker: { size: chosen ? 6 : 4 } };
  });
  Plotly.react("velocity", traces, {
    title: { text: `weight of the gradient k steps back in v_t: lr·momentum^k, lr ${lr}`, font: { size: 14 } },
    margin: { l: 70, r: 10, t: 40, b: 50 }, xaxis: { title: { text: "k, steps back" } }, yaxis: { title: { text: "weight in v_t" }, rangemode: "tozero" },
    legend: { x: 1, xanchor: "right", y: 1, bgcolor: "rgba(255,255,255,0.8)" },
  }, plotConfig);
  const mine = answer.momenta.find((m) => m.momentum === asked);
  $("velocity-summary").textContent = `With momentum ${asked}, today's gradient counts ${shortly(mine.weights[0])}, the one ten steps back `
    + `${shortly(mine.weights[Math.min(10, Steps - 1)])}; all of them sum to lr/(1 − momentum) = ${shortly(mine.sum)}, `
    + `${shortly(mine.sum / mine.weights[0])} times the step plain SGD takes.`;
}
