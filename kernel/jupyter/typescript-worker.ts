// The TypeScript side of the kernel, in a worker thread: tslab's converter (type checking,
// cell-to-JavaScript conversion with declarations carried between cells, completion, inspection)
// takes ~1.2 s to load, and a worker keeps the kernel answering (kernel_info, heartbeats,
// interrupts) meanwhile. Requests and replies are plain messages on the worker port.
import { parentPort, workerData } from "node:worker_threads";
import fs from "node:fs";
import path from "node:path";
import { Converter, tslabConverter, tslabTypeScript } from "./tslab";

export interface WorkerRequest {
  id: number;
  op: "convert" | "complete" | "inspect" | "isComplete";
  prevDecl?: string;
  src: string;
  position?: number;
}

export interface WorkerReply {
  id: number;
  result?: unknown;
  error?: string;
}

interface Setup {
  cwd: string;
  /** Root of the bitnet-lab package, served as `<cwd>/node_modules/bitnet-lab` when absent. */
  packageRoot: string;
}

/**
 * Serves `<cwd>/node_modules/bitnet-lab` (this package) and, where the notebook's directory has
 * no copy of its own, the packages installed with bitnet-lab (apache-arrow, vega, @types/node...),
 * so a notebook in any directory type-checks `import ... from "bitnet-lab"` and friends.
 */
function servePackages(ts: { sys: object }, setup: Setup): void {
  const virtualRoot = path.join(setup.cwd, "node_modules");
  const fallbacks = [path.join(setup.packageRoot, "node_modules")];
  // Installed as a dependency, bitnet-lab's own dependencies sit beside it.
  if (path.basename(path.dirname(setup.packageRoot)) === "node_modules") fallbacks.push(path.dirname(setup.packageRoot));
  const exists = (p: string): boolean => fs.existsSync(p);
  const map = (p: string): string => {
    const n = path.resolve(p);
    if (!n.startsWith(virtualRoot + path.sep)) return p;
    const rel = path.relative(virtualRoot, n);
    const parts = rel.split(path.sep);
    const nameLength = parts[0].startsWith("@") ? 2 : 1;
    const name = parts.slice(0, nameLength).join(path.sep);
    if (name === "bitnet-lab") return exists(path.join(virtualRoot, name)) ? p : path.join(setup.packageRoot, ...parts.slice(nameLength));
    if (exists(path.join(virtualRoot, name))) return p;
    for (const root of fallbacks) if (exists(path.join(root, name))) return path.join(root, rel);
    return p;
  };
  const sys = ts.sys as unknown as Record<string, (...args: unknown[]) => unknown>;
  // tslab's TypeScript resolves modules the Node10 way, which ignores package.json "exports": a
  // package whose types are only declared there (vega-lite 6) gets a root index.d.ts that
  // re-exports them.
  const synthesized = (p: string): string | null => {
    if (path.basename(p) !== "index.d.ts") return null;
    const dir = map(path.dirname(p));
    if (path.basename(path.dirname(dir)) !== "node_modules" && path.basename(path.dirname(path.dirname(dir))) !== "node_modules") return null;
    if (exists(path.join(dir, "index.d.ts"))) return null;
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { types?: string; typings?: string; exports?: Record<string, unknown> };
      if (pkg.types || pkg.typings) return null;
      const root = pkg.exports?.["."];
      const types = root && typeof root === "object" ? (root as Record<string, unknown>).types : undefined;
      if (typeof types !== "string") return null;
      return `export * from "${types.replace(/\.d\.ts$/, "").replace(/^(?!\.)/, "./")}";\n`;
    } catch {
      return null;
    }
  };
  const fileExists = sys.fileExists, readFile = sys.readFile;
  sys.fileExists = function (this: unknown, p: unknown) {
    return (typeof p === "string" && synthesized(p) !== null) || (fileExists.call(this, p) as boolean);
  };
  sys.readFile = function (this: unknown, p: unknown, ...rest: unknown[]) {
    const synth = typeof p === "string" ? synthesized(p) : null;
    return synth ?? readFile.call(this, p, ...rest);
  };
  for (const name of ["fileExists", "readFile", "directoryExists", "getDirectories", "realpath", "getModifiedTime", "readDirectory"]) {
    const original = sys[name];
    if (typeof original !== "function") continue;
    sys[name] = function (this: unknown, p: unknown, ...rest: unknown[]) {
      const mapped = typeof p === "string" ? map(p) : p;
      // realpath of a served file stays inside the virtual folder, or TypeScript would see the
      // package at two paths.
      if (name === "realpath" && mapped !== p) return p;
      return original.call(this, mapped, ...rest);
    };
  }
  const directoryExists = sys.directoryExists;
  sys.directoryExists = function (this: unknown, p: unknown) {
    if (typeof p === "string" && (path.resolve(p) === virtualRoot || path.resolve(p) === path.join(virtualRoot, "@types"))) return true;
    return directoryExists.call(this, p);
  };
  const getDirectories = sys.getDirectories;
  sys.getDirectories = function (this: unknown, p: unknown) {
    // The automatic @types inclusion lists <cwd>/node_modules/@types: show the served ones too.
    const own = (getDirectories.call(this, p) as string[] | undefined) ?? [];
    if (typeof p !== "string" || path.resolve(p) !== path.join(virtualRoot, "@types")) return own;
    const served = fallbacks.flatMap((root) => {
      try {
        return fs.readdirSync(path.join(root, "@types"));
      } catch {
        return [];
      }
    });
    return [...new Set([...own, ...served])];
  };
}

