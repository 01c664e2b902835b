// Runs notebook cells: TypeScript converted by tslab's converter (in the worker), executed in this
// process's global context so that values live across cells. Owns what tslab's own executor gets
// wrong for notebooks: the last expression's value is returned (for execute_result), errors come
// back as ename/evalue/traceback, ESM-only packages (vega, vega-lite) are imported with a real
// dynamic import before the cell runs, `bitnet-lab` resolves to this package from any directory,
// and an interrupt reaches async loops (interruptRunning) as well as synchronous code (SIGINT).
import fs from "node:fs";
import { builtinModules, createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import vm from "node:vm";
import { Worker } from "node:worker_threads";
import { interruptRunning } from "../../src/runtime";
import type { WorkerReply, WorkerRequest } from "./typescript-worker";
import { LAST_EXPRESSION, interop, transpileFast } from "./fast-path";

/** What running a cell produced. */
export type CellOutcome =
  | { status: "ok"; hasValue: boolean; value?: unknown }
  | { status: "error"; ename: string; evalue: string; traceback: string[] };

export interface CompletionResult {
  start: number;
  end: number;
  candidates: string[];
}

export interface InspectResult {
  signature: string;
  documentation: string;
  tags: string[];
}

interface Diagnostic {
  start: { line: number; character: number };
  messageText: string;
  code: number;
}

interface ConvertResult {
  output?: string;
  declOutput?: string;
  diagnostics: Diagnostic[];
  lastExpressionVar?: string;
  hasToplevelAwait?: boolean;
}

// A dynamic import TypeScript leaves alone (this file compiles to CommonJS, where `import()`
// would become `require()`, which cannot load ESM with top-level await).
const importEsm = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<Record<string, unknown>>;

const ESM_ONLY_CODES = new Set(["ERR_REQUIRE_ESM", "ERR_REQUIRE_ASYNC_MODULE", "ERR_PACKAGE_PATH_NOT_EXPORTED"]);

/** The converter worker, with request/response pairing. */
class TypeScriptService {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #next = 1;
  readonly ready: Promise<void>;

  constructor(cwd: string, packageRoot: string) {
    this.#worker = new Worker(path.join(__dirname, "typescript-worker.js"), { workerData: { cwd, packageRoot } });
    this.#worker.unref();
    let markReady!: () => void;
    this.ready = new Promise((resolve) => (markReady = resolve));
    this.#worker.on("message", (m: WorkerReply) => {
      if (m.id === 0) {
        markReady();
        return;
      }
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.result);
    });
    this.#worker.on("error", (e) => {
      for (const p of this.#pending.values()) p.reject(e);
      this.#pending.clear();
    });
  }

  request<T>(req: Omit<WorkerRequest, "id">): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#worker.postMessage({ ...req, id });
    });
  }

  close(): Promise<number> {
    return this.#worker.terminate();
  }
}

/** Resolves an ESM-only package's entry the way `import` would (exports "import"/"default"). */
function resolveEsmEntry(specifier: string, fromDirs: readonly string[]): string | null {
  const parts = specifier.split("/");
  const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
  const subpath = "." + specifier.slice(name.length);
  for (const start of fromDirs) {
    for (let dir = start; ; dir = path.dirname(dir)) {
      const pkgDir = path.join(dir, "node_modules", name);
      const pkgJson = path.join(pkgDir, "package.json");
      if (fs.existsSync(pkgJson)) {
        const pkg = JSON.parse(fs.readFileSync(pkgJson, "utf8")) as { exports?: unknown; module?: string; main?: string };
        const target = pkg.exports !== undefined ? exportTarget(pkg.exports, subpath) : subpath === "." ? pkg.module ?? pkg.main ?? "index.js" : subpath;
        return target === null ? null : path.join(pkgDir, target);
      }
      if (path.dirname(dir) === dir) break;
    }
  }
  return null;
}

