// A Jupyter client over ZeroMQ, and a launcher for our kernel: what the tests (and the headless
// runner's embedded transport) use to talk to a kernel without Python or a Jupyter server.
import { ChildProcess, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import * as zmq from "zeromq";
import type { ConnectionInfo } from "./kernel";
import { Header, Message, Signer, decode, encode, header as newHeader } from "./wire";

/** A reply together with the iopub messages its request caused (busy .. idle). */
export interface Exchange {
  reply: Message;
  iopub: Message[];
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A connection file's contents with free local ports and a random key. */
export async function newConnectionInfo(): Promise<ConnectionInfo> {
  const ports = [] as number[];
  while (ports.length < 5) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  const [shell_port, control_port, stdin_port, iopub_port, hb_port] = ports;
  return { transport: "tcp", ip: "127.0.0.1", shell_port, control_port, stdin_port, iopub_port, hb_port, key: randomBytes(16).toString("hex"), signature_scheme: "hmac-sha256" };
}

export class KernelClient {
  readonly conn: ConnectionInfo;
  readonly signer: Signer;
  readonly session = randomUUID();
  readonly #shell = new zmq.Dealer();
  readonly #control = new zmq.Dealer();
  readonly #iopub = new zmq.Subscriber();
  readonly #replies = new Map<string, (m: Message) => void>();
  readonly #iopubBy = new Map<string, Message[]>();
  readonly #idleWaiters = new Map<string, () => void>();
  /** Requests whose idle status arrived before anyone waited for it (see awaitIdle). */
  readonly #idleSeen = new Set<string>();
  readonly #listeners: ((m: Message) => void)[] = [];
  #closed = false;

  constructor(conn: ConnectionInfo) {
    this.conn = conn;
    this.signer = new Signer(conn.key, conn.signature_scheme);
  }

  #url(port: number): string {
    return `${this.conn.transport}://${this.conn.ip}:${port}`;
  }

  connect(): void {
    this.#shell.connect(this.#url(this.conn.shell_port));
    this.#control.connect(this.#url(this.conn.control_port));
    this.#iopub.connect(this.#url(this.conn.iopub_port));
    this.#iopub.subscribe();
    void this.#pump(this.#shell, (m) => this.#replies.get(m.parent_header.msg_id ?? "")?.(m));
    void this.#pump(this.#control, (m) => this.#replies.get(m.parent_header.msg_id ?? "")?.(m));
    void this.#pump(this.#iopub, (m) => {
      const id = m.parent_header.msg_id ?? "";
      if (!this.#iopubBy.has(id)) this.#iopubBy.set(id, []);
      this.#iopubBy.get(id)!.push(m);
      for (const l of this.#listeners) l(m);
      if (m.header.msg_type === "status" && m.content.execution_state === "idle") {
        const waiter = this.#idleWaiters.get(id);
        if (waiter) waiter();
        else this.#idleSeen.add(id);
      }
    });
  }

  async #pump(socket: zmq.Dealer | zmq.Subscriber, on: (m: Message) => void): Promise<void> {
    try {
      for await (const frames of socket) {
        const d = decode(frames as Buffer[], this.signer);
        if ("message" in d) on(d.message);
      }
    } catch (e) {
      if (!this.#closed) throw e;
    }
  }

  /** Calls `fn` with every iopub message from now on; returns a remover. */
  onIopub(fn: (m: Message) => void): () => void {
    this.#listeners.push(fn);
    return () => this.#listeners.splice(this.#listeners.indexOf(fn), 1);
  }

  /** Sends raw frames on a channel (tests of malformed input). */
  async sendRaw(channel: "shell" | "control", frames: Buffer[]): Promise<void> {
    await (channel === "shell" ? this.#shell : this.#control).send(frames);
  }

  /** Frames of a request, signed with our key (or `key` to forge a bad signature). */
  frames(msgType: string, content: unknown, key?: string): { header: Header; frames: Buffer[] } {
    const h = newHeader(msgType, this.session, "client");
    const signer = key === undefined ? this.signer : new Signer(key);
    return { header: h, frames: encode(signer, [], h, {}, content) };
  }

  /** Resolves with the reply to request `msgId` (register before sending it). */
  awaitReply(msgId: string, timeoutMs = Infinity, what = "request"): Promise<Message> {
    return new Promise<Message>((resolve, reject) => {
      const t = Number.isFinite(timeoutMs) ? setTimeout(() => {
        this.#replies.delete(msgId);
        reject(new Error(`no ${what} reply within ${timeoutMs} ms`));
      }, timeoutMs) : undefined;
      this.#replies.set(msgId, (m) => {
        clearTimeout(t);
        this.#replies.delete(msgId);
        resolve(m);
      });
    });
  }

  /** Resolves once the kernel published idle for request `msgId` (also if it already did). */
  awaitIdle(msgId: string, timeoutMs: number, what = "request"): Promise<void> {
    if (this.#idleSeen.delete(msgId)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        this.#idleWaiters.delete(msgId);
        reject(new Error(`no idle status for ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#idleWaiters.set(msgId, () => {
        clearTimeout(t);
        this.#idleWaiters.delete(msgId);
        resolve();
      });
    });
  }

  /** Sends a request and resolves with its reply alone (iopub may not be subscribed yet). */
  async replyTo(channel: "shell" | "control", msgType: string, content: unknown, timeoutMs = 60_000): Promise<Message> {
    const { header, frames } = this.frames(msgType, content);
    const reply = this.awaitReply(header.msg_id, timeoutMs, msgType);
    await (channel === "shell" ? this.#shell : this.#control).send(frames);
    return reply;
  }

  /** Sends a request and resolves with its reply and, once the kernel is idle again, its iopub messages. */
  async request(channel: "shell" | "control", msgType: string, content: unknown, timeoutMs = 60_000): Promise<Exchange> {
    const { header, frames } = this.frames(msgType, content);
    const id = header.msg_id;
    const reply = this.awaitReply(id, timeoutMs, msgType);
    const idle = this.awaitIdle(id, timeoutMs, msgType);
    // Both are awaited below; if one fails first the other's later failure must not go unhandled.
    reply.catch(() => undefined);
    idle.catch(() => undefined);
    await (channel === "shell" ? this.#shell : this.#control).send(frames);
    const [r] = await Promise.all([reply, idle]);
    const iopub = this.#iopubBy.get(id) ?? [];
    this.#iopubBy.delete(id);
    return { reply: r, iopub };
  }

  execute(code: string, opts: { silent?: boolean; storeHistory?: boolean; stopOnError?: boolean } = {}): Promise<Exchange> {
    return this.request("shell", "execute_request", {
      code,
      silent: opts.silent ?? false,
      store_history: opts.storeHistory ?? true,
      user_expressions: {},
      allow_stdin: false,
      stop_on_error: opts.stopOnError ?? true,
    });
  }

  close(): void {
    this.#closed = true;
    for (const s of [this.#shell, this.#control, this.#iopub]) s.close();
  }
}

/** A running kernel process and a connected client. */
export interface StartedKernel {
  process: ChildProcess;
  client: KernelClient;
  connectionFile: string;
  /** Milliseconds from spawn until kernel_info was answered. */
  startupMs: number;
  stop(): Promise<void>;
}

/** Starts our kernel in a child process (its cwd the notebook's directory) and connects to it. */
export async function startKernel(opts: { cwd?: string; env?: NodeJS.ProcessEnv; packageRoot?: string; waitForTypeChecker?: boolean } = {}): Promise<StartedKernel> {
  const packageRoot = opts.packageRoot ?? path.join(__dirname, "..", "..", "..");
  const conn = await newConnectionInfo();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bitnet-kernel-"));
  const connectionFile = path.join(dir, "connection.json");
  fs.writeFileSync(connectionFile, JSON.stringify(conn));
  const t0 = performance.now();
  const child = spawn(process.execPath, ["--single-threaded-gc", path.join(packageRoot, "bin", "bitnet-lab.js"), "kernel", "run", "--connection-file", connectionFile], {
    cwd: opts.cwd ?? process.cwd(),
    env: opts.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdout!.resume();
  const client = new KernelClient(conn);
  client.connect();
  const exited = new Promise<never>((_, reject) => child.once("exit", (code, signal) => reject(new Error(`the kernel exited (${code ?? signal}) before answering: ${stderr}`))));
  exited.catch(() => undefined);
  // kernel_info until answered: the first requests may precede the kernel's bind.
  for (;;) {
    try {
      await Promise.race([client.request("shell", "kernel_info_request", {}, 500), exited]);
      break;
    } catch (e) {
      if (child.exitCode !== null || child.signalCode !== null) throw e;
    }
  }
  const startupMs = performance.now() - t0;
  // Cells run untyped until the checker has loaded (kernel_info says when it has).
  while (opts.waitForTypeChecker) {
    const info = await client.request("shell", "kernel_info_request", {});
    if ((info.reply.content.bitnet_lab as { type_checker?: string } | undefined)?.type_checker === "ready") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    process: child,
    client,
    connectionFile,
    startupMs,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child.once("exit", r));
        try {
          await client.request("control", "shutdown_request", { restart: false }, 5000);
        } catch {
          child.kill("SIGKILL");
        }
        await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      }
      client.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
