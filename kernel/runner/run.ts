// `bitnet-lab run`: executes notebooks headless with papermill's semantics. Cells run in order
// on a kernel reached through a transport (embedded: our kernel in a child process over ZeroMQ);
// outputs, execution counts and timings are recorded and the output notebook is written after
// every cell. A failing cell stops the run (unless --allow-errors or it is tagged
// raises-exception) with a non-zero exit; a cell past --timeout is interrupted, then the kernel
// is killed.
import path from "node:path";
import { Cell, Notebook, OutputCollector, injectParameters, readNotebook, sourceOf, writeNotebook } from "./notebook";
import { KernelDiedError, KernelSession, Transport, embeddedTransport } from "./transport";

export interface RunOptions {
  parameters: [string, string][];
  /** Output notebook path (default: the input with `.out.ipynb`). */
  output?: string;
  /** Seconds a cell may run before it is interrupted (then the kernel killed); 0 = no limit. */
  timeout: number;
  startupTimeout: number;
  cwd?: string;
  allowErrors: boolean;
  /** Progress lines (one per cell); silent when null. */
  log: ((line: string) => void) | null;
  /** How to reach a kernel (default: our kernel in a child process). */
  transport?: Transport;
}

export interface CellReport {
  index: number;
  status: "ok" | "error" | "skipped" | "timeout" | "dead";
  seconds: number;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}

export interface NotebookReport {
  input: string;
  output: string;
  status: "ok" | "error";
  seconds: number;
  cells: CellReport[];
  /** The first failure that stopped the run, if any. */
  failure?: CellReport & { message: string };
}

const now = (): number => performance.now();

function outputPath(input: string, opts: RunOptions): string {
  return opts.output ?? path.join(path.dirname(input), path.basename(input, ".ipynb") + ".out.ipynb");
}

/** Runs one notebook on a fresh embedded kernel. */
export async function runNotebook(input: string, opts: RunOptions): Promise<NotebookReport> {
  const started = now();
  const nb: Notebook = readNotebook(input);
  injectParameters(nb, opts.parameters);
  const output = outputPath(input, opts);
  // Like papermill: the kernel starts in the current directory unless --cwd says otherwise.
  const cwd = opts.cwd ?? process.cwd();
  for (const c of nb.cells) {
    if (c.cell_type !== "code") continue;
    c.outputs = [];
    c.execution_count = null;
  }
  nb.metadata.bitnet_lab = { input_path: input, parameters: Object.fromEntries(opts.parameters), start_time: new Date().toISOString() };
  writeNotebook(output, nb);
  const report: NotebookReport = { input, output, status: "ok", seconds: 0, cells: [] };
  let kernel: KernelSession | null = null;
  try {
    kernel = await withTimeout((opts.transport ?? embeddedTransport).start({ cwd, startupTimeout: opts.startupTimeout }), opts.startupTimeout, `the kernel did not start within ${opts.startupTimeout} s`);
    const code = nb.cells.map((c, i) => [c, i] as const).filter(([c]) => c.cell_type === "code");
    for (const [k, [cell, index]] of code.entries()) {
      const r = await runCell(kernel, cell, index, opts);
      report.cells.push(r);
      writeNotebook(output, nb);
      opts.log?.(`[${k + 1}/${code.length}] cell ${index}: ${r.status}${r.status === "skipped" ? "" : ` (${r.seconds.toFixed(2)} s)`}`);
      const raises = cell.metadata.tags?.includes("raises-exception") ?? false;
      const failed = r.status === "timeout" || r.status === "dead" || (r.status === "error" && !raises);
      if (failed && (!opts.allowErrors || r.status === "dead" || r.status === "timeout")) {
        report.status = "error";
        const what = r.status === "dead" ? "the kernel died" : r.status === "timeout" ? `the cell ran past --timeout ${opts.timeout} s` : `${r.ename}: ${r.evalue}`;
        report.failure = { ...r, message: `cell ${index} failed: ${what}` };
        markFailure(nb, index, report.failure.message);
        writeNotebook(output, nb);
        break;
      }
    }
  } catch (e) {
    report.status = "error";
    report.failure = { index: -1, status: "dead", seconds: 0, message: (e as Error).message };
  } finally {
    if (kernel) await kernel.close();
    report.seconds = (now() - started) / 1000;
    nb.metadata.bitnet_lab = { ...(nb.metadata.bitnet_lab as object), end_time: new Date().toISOString(), duration: report.seconds, status: report.status };
    writeNotebook(output, nb);
  }
  return report;
}

