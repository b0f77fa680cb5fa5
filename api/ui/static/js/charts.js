// Line charts on uPlot (vendored): drag to zoom along x, double-click to reset, hover for values.
const COLORS = ["#1f6feb", "#d1242f", "#1a7f37", "#bf8700", "#8250df", "#0a7d8c", "#cf222e", "#57606a"];

/** Series [{label, x, y}] on one x axis: shared x when they have it, else the union (gaps as null). */
export function align(series) {
  const first = series[0]?.x || [];
  const shared = series.every((s) => s.x.length === first.length && s.x[0] === first[0] && s.x.at(-1) === first.at(-1));
  if (shared) return [first, ...series.map((s) => s.y)];
  const xs = [...new Set(series.flatMap((s) => s.x))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  return [xs, ...series.map((s) => {
    const column = new Array(xs.length).fill(null);
    s.x.forEach((x, i) => (column[index.get(x)] = s.y[i]));
    return column;
  })];
}

// Epochs and batches are whole numbers: no 1.5 on their axes.
const STEP_INCREMENTS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000];
function short(v) {
  if (v === null) return "";
  const a = Math.abs(v);
  return a >= 1000 ? `${+(v / 1000).toPrecision(3)}k` : a && a < 0.01 ? v.toExponential(2) : String(+v.toPrecision(3));
}

function options(title, labels, width, { xLabel, time, yLabel }) {
  return {
    title,
    width,
    height: 220,
    scales: { x: { time: !!time } },
    cursor: { drag: { x: true, y: false, setScale: true } },
    axes: [time ? { label: xLabel } : { label: xLabel, incrs: STEP_INCREMENTS, values: (u, splits) => splits.map(short) },
      { label: yLabel, size: 60, values: (u, splits) => splits.map(short) }],
    series: [{ label: xLabel || "x" }, ...labels.map((label, i) => ({
      label, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: true,
    }))],
  };
}

/** A chart element (data-testid=metric-chart unless told): .update(series) redraws it; data-points counts
 * the points drawn, which tests and the benchmark read. */
export function lineChart(title, series, { testid = "metric-chart", xLabel = "step", time = false, yLabel } = {}) {
  const el = document.createElement("div");
  el.className = "chart";
  el.dataset.testid = testid;
  el.dataset.title = title;
  el.dataset.points = "0";
  let plot = null;
  let labels = [];
  const draw = (list) => {
    const width = Math.max(280, el.clientWidth || el.parentElement?.clientWidth || 600);
    const data = align(list);
    const sameSeries = plot && labels.join("|") === list.map((s) => s.label).join("|");
    if (sameSeries) {
      plot.setData(data);
    } else {
      plot?.destroy();
      labels = list.map((s) => s.label);
      const opts = options(title, labels, width, { xLabel, time, yLabel });
      opts.hooks = { draw: [() => drawn(el)] };
      plot = new window.uPlot(opts, data, el);
    }
    el.dataset.points = String(list.reduce((n, s) => n + s.y.length, 0));
  };
  el.update = (list) => (list.length ? draw(list) : null);
  el.destroy = () => { plot?.destroy(); resize.disconnect(); };
  const resize = new ResizeObserver(() => {
    if (plot && el.clientWidth && Math.abs(plot.width - el.clientWidth) > 4) plot.setSize({ width: el.clientWidth, height: 220 });
  });
  resize.observe(el);
  queueMicrotask(() => el.update(series));
  return el;
}

function drawn(el) {
  if (el.dataset.drawn) return;
  el.dataset.drawn = "1";
  performance.mark(`chart-drawn:${el.dataset.title}`);
}
