// Chart builders for what this lab measures: training curves, throughput, kernel GOPS against a
// roofline, ternary weight distributions and latency distributions. Each takes plain rows or an
// Arrow table, validates every value it plots (a NaN silently dropped by the renderer would make
// a wrong chart look right) and returns a Chart.
import { Table } from "apache-arrow";
import { Tensor } from "../tensor/tensor";
import { describe } from "../tensor/dtype";
import { Chart, VEGA_LITE_SCHEMA, VegaLiteSpec } from "./chart";

/** Options every builder accepts. */
export interface ChartCommonOptions {
  /** Chart title (each builder has a default). */
  title?: string;
  /** Width of the (main) plot area in pixels. */
  width?: number;
  /** Height of the (main) plot area in pixels. */
  height?: number;
}

const PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#eeca3b", "#9d755d"];

// ---------------------------------------------------------------------------------------------
// Input reading and validation

/** Uniform access to rows given as an array of objects or as an Arrow table. */
interface RowSource {
  readonly length: number;
  /** Whether the field exists at all (a table column, or a key of any row). */
  has(field: string): boolean;
  get(i: number, field: string): unknown;
  /** How an error names the cell: `rows[2].gops` or `rows column 'gops' row 2`. */
  where(i: number, field: string): string;
}

export function checkOptions(fn: string, opts: unknown, keys: readonly string[]): void {
  if (opts === undefined) return;
  if (typeof opts !== "object" || opts === null || Array.isArray(opts)) {
    throw new TypeError(`${fn}: opts must be an object { ${keys.join(", ")} }, received ${describe(opts)}`);
  }
  for (const k of Object.keys(opts)) {
    if (!keys.includes(k)) throw new TypeError(`${fn}: unknown option '${k}' (options: ${keys.join(", ")})`);
  }
}

export const COMMON_KEYS = ["title", "width", "height"] as const;

function commonOptions(fn: string, opts: ChartCommonOptions | undefined, dflt: { title: string; width: number; height: number }): { title: string; width: number; height: number } {
  const title = opts?.title ?? dflt.title;
  if (typeof title !== "string") throw new TypeError(`${fn}: opts.title must be a string, received ${describe(title)}`);
  const size = (name: "width" | "height"): number => {
    const v = opts?.[name] ?? dflt[name];
    if (typeof v !== "number") throw new TypeError(`${fn}: opts.${name} must be a positive number of pixels, received ${describe(v)}`);
    if (!(v > 0 && v <= 10000)) throw new RangeError(`${fn}: opts.${name} must be a positive number of pixels (at most 10000), received ${describe(v)}`);
    return v;
  };
  return { title, width: size("width"), height: size("height") };
}

function rowSource(fn: string, arg: string, input: unknown): RowSource {
  if (input instanceof Table) {
    const table = input;
    const names = table.schema.fields.map((f) => f.name);
    const columns = new Map(names.map((n) => [n, table.getChild(n)]));
    return {
      length: table.numRows,
      has: (field) => columns.has(field),
      get: (i, field) => {
        const v: unknown = columns.get(field)?.get(i);
        return typeof v === "bigint" ? Number(v) : v;
      },
      where: (i, field) => `${arg} column '${field}' row ${i}`,
    };
  }
  if (!Array.isArray(input)) throw new TypeError(`${fn}: ${arg} must be an array of objects or an Arrow Table, received ${describe(input)}`);
  input.forEach((row, i) => {
    if (typeof row !== "object" || row === null || Array.isArray(row)) {
      throw new TypeError(`${fn}: ${arg}[${i}] must be an object, received ${describe(row)}`);
    }
  });
  const rows = input as Record<string, unknown>[];
  return {
    length: rows.length,
    has: (field) => rows.some((r) => field in r),
    get: (i, field) => rows[i][field],
    where: (i, field) => `${arg}[${i}].${field}`,
  };
}

function checkNonEmpty(fn: string, arg: string, src: { length: number }): void {
  if (src.length === 0) throw new RangeError(`${fn}: ${arg} is empty (no rows to plot)`);
}

/** A missing table column is named as such; a key missing from rows fails in the per-row checks. */
function requireColumn(fn: string, arg: string, src: RowSource, field: string, input: unknown): void {
  if (!(input instanceof Table) || src.has(field)) return;
  const names = input.schema.fields.map((f) => f.name);
  throw new TypeError(`${fn}: ${arg} has no column '${field}' (columns: ${names.join(", ") || "none"})`);
}

