// PyTorch-like printing: aligned columns, 4 decimals or scientific notation, edges only for
// large tensors.
import { formatShape, numelOf } from "./shape";
import type { Tensor } from "./tensor";

const SUMMARY_THRESHOLD = 1000;
const EDGE_ITEMS = 3;

export function formatTensor(t: Tensor): string {
  // Printing never throws: a tensor without readable memory prints as a marker.
  if (t.disposed) return `tensor(<disposed>, shape=${formatShape(t.shape)}, dtype=${t.dtype})`;
  if (t.detached) return `tensor(<detached>, shape=${formatShape(t.shape)}, dtype=${t.dtype})`;
  const summarize = t.numel > SUMMARY_THRESHOLD;
  const values = t.values();
  const shown: number[] = [];
  collect(t.shape, 0, 0, summarize, values, shown);
  const fmt = chooseFormat(shown, t.dtype === "f32" || t.dtype === "f16" || t.dtype === "bf16");
  const width = Math.max(1, ...shown.map((v) => fmt(v).length));
  const cell = (v: number): string => fmt(v).padStart(width);
  const body = t.ndim === 0 ? fmt(values[0]) : render(t.shape, 0, 0, summarize, values, cell, "tensor(".length + 1);
  const extras: string[] = [];
  if (summarize || t.numel === 0) extras.push(`shape=${formatShape(t.shape)}`);
  if (t.dtype !== "f32") extras.push(`dtype=${t.dtype}`);
  return `tensor(${body}${extras.length ? ", " + extras.join(", ") : ""})`;
}

function indices(n: number, summarize: boolean): (number | null)[] {
  if (!summarize || n <= 2 * EDGE_ITEMS) return Array.from({ length: n }, (_, i) => i);
  const head = Array.from({ length: EDGE_ITEMS }, (_, i) => i);
  const tail = Array.from({ length: EDGE_ITEMS }, (_, i) => n - EDGE_ITEMS + i);
  return [...head, null, ...tail];
}

function collect(shape: readonly number[], dim: number, base: number, summarize: boolean, values: number[], out: number[]): void {
  if (shape.length === 0) {
    out.push(values[0]);
    return;
  }
  const inner = numelOf(shape.slice(dim + 1));
  for (const i of indices(shape[dim], summarize)) {
    if (i === null) continue;
    if (dim === shape.length - 1) out.push(values[base + i]);
    else collect(shape, dim + 1, base + i * inner, summarize, values, out);
  }
}

function render(
  shape: readonly number[],
  dim: number,
  base: number,
  summarize: boolean,
  values: number[],
  cell: (v: number) => string,
  indent: number,
): string {
  const inner = numelOf(shape.slice(dim + 1));
  const parts = indices(shape[dim], summarize).map((i) => {
    if (i === null) return "...";
    if (dim === shape.length - 1) return cell(values[base + i]);
    return render(shape, dim + 1, base + i * inner, summarize, values, cell, indent + 1);
  });
  if (dim === shape.length - 1) return `[${parts.join(", ")}]`;
  const sep = "," + "\n".repeat(shape.length - dim - 1) + " ".repeat(indent);
  return `[${parts.join(sep)}]`;
}

function chooseFormat(shown: number[], float: boolean): (v: number) => string {
  if (!float) return (v) => String(v);
  const finite = shown.filter((v) => Number.isFinite(v));
  const integral = finite.every((v) => Number.isInteger(v));
  const abs = finite.map(Math.abs).filter((v) => v > 0);
  const maxAbs = abs.length ? Math.max(...abs) : 0;
  const minAbs = abs.length ? Math.min(...abs) : 0;
  const special = (v: number): string | undefined => (Number.isNaN(v) ? "nan" : v === Infinity ? "inf" : v === -Infinity ? "-inf" : undefined);
  if (integral && maxAbs < 1e8) return (v) => special(v) ?? `${v}.`;
  if (maxAbs >= 1e8 || (minAbs > 0 && minAbs < 1e-4) || (minAbs > 0 && maxAbs / minAbs > 1000)) {
    return (v) => special(v) ?? v.toExponential(4);
  }
  return (v) => special(v) ?? v.toFixed(4);
}
