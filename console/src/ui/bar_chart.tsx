// A bar chart drawn by uPlot (bundled, no external request), with the numbers also in a table
// next to it for screen readers and for anyone who prefers figures.
import type { JSX } from "preact";
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export function BarChart({ labels, values, title, unit }: { labels: string[]; values: number[]; title: string; unit: string }): JSX.Element {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = Math.max(280, Math.min(720, el.clientWidth || 600));
    const bars = uPlot.paths.bars!({ size: [0.6, 80] });
    const plot = new uPlot(
      {
        width,
        height: 220,
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: false, range: () => [-0.5, labels.length - 0.5] }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: [
          { splits: () => labels.map((_, i) => i), values: (_u, splits) => splits.map((i) => labels[i] ?? ""), stroke: "#374151", grid: { show: false } },
          { label: unit, stroke: "#374151" },
        ],
        series: [{}, { label: title, fill: "#2563eb", stroke: "#1d4ed8", paths: bars, points: { show: false } }],
      },
      [labels.map((_, i) => i), values],
      el,
    );
    return () => plot.destroy();
  }, [labels.join("|"), values.join("|")]);
  return <div ref={box} class="chart" role="img" aria-label={`${title}: ${labels.map((l, i) => `${l} ${values[i]} ${unit}`).join(", ")}`} />;
}