function finiteAt(fn: string, src: RowSource, i: number, field: string): number {
  const v = src.get(i, field);
  if (typeof v !== "number") throw new TypeError(`${fn}: ${src.where(i, field)} must be a finite number, received ${describe(v)}`);
  if (!Number.isFinite(v)) throw new RangeError(`${fn}: ${src.where(i, field)} must be a finite number, received ${describe(v)}`);
  return v;
}

function labelAt(fn: string, src: RowSource, i: number, field: string): string {
  const v = src.get(i, field);
  if (typeof v === "string" && v !== "") return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  throw new TypeError(`${fn}: ${src.where(i, field)} must be a non-empty string (or a finite number), received ${describe(v)}`);
}

function checkFieldName(fn: string, name: string, value: unknown): string {
  if (typeof value !== "string" || value === "") throw new TypeError(`${fn}: opts.${name} must be a non-empty field name, received ${describe(value)}`);
  return value;
}

function spec(title: string, body: Record<string, unknown>): VegaLiteSpec {
  return { $schema: VEGA_LITE_SCHEMA, title, config: { view: { stroke: null }, axis: { grid: true, gridOpacity: 0.5 } }, ...body };
}

// ---------------------------------------------------------------------------------------------
// a. Training curves

/** One step of a training run, as in `Trainer.history` / `Trainer.metricsTable()`. */
export interface TrainingPoint {
  step: number;
  /** Training loss (finite). */
  loss: number;
  /** Validation loss where an evaluation ran; null, undefined or NaN elsewhere. */
  evalLoss?: number | null;
  /** Learning rate (null or undefined where unknown). */
  lr?: number | null;
  /** Gradient norm before clipping (null or undefined where unknown). */
  gradNorm?: number | null;
}

/** Options of {@link trainingCurves}. */
export interface TrainingCurvesOptions extends ChartCommonOptions {
  /** Log scale for the loss axis (default false). */
  logLoss?: boolean;
}

/**
 * Training curves: training loss (line) and validation loss (dashed line with points, only at
 * steps that evaluated) against step, with learning rate and gradient norm in small panels
 * below (each only when the data has it). `metrics` is `Trainer.history`-like rows or
 * `Trainer.metricsTable()` (columns step, loss, and optionally evalLoss, lr, gradNorm).
 * Missing (null/NaN) validation losses are skipped; any other non-finite value is an error.
 */
export function trainingCurves(metrics: Table | readonly TrainingPoint[], opts?: TrainingCurvesOptions): Chart {
  const fn = "trainingCurves";
  checkOptions(fn, opts, [...COMMON_KEYS, "logLoss"]);
  const { title, width, height } = commonOptions(fn, opts, { title: "Training curves", width: 560, height: 240 });
  const logLoss = opts?.logLoss ?? false;
  if (typeof logLoss !== "boolean") throw new TypeError(`${fn}: opts.logLoss must be a boolean, received ${describe(logLoss)}`);
  const src = rowSource(fn, "metrics", metrics);
  checkNonEmpty(fn, "metrics", src);
  requireColumn(fn, "metrics", src, "step", metrics);
  requireColumn(fn, "metrics", src, "loss", metrics);

  const lossRows: { step: number; series: string; value: number }[] = [];
  const evalRows: { step: number; series: string; value: number }[] = [];
  const lrRows: { step: number; lr: number }[] = [];
  const normRows: { step: number; gradNorm: number }[] = [];
  const optional = (i: number, field: string): number | null => {
    const v = src.get(i, field);
    if (v === null || v === undefined) return null;
    return finiteAt(fn, src, i, field);
  };
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < src.length; i++) {
    const step = finiteAt(fn, src, i, "step");
    first = Math.min(first, step);
    last = Math.max(last, step);
    lossRows.push({ step, series: "train", value: finiteAt(fn, src, i, "loss") });
    const ev = src.get(i, "evalLoss");
    // NaN marks "no evaluation" too: polars / pandas round-trips turn nulls into NaN.
    if (ev !== null && ev !== undefined && !(typeof ev === "number" && Number.isNaN(ev))) {
      evalRows.push({ step, series: "eval", value: finiteAt(fn, src, i, "evalLoss") });
    }
    const lr = optional(i, "lr");
    if (lr !== null) lrRows.push({ step, lr });
    const g = optional(i, "gradNorm");
    if (g !== null) normRows.push({ step, gradNorm: g });
  }
  if (logLoss) {
    [...lossRows, ...evalRows].forEach((r) => {
      if (r.value <= 0) throw new RangeError(`${fn}: opts.logLoss needs positive losses, received ${r.value} at step ${r.step}`);
    });
  }

  // Every panel gets the same step domain so the curves line up vertically.
  const x = { field: "step", type: "quantitative", title: "step", scale: { domain: [first, last === first ? first + 1 : last], nice: false } };
  const series = evalRows.length > 0 ? ["train", "eval"] : ["train"];
  const color = { field: "series", type: "nominal", title: null, scale: { domain: series, range: PALETTE.slice(0, series.length) } };
  const lossLayers: Record<string, unknown>[] = [
    { name: "loss_train", data: { values: lossRows }, mark: { type: "line", strokeWidth: 1.5 } },
  ];
  if (evalRows.length > 0) {
    lossLayers.push(
      { name: "loss_eval", data: { values: evalRows }, mark: { type: "line", strokeDash: [4, 3], strokeWidth: 1.5 } },
      { name: "loss_eval_points", data: { values: evalRows }, mark: { type: "point", filled: true, size: 30 } },
    );
  }
  const lossPanel = {
    width,
    height,
    encoding: {
      x,
      y: { field: "value", type: "quantitative", title: "loss", scale: logLoss ? { type: "log" } : { zero: false } },
      color,
      tooltip: [{ field: "series", type: "nominal" }, { field: "step", type: "quantitative" }, { field: "value", type: "quantitative", title: "loss", format: ".4f" }],
    },
    layer: lossLayers,
  };
  const small: Record<string, unknown>[] = [];
  const smallWidth = lrRows.length > 0 && normRows.length > 0 ? (width - 60) / 2 : width;
  // One small line panel per secondary series that has data.
  const panel = (name: string, values: object[], color: string, y: Record<string, unknown>, format: string) => {
    if (values.length === 0) return;
    small.push({
      name,
      width: smallWidth,
      height: Math.round(height / 2.5),
      data: { values },
      mark: { type: "line", color },
      encoding: { x, y: { type: "quantitative", ...y }, tooltip: [{ field: "step" }, { field: y.field, format }] },
    });
  };
  panel("lr", lrRows, PALETTE[2], { field: "lr", title: "learning rate", axis: { format: ".1~e" } }, ".3e");
  panel("grad_norm", normRows, PALETTE[3], { field: "gradNorm", title: "grad norm" }, ".4f");
  const body = small.length === 0 ? lossPanel : { vconcat: [lossPanel, small.length === 1 ? small[0] : { hconcat: small }] };
  return new Chart(spec(title, body), { points: src.length });
}

