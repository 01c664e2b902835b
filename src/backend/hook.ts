// The profiler's hook: every native kernel call of the gateway (kernels.ts) goes through
// runKernel(). When no profile is recording, that is a counter increment and one length check.

/** One native kernel call, as a profile records it. */
export interface KernelRecord {
  /** Kernel name, e.g. "ternaryMatmul". */
  kernel: string;
  /** Variant (ISA) the kernel family dispatched to. */
  variant: string;
  /** Threads the native pool used. */
  threads: number;
  /** Start, microseconds since the time origin of the process (performance.now()). */
  startUs: number;
  /** Wall time of the call in microseconds. */
  durationUs: number;
  /** Arithmetic operations (a multiply-add counts 2; integer ops included). */
  ops: number;
  /** Bytes read plus written. */
  bytes: number;
  /** Shape description for the trace, e.g. "M=1 N=2560 K=2560". */
  shape: string;
}

export type KernelSink = (record: KernelRecord) => void;

const sinks: KernelSink[] = [];
let variantOf: ((kernel: string) => string) | null = null;
let threadsNow: (() => number) | null = null;

/** Installs a sink (internal: used by src/profile). Returns its remover. */
export function addKernelSink(sink: KernelSink, variant: (kernel: string) => string, threads: () => number): () => void {
  sinks.push(sink);
  variantOf = variant;
  threadsNow = threads;
  return () => {
    const i = sinks.indexOf(sink);
    if (i >= 0) sinks.splice(i, 1);
  };
}

let calls = 0;

/** Native kernel calls made through the gateway since the process started (internal: tests). */
export function kernelCallCount(): number {
  return calls;
}

/**
 * Calls the native kernel exported as `kernel`, recording it when a profile is active (its
 * variant is its family's, as backendInfo().kernels and .families report). `shape` may be a
 * function so the description is only built while recording.
 */
export function runKernel<T>(kernel: string, ops: number, bytes: number, shape: string | (() => string), call: () => T): T {
  calls += 1;
  if (sinks.length === 0) return call();
  const t0 = performance.now();
  const result = call();
  const t1 = performance.now();
  const record: KernelRecord = {
    kernel,
    variant: variantOf ? variantOf(kernel) : "unknown",
    threads: threadsNow ? threadsNow() : 1,
    startUs: t0 * 1000,
    durationUs: (t1 - t0) * 1000,
    ops,
    bytes,
    shape: typeof shape === "function" ? shape() : shape,
  };
  for (const s of sinks) s(record);
  return result;
}
