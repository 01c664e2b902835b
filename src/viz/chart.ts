// A Vega-Lite chart that renders to SVG in plain Node (no browser, no canvas package) and shows
// itself in a notebook through the display protocol.
import { inspect } from "node:util";
import { pathToFileURL } from "node:url";
import { describe } from "../tensor/dtype";
import { MIME_BUNDLE, MimeBundle, MimeBundleProvider } from "./display";

/** The Vega-Lite schema charts declare: v5, the version Jupyter front ends render natively. */
export const VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";
/** The MIME type of a chart's spec in a bundle. */
export const VEGA_LITE_MIME = "application/vnd.vegalite.v5+json";

/** A Vega-Lite specification: a JSON object (see https://vega.github.io/vega-lite/docs/spec.html). */
export interface VegaLiteSpec {
  $schema?: string;
  title?: string | { text: string | string[]; [key: string]: unknown };
  [key: string]: unknown;
}

// The parts of vega / vega-lite used here. Their own typings are ESM-only and would tie our
// public .d.ts to them; this boundary is the only place their values are touched.
interface VegaView {
  toSVG(scaleFactor?: number): Promise<string>;
  finalize(): void;
}
interface VegaModule {
  View: new (runtime: unknown, opts: { renderer: "none" }) => VegaView;
  parse(spec: unknown): unknown;
}
interface VegaLiteModule {
  compile(spec: unknown): { spec: unknown };
}
interface VegaModules {
  vega: VegaModule;
  vegaLite: VegaLiteModule;
}

// vega and vega-lite 6 are ESM-only (with top-level await). This package compiles to CommonJS,
// where TypeScript rewrites import() into require(), which cannot load them; a Function body is
// outside TypeScript's reach, so its import() stays a real dynamic import.
const importEsm = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<unknown>;

let modules: Promise<VegaModules> | null = null;

/** Loads vega and vega-lite once per process (the first render pays ~0.2-0.5 s for it). */
function loadVega(): Promise<VegaModules> {
  if (modules === null) {
    // Resolved from this file, not from the Function's (unknown) base: a bare specifier there
    // would resolve against the process's working directory.
    const load = async (name: string): Promise<unknown> => importEsm(pathToFileURL(require.resolve(name)).href);
    modules = Promise.all([load("vega"), load("vega-lite")]).then(
      ([vega, vegaLite]) => ({ vega: vega as VegaModule, vegaLite: vegaLite as VegaLiteModule }),
      (e: unknown) => {
        modules = null;
        throw new Error(`Chart: could not load vega / vega-lite (are they installed?): ${e instanceof Error ? e.message : String(e)}`);
      },
    );
  }
  return modules;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

// Counts inline data rows wherever a (sub)spec declares `data: { values }` or `datasets`.
function countPoints(spec: unknown): number {
  if (typeof spec !== "object" || spec === null) return 0;
  if (Array.isArray(spec)) return spec.reduce((n: number, s: unknown) => n + countPoints(s), 0);
  const s = spec as Record<string, unknown>;
  let n = 0;
  const data = s.data as { values?: unknown } | undefined;
  if (data && Array.isArray(data.values)) n += data.values.length;
  if (typeof s.datasets === "object" && s.datasets !== null) {
    for (const v of Object.values(s.datasets)) if (Array.isArray(v)) n += v.length;
  }
  for (const key of ["layer", "vconcat", "hconcat", "concat", "spec"]) n += countPoints(s[key]);
  return n;
}

/** Options of the {@link Chart} constructor. */
export interface ChartOptions {
  /** What `text/plain` counts as the chart's points (default: all inline data rows). */
  points?: number;
}

/**
 * A Vega-Lite chart. `toSVG()` renders it in Node with vega's headless renderer; in a notebook
 * {@link display} (or a cell's last expression) shows it through its `[MIME_BUNDLE]()`: the spec
 * for front ends that render Vega-Lite, the SVG for those that do not, and a one-line text.
 */
export class Chart implements MimeBundleProvider {
  /** The spec (a frozen copy of the one passed in, with `$schema` set). */
  readonly spec: Readonly<VegaLiteSpec>;
  /** The number of data points, as shown in the text representation. */
  readonly points: number;

  /**
   * Wraps a Vega-Lite spec (deep-copied and frozen; `$schema` defaults to v5). The spec must be
   * JSON-like data; it is validated by vega-lite when rendered, not here.
   */
  constructor(spec: VegaLiteSpec, opts?: ChartOptions) {
    if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
      throw new TypeError(`Chart: spec must be a Vega-Lite spec object, received ${describe(spec)}`);
    }
    let copy: VegaLiteSpec;
    try {
      copy = structuredClone(spec);
    } catch (e) {
      throw new TypeError(`Chart: spec must be plain JSON-like data (${e instanceof Error ? e.message : String(e)})`);
    }
    copy.$schema ??= VEGA_LITE_SCHEMA;
    this.spec = deepFreeze(copy);
    const points = opts?.points ?? countPoints(copy);
    if (typeof points !== "number" || !Number.isInteger(points) || points < 0) {
      throw new RangeError(`Chart: opts.points must be a non-negative integer, received ${describe(points)}`);
    }
    this.points = points;
  }

  /** The chart's title (an empty string when it has none). */
  get title(): string {
    const t = this.spec.title;
    if (typeof t === "string") return t;
    if (t && typeof t === "object") return Array.isArray(t.text) ? t.text.join(" ") : String(t.text ?? "");
    return "";
  }

  /**
   * Renders the chart to an SVG document string. The first call in a process loads vega and
   * vega-lite; a spec vega-lite cannot compile rejects with its error.
   */
  async toSVG(): Promise<string> {
    const { vega, vegaLite } = await loadVega();
    let view: VegaView;
    try {
      // vega tags the data objects it ingests, and the spec is frozen: compile a fresh copy.
      const compiled = vegaLite.compile(structuredClone(this.spec)).spec;
      view = new vega.View(vega.parse(compiled), { renderer: "none" });
    } catch (e) {
      // vega-lite reports some invalid specs only as internal TypeErrors; say where they came from.
      throw new Error(`Chart.toSVG: vega-lite could not compile the spec: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    try {
      return await view.toSVG();
    } finally {
      view.finalize();
    }
  }

  /** The spec, so `JSON.stringify(chart)` writes a Vega-Lite file. */
  toJSON(): Readonly<VegaLiteSpec> {
    return this.spec;
  }

  /** `<Chart: title, N points>`. */
  toString(): string {
    return `<Chart: ${this.title || "untitled"}, ${this.points} point${this.points === 1 ? "" : "s"}>`;
  }

  [inspect.custom](): string {
    return this.toString();
  }

  /** The display bundle: the Vega-Lite spec, its SVG rendering and the text summary. */
  async [MIME_BUNDLE](): Promise<MimeBundle> {
    const svg = await this.toSVG();
    return { [VEGA_LITE_MIME]: this.spec, "image/svg+xml": svg, "text/plain": this.toString() };
  }
}