// ---------------------------------------------------------------------------------------------
// b. Throughput

/** Options of {@link throughputChart}. */
export interface ThroughputChartOptions extends ChartCommonOptions {
  /** Field on the x axis, e.g. "threads" or "batch" (numbers or labels). */
  x: string;
  /** Field on the y axis (default "tokensPerSecond"). */
  y?: string;
  /** Field that groups rows into series, e.g. "impl" with values "ours" / "torch". */
  series?: string;
  /** Grouped bars (default) or one line per series. */
  mark?: "bar" | "line";
  /** Axis titles (default: the field names; y defaults to "tokens/s" for tokensPerSecond). */
  xTitle?: string;
  yTitle?: string;
}

/**
 * Throughput (tokens/s, or any `opts.y`) against `opts.x` (threads, batch size), one bar or line
 * per `opts.series` value. Rows are objects or an Arrow table; every y must be a finite number,
 * and a (x, series) pair may appear only once.
 */
export function throughputChart(rows: Table | readonly object[], opts: ThroughputChartOptions): Chart {
  const fn = "throughputChart";
  if (opts === undefined) throw new TypeError(`${fn}: opts must be an object with at least { x }, received undefined`);
  checkOptions(fn, opts, [...COMMON_KEYS, "x", "y", "series", "mark", "xTitle", "yTitle"]);
  const xField = checkFieldName(fn, "x", opts.x);
  const yField = checkFieldName(fn, "y", opts.y ?? "tokensPerSecond");
  const seriesField = opts.series === undefined ? undefined : checkFieldName(fn, "series", opts.series);
  const mark = opts.mark ?? "bar";
  if (mark !== "bar" && mark !== "line") throw new RangeError(`${fn}: opts.mark must be 'bar' or 'line', received ${describe(mark)}`);
  const yTitle = opts.yTitle ?? (yField === "tokensPerSecond" ? "tokens/s" : yField);
  const xTitle = opts.xTitle ?? xField;
  if (typeof xTitle !== "string") throw new TypeError(`${fn}: opts.xTitle must be a string, received ${describe(xTitle)}`);
  if (typeof yTitle !== "string") throw new TypeError(`${fn}: opts.yTitle must be a string, received ${describe(yTitle)}`);
  const { title, width, height } = commonOptions(fn, opts, { title: `${yTitle} by ${xTitle}`, width: 480, height: 280 });

  const src = rowSource(fn, "rows", rows);
  checkNonEmpty(fn, "rows", src);
  for (const f of [xField, yField, ...(seriesField ? [seriesField] : [])]) requireColumn(fn, "rows", src, f, rows);
  // Field names go into fixed keys: Vega-Lite reads "a.b" in a field name as a nested path.
  const data: { x: number | string; y: number; series: string }[] = [];
  const seen = new Map<string, number>();
  let numericX = true;
  for (let i = 0; i < src.length; i++) {
    const xv = src.get(i, xField);
    let xval: number | string;
    if (typeof xv === "number") {
      xval = finiteAt(fn, src, i, xField);
    } else {
      xval = labelAt(fn, src, i, xField);
      numericX = false;
    }
    const y = finiteAt(fn, src, i, yField);
    const s = seriesField ? labelAt(fn, src, i, seriesField) : "";
    const key = JSON.stringify([xval, s]);
    const prev = seen.get(key);
    if (prev !== undefined) {
      throw new RangeError(`${fn}: rows[${i}] repeats ${xField}=${xval}${seriesField ? ` ${seriesField}='${s}'` : ""} (first at rows[${prev}]); aggregate repeated measurements first`);
    }
    seen.set(key, i);
    data.push({ x: xval, y, series: s });
  }
  const integerX = data.every((d) => Number.isInteger(d.x));
  const color = seriesField ? { color: { field: "series", type: "nominal", title: seriesField, scale: { range: PALETTE } } } : {};
  const tooltip = [
    { field: "x", title: xTitle },
    ...(seriesField ? [{ field: "series", title: seriesField }] : []),
    { field: "y", title: yTitle, type: "quantitative", format: ",.1f" },
  ];
  const yEnc = { field: "y", type: "quantitative", title: yTitle, scale: { zero: true } };
  let layer: Record<string, unknown>;
  if (mark === "bar") {
    layer = {
      name: "bars",
      mark: { type: "bar" },
      encoding: {
        // Input order for labels ("batch=8" before "batch=16"), numeric order for numbers.
        x: { field: "x", type: "ordinal", title: xTitle, sort: numericX ? "ascending" : null, axis: { labelAngle: 0 } },
        ...(seriesField ? { xOffset: { field: "series", title: seriesField, sort: null } } : {}),
        y: yEnc,
        ...color,
        tooltip,
      },
    };
  } else {
    layer = {
      name: "lines",
      mark: { type: "line", point: true },
      encoding: {
        x: numericX
          ? { field: "x", type: "quantitative", title: xTitle, axis: integerX ? { format: "~g", tickMinStep: 1 } : { format: "~g" } }
          : { field: "x", type: "ordinal", title: xTitle, sort: null, axis: { labelAngle: 0 } },
        y: yEnc,
        ...color,
        tooltip,
      },
    };
  }
  return new Chart(spec(title, { width, height, data: { values: data }, ...layer }), { points: data.length });
}

