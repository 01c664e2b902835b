// Built-in rich representations: Tensor and Arrow Table. Both must never throw for a value that
// can exist (a disposed tensor, an empty table, odd column types): a display error would hide
// the very object the user is trying to look at.
import { DataType, Table, Vector } from "apache-arrow";
import { Tensor, readElement } from "../tensor/tensor";
import { isFloat } from "../tensor/dtype";
import type { MimeBundle } from "./display";

/** Elements a tensor summary reads at most: statistics of a larger tensor cover a prefix. */
export const TENSOR_STATS_LIMIT = 1_000_000;
const PREVIEW_ROWS = 4;
const PREVIEW_COLS = 8;
const TABLE_HEAD = 5;
const TABLE_TAIL = 5;
const TABLE_MAX_COLS = 20;
const CELL_MAX_CHARS = 60;

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A number as shown in tables: integers as they are, others with 6 significant digits (in
 * exponent form when very large or small), and nan / inf / -inf.
 */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return "nan";
  if (v === Infinity) return "inf";
  if (v === -Infinity) return "-inf";
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-4)) return v.toExponential(4);
  return String(Number(v.toPrecision(6)));
}

function withCommas(n: number): string {
  return n.toLocaleString("en-US");
}

// ---------------------------------------------------------------------------------------------
// Tensor

/** Summary statistics of (a prefix of) a tensor, computed in float64. */
export interface TensorStats {
  /** Elements the statistics cover: all of them, or the first {@link TENSOR_STATS_LIMIT}. */
  count: number;
  /** Whether `count` is less than the tensor's numel. */
  sampled: boolean;
  /** Over the finite elements (NaN when there are none). */
  min: number;
  max: number;
  mean: number;
  /** Population standard deviation (divides by n) of the finite elements. */
  std: number;
  /** Non-finite elements among the covered ones (float dtypes only). */
  nan: number;
  inf: number;
}

/**
 * The first `count` elements in row-major order as float64, read straight through the strides:
 * no contiguous copy, so a transposed view of a huge tensor costs only what is read.
 */
function readPrefix(t: Tensor, count: number): Float64Array {
  const arr = t.storageArray();
  const dtype = t.dtype;
  const out = new Float64Array(count);
  if (count === 0) return out;
  if (t.isContiguous()) {
    const base = t.offset;
    if (arr instanceof Float32Array || arr instanceof Int8Array || arr instanceof Int32Array || (arr instanceof Uint8Array && dtype === "u8")) {
      for (let i = 0; i < count; i++) out[i] = arr[base + i];
    } else {
      for (let i = 0; i < count; i++) out[i] = readElement(arr, dtype, base + i);
    }
    return out;
  }
  const shape = t.shape;
  const strides = t.strides;
  const nd = shape.length;
  const idx = new Array<number>(nd).fill(0);
  let pos = t.offset;
  for (let i = 0; i < count; i++) {
    out[i] = readElement(arr, dtype, pos);
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]++;
      pos += strides[d];
      if (idx[d] < shape[d]) break;
      pos -= idx[d] * strides[d];
      idx[d] = 0;
    }
  }
  return out;
}

/** The element at row-major position `flat` (read through the strides). */
function elementAt(t: Tensor, arr: ReturnType<Tensor["storageArray"]>, flat: number): number {
  let pos = t.offset;
  let rest = flat;
  for (let d = t.ndim - 1; d >= 0; d--) {
    const size = t.shape[d];
    pos += (rest % size) * t.strides[d];
    rest = Math.floor(rest / size);
  }
  return readElement(arr, t.dtype, pos);
}

/**
 * Min, max, mean and population std of a live tensor's elements (the first
 * {@link TENSOR_STATS_LIMIT} of a larger one), in float64 over the finite values, with counts of
 * NaN and infinities. Two passes: the deviation from the mean is summed after the mean is known,
 * which keeps std accurate when the values sit far from zero.
 */
export function tensorStats(t: Tensor): TensorStats {
  const count = Math.min(t.numel, TENSOR_STATS_LIMIT);
  const values = readPrefix(t, count);
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let finite = 0;
  let nan = 0;
  let inf = 0;
  for (let i = 0; i < count; i++) {
    const v = values[i];
    if (v !== v) {
      nan++;
      continue;
    }
    if (v === Infinity || v === -Infinity) {
      inf++;
      continue;
    }
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    finite++;
  }
  const mean = finite > 0 ? sum / finite : NaN;
  let sq = 0;
  for (let i = 0; i < count; i++) {
    const v = values[i];
    if (v - v === 0) sq += (v - mean) * (v - mean);
  }
  return {
    count,
    sampled: count < t.numel,
    min: finite > 0 ? min : NaN,
    max: finite > 0 ? max : NaN,
    mean,
    std: finite > 0 ? Math.sqrt(sq / finite) : NaN,
    nan,
    inf,
  };
}

