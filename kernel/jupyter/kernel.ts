// The bitnet-lab Jupyter kernel: messaging 5.3 over ZeroMQ (shell, control, stdin, iopub,
// heartbeat), cells run by the Executor. Shell requests run one at a time in arrival order;
// control requests (interrupt, shutdown, kernel_info) are answered at once, even mid-cell.
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import { inspect } from "node:util";
import * as zmq from "zeromq";
import { CellOutcome, Executor, errorOutcome } from "./executor";
import { Header, Message, PROTOCOL_VERSION, Signer, decode, encode, header as newHeader } from "./wire";
import { OutputCapture } from "./capture";

/** The connection file Jupyter writes for a kernel. */
export interface ConnectionInfo {
  transport: string;
  ip: string;
  shell_port: number;
  control_port: number;
  stdin_port: number;
  iopub_port: number;
  hb_port: number;
  key: string;
  signature_scheme: string;
}

type Channel = "shell" | "control";

/**
 * How long a failed cell waits for the rest of a run of cells to arrive before it replies (see
 * #execute). ipykernel's stop_on_error_timeout plays the same part.
 */
const STOP_ON_ERROR_GRACE_MS = 50;

/** Serialises sends: a zeromq 6 socket refuses a send while another is in flight. */
class SendQueue {
  #tail: Promise<void> = Promise.resolve();
  constructor(private readonly socket: { send(frames: Buffer[]): Promise<void> }) {}
  send(frames: Buffer[]): Promise<void> {
    this.#tail = this.#tail.then(() => this.socket.send(frames)).catch((e) => log(`send failed: ${(e as Error).message}`));
    return this.#tail;
  }
}

// Straight to fd 2: process.stderr.write is captured into the notebook while cells run.
function log(message: string): void {
  try {
    fs.writeSync(2, `[bitnet-lab kernel] ${message}\n`);
  } catch {
    // Nowhere left to report to.
  }
}

/** What `display` and execute_result need from src/viz, loaded on first use (startup stays lean). */
interface Viz {
  toMimeBundle(value: unknown): Record<string, unknown> | Promise<Record<string, unknown>>;
}

export class JupyterKernel {
  readonly #conn: ConnectionInfo;
  readonly #signer: Signer;
  readonly #session = randomUUID();
  readonly #executor: Executor;
  readonly #shell = new zmq.Router();
  readonly #control = new zmq.Router();
  readonly #stdin = new zmq.Router();
  readonly #iopub = new zmq.Publisher();
  readonly #hb = new zmq.Reply();
  readonly #shellOut = new SendQueue(this.#shell);
  readonly #controlOut = new SendQueue(this.#control);
  readonly #iopubOut = new SendQueue(this.#iopub);
  readonly #queue: Message[] = [];
  readonly #history: { line: number; input: string; output: string | null }[] = [];
  readonly #capture: OutputCapture;
  #executionCount = 0;
  #draining = false;
  #closed = false;
  #viz: Viz | null = null;
  /** This package's version, read once (clients poll kernel_info while the checker loads). */
  readonly #version: string = packageVersion();
  /** The request whose cell runs now, or ran last: stray output is attributed to it. */
  #current: Message | null = null;