// ---------------------------------------------------------------------------------------------
// c. Kernel GOPS against a roofline

/** One kernel measurement: `variant` (or `isa`) groups the bars of a kernel. */
export interface KernelRow {
  kernel: string;
  variant?: string;
  isa?: string;
  /** Measured giga-operations per second. */
  gops: number;
}

/** Options of {@link kernelChart}. */
export interface KernelChartOptions extends ChartCommonOptions {
  /** A measured ceiling (GOPS) drawn as a horizontal rule across the chart. */
  roofline?: number;
  /** Label of the rule (default "roofline <value> GOPS"). */
  rooflineLabel?: string;
  /** y-axis title (default "GOPS"). */
  yTitle?: string;
}

/**
 * GOPS per kernel as grouped bars, one per variant / ISA (`variant` if a row has it, else `isa`,
 * else a single group), with an optional roofline as a horizontal rule. Kernels keep their
 * input order; a (kernel, variant) pair may appear only once.
 */
export function kernelChart(rows: Table | readonly KernelRow[], opts?: KernelChartOptions): Chart {
  const fn = "kernelChart";
  checkOptions(fn, opts, [...COMMON_KEYS, "roofline", "rooflineLabel", "yTitle"]);
  const { title, width, height } = commonOptions(fn, opts, { title: "Kernel throughput", width: 520, height: 280 });
  const yTitle = opts?.yTitle ?? "GOPS";
  if (typeof yTitle !== "string") throw new TypeError(`${fn}: opts.yTitle must be a string, received ${describe(yTitle)}`);
  const roof = opts?.roofline;
  if (roof !== undefined) {
    if (typeof roof !== "number") throw new TypeError(`${fn}: opts.roofline must be a positive finite number (GOPS), received ${describe(roof)}`);
    if (!(Number.isFinite(roof) && roof > 0)) throw new RangeError(`${fn}: opts.roofline must be a positive finite number (GOPS), received ${describe(roof)}`);
  }
  const roofLabel = opts?.rooflineLabel ?? (roof === undefined ? "" : `roofline ${roof} ${yTitle}`);
  if (typeof roofLabel !== "string") throw new TypeError(`${fn}: opts.rooflineLabel must be a string, received ${describe(roofLabel)}`);

  const src = rowSource(fn, "rows", rows);
  checkNonEmpty(fn, "rows", src);
  requireColumn(fn, "rows", src, "kernel", rows);
  requireColumn(fn, "rows", src, "gops", rows);
  const groupField = src.has("variant") ? "variant" : src.has("isa") ? "isa" : null;
  const data: { kernel: string; variant: string; gops: number }[] = [];
  const seen = new Map<string, number>();
  for (let i = 0; i < src.length; i++) {
    const kernel = labelAt(fn, src, i, "kernel");
    const variant = groupField === null ? "" : labelAt(fn, src, i, groupField);
    const gops = finiteAt(fn, src, i, "gops");
    if (gops < 0) throw new RangeError(`${fn}: ${src.where(i, "gops")} must be >= 0, received ${gops}`);
    const key = JSON.stringify([kernel, variant]);
    const prev = seen.get(key);
    if (prev !== undefined) {
      throw new RangeError(`${fn}: rows[${i}] repeats kernel '${kernel}'${groupField ? ` ${groupField} '${variant}'` : ""} (first at rows[${prev}])`);
    }
    seen.set(key, i);
    data.push({ kernel, variant, gops });
  }
  const layers: Record<string, unknown>[] = [
    {
      name: "bars",
      data: { values: data },
      mark: { type: "bar" },
      encoding: {
        x: { field: "kernel", type: "nominal", title: "kernel", sort: null, axis: { labelAngle: -30 } },
        ...(groupField ? { xOffset: { field: "variant", sort: null }, color: { field: "variant", type: "nominal", title: groupField, sort: null, scale: { range: PALETTE } } } : {}),
        y: { field: "gops", type: "quantitative", title: yTitle },
        tooltip: [{ field: "kernel" }, ...(groupField ? [{ field: "variant", title: groupField }] : []), { field: "gops", title: yTitle, format: ",.1f" }],
      },
    },
  ];
  if (roof !== undefined) {
    layers.push(
      {
        name: "roofline",
        data: { values: [{ roofline: roof, label: roofLabel }] },
        mark: { type: "rule", color: "#c0392b", strokeDash: [6, 4], strokeWidth: 1.5 },
        encoding: { y: { field: "roofline", type: "quantitative" } },
      },
      {
        name: "roofline_label",
        data: { values: [{ roofline: roof, label: roofLabel }] },
        mark: { type: "text", color: "#c0392b", align: "right", baseline: "bottom", dy: -3, x: "width" },
        encoding: { y: { field: "roofline", type: "quantitative" }, text: { field: "label" } },
      },
    );
  }
  return new Chart(spec(title, { width, height, layer: layers }), { points: data.length });
}

