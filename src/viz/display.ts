// The display protocol: how any value becomes a MIME bundle, and where bundles go. This file
// must not import the kernel: the kernel imports this protocol and installs a sink, so the same
// library code shows rich output in a notebook and plain text in a script.
import { randomUUID } from "node:crypto";
import { inspect } from "node:util";
import { Table } from "apache-arrow";
import { Tensor } from "../tensor/tensor";
import { describe } from "../tensor/dtype";
import { tableMimeBundle, tensorMimeBundle } from "./repr";

/**
 * Representations of one value keyed by MIME type, as in Jupyter's `display_data` message:
 * e.g. `{ "text/plain": "...", "text/html": "<table>...</table>" }`. Text types hold strings;
 * JSON types (`application/json`, `application/vnd.vegalite.v5+json`) hold plain objects. A
 * front end shows the richest type it understands, so every bundle should include `text/plain`.
 */
export type MimeBundle = { [mime: string]: unknown };

/**
 * The symbol under which an object provides its rich representation:
 * `[MIME_BUNDLE](): MimeBundle | Promise<MimeBundle>`. It is registered with `Symbol.for`, so an
 * object made by another copy of this library (or by code that does not import it at all) is
 * recognised too.
 *
 * @example
 * ```ts
 * class Temperature {
 *   constructor(readonly celsius: number) {}
 *   [MIME_BUNDLE]() {
 *     return { "text/plain": `${this.celsius} °C`, "text/html": `<b>${this.celsius} °C</b>` };
 *   }
 * }
 * await display(new Temperature(21));
 * ```
 */
export const MIME_BUNDLE: unique symbol = Symbol.for("jupyter.mimebundle");

/** An object implementing the display protocol (see {@link MIME_BUNDLE}). */
export interface MimeBundleProvider {
  /** Returns the value's representations; may be async (charts render their SVG asynchronously). */
  [MIME_BUNDLE](): MimeBundle | Promise<MimeBundle>;
}

/** Options a {@link DisplaySink} receives with each bundle. */
export interface DisplaySinkOptions {
  /** The output's id: a later bundle with the same id and `update: true` replaces it in place. */
  displayId?: string;
  /** True when the bundle replaces an earlier output (Jupyter's `update_display_data`). */
  update?: boolean;
  /** Per-MIME-type metadata (Jupyter's `metadata` field), e.g. image sizes. */
  metadata?: object;
}

/**
 * Where {@link display} sends bundles: the kernel installs one that publishes `display_data` /
 * `update_display_data` messages.
 */
export type DisplaySink = (bundle: MimeBundle, opts: DisplaySinkOptions) => void;

/** Options of {@link display}. */
export interface DisplayOptions {
  /** Id of the output, to update it later; a random UUID by default. */
  displayId?: string;
  /** Per-MIME-type metadata handed to the sink. */
  metadata?: object;
}

/** A shown output, which can be replaced in place (progress, live training curves). */
export interface DisplayHandle {
  /** The output's display id. */
  readonly id: string;
  /** Replaces the output with `value`'s representation (same display id, `update: true`). */
  update(value: unknown, opts?: { metadata?: object }): Promise<void>;
}

// Kept on globalThis under a registered symbol rather than in a module variable: a notebook may
// load this library from another path (a linked checkout, a second node_modules) than the
// kernel did, and both copies must reach the one sink the kernel installed.
const SINK_KEY = Symbol.for("bitnet-lab.displaySink");
type SinkHolder = { [SINK_KEY]?: DisplaySink | null };

/**
 * Installs the sink {@link display} hands bundles to (the kernel calls this), or removes it with
 * `null`, after which display prints the `text/plain` part to stdout.
 */
export function setDisplaySink(sink: DisplaySink | null): void {
  if (sink !== null && typeof sink !== "function") {
    throw new TypeError(`setDisplaySink: sink must be a function or null, received ${describe(sink)}`);
  }
  (globalThis as SinkHolder)[SINK_KEY] = sink;
}

function currentSink(): DisplaySink | null {
  return (globalThis as SinkHolder)[SINK_KEY] ?? null;
}

/** Whether a display sink is installed (a notebook kernel is listening). */
export function hasDisplaySink(): boolean {
  return currentSink() !== null;
}

// The kernel installs this one directly on globalThis (it has no setter here): clear_output is
// a kernel concern with nothing to do outside a notebook.
const CLEAR_KEY = Symbol.for("bitnet-lab.clearOutputSink");
type ClearHolder = { [CLEAR_KEY]?: ((wait: boolean) => void) | null };