  constructor(conn: ConnectionInfo, opts: { cwd: string; packageRoot: string }) {
    this.#conn = conn;
    this.#signer = new Signer(conn.key, conn.signature_scheme);
    this.#executor = new Executor(opts);
    this.#capture = new OutputCapture((name, text) => {
      if (this.#current) void this.#publish("stream", { name, text }, this.#current.header);
    });
  }

  #url(port: number): string {
    const sep = this.#conn.transport === "ipc" ? "-" : ":";
    return `${this.#conn.transport}://${this.#conn.ip}${sep}${port}`;
  }

  async start(): Promise<void> {
    await Promise.all([
      this.#shell.bind(this.#url(this.#conn.shell_port)),
      this.#control.bind(this.#url(this.#conn.control_port)),
      this.#stdin.bind(this.#url(this.#conn.stdin_port)),
      this.#iopub.bind(this.#url(this.#conn.iopub_port)),
      this.#hb.bind(this.#url(this.#conn.hb_port)),
    ]);
    void this.#heartbeat();
    void this.#receive(this.#shell, "shell");
    void this.#receive(this.#control, "control");
    // A promise a cell forgot to await, or a throw in its timer, would otherwise end the process
    // and every variable of the notebook with it: show it under the cell and keep running.
    process.on("unhandledRejection", (reason) => this.#strayError(reason, "an unhandled promise rejection"));
    process.on("uncaughtException", (error) => this.#strayError(error, "an uncaught exception"));
    this.#capture.install();
    this.#installDisplay();
    process.on("SIGINT", () => this.#executor.interrupt());
    await this.#publish("status", { execution_state: "starting" }, {});
  }

  /**
   * src/viz's display() and clearOutput() look their sinks up under these global symbols, so the
   * kernel installs them without loading the library (startup stays fast) and the library never
   * imports kernel code.
   */
  #installDisplay(): void {
    const g = globalThis as Record<symbol, unknown>;
    g[Symbol.for("bitnet-lab.displaySink")] = (bundle: Record<string, unknown>, opts: { displayId?: string; update?: boolean; metadata?: object }) => {
      const parent = this.#current;
      if (!parent) return;
      this.#capture.flushSync();
      const transient = opts.displayId !== undefined ? { display_id: opts.displayId } : {};
      void this.#publish(opts.update ? "update_display_data" : "display_data", { data: bundle, metadata: opts.metadata ?? {}, transient }, parent.header);
    };
    g[Symbol.for("bitnet-lab.clearOutputSink")] = (wait: boolean) => {
      const parent = this.#current;
      if (!parent) return;
      this.#capture.flushSync();
      void this.#publish("clear_output", { wait }, parent.header);
    };
  }

  /**
   * An error no cell awaited: shown as an error output under the cell that was running or ran
   * last (where it most likely came from), with a line saying it came after the cell's reply.
   */
  #strayError(reason: unknown, what: string): void {
    log(`${what}: ${reason instanceof Error ? reason.stack ?? reason.message : String(reason)}`);
    const parent = this.#current;
    if (!parent || this.#closed) return;
    this.#capture.flushSync();
    const { ename, evalue, traceback } = errorOutcome(reason);
    const note = `${what} (not awaited by the cell, so it arrived after the cell's reply); the kernel keeps running`;
    void this.#publish("error", { ename, evalue, traceback: [...traceback, note] }, parent.header);
  }

  async #heartbeat(): Promise<void> {
    try {
      for await (const frames of this.#hb) await this.#hb.send(frames);
    } catch (e) {
      if (!this.#closed) log(`heartbeat stopped: ${(e as Error).message}`);
    }
  }

  async #receive(socket: zmq.Router, channel: Channel): Promise<void> {
    try {
      for await (const frames of socket) {
        const d = decode(frames as Buffer[], this.#signer);
        if ("error" in d) {
          // Logged and dropped: a bad client must not take the kernel (and the user's work) down.
          log(`dropped a ${channel} message: ${d.error}`);
          continue;
        }
        if (channel === "control") void this.#handle(d.message, "control");
        else {
          this.#queue.push(d.message);
          void this.#drain();
        }
      }
    } catch (e) {
      if (!this.#closed) log(`${channel} socket stopped: ${(e as Error).message}`);
    }
  }

  async #drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (let m = this.#queue.shift(); m !== undefined; m = this.#queue.shift()) await this.#handle(m, "shell");
    } finally {
      this.#draining = false;
    }
  }

  #publish(msgType: string, content: unknown, parent: Partial<Header>, metadata: Record<string, unknown> = {}): Promise<void> {
    const h = newHeader(msgType, this.#session);
    return this.#iopubOut.send(encode(this.#signer, [Buffer.from(`kernel.${this.#session}.${msgType}`)], h, parent, content, metadata));
  }

  #reply(channel: Channel, request: Message, msgType: string, content: unknown, metadata: Record<string, unknown> = {}): Promise<void> {
    const frames = encode(this.#signer, request.identities, newHeader(msgType, this.#session), request.header, content, metadata);
    return (channel === "shell" ? this.#shellOut : this.#controlOut).send(frames);
  }

  async #handle(m: Message, channel: Channel): Promise<void> {
    const type = m.header.msg_type;
    // iopub sends are ordered by their queue: awaiting each only added event-loop turns.
    void this.#publish("status", { execution_state: "busy" }, m.header);
    try {
      switch (type) {
        case "kernel_info_request":
          await this.#reply(channel, m, "kernel_info_reply", this.#kernelInfo());
          break;
        case "execute_request":
          await this.#execute(m, channel);
          break;
        case "complete_request":
          await this.#complete(m, channel);
          break;
        case "inspect_request":
          await this.#inspect(m, channel);
          break;
        case "is_complete_request": {
          const code = typeof m.content.code === "string" ? m.content.code : "";
          const r = await this.#executor.isComplete(code);
          await this.#reply(channel, m, "is_complete_reply", r.status === "incomplete" ? { status: r.status, indent: r.indent } : { status: r.status });
          break;
        }
        case "history_request":
          await this.#reply(channel, m, "history_reply", { status: "ok", history: this.#historyFor(m.content) });
          break;
        case "comm_info_request":
          await this.#reply(channel, m, "comm_info_reply", { status: "ok", comms: {} });
          break;
        case "comm_open":
          // No comm targets are registered: close it, as the protocol asks for an unknown target.
          await this.#publish("comm_close", { comm_id: m.content.comm_id, data: {} }, m.header);
          break;
        case "comm_msg":
        case "comm_close":
          break;
        case "interrupt_request":
          this.#executor.interrupt();
          await this.#reply(channel, m, "interrupt_reply", { status: "ok" });
          break;
        case "shutdown_request": {
          const restart = m.content.restart === true;
          await this.#reply(channel, m, "shutdown_reply", { status: "ok", restart });
          await this.#publish("status", { execution_state: "idle" }, m.header);
          await this.close();
          process.exit(0);
          return;
        }
        default:
          log(`ignored a ${channel} message of unknown type '${type}'`);
      }
    } catch (e) {
      log(`handling ${type} failed: ${(e as Error).stack ?? e}`);
    } finally {
      void this.#publish("status", { execution_state: "idle" }, m.header);
    }
  }

  #kernelInfo(): Record<string, unknown> {
    const version = this.#version;
    return {
      status: "ok",
      protocol_version: PROTOCOL_VERSION,
      implementation: "bitnet-lab",
      implementation_version: version,
      language_info: {
        name: "typescript",
        version: "5.0",
        mimetype: "text/typescript",
        file_extension: ".ts",
        codemirror_mode: { name: "javascript", typescript: true },
      },
      // Not in the protocol (5.3 allows extra fields): lets clients wait for checked cells.
      bitnet_lab: { type_checker: this.#executor.typeCheckerReady ? "ready" : "loading" },
      banner: `bitnet-lab ${version}: TypeScript (tslab's converter) on Node.js ${process.version}`,
      help_links: [],
    };
  }

  async #execute(m: Message, channel: Channel): Promise<void> {
    const code = typeof m.content.code === "string" ? m.content.code : "";
    const silent = m.content.silent === true;
    const storeHistory = m.content.store_history !== false && !silent;
    const stopOnError = m.content.stop_on_error !== false;
    if (storeHistory) this.#executionCount += 1;
    const count = this.#executionCount;
    if (!silent) void this.#publish("execute_input", { code, execution_count: count }, m.header);
    this.#current = m;
    // `?expr` or `expr?`: the documentation of expr in the pager (IPython's convention).
    const help = /^\s*\?\s*([^\n?]+?)\s*$/.exec(code) ?? /^\s*([^\n?]+?)\s*\?\s*$/.exec(code);
    if (help) {
      const expr = help[1];
      const info = await this.#executor.inspect(expr, expr.length).catch(() => null);
      const text = info ? [info.signature, info.documentation, ...info.tags].filter((x) => x !== "").join("\n\n") : `no documentation found for '${expr}'`;
      await this.#reply(channel, m, "execute_reply", { status: "ok", execution_count: count, user_expressions: {}, payload: [{ source: "page", data: { "text/plain": text }, start: 0 }] });
      if (storeHistory) this.#history.push({ line: count, input: code, output: null });
      return;
    }
    let outcome: CellOutcome;
    try {
      outcome = await this.#executor.execute(code, (text) => {
        // Type errors of a cell that ran before the checker was up: shown under that cell.
        void this.#publish("stream", { name: "stderr", text: `type errors (found once the type checker loaded):\n${text}\n` }, m.header);
      });
    } catch (e) {
      outcome = { status: "error", ename: "KernelError", evalue: (e as Error).message, traceback: [] };
    }
    this.#capture.flushSync();
    let outputText: string | null = null;
    if (outcome.status === "ok" && outcome.hasValue && !silent) {
      const bundle = await this.#bundle(outcome.value);
      outputText = typeof bundle["text/plain"] === "string" ? bundle["text/plain"] : null;
      void this.#publish("execute_result", { execution_count: count, data: bundle, metadata: {} }, m.header);
    }
    if (outcome.status === "error") {
      const { ename, evalue, traceback } = outcome;
      if (!silent) void this.#publish("error", { ename, evalue, traceback }, m.header);
      // stop_on_error: cells sent before the client could see this failure are aborted, later
      // ones run normally. A client sends a run of cells one socket write at a time, so the rest
      // of the run may still be in flight: wait for it before replying, because a cell sent after
      // the reply must run.
      if (stopOnError) await new Promise((resolve) => setTimeout(resolve, STOP_ON_ERROR_GRACE_MS));
      await this.#reply(channel, m, "execute_reply", { status: "error", execution_count: count, ename, evalue, traceback });
      if (stopOnError) this.#abortQueued();
    } else {
      await this.#reply(channel, m, "execute_reply", { status: "ok", execution_count: count, user_expressions: {}, payload: [] });
    }
    if (storeHistory) this.#history.push({ line: count, input: code, output: outputText });
  }

  #abortQueued(): void {
    const kept: Message[] = [];
    for (const q of this.#queue.splice(0)) {
      if (q.header.msg_type !== "execute_request") {
        kept.push(q);
        continue;
      }
      void (async () => {
        await this.#publish("status", { execution_state: "busy" }, q.header);
        await this.#reply("shell", q, "execute_reply", { status: "aborted", execution_count: this.#executionCount });
        await this.#publish("status", { execution_state: "idle" }, q.header);
      })();
    }
    this.#queue.push(...kept);
  }

  async #bundle(value: unknown): Promise<Record<string, unknown>> {
    try {
      this.#viz ??= (await import("../../src/viz")) as unknown as Viz;
      return await this.#viz.toMimeBundle(value);
    } catch (e) {
      return { "text/plain": `${inspect(value, { depth: 2 })}\n(rich display failed: ${(e as Error).message})` };
    }
  }

  async #complete(m: Message, channel: Channel): Promise<void> {
    const code = typeof m.content.code === "string" ? m.content.code : "";
    const pos = typeof m.content.cursor_pos === "number" ? m.content.cursor_pos : code.length;
    try {
      const r = await this.#executor.complete(code, pos);
      await this.#reply(channel, m, "complete_reply", { status: "ok", matches: r.candidates, cursor_start: r.start, cursor_end: r.end, metadata: {} });
    } catch (e) {
      await this.#reply(channel, m, "complete_reply", { status: "ok", matches: [], cursor_start: pos, cursor_end: pos, metadata: {} });
      log(`completion failed: ${(e as Error).message}`);
    }
  }

  async #inspect(m: Message, channel: Channel): Promise<void> {
    const code = typeof m.content.code === "string" ? m.content.code : "";
    const pos = typeof m.content.cursor_pos === "number" ? m.content.cursor_pos : code.length;
    const info = await this.#executor.inspect(code, pos).catch(() => null);
    if (!info) {
      await this.#reply(channel, m, "inspect_reply", { status: "ok", found: false, data: {}, metadata: {} });
      return;
    }
    const text = [info.signature, info.documentation, ...info.tags].filter((s) => s !== "").join("\n\n");
    await this.#reply(channel, m, "inspect_reply", { status: "ok", found: true, data: { "text/plain": text }, metadata: {} });
  }

  #historyFor(c: Record<string, unknown>): unknown[] {
    const output = c.output === true;
    const row = (h: { line: number; input: string; output: string | null }) => [0, h.line, output ? [h.input, h.output] : h.input];
    const n = typeof c.n === "number" ? c.n : this.#history.length;
    switch (c.hist_access_type) {
      case "tail":
        return this.#history.slice(Math.max(0, this.#history.length - n)).map(row);
      case "range": {
        const start = typeof c.start === "number" ? c.start : 0;
        const stop = typeof c.stop === "number" ? c.stop : Infinity;
        return this.#history.filter((h) => h.line >= start && h.line < stop).map(row);
      }
      case "search": {
        const pattern = typeof c.pattern === "string" ? c.pattern : "*";
        const re = new RegExp("^" + pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$", "s");
        let hits = this.#history.filter((h) => re.test(h.input));
        if (c.unique === true) {
          const seen = new Set<string>();
          hits = hits.reverse().filter((h) => (seen.has(h.input) ? false : (seen.add(h.input), true))).reverse();
        }
        return hits.slice(Math.max(0, hits.length - n)).map(row);
      }
      default:
        return [];
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#capture.uninstall();
    await this.#executor.close().catch(() => 0);
    for (const s of [this.#shell, this.#control, this.#stdin, this.#iopub, this.#hb]) s.close();
  }
}

function packageVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(require.resolve("../../../package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "0.0.0";
  }
}

/** Reads and checks a connection file. */
export function readConnectionFile(file: string): ConnectionInfo {
  const info = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<ConnectionInfo>;
  for (const port of ["shell_port", "control_port", "stdin_port", "iopub_port", "hb_port"] as const) {
    if (!Number.isInteger(info[port])) throw new RangeError(`connection file ${file}: ${port} must be an integer, received ${String(info[port])}`);
  }
  if (typeof info.ip !== "string" || typeof info.transport !== "string") throw new RangeError(`connection file ${file}: ip and transport must be strings`);
  return { key: "", signature_scheme: "hmac-sha256", ...info } as ConnectionInfo;
}