// ---------------------------------------------------------------------------------------------
// d. Ternary weight distributions

/** Fractions of -1, 0 and +1 among ternary codes. */
export interface TernaryFractions {
  /** Number of codes. */
  count: number;
  minusOne: number;
  zero: number;
  plusOne: number;
}

/** One layer's ternary codes for {@link ternaryHistogram}. */
export interface TernaryLayerCodes {
  name: string;
  /** Codes in {-1, 0, +1}: an Int8Array or an i8 / ternary2 Tensor. */
  codes: Int8Array | Tensor;
}

function countCodes(fn: string, arg: string, codes: Int8Array, base: TernaryFractions = { count: 0, minusOne: 0, zero: 0, plusOne: 0 }): TernaryFractions {
  let m = 0;
  let z = 0;
  let p = 0;
  for (let i = 0; i < codes.length; i++) {
    const v = codes[i];
    if (v === 0) z++;
    else if (v === 1) p++;
    else if (v === -1) m++;
    else throw new RangeError(`${fn}: ${arg}[${i}] must be -1, 0 or +1, received ${v}`);
  }
  return { count: base.count + codes.length, minusOne: base.minusOne + m, zero: base.zero + z, plusOne: base.plusOne + p };
}

export function codesOf(fn: string, arg: string, codes: unknown): TernaryFractions {
  let counts: TernaryFractions;
  if (codes instanceof Int8Array) {
    counts = countCodes(fn, arg, codes);
  } else if (codes instanceof Tensor) {
    if (codes.disposed) throw new TypeError(`${fn}: ${arg} was disposed`);
    if (codes.dtype !== "i8" && codes.dtype !== "ternary2") {
      throw new TypeError(`${fn}: ${arg} must be an i8 or ternary2 Tensor of codes, received dtype '${codes.dtype}' (for latent weights use ternaryHistogramFromWeights)`);
    }
    // to("i8") is a view for i8 and unpacks ternary2; contiguous() copies only strided views.
    const i8 = codes.to("i8");
    const flat = i8.contiguous();
    try {
      counts = countCodes(fn, arg, flat.data());
    } finally {
      flat.dispose();
      i8.dispose();
    }
  } else {
    throw new TypeError(`${fn}: ${arg} must be an Int8Array or a Tensor of ternary codes, received ${describe(codes)}`);
  }
  if (counts.count === 0) throw new RangeError(`${fn}: ${arg} is empty`);
  const n = counts.count;
  return { count: n, minusOne: counts.minusOne / n, zero: counts.zero / n, plusOne: counts.plusOne / n };
}