function exportTarget(exportsField: unknown, subpath: string): string | null {
  const conditions = ["import", "node", "default", "module"];
  const pick = (v: unknown): string | null => {
    if (typeof v === "string") return v;
    if (Array.isArray(v)) {
      for (const x of v) {
        const r = pick(x);
        if (r !== null) return r;
      }
      return null;
    }
    if (v !== null && typeof v === "object") {
      for (const c of conditions) if (c in (v as object)) {
        const r = pick((v as Record<string, unknown>)[c]);
        if (r !== null) return r;
      }
    }
    return null;
  };
  if (typeof exportsField === "string" || Array.isArray(exportsField)) return subpath === "." ? pick(exportsField) : null;
  const map = exportsField as Record<string, unknown>;
  const keyed = Object.keys(map).some((k) => k.startsWith("."));
  if (!keyed) return subpath === "." ? pick(map) : null;
  if (subpath in map) return pick(map[subpath]);
  for (const [key, value] of Object.entries(map)) {
    const star = key.indexOf("*");
    if (star < 0) continue;
    const pre = key.slice(0, star), post = key.slice(star + 1);
    if (subpath.startsWith(pre) && subpath.endsWith(post)) {
      const r = pick(value);
      return r === null ? null : r.replace("*", subpath.slice(pre.length, subpath.length - post.length));
    }
  }
  return null;
}

/** Executes cells; one per kernel. */
export class Executor {
  readonly #ts: TypeScriptService;
  readonly #cwd: string;
  readonly #packageRoot: string;
  readonly #cwdRequire: NodeRequire;
  readonly #ownRequire: NodeRequire;
  readonly #esm = new Map<string, unknown>();
  readonly #exports: Record<string, unknown>;
  #prevDecl = "";
  #cellCount = 0;
  #interruptCell: ((e: Error) => void) | null = null;
  #checkerUp = false;
  /** Cells run on the fast path, not yet seen by the checker, with where to report its errors. */
  readonly #unchecked: { code: string; names: string[]; report: (text: string) => void }[] = [];
  #replaying: Promise<void> = Promise.resolve();