function main(): void {
  const setup = workerData as Setup;
  const ts = tslabTypeScript();
  servePackages(ts, setup);
  const converterModule = tslabConverter();
  let converter: Converter | null = null;
  const get = () => (converter ??= converterModule.createConverter());

  const handle = (req: WorkerRequest): unknown => {
    switch (req.op) {
      case "convert":
        return get().convert(req.prevDecl ?? "", req.src);
      case "complete":
        return get().complete(req.prevDecl ?? "", req.src, req.position ?? req.src.length);
      case "inspect": {
        const info = get().inspect(req.prevDecl ?? "", req.src, req.position ?? req.src.length);
        if (!info) return null;
        const text = (parts: { text: string }[] | undefined): string => (parts ?? []).map((p) => p.text).join("");
        return { signature: text(info.displayParts), documentation: text(info.documentation), tags: (info.tags ?? []).map((t) => `@${t.name} ${text(t.text)}`) };
      }
      case "isComplete": {
        const r = converterModule.isCompleteCode(req.src);
        if (!r.completed) return { status: "incomplete", indent: r.indent ?? "" };
        const file = ts.createSourceFile("cell.ts", req.src, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
        const errors = (file as { parseDiagnostics?: unknown[] }).parseDiagnostics ?? [];
        return { status: errors.length > 0 ? "invalid" : "complete", indent: "" };
      }
    }
  };

  parentPort!.on("message", (req: WorkerRequest) => {
    let reply: WorkerReply;
    try {
      reply = { id: req.id, result: handle(req) };
    } catch (e) {
      reply = { id: req.id, error: e instanceof Error ? e.stack ?? e.message : String(e) };
    }
    // Completion results hold TypeScript objects (the `original` field) that cannot be cloned.
    if (reply.result && typeof reply.result === "object" && "original" in (reply.result as object)) {
      const { original: _dropped, ...rest } = reply.result as Record<string, unknown>;
      reply.result = rest;
    }
    parentPort!.postMessage(reply);
  });
  // Warm up off the request path: the first convert pays for the program and lib files.
  setImmediate(() => {
    try {
      get().convert("", "0");
    } catch {
      // Reported when a real request fails.
    }
    parentPort!.postMessage({ id: 0, result: "ready" });
  });
}

main();