/**
 * The fractions of -1, 0 and +1 among ternary codes (an Int8Array or an i8 / ternary2 Tensor).
 * A value outside {-1, 0, +1} or no codes at all is a RangeError.
 */
export function ternaryFractions(codes: Int8Array | Tensor): TernaryFractions {
  return codesOf("ternaryFractions", "codes", codes);
}

/** Options of {@link ternaryHistogram} and {@link ternaryHistogramFromWeights}. */
export type TernaryHistogramOptions = ChartCommonOptions;

/** A model whose BitLinear layers {@link ternaryHistogram} can find (any `Module`). */
export interface ModuleLike {
  namedModules(): [string, unknown][];
}

/** A layer with ternary weights (BitLinear): the codes its forward pass uses, as a new tensor. */
export interface TernaryCodesSource {
  ternaryCodes(): Tensor;
}

export function ternaryChart(fn: string, layers: { name: string; f: TernaryFractions }[], opts: TernaryHistogramOptions | undefined): Chart {
  const { title, width, height } = commonOptions(fn, opts, { title: "Ternary weight codes per layer", width: 480, height: Math.max(60, 18 * layers.length) });
  const rows: { layer: string; code: string; order: number; fraction: number; count: number }[] = [];
  for (const { name, f } of layers) {
    rows.push(
      { layer: name, code: "-1", order: 0, fraction: f.minusOne, count: Math.round(f.minusOne * f.count) },
      { layer: name, code: "0", order: 1, fraction: f.zero, count: Math.round(f.zero * f.count) },
      { layer: name, code: "+1", order: 2, fraction: f.plusOne, count: Math.round(f.plusOne * f.count) },
    );
  }
  const body = {
    width,
    height,
    data: { values: rows },
    name: "codes",
    mark: { type: "bar" },
    encoding: {
      // Horizontal bars: a model has dozens of layers, and their names read better on the y axis.
      y: { field: "layer", type: "nominal", title: null, sort: null },
      x: { field: "fraction", type: "quantitative", title: "fraction of weights", stack: "zero", scale: { domain: [0, 1] }, axis: { format: "%" } },
      color: { field: "code", type: "nominal", title: "code", scale: { domain: ["-1", "0", "+1"], range: ["#4c78a8", "#c7c7c7", "#e45756"] } },
      order: { field: "order", type: "quantitative" },
      tooltip: [{ field: "layer" }, { field: "code" }, { field: "fraction", format: ".2%" }, { field: "count", format: "," }],
    },
  };
  return new Chart(spec(title, body), { points: layers.length });
}

export function checkLayerNames(fn: string, names: string[], arg: (i: number) => string): void {
  const seen = new Map<string, number>();
  names.forEach((name, i) => {
    if (typeof name !== "string" || name === "") throw new TypeError(`${fn}: ${arg(i)} must be a non-empty string, received ${describe(name)}`);
    const prev = seen.get(name);
    if (prev !== undefined) throw new RangeError(`${fn}: ${arg(i)} repeats the name '${name}' (first at ${arg(prev)})`);
    seen.set(name, i);
  });
}

/**
 * Stacked bars of the fractions of -1 / 0 / +1 codes, one bar per layer. `layers` is a list of
 * `{ name, codes }` (Int8Array or i8 / ternary2 Tensor), or a model (a Module such as BitNetLM):
 * then every BitLinear layer's latent weight is quantized as the forward pass would.
 */