function tensorText(t: Tensor): string {
  // formatTensor copies every element into a JS array; past the stats limit that is too slow
  // and too large for a display, so a huge tensor prints as a one-line summary.
  if (t.disposed || t.detached || t.numel <= TENSOR_STATS_LIMIT) return t.toString();
  return `tensor(<${withCommas(t.numel)} elements not shown>, shape=[${t.shape.join(", ")}], dtype=${t.dtype})`;
}

function statCell(name: string, v: number): string {
  return `<th>${name}</th><td data-value="${escapeHtml(String(v))}">${escapeHtml(formatNumber(v))}</td>`;
}

function tensorPreview(t: Tensor): string {
  const arr = t.storageArray();
  const cell = (flat: number): string => escapeHtml(formatNumber(elementAt(t, arr, flat)));
  if (t.ndim === 0) return `<table class="bitnet-tensor-values"><tr><td>${cell(0)}</td></tr></table>`;
  const cols = t.shape[t.ndim - 1];
  const rows = t.numel / cols;
  const shownCols = Math.min(cols, PREVIEW_COLS);
  const shownRows = Math.min(rows, PREVIEW_ROWS);
  const lead = t.shape.slice(0, -1);
  // A row of a >2-d tensor is one index into the leading dimensions: label it like [i, j, :].
  const rowLabel = (r: number): string => {
    const ix: number[] = [];
    let rest = r;
    for (let d = lead.length - 1; d >= 0; d--) {
      ix.unshift(rest % lead[d]);
      rest = Math.floor(rest / lead[d]);
    }
    return `[${[...ix, ":"].join(", ")}]`;
  };
  const lines: string[] = ['<table class="bitnet-tensor-values">'];
  const head = ["<th></th>"];
  for (let c = 0; c < shownCols; c++) head.push(`<th>${c}</th>`);
  if (shownCols < cols) head.push("<th>…</th>");
  lines.push(`<tr>${head.join("")}</tr>`);
  for (let r = 0; r < shownRows; r++) {
    const tds = [`<th>${escapeHtml(rowLabel(r))}</th>`];
    for (let c = 0; c < shownCols; c++) tds.push(`<td>${cell(r * cols + c)}</td>`);
    if (shownCols < cols) tds.push("<td>…</td>");
    lines.push(`<tr>${tds.join("")}</tr>`);
  }
  if (shownRows < rows) lines.push(`<tr><th>…</th>${"<td>…</td>".repeat(shownCols + (shownCols < cols ? 1 : 0))}</tr>`);
  lines.push("</table>");
  return lines.join("");
}

function tensorHtml(t: Tensor): string {
  const shape = `[${t.shape.join(", ")}]`;
  if (t.disposed || t.detached) {
    const what = t.disposed ? "disposed tensor" : "detached tensor (its memory was transferred away)";
    return `<div class="bitnet-tensor"><b>${what}</b> shape ${escapeHtml(shape)} · ${escapeHtml(t.dtype)}</div>`;
  }
  const facts = [`shape ${shape}`, t.dtype, t.device, `${withCommas(t.numel)} elements`];
  if (t.requiresGrad) facts.push("requires grad");
  if (t.gradNode !== null) facts.push(`grad_fn=${t.gradNode.op}`);
  const parts = [`<div class="bitnet-tensor">`, `<div><b>Tensor</b> ${facts.map(escapeHtml).join(" · ")}</div>`];
  if (t.numel === 0) {
    parts.push("<div>(empty)</div></div>");
    return parts.join("");
  }
  const s = tensorStats(t);
  const cells = [statCell("min", s.min), statCell("max", s.max)];
  if (isFloat(t.dtype)) {
    cells.push(statCell("mean", s.mean), statCell("std", s.std));
    if (s.nan > 0) cells.push(statCell("nan", s.nan));
    if (s.inf > 0) cells.push(statCell("inf", s.inf));
  }
  parts.push(`<table class="bitnet-tensor-stats"><tr>${cells.join("")}</tr></table>`);
  if (s.sampled) parts.push(`<div>statistics over the first ${withCommas(s.count)} of ${withCommas(t.numel)} elements</div>`);
  parts.push(tensorPreview(t), "</div>");
  return parts.join("");
}

/**
 * The MIME bundle of a tensor: `text/plain` is its `toString()` (a one-line summary past
 * {@link TENSOR_STATS_LIMIT} elements); `text/html` shows shape, dtype, device and element
 * count, min/max (plus mean/std and NaN/inf counts for float dtypes, over at most the first
 * {@link TENSOR_STATS_LIMIT} elements) and the top-left corner of its values. A disposed or
 * detached tensor is described as such rather than throwing.
 */
export function tensorMimeBundle(t: Tensor): MimeBundle {
  return { "text/plain": tensorText(t), "text/html": tensorHtml(t) };
}

// ---------------------------------------------------------------------------------------------
// Arrow Table

function truncate(s: string): string {
  return s.length > CELL_MAX_CHARS ? s.slice(0, CELL_MAX_CHARS - 1) + "…" : s;
}

function jsonish(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? String(x) : x)) ?? String(v);
  } catch {
    return String(v);
  }
}

