// stdout and stderr of the kernel process become iopub stream messages. Writes are gathered and
// sent once per event-loop turn (a training loop printing every step would otherwise send a
// message per line), and flushed before a cell's result or reply so the order stays right.

type StreamName = "stdout" | "stderr";
type Write = typeof process.stdout.write;

export class OutputCapture {
  readonly #send: (name: StreamName, text: string) => void;
  readonly #pending: { name: StreamName; text: string }[] = [];
  #scheduled = false;
  #originals: { stdout: Write; stderr: Write } | null = null;

  constructor(send: (name: StreamName, text: string) => void) {
    this.#send = send;
  }

  install(): void {
    if (this.#originals) return;
    this.#originals = { stdout: process.stdout.write, stderr: process.stderr.write };
    for (const name of ["stdout", "stderr"] as const) {
      const stream = process[name];
      stream.write = ((chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
        const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) || chunk instanceof Uint8Array ? Buffer.from(chunk).toString(typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8") : String(chunk);
        this.#push(name, text);
        const cb = typeof encoding === "function" ? encoding : callback;
        if (typeof cb === "function") queueMicrotask(() => (cb as () => void)());
        return true;
      }) as Write;
    }
  }

  uninstall(): void {
    if (!this.#originals) return;
    this.flushSync();
    process.stdout.write = this.#originals.stdout;
    process.stderr.write = this.#originals.stderr;
    this.#originals = null;
  }

  #push(name: StreamName, text: string): void {
    if (text === "") return;
    const last = this.#pending[this.#pending.length - 1];
    if (last && last.name === name) last.text += text;
    else this.#pending.push({ name, text });
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flushSync());
    }
  }

  /** Sends everything gathered so far. */
  flushSync(): void {
    this.#scheduled = false;
    for (const p of this.#pending.splice(0)) this.#send(p.name, p.text);
  }
}