export function ternaryHistogram(layers: readonly TernaryLayerCodes[] | ModuleLike, opts?: TernaryHistogramOptions): Chart {
  const fn = "ternaryHistogram";
  checkOptions(fn, opts, COMMON_KEYS);
  if (!Array.isArray(layers)) {
    const model = layers as Partial<ModuleLike> | null;
    if (typeof model !== "object" || model === null || typeof model.namedModules !== "function") {
      throw new TypeError(`${fn}: layers must be an array of { name, codes } or a model (Module), received ${describe(layers)}`);
    }
    // Ternary layers (BitLinear) offer the codes their forward pass uses; nothing here needs to
    // know the layer class or the quantizer.
    const layerCodes: { name: string; f: TernaryFractions }[] = [];
    for (const [name, m] of model.namedModules()) {
      const codesOf_ = (m as Partial<TernaryCodesSource> | null)?.ternaryCodes;
      if (typeof codesOf_ !== "function") continue;
      const label = name === "" ? "weight" : `${name}.weight`;
      const codes = codesOf_.call(m);
      try {
        layerCodes.push({ name: label, f: codesOf(fn, `${label} codes`, codes) });
      } finally {
        codes.dispose();
      }
    }
    if (layerCodes.length === 0) throw new RangeError(`${fn}: the model has no BitLinear layers`);
    return ternaryChart(fn, layerCodes, opts);
  }
  if (layers.length === 0) throw new RangeError(`${fn}: layers is empty (no layers to plot)`);
  const list = layers as readonly unknown[];
  list.forEach((l, i) => {
    if (typeof l !== "object" || l === null) throw new TypeError(`${fn}: layers[${i}] must be an object { name, codes }, received ${describe(l)}`);
  });
  const entries = list as readonly TernaryLayerCodes[];
  checkLayerNames(fn, entries.map((l) => l.name), (i) => `layers[${i}].name`);
  return ternaryChart(fn, entries.map((l, i) => ({ name: l.name, f: codesOf(fn, `layers[${i}].codes`, l.codes) })), opts);
}

// ---------------------------------------------------------------------------------------------
// e. Latency distributions

/** One labelled set of latency samples for {@link latencyChart}. */
export interface LatencySeries {
  label: string;
  samples: readonly number[] | Float64Array | Float32Array;
}

/** Options of {@link latencyChart}. */
export interface LatencyChartOptions extends ChartCommonOptions {
  /** Unit of the samples, shown on the axis (default "ms"). */
  unit?: string;
  /** Histogram bins for a single sample set (default: Sturges' rule, 5 to 40). */
  bins?: number;
}

/** Quantile q of sorted values with linear interpolation (numpy's default). */
function quantile(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function sortedSamples(fn: string, arg: string, samples: unknown): Float64Array {
  if (!Array.isArray(samples) && !(samples instanceof Float64Array) && !(samples instanceof Float32Array)) {
    throw new TypeError(`${fn}: ${arg} must be an array of numbers, received ${describe(samples)}`);
  }
  const list = samples as ArrayLike<unknown>;
  if (list.length === 0) throw new RangeError(`${fn}: ${arg} is empty (no samples to plot)`);
  const out = new Float64Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    if (typeof v !== "number") throw new TypeError(`${fn}: ${arg}[${i}] must be a finite number >= 0, received ${describe(v)}`);
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`${fn}: ${arg}[${i}] must be a finite number >= 0, received ${describe(v)}`);
    out[i] = v;
  }
  return out.sort();
}

function fmt(v: number): string {
  return String(Number(v.toPrecision(4)));
}

/**
 * The distribution of latencies. A single sample set (numbers) is a histogram with the median
 * as a vertical rule; a list of `{ label, samples }` is one box per label (box = interquartile
 * range, whiskers = min and max, tick = median). Samples must be finite and >= 0.
 */
