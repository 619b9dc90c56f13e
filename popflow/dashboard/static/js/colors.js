// A sequential colour ramp (pale yellow → deep blue) and the map legend.
const STOPS = ["#fff7bc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"];
export const SUPPRESSED = "#c9ced4";

export function rampExpression(min, max, input) {
  if (!(max > min)) return STOPS[4];
  const expression = ["interpolate", ["linear"], input];
  STOPS.forEach((color, i) => expression.push(min + ((max - min) * i) / (STOPS.length - 1), color));
  return expression;
}

export function rampCss() {
  return `linear-gradient(to right, ${STOPS.join(", ")})`;
}

// Legend: title, colour ramp with its range, counts, and the "too few to show" swatch.
export function renderLegend(element, { title, min, max, shown, suppressed, format }) {
  const range = shown ? `<div class="range"><span data-min>${format(min)}</span><span data-max>${format(max)}</span></div>` : "";
  element.innerHTML = `<div class="title"></div>
    <div class="ramp" style="background:${rampCss()}"></div>${range}
    <div data-shown>${shown} areas shown</div>
    <div data-suppressed><span class="swatch"></span>${suppressed} too few to show</div>`;
  element.querySelector(".title").textContent = title;
}

// A diagonal hatch image for areas whose cell was suppressed (fewer than k people).
export function hatchImage(size = 8) {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = size;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#eef0f2";
  ctx.fillRect(0, 0, size, size);
  ctx.strokeStyle = "#9aa4ae";
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.moveTo(0, size); ctx.lineTo(size, 0);
  ctx.moveTo(-size / 2, size / 2); ctx.lineTo(size / 2, -size / 2);
  ctx.moveTo(size / 2, size * 1.5); ctx.lineTo(size * 1.5, size / 2);
  ctx.stroke();
  return ctx.getImageData(0, 0, size, size);
}