  constructor(opts: { cwd: string; packageRoot: string }) {
    this.#cwd = opts.cwd;
    this.#packageRoot = opts.packageRoot;
    this.#ts = new TypeScriptService(opts.cwd, opts.packageRoot);
    this.#cwdRequire = createRequire(path.join(opts.cwd, "__notebook__.js"));
    this.#ownRequire = createRequire(path.join(opts.packageRoot, "package.json"));
    const store: Record<string, unknown> = {};
    // TypeScript's CommonJS output defines re-exported bindings with getters; cells must be able
    // to reassign them, so every definition becomes a plain value.
    this.#exports = new Proxy(store, {
      defineProperty: (_t, prop, attrs) => {
        if (prop === "__esModule") return true;
        store[prop as string] = attrs.get ? attrs.get() : attrs.value;
        return true;
      },
    });
    vm.runInThisContext("(x) => { globalThis.__bitnetLab__ = x; }")({ exports: this.#exports, require: (id: string) => this.#require(id), interop });
    void this.#ts.ready.then(() => {
      this.#checkerUp = true;
      return this.#replay();
    });
  }

  /** Hands the fast-path cells to the checker, in order: records their declarations, reports type errors. */
  #replay(): Promise<void> {
    this.#replaying = this.#replaying.then(async () => {
      for (let c = this.#unchecked.shift(); c !== undefined; c = this.#unchecked.shift()) {
        try {
          const r = await this.#ts.request<ConvertResult>({ op: "convert", prevDecl: this.#prevDecl, src: c.code });
          if (r.diagnostics.length > 0) {
            c.report(r.diagnostics.map((d) => `${d.start.line + 1}:${d.start.character + 1} - TS${d.code}: ${d.messageText}`).join("\n"));
            // The cell ran and its names exist: later cells may use them, untyped.
            this.#prevDecl += c.names.map((n) => `\ndeclare let ${n}: any;`).join("");
          } else {
            this.#prevDecl = r.declOutput ?? this.#prevDecl;
          }
        } catch (e) {
          c.report(`the type checker failed on this cell: ${(e as Error).message}`);
        }
      }
    });
    return this.#replaying;
  }

  /** Runs a cell without type checking (before the checker is up): see fast-path.ts. */
  async #executeFast(code: string, lateTypeErrors: (text: string) => void): Promise<CellOutcome> {
    let cell;
    try {
      cell = transpileFast(code);
    } catch (e) {
      return errorOutcome(e);
    }
    this.#unchecked.push({ code, names: cell.names, report: lateTypeErrors });
    const failed = await this.#run(cell.js, true);
    return failed ?? this.#valueOf(cell.hasValue ? LAST_EXPRESSION : undefined);
  }

  /**
   * Runs a cell's script (breakOnSigint covers its synchronous part) and, when it evaluates to a
   * promise, waits for it or for an interrupt. Returns the error outcome, or null on success.
   */
  async #run(js: string, isAsync: boolean): Promise<CellOutcome | null> {
    const interrupted = new Promise<never>((_, reject) => (this.#interruptCell = reject));
    interrupted.catch(() => undefined);
    try {
      await this.#preloadEsm(js);
      const ret = vm.runInThisContext(js, { filename: `cell-${this.#cellCount}.ts`, breakOnSigint: true });
      if (isAsync) {
        const running = ret as Promise<unknown>;
        // A cell abandoned by an interrupt may still reject later: that must not crash the kernel.
        running.catch(() => undefined);
        await Promise.race([running, interrupted]);
      }
      return null;
    } catch (e) {
      return errorOutcome(e);
    } finally {
      this.#interruptCell = null;
    }
  }

  /** Resolves once the type checker is loaded. */
  get ready(): Promise<void> {
    return this.#ts.ready;
  }

  /** Whether cells are type-checked yet (before, they run on the fast path). */
  get typeCheckerReady(): boolean {
    return this.#checkerUp;
  }

  #require(id: string): unknown {
    if (id === "bitnet-lab" || id.startsWith("bitnet-lab/")) {
      // Resolved by the package's own name, so its exports map decides what a cell may import.
      return this.#ownRequire(id);
    }
    if (this.#esm.has(id)) return this.#esm.get(id);
    try {
      return this.#cwdRequire(id);
    } catch (e) {
      // Packages that ship with bitnet-lab (apache-arrow, vega...) resolve from any directory.
      if ((e as NodeJS.ErrnoException).code === "MODULE_NOT_FOUND" && !id.startsWith(".") && !path.isAbsolute(id)) return this.#ownRequire(id);
      throw e;
    }
  }

  /** Imports, before the cell runs, the ESM-only packages its `require` calls name. */
  async #preloadEsm(js: string): Promise<void> {
    for (const m of js.matchAll(/\brequire\("((?:[^"\\]|\\.)+)"\)/g)) {
      const id = m[1];
      if (this.#esm.has(id) || id.startsWith(".") || path.isAbsolute(id) || id.startsWith("node:") || builtinModules.includes(id) || id === "bitnet-lab") continue;
      try {
        this.#require(id);
        continue;
      } catch (e) {
        if (!ESM_ONLY_CODES.has((e as NodeJS.ErrnoException).code ?? "")) continue; // the cell reports it
      }
      const entry = resolveEsmEntry(id, [this.#cwd, this.#packageRoot]);
      if (entry === null) continue;
      const ns = await importEsm(pathToFileURL(entry).href);
      // Marked as an ES module so TypeScript's interop helpers keep `default` and named exports.
      this.#esm.set(id, Object.freeze(Object.assign(Object.create(null), ns, { __esModule: true })));
    }
  }

  /** The cell's value, taken out of the shared exports where the cell left it under `key`. */
  #valueOf(key: string | undefined): CellOutcome {
    if (key === undefined || !(key in this.#exports)) return { status: "ok", hasValue: false };
    const value = this.#exports[key];
    delete this.#exports[key];
    return { status: "ok", hasValue: value !== undefined, value };
  }

  /**
   * Runs one cell. Before the type checker is up, cells run untyped (the fast path) and
   * `lateTypeErrors` receives their type errors once it is.
   */
  async execute(code: string, lateTypeErrors: (text: string) => void = () => undefined): Promise<CellOutcome> {
    this.#cellCount += 1;
    if (!this.#checkerUp) return this.#executeFast(code, lateTypeErrors);
    await this.#replay();
    let converted: ConvertResult;
    try {
      converted = await this.#ts.request<ConvertResult>({ op: "convert", prevDecl: this.#prevDecl, src: code });
    } catch (e) {
      return { status: "error", ename: "KernelError", evalue: `the TypeScript converter failed: ${(e as Error).message}`, traceback: [] };
    }
    if (converted.diagnostics.length > 0) {
      const lines = converted.diagnostics.map((d) => `${d.start.line + 1}:${d.start.character + 1} - TS${d.code}: ${d.messageText}`);
      return { status: "error", ename: "TypeScriptError", evalue: lines[0], traceback: lines };
    }
    if (!converted.output) {
      this.#prevDecl = converted.declOutput ?? "";
      return { status: "ok", hasValue: false };
    }
    // `with (exports)`: tslab's converter rewrites references to earlier cells' names as
    // exports.x but misses some (a shorthand property `{ seed }`); those resolve through it.
    const wrapped = `(${converted.hasToplevelAwait ? "async " : ""}function (exports, require) { with (exports) {\n${converted.output}\n} })(__bitnetLab__.exports, __bitnetLab__.require)`;
    const failed = await this.#run(wrapped, converted.hasToplevelAwait === true);
    if (failed) return failed;
    this.#prevDecl = converted.declOutput ?? "";
    return this.#valueOf(converted.lastExpressionVar);
  }

  /**
   * Interrupts the running cell: async loops registered with onInterrupt stop at their next safe
   * point, and a cell waiting on a promise is abandoned with a KeyboardInterrupt error.
   */
  interrupt(): void {
    interruptRunning();
    this.#interruptCell?.(Object.assign(new Error("interrupted"), { name: "KeyboardInterrupt" }));
  }

  complete(code: string, position: number): Promise<CompletionResult> {
    return this.#ts.request<CompletionResult>({ op: "complete", prevDecl: this.#prevDecl, src: code, position });
  }

  inspect(code: string, position: number): Promise<InspectResult | null> {
    return this.#ts.request<InspectResult | null>({ op: "inspect", prevDecl: this.#prevDecl, src: code, position });
  }

  isComplete(code: string): Promise<{ status: "complete" | "incomplete" | "invalid"; indent: string }> {
    return this.#ts.request({ op: "isComplete", src: code });
  }

  close(): Promise<number> {
    return this.#ts.close();
  }
}

/** A thrown value as the notebook shows it: ename, evalue, and a traceback without kernel frames. */
export function errorOutcome(e: unknown): CellOutcome & { status: "error" } {
  if (e instanceof Error) {
    const name = (e as NodeJS.ErrnoException).code === "ERR_SCRIPT_EXECUTION_INTERRUPTED" ? "KeyboardInterrupt" : e.name || "Error";
    const stack = (e.stack ?? `${name}: ${e.message}`).split("\n");
    // Frames of the kernel itself are noise to the notebook user.
    const own = path.join("kernel", "jupyter");
    const traceback = stack.filter((l) => !l.includes(own) && !l.includes("node:internal") && !l.includes("node:vm"));
    return { status: "error", ename: name, evalue: e.message, traceback };
  }
  return { status: "error", ename: "Error", evalue: String(e), traceback: [`thrown: ${String(e)}`] };
}