export function latencyChart(samples: readonly number[] | Float64Array | Float32Array | readonly LatencySeries[], opts?: LatencyChartOptions): Chart {
  const fn = "latencyChart";
  checkOptions(fn, opts, [...COMMON_KEYS, "unit", "bins"]);
  const unit = opts?.unit ?? "ms";
  if (typeof unit !== "string") throw new TypeError(`${fn}: opts.unit must be a string, received ${describe(unit)}`);
  const bins = opts?.bins;
  if (bins !== undefined && (typeof bins !== "number" || !Number.isInteger(bins) || bins < 1 || bins > 1000)) {
    throw new RangeError(`${fn}: opts.bins must be an integer in [1, 1000], received ${describe(bins)}`);
  }
  const axisTitle = unit === "" ? "latency" : `latency (${unit})`;
  const grouped = Array.isArray(samples) && samples.length > 0 && typeof samples[0] === "object" && samples[0] !== null;
  if (!grouped) {
    const sorted = sortedSamples(fn, "samples", samples);
    const { title, width, height } = commonOptions(fn, opts, { title: "Latency distribution", width: 480, height: 240 });
    const n = sorted.length;
    const min = sorted[0];
    const max = sorted[n - 1];
    const median = quantile(sorted, 0.5);
    let nb = bins ?? Math.min(40, Math.max(5, Math.ceil(Math.log2(n) + 1)));
    let lo = min;
    let binWidth = (max - min) / nb;
    if (max === min) {
      // All samples equal: one bin around the value, so the bar has a visible width.
      nb = 1;
      binWidth = min > 0 ? min * 0.1 : 1;
      lo = min - binWidth / 2;
    }
    const counts = new Array<number>(nb).fill(0);
    for (let i = 0; i < n; i++) counts[Math.min(nb - 1, Math.floor((sorted[i] - lo) / binWidth))]++;
    const rows = counts.map((count, b) => ({ start: lo + b * binWidth, end: b === nb - 1 && max !== min ? max : lo + (b + 1) * binWidth, count }));
    const label = `median ${fmt(median)}${unit ? " " + unit : ""}`;
    const body = {
      width,
      height,
      layer: [
        {
          name: "bins",
          data: { values: rows },
          mark: { type: "bar", color: PALETTE[0], binSpacing: 1 },
          encoding: {
            // Bins are computed here (exact, and the spec stays small for 1e5 samples): binned
            // tells Vega-Lite the bars span start..end and rise from zero.
            x: { field: "start", type: "quantitative", bin: { binned: true }, title: axisTitle, scale: { zero: false } },
            x2: { field: "end" },
            y: { field: "count", type: "quantitative", title: "samples" },
            tooltip: [{ field: "start", format: ".4~f" }, { field: "end", format: ".4~f" }, { field: "count" }],
          },
        },
        {
          name: "median",
          data: { values: [{ median, label }] },
          mark: { type: "rule", color: "#c0392b", strokeWidth: 2 },
          encoding: { x: { field: "median", type: "quantitative" } },
        },
        {
          name: "median_label",
          data: { values: [{ median, label }] },
          mark: { type: "text", color: "#c0392b", align: "left", baseline: "top", dx: 4, y: 4 },
          encoding: { x: { field: "median", type: "quantitative" }, text: { field: "label" } },
        },
      ],
    };
    return new Chart(spec(title, body), { points: n });
  }

  const series = samples as readonly unknown[];
  series.forEach((s, i) => {
    if (typeof s !== "object" || s === null || Array.isArray(s)) throw new TypeError(`${fn}: samples[${i}] must be an object { label, samples }, received ${describe(s)}`);
  });
  const list = series as readonly LatencySeries[];
  checkLayerNames(fn, list.map((s) => s.label), (i) => `samples[${i}].label`);
  const { title, width, height } = commonOptions(fn, opts, { title: "Latency distribution", width: Math.max(200, 70 * list.length), height: 260 });
  if (bins !== undefined) throw new TypeError(`${fn}: opts.bins applies to a single sample set, not to labelled series`);
  let total = 0;
  const rows = list.map((s, i) => {
    const sorted = sortedSamples(fn, `samples[${i}].samples`, s.samples);
    total += sorted.length;
    return {
      label: s.label,
      n: sorted.length,
      min: sorted[0],
      q1: quantile(sorted, 0.25),
      median: quantile(sorted, 0.5),
      q3: quantile(sorted, 0.75),
      max: sorted[sorted.length - 1],
    };
  });
  const x = { field: "label", type: "nominal", title: null, sort: null, axis: { labelAngle: 0 } };
  const tooltip = ["n", "min", "q1", "median", "q3", "max"].map((f) => (f === "n" ? { field: f } : { field: f, type: "quantitative", format: ".4~f" }));
  const body = {
    width,
    height,
    data: { values: rows },
    encoding: { x, tooltip: [{ field: "label" }, ...tooltip] },
    layer: [
      { name: "whiskers", mark: { type: "rule", color: "#555" }, encoding: { y: { field: "min", type: "quantitative", title: axisTitle, scale: { zero: false } }, y2: { field: "max" } } },
      { name: "boxes", mark: { type: "bar", size: 24 }, encoding: { y: { field: "q1", type: "quantitative" }, y2: { field: "q3" }, color: { field: "label", type: "nominal", legend: null, sort: null, scale: { range: PALETTE } } } },
      { name: "medians", mark: { type: "tick", color: "black", size: 24, thickness: 2 }, encoding: { y: { field: "median", type: "quantitative" } } },
    ],
  };
  return new Chart(spec(title, body), { points: total });
}