function withTimeout<T>(p: Promise<T>, seconds: number, message: string): Promise<T> {
  if (!(seconds > 0)) return p;
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(message)), seconds * 1000);
    p.then((v) => (clearTimeout(t), resolve(v)), (e) => (clearTimeout(t), reject(e)));
  });
}

/** A banner at the top of the output notebook, as papermill does, saying where the run stopped. */
function markFailure(nb: Notebook, index: number, message: string): void {
  const cell = nb.cells[index];
  cell.metadata.bitnet_lab = { ...(cell.metadata.bitnet_lab as object), failed: true };
  nb.cells.unshift({ cell_type: "markdown", source: `**bitnet-lab run stopped**: ${message}. The failing cell is marked \`bitnet_lab.failed\` in its metadata.`, metadata: { tags: ["bitnet-lab-error"] } });
}

async function runCell(kernel: KernelSession, cell: Cell, index: number, opts: RunOptions): Promise<CellReport> {
  if (cell.metadata.tags?.includes("skip-execution")) return { index, status: "skipped", seconds: 0 };
  const collector = new OutputCollector();
  cell.outputs = collector.outputs;
  const t0 = now();
  const startIso = new Date().toISOString();
  const running = kernel.execute(sourceOf(cell), (type, content) => collector.add(type, content));
  running.catch(() => undefined);
  const timer = opts.timeout > 0 ? delay(opts.timeout * 1000).then(() => "timeout" as const) : new Promise<never>(() => undefined);
  try {
    const result = await Promise.race([running, timer]);
    if (result === "timeout") {
      // Interrupt first (a training loop stops at a step boundary), then kill the kernel if the
      // cell does not end.
      await kernel.interrupt().catch(() => undefined);
      const after = await Promise.race([running.then(() => "ended" as const, () => "ended" as const), delay(5000).then(() => "timeout" as const)]);
      if (after === "timeout") await kernel.kill();
      const evalue = `the cell ran past --timeout ${opts.timeout} s${after === "timeout" ? "; the kernel did not stop and was killed" : " and was interrupted"}`;
      collector.add("error", { ename: "CellTimeoutError", evalue, traceback: [] });
      return finish(cell, index, t0, startIso, { status: "timeout", ename: "CellTimeoutError", evalue });
    }
    const reply = result;
    cell.execution_count = (reply.execution_count as number) ?? null;
    for (const o of cell.outputs) if (o.output_type === "execute_result") o.execution_count = cell.execution_count;
    if (reply.status === "error" || reply.status === "aborted") {
      return finish(cell, index, t0, startIso, {
        status: "error",
        ename: String(reply.ename ?? "Aborted"),
        evalue: String(reply.evalue ?? ""),
        traceback: (reply.traceback as string[]) ?? [],
      });
    }
    return finish(cell, index, t0, startIso, { status: "ok" });
  } catch (e) {
    if (!(e instanceof KernelDiedError)) throw e;
    collector.add("error", { ename: e.name, evalue: e.message, traceback: [] });
    return finish(cell, index, t0, startIso, { status: "dead", ename: e.name, evalue: e.message });
  }
}

function finish(cell: Cell, index: number, t0: number, startIso: string, r: Omit<CellReport, "index" | "seconds">): CellReport {
  const seconds = (now() - t0) / 1000;
  cell.metadata.execution = { "shell.execute_request": startIso, "shell.execute_reply": new Date().toISOString() };
  cell.metadata.bitnet_lab = { duration: seconds, status: r.status };
  return { index, seconds, ...r };
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