/**
 * Clears the current cell's output (Jupyter's `clear_output`). With `wait`, the front end clears
 * only when new output arrives, so redrawing a chart in a loop does not flicker. Outside a
 * notebook (no kernel installed the sink under `Symbol.for("bitnet-lab.clearOutputSink")`) it
 * does nothing.
 */
export function clearOutput(wait = false): void {
  if (typeof wait !== "boolean") throw new TypeError(`clearOutput: wait must be a boolean, received ${describe(wait)}`);
  const sink = (globalThis as ClearHolder)[CLEAR_KEY];
  if (typeof sink === "function") sink(wait);
}

function hasProtocol(value: unknown): value is MimeBundleProvider {
  return (
    ((typeof value === "object" && value !== null) || typeof value === "function") &&
    typeof (value as Partial<MimeBundleProvider>)[MIME_BUNDLE] === "function"
  );
}

function checkBundle(bundle: unknown): MimeBundle {
  if (typeof bundle !== "object" || bundle === null || Array.isArray(bundle)) {
    throw new TypeError(`toMimeBundle: the value's [MIME_BUNDLE]() must return an object of MIME type -> data, received ${describe(bundle)}`);
  }
  return bundle as MimeBundle;
}

/** The representation of a value without a richer one: util.inspect, kept short. */
export function inspectText(value: unknown): string {
  return inspect(value, { depth: 2, colors: false, maxArrayLength: 20 });
}

/**
 * The MIME bundle of any value: the value's own `[MIME_BUNDLE]()` when it has one, built-in
 * representations for Tensor and Arrow Table, the string itself for strings, and `util.inspect`
 * text otherwise. Returns a Promise only when the value's own method does (charts).
 */
export function toMimeBundle(value: unknown): MimeBundle | Promise<MimeBundle> {
  if (hasProtocol(value)) {
    const out: unknown = value[MIME_BUNDLE]();
    // Any thenable counts as async: a Promise from another realm (vm, a worker's polyfill) is not
    // an instanceof this realm's Promise.
    if (typeof (out as PromiseLike<unknown> | null)?.then === "function") return Promise.resolve(out).then(checkBundle);
    return checkBundle(out);
  }
  if (value instanceof Tensor) return tensorMimeBundle(value);
  if (value instanceof Table) return tableMimeBundle(value);
  if (typeof value === "string") return { "text/plain": value };
  return { "text/plain": inspectText(value) };
}

function textOf(bundle: MimeBundle): string {
  const text = bundle["text/plain"];
  return typeof text === "string" ? text : inspectText(text === undefined ? bundle : text);
}

function emit(bundle: MimeBundle, opts: DisplaySinkOptions): void {
  const sink = currentSink();
  if (sink === null) {
    process.stdout.write(textOf(bundle) + "\n");
    return;
  }
  sink(bundle, opts);
}

function checkMetadata(fn: string, metadata: unknown): object | undefined {
  if (metadata !== undefined && (typeof metadata !== "object" || metadata === null)) {
    throw new TypeError(`${fn}: opts.metadata must be an object, received ${describe(metadata)}`);
  }
  return metadata as object | undefined;
}

/**
 * Shows `value` as notebook output: computes its MIME bundle ({@link toMimeBundle}) and hands it
 * to the installed sink; without a sink (plain node, a script) prints its `text/plain` part to
 * stdout. Returns a handle whose `update()` replaces this output in place.
 */
export async function display(value: unknown, opts?: DisplayOptions): Promise<DisplayHandle> {
  const fn = "display";
  if (opts !== undefined && (typeof opts !== "object" || opts === null)) {
    throw new TypeError(`${fn}: opts must be an object { displayId, metadata }, received ${describe(opts)}`);
  }
  const given = opts?.displayId;
  if (given !== undefined && (typeof given !== "string" || given === "")) {
    throw new TypeError(`${fn}: opts.displayId must be a non-empty string, received ${describe(given)}`);
  }
  const metadata = checkMetadata(fn, opts?.metadata);
  const id = given ?? randomUUID();
  const bundle = await toMimeBundle(value);
  emit(bundle, metadata === undefined ? { displayId: id } : { displayId: id, metadata });
  return {
    id,
    async update(next: unknown, updateOpts?: { metadata?: object }): Promise<void> {
      const md = checkMetadata("DisplayHandle.update", updateOpts?.metadata);
      const b = await toMimeBundle(next);
      emit(b, md === undefined ? { displayId: id, update: true } : { displayId: id, update: true, metadata: md });
    },
  };
}