/** One Arrow cell as display text (untruncated, unescaped). */
function cellText(v: unknown, type: DataType): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "number") {
    // Timestamp and Date columns come back as epoch milliseconds.
    if ((DataType.isTimestamp(type) || DataType.isDate(type)) && Number.isFinite(v)) return new Date(v).toISOString();
    return formatNumber(v);
  }
  if (typeof v === "bigint" || typeof v === "boolean") return String(v);
  if (typeof v === "string") return v;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? "Invalid Date" : v.toISOString();
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  if (v instanceof Vector) {
    const n = v.length;
    const items: string[] = [];
    for (let i = 0; i < Math.min(n, 8); i++) items.push(cellText(v.get(i), v.type));
    return `[${items.join(", ")}${n > 8 ? ", …" : ""}]`;
  }
  if (ArrayBuffer.isView(v)) return jsonish(Array.from(v as unknown as ArrayLike<number>));
  return jsonish(v);
}

interface TableLayout {
  /** Row indices shown, with null where rows are elided. */
  rows: (number | null)[];
  /** Column indices shown. */
  cols: number[];
  names: string[];
  types: string[];
  /** Cell text by shown row (null for the elision row) and shown column. */
  cells: (string[] | null)[];
}

function layoutTable(table: Table): TableLayout {
  const n = table.numRows;
  const rows: (number | null)[] =
    n <= TABLE_HEAD + TABLE_TAIL
      ? Array.from({ length: n }, (_, i) => i)
      : [...Array.from({ length: TABLE_HEAD }, (_, i) => i), null, ...Array.from({ length: TABLE_TAIL }, (_, i) => n - TABLE_TAIL + i)];
  const fields = table.schema.fields;
  const cols = Array.from({ length: Math.min(fields.length, TABLE_MAX_COLS) }, (_, j) => j);
  const vectors = cols.map((j) => table.getChildAt(j));
  const cells = rows.map((r) =>
    r === null
      ? null
      : cols.map((j, k) => {
          const vec = vectors[k];
          try {
            return truncate(vec === null ? "?" : cellText(vec.get(r), fields[j].type));
          } catch {
            return "?";
          }
        }),
  );
  return { rows, cols, names: cols.map((j) => fields[j].name), types: cols.map((j) => String(fields[j].type)), cells };
}

function tableCaption(table: Table): string {
  const c = table.numCols;
  return `${withCommas(table.numRows)} row${table.numRows === 1 ? "" : "s"} × ${c} column${c === 1 ? "" : "s"}`;
}

function tableText(table: Table, l: TableLayout): string {
  const hidden = table.numCols - l.cols.length;
  const header = [...l.names, ...(hidden > 0 ? ["…"] : [])];
  const types = [...l.types, ...(hidden > 0 ? [""] : [])];
  const body = l.cells.map((row, i) => {
    if (row === null) return ["…", ...header.map(() => "…")];
    return [String(l.rows[i]), ...row, ...(hidden > 0 ? ["…"] : [])];
  });
  const grid = [["", ...header], ["", ...types], ...body];
  const widths = grid[0].map((_, j) => Math.max(...grid.map((r) => r[j].length)));
  const lines = grid.map((r) => r.map((s, j) => s.padEnd(widths[j])).join("  ").trimEnd());
  return [`Table: ${tableCaption(table)}${hidden > 0 ? ` (${hidden} columns not shown)` : ""}`, ...lines].join("\n");
}

function tableHtml(table: Table, l: TableLayout): string {
  const hidden = table.numCols - l.cols.length;
  const ths = l.names.map((name, k) => `<th>${escapeHtml(name)}<br><small>${escapeHtml(l.types[k])}</small></th>`);
  if (hidden > 0) ths.push(`<th title="${hidden} more columns">…</th>`);
  const out: string[] = ['<table class="bitnet-arrow-table">'];
  out.push(`<caption>${escapeHtml(tableCaption(table))}${hidden > 0 ? ` (${hidden} columns not shown)` : ""}</caption>`);
  out.push(`<thead><tr><th></th>${ths.join("")}</tr></thead><tbody>`);
  l.cells.forEach((row, i) => {
    if (row === null) {
      out.push(`<tr class="elided"><th>…</th>${"<td>…</td>".repeat(l.cols.length + (hidden > 0 ? 1 : 0))}</tr>`);
      return;
    }
    const tds = row.map((s) => `<td>${escapeHtml(s)}</td>`);
    if (hidden > 0) tds.push("<td>…</td>");
    out.push(`<tr><th>${l.rows[i]}</th>${tds.join("")}</tr>`);
  });
  out.push("</tbody></table>");
  return out.join("");
}

/**
 * The MIME bundle of an Arrow table: its first five and last five rows (all rows when there are
 * at most ten, an elision row "…" between otherwise), the first 20 columns' names with their
 * Arrow types, and the row count, as aligned `text/plain` and as an HTML table.
 */
export function tableMimeBundle(table: Table): MimeBundle {
  const layout = layoutTable(table);
  return { "text/plain": tableText(table, layout), "text/html": tableHtml(table, layout) };
}
