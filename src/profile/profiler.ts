// The kernel profiler: records every native kernel call made while it runs (wall time, threads,
// variant, ops, bytes) and reports per-kernel totals, an Arrow table and a Chrome trace.
import { Table, tableFromArrays } from "apache-arrow";
import { backendInfo, getIsa, getNumThreads } from "../backend/runtime";
import { KernelRecord, addKernelSink } from "../backend/hook";

export type { KernelRecord };

/** Totals of one kernel over a profile. */
export interface KernelTotal {
  kernel: string;
  variant: string;
  calls: number;
  totalUs: number;
  meanUs: number;
  ops: number;
  bytes: number;
  /** ops / total time, in 1e9 per second. */
  gops: number;
  /** bytes / total time, in 1e9 per second. */
  gbps: number;
}

/** What a profile recorded. */
export class ProfileReport {
  constructor(
    /** Every kernel call in order. */
    readonly records: readonly KernelRecord[],
    /** Wall time of the profiled span in microseconds. */
    readonly wallUs: number,
  ) {}

  /** Per-kernel (and variant) totals, largest total time first. */
  totals(): KernelTotal[] {
    const byKey = new Map<string, KernelTotal>();
    for (const r of this.records) {
      const key = `${r.kernel}\u0000${r.variant}`;
      let t = byKey.get(key);
      if (!t) {
        t = { kernel: r.kernel, variant: r.variant, calls: 0, totalUs: 0, meanUs: 0, ops: 0, bytes: 0, gops: 0, gbps: 0 };
        byKey.set(key, t);
      }
      t.calls += 1;
      t.totalUs += r.durationUs;
      t.ops += r.ops;
      t.bytes += r.bytes;
    }
    const out = [...byKey.values()];
    for (const t of out) {
      t.meanUs = t.totalUs / t.calls;
      t.gops = t.totalUs > 0 ? t.ops / t.totalUs / 1e3 : 0;
      t.gbps = t.totalUs > 0 ? t.bytes / t.totalUs / 1e3 : 0;
    }
    return out.sort((a, b) => b.totalUs - a.totalUs);
  }

  /** Every call as an Arrow table (one row per call). */
  toArrow(): Table {
    const r = this.records;
    return tableFromArrays({
      kernel: r.map((x) => x.kernel),
      variant: r.map((x) => x.variant),
      shape: r.map((x) => x.shape),
      threads: Int32Array.from(r, (x) => x.threads),
      start_us: Float64Array.from(r, (x) => x.startUs),
      duration_us: Float64Array.from(r, (x) => x.durationUs),
      ops: Float64Array.from(r, (x) => x.ops),
      bytes: Float64Array.from(r, (x) => x.bytes),
    });
  }

  /** Per-kernel totals as an Arrow table. */
  totalsToArrow(): Table {
    const t = this.totals();
    return tableFromArrays({
      kernel: t.map((x) => x.kernel),
      variant: t.map((x) => x.variant),
      calls: Int32Array.from(t, (x) => x.calls),
      total_us: Float64Array.from(t, (x) => x.totalUs),
      mean_us: Float64Array.from(t, (x) => x.meanUs),
      ops: Float64Array.from(t, (x) => x.ops),
      bytes: Float64Array.from(t, (x) => x.bytes),
      gops: Float64Array.from(t, (x) => x.gops),
      gbps: Float64Array.from(t, (x) => x.gbps),
    });
  }

  /** Chrome trace-event JSON (open in Perfetto or chrome://tracing). */
  toChromeTrace(): { traceEvents: object[]; displayTimeUnit: "ms" } {
    const events: object[] = [{ name: "process_name", ph: "M", pid: 1, tid: 1, args: { name: "bitnet-lab kernels" } }];
    for (const r of this.records) {
      events.push({
        name: r.kernel,
        cat: "kernel",
        ph: "X",
        ts: r.startUs,
        dur: r.durationUs,
        pid: 1,
        tid: 1,
        args: { variant: r.variant, threads: r.threads, shape: r.shape, ops: r.ops, bytes: r.bytes, gops: r.durationUs > 0 ? r.ops / r.durationUs / 1e3 : 0 },
      });
    }
    return { traceEvents: events, displayTimeUnit: "ms" };
  }

  /** A text table of the totals. */
  toString(): string {
    const rows = this.totals();
    const head = ["kernel", "variant", "calls", "total us", "mean us", "GOPS", "GB/s"];
    const body = rows.map((t) => [t.kernel, t.variant, String(t.calls), t.totalUs.toFixed(1), t.meanUs.toFixed(2), t.gops.toFixed(1), t.gbps.toFixed(2)]);
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
    const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
    return [line(head), ...body.map(line), `wall ${this.wallUs.toFixed(1)} us, ${this.records.length} kernel calls`].join("\n");
  }
}

/** A start/stop profiling scope. Profiles may nest; each sees every call made while it runs. */
export class Profiler {
  #records: KernelRecord[] = [];
  #remove: (() => void) | undefined;
  #start = 0;

  /** Starts recording. */
  start(): this {
    if (this.#remove) throw new Error("Profiler.start: already recording");
    this.#records = [];
    const info = backendInfo();
    const families = new Map(info.families.map((f) => [f.name, f.chosen] as const));
    const familyOf = new Map(info.kernels.map((k) => [k.name, k.family] as const));
    let currentIsa = getIsa();
    this.#start = performance.now();
    this.#remove = addKernelSink(
      (r) => this.#records.push(r),
      // The ISA can change mid-profile (setIsa); ask the addon only when the ceiling moved.
      (kernel) => {
        const isa = getIsa();
        if (isa !== currentIsa) {
          currentIsa = isa;
          for (const f of backendInfo().families) families.set(f.name, f.chosen);
        }
        return families.get(familyOf.get(kernel) ?? "") ?? "unknown";
      },
      () => getNumThreads(),
    );
    return this;
  }

  /** Stops recording and returns the report. */
  stop(): ProfileReport {
    if (!this.#remove) throw new Error("Profiler.stop: not recording (call start() first)");
    this.#remove();
    this.#remove = undefined;
    return new ProfileReport(this.#records, (performance.now() - this.#start) * 1000);
  }
}

/**
 * Runs `fn` (sync or async) while recording every native kernel call, and returns its result
 * with the report. Calls made by other code running concurrently are recorded too.
 */
export async function profile<T>(fn: () => T | Promise<T>): Promise<{ result: T; report: ProfileReport }> {
  const p = new Profiler().start();
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    p.stop();
    throw e;
  }
  return { result, report: p.stop() };
}
