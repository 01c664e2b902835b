// How the runner reaches a kernel. One interface, two transports:
// - embedded: our kernel in a child process, over ZeroMQ (no Python, no server);
// - server: a running Jupyter Server (JupyterHub, Enterprise Gateway...) through
//   @jupyterlab/services, REST plus WebSocket.
import { StartedKernel, startKernel } from "../jupyter/client";

/** A kernel the runner executes cells on. */
export interface KernelSession {
  /**
   * Runs `code`; `onOutput` receives every iopub message of the request (type and content)
   * until the kernel is idle again. Resolves with the execute_reply content.
   */
  execute(code: string, onOutput: (msgType: string, content: Record<string, unknown>) => void): Promise<Record<string, unknown>>;
  /** Interrupts the running cell (a training loop stops at a step boundary). */
  interrupt(): Promise<void>;
  /** Ends the kernel at once (after an interrupt did not help). */
  kill(): Promise<void>;
  /** Resolves if the kernel dies. */
  readonly died: Promise<void>;
  close(): Promise<void>;
}

export interface Transport {
  start(opts: { cwd: string; startupTimeout: number }): Promise<KernelSession>;
}

const EXECUTE_DEFAULTS = { silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true };

/** Our kernel in a child process, over ZeroMQ. */
export const embeddedTransport: Transport = {
  async start({ cwd }) {
    const k: StartedKernel = await startKernel({ cwd, waitForTypeChecker: true });
    const died = new Promise<void>((resolve) => k.process.once("exit", () => resolve()));
    return {
      died,
      async execute(code, onOutput) {
        const { header, frames } = k.client.frames("execute_request", { code, ...EXECUTE_DEFAULTS });
        const off = k.client.onIopub((m) => {
          if (m.parent_header.msg_id === header.msg_id) onOutput(m.header.msg_type, m.content);
        });
        try {
          const reply = k.client.awaitReply(header.msg_id);
          await k.client.sendRaw("shell", frames);
          const r = await Promise.race([reply, died.then(() => null)]);
          if (r === null) throw new KernelDiedError();
          // Outputs sent before the reply may still be in flight on iopub: wait for idle.
          await k.client.awaitIdle(header.msg_id, 10_000).catch(() => undefined);
          return r.content;
        } finally {
          off();
        }
      },
      async interrupt() {
        // SIGINT also breaks a synchronous loop; the control message reaches async ones.
        k.process.kill("SIGINT");
        await k.client.request("control", "interrupt_request", {}, 5000).catch(() => undefined);
      },
      async kill() {
        k.process.kill("SIGKILL");
      },
      close: () => k.stop(),
    };
  },
};

/** Thrown by execute() when the kernel dies while running the cell. */
export class KernelDiedError extends Error {
  constructor() {
    super("the kernel died while running this cell");
    this.name = "DeadKernelError";
  }
}

/** A running Jupyter Server: its URL and token. */
export function serverTransport(url: string, token: string, kernelName = "bitnet-lab"): Transport {
  return {
    async start() {
      // Loaded here: only --server runs need them.
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      const services = require("@jupyterlab/services") as typeof import("@jupyterlab/services");
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      const WebSocket = require("ws");
      const serverSettings = services.ServerConnection.makeSettings({ baseUrl: url, wsUrl: url.replace(/^http/, "ws"), token, WebSocket, appendToken: true });
      // @jupyterlab/services logs each WebSocket it opens with console.debug (stdout in Node),
      // which would corrupt `--json` output.
      console.debug = () => undefined;
      const manager = new services.KernelManager({ serverSettings });
      await manager.ready;
      const kernel = await manager.startNew({ name: kernelName });
      let markDead!: () => void;
      const died = new Promise<void>((resolve) => (markDead = resolve));
      kernel.statusChanged.connect((_, status) => {
        if (status === "dead") markDead();
      });
      if (kernel.connectionStatus !== "connected") {
        await new Promise<void>((resolve) => {
          const onStatus = (_: unknown, status: string) => {
            if (status !== "connected") return;
            kernel.connectionStatusChanged.disconnect(onStatus);
            resolve();
          };
          kernel.connectionStatusChanged.connect(onStatus);
        });
      }
      // Cells run once the kernel has answered (and, for ours, its type checker is up).
      for (;;) {
        const info = await kernel.requestKernelInfo();
        const content = info?.content as { bitnet_lab?: { type_checker?: string } } | undefined;
        if (content?.bitnet_lab?.type_checker !== "loading") break;
        await new Promise((r) => setTimeout(r, 100));
      }
      return {
        died,
        async execute(code, onOutput) {
          const future = kernel.requestExecute({ code, ...EXECUTE_DEFAULTS });
          future.onIOPub = (msg) => onOutput(msg.header.msg_type, msg.content as Record<string, unknown>);
          const r = await Promise.race([future.done, died.then(() => null)]);
          if (r === null) throw new KernelDiedError();
          return r.content as unknown as Record<string, unknown>;
        },
        async interrupt() {
          await kernel.interrupt();
        },
        async kill() {
          await kernel.shutdown().catch(() => undefined);
          markDead();
        },
        async close() {
          if (!kernel.isDisposed) await kernel.shutdown().catch(() => undefined);
          manager.dispose();
        },
      };
    },
  };
}
