// Notebook files (nbformat 4): reading with clear errors, parameter injection (papermill's
// semantics: a new cell after the one tagged `parameters`), outputs from kernel messages
// (streams merged, update_display_data folded in, clear_output honoured), and atomic writes.
import { randomUUID } from "node:crypto";
import { readFileBytes, writeFileAtomic } from "../../src/runtime";

export interface Cell {
  id?: string;
  cell_type: "code" | "markdown" | "raw";
  source: string | string[];
  metadata: Record<string, unknown> & { tags?: string[] };
  outputs?: Output[];
  execution_count?: number | null;
  attachments?: unknown;
}

export type Output =
  | { output_type: "stream"; name: "stdout" | "stderr"; text: string }
  | { output_type: "execute_result"; execution_count: number | null; data: Record<string, unknown>; metadata: Record<string, unknown> }
  | { output_type: "display_data"; data: Record<string, unknown>; metadata: Record<string, unknown>; transient?: unknown }
  | { output_type: "error"; ename: string; evalue: string; traceback: string[] };

export interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: Cell[];
}

/** The source of a cell as one string (nbformat allows a list of lines). */
export function sourceOf(cell: Cell): string {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

/** Reads a notebook, checking the structure the runner relies on. */
export function readNotebook(file: string): Notebook {
  let nb: unknown;
  try {
    nb = JSON.parse(new TextDecoder("utf-8").decode(readFileBytes(file, "bitnet-lab run", { map: false })));
  } catch (e) {
    throw new Error(`${file}: not a readable notebook (${(e as Error).message})`);
  }
  const n = nb as Partial<Notebook>;
  if (n === null || typeof n !== "object" || !Array.isArray(n.cells)) throw new Error(`${file}: not a notebook (no "cells" list)`);
  if (n.nbformat !== 4) throw new Error(`${file}: nbformat ${String(n.nbformat)} is not supported (expected 4)`);
  n.cells.forEach((c, i) => {
    if (c === null || typeof c !== "object" || !["code", "markdown", "raw"].includes(c.cell_type)) throw new Error(`${file}: cell ${i} has no valid cell_type`);
    if (typeof c.source !== "string" && !(Array.isArray(c.source) && c.source.every((l) => typeof l === "string"))) throw new Error(`${file}: cell ${i} has no valid source`);
    c.metadata ??= {};
  });
  return { nbformat: 4, nbformat_minor: n.nbformat_minor ?? 5, metadata: n.metadata ?? {}, cells: n.cells as Cell[] };
}

/** Writes a notebook as nbformat 4.5 (cell ids added where missing), atomically. */
export function writeNotebook(file: string, nb: Notebook): void {
  const out: Notebook = { ...nb, nbformat: 4, nbformat_minor: Math.max(5, nb.nbformat_minor) };
  for (const c of out.cells) c.id ??= randomUUID().replace(/-/g, "").slice(0, 16);
  writeFileAtomic("bitnet-lab run", file, [Buffer.from(JSON.stringify(out, null, 1) + "\n", "utf8")]);
}

/** A `-p key=value` value as TypeScript: numbers, booleans, null and JSON stay typed; the rest is a string. */
export function parameterLiteral(raw: string): string {
  const t = raw.trim();
  if (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(t)) return String(Number(t));
  if (t === "true" || t === "false" || t === "null") return t;
  if (/^[[{"]/.test(t)) {
    try {
      return JSON.stringify(JSON.parse(t));
    } catch {
      // Not JSON: a string.
    }
  }
  return JSON.stringify(raw);
}

/** Parses `key=value` pairs; keys must be identifiers. */
export function parseParameters(pairs: readonly string[]): [string, string][] {
  return pairs.map((p) => {
    const eq = p.indexOf("=");
    if (eq <= 0) throw new Error(`bitnet-lab run: -p expects key=value, received '${p}'`);
    const key = p.slice(0, eq).trim();
    if (!/^[A-Za-z_$][\w$]*$/.test(key)) throw new Error(`bitnet-lab run: parameter name '${key}' is not an identifier`);
    return [key, parameterLiteral(p.slice(eq + 1))];
  });
}

/**
 * Inserts the parameters as a new code cell (tagged `injected-parameters`) after the cell tagged
 * `parameters`, or first when there is none; a previously injected cell is replaced.
 */
export function injectParameters(nb: Notebook, params: readonly [string, string][]): void {
  const old = nb.cells.findIndex((c) => c.metadata.tags?.includes("injected-parameters"));
  if (old >= 0) nb.cells.splice(old, 1);
  if (params.length === 0) return;
  const source = ["// Parameters injected by bitnet-lab run", ...params.map(([k, v]) => `let ${k} = ${v};`)].join("\n");
  const cell: Cell = { id: randomUUID().replace(/-/g, "").slice(0, 16), cell_type: "code", source, metadata: { tags: ["injected-parameters"] }, outputs: [], execution_count: null };
  const at = nb.cells.findIndex((c) => c.metadata.tags?.includes("parameters"));
  nb.cells.splice(at + 1, 0, cell);
}

/** Builds a cell's outputs from its iopub messages, as a notebook front end would show them. */
export class OutputCollector {
  readonly outputs: Output[] = [];
  #clearPending = false;
  /** display_id -> outputs showing it (update_display_data replaces their data). */
  readonly #byDisplayId = new Map<string, Output[]>();

  add(msgType: string, content: Record<string, unknown>): void {
    if (msgType === "clear_output") {
      if (content.wait === true) this.#clearPending = true;
      else this.#clear();
      return;
    }
    if (msgType === "update_display_data") {
      const id = (content.transient as { display_id?: string } | undefined)?.display_id;
      for (const o of (id && this.#byDisplayId.get(id)) || []) {
        if (o.output_type === "display_data" || o.output_type === "execute_result") {
          o.data = content.data as Record<string, unknown>;
          o.metadata = (content.metadata as Record<string, unknown>) ?? {};
        }
      }
      return;
    }
    if (!["stream", "execute_result", "display_data", "error"].includes(msgType)) return;
    if (this.#clearPending) {
      this.#clear();
      this.#clearPending = false;
    }
    let out: Output;
    switch (msgType) {
      case "stream": {
        const name = content.name === "stderr" ? "stderr" : "stdout";
        const last = this.outputs[this.outputs.length - 1];
        if (last && last.output_type === "stream" && last.name === name) {
          last.text += String(content.text ?? "");
          return;
        }
        out = { output_type: "stream", name, text: String(content.text ?? "") };
        break;
      }
      case "execute_result":
        out = { output_type: "execute_result", execution_count: (content.execution_count as number) ?? null, data: (content.data as Record<string, unknown>) ?? {}, metadata: (content.metadata as Record<string, unknown>) ?? {} };
        break;
      case "display_data":
        out = { output_type: "display_data", data: (content.data as Record<string, unknown>) ?? {}, metadata: (content.metadata as Record<string, unknown>) ?? {} };
        break;
      default:
        out = { output_type: "error", ename: String(content.ename ?? ""), evalue: String(content.evalue ?? ""), traceback: (content.traceback as string[]) ?? [] };
    }
    const id = (content.transient as { display_id?: string } | undefined)?.display_id;
    if (id) {
      if (!this.#byDisplayId.has(id)) this.#byDisplayId.set(id, []);
      this.#byDisplayId.get(id)!.push(out);
    }
    this.outputs.push(out);
  }

  #clear(): void {
    this.outputs.length = 0;
  }
}
