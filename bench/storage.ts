// Why tensor storage is native-owned: allocation cost and, above all, how fast memory comes back.
// A: native 64-byte aligned external ArrayBuffer, freed by dispose() at once (what Tensor does).
// B: JS-owned ArrayBuffer (over-allocated by 63 bytes to align a view), freed only by the GC.
import { addon } from "../src/backend/addon";
import { medianMs, printTable, Row, writeResults } from "./report";

function jsAligned(bytes: number): Uint8Array {
  const buf = new ArrayBuffer(bytes + 63);
  const view = new Uint8Array(buf);
  const misalign = addon().alignmentOf(view) >= 64 ? 0 : 64 - (Number(addon().alignmentOf(view)) % 64);
  return new Uint8Array(buf, misalign % 64, bytes);
}

export function run(): void {
  const a = addon();
  const rows: Row[] = [];
  for (const bytes of [256, 4096, 65536, 1 << 20, 16 << 20]) {
    const iters = Math.max(20, Math.min(20000, Math.floor((256 << 20) / bytes)));
    const nativeMs = medianMs(() => {
      for (let i = 0; i < iters; i++) {
        const buf = a.alloc(bytes, true);
        new Uint8Array(buf)[bytes - 1] = 1;
        a.free(buf);
      }
    }, 5);
    const jsMs = medianMs(() => {
      for (let i = 0; i < iters; i++) jsAligned(bytes)[bytes - 1] = 1;
    }, 5);
    rows.push({
      bytes,
      "native alloc+free us": (nativeMs * 1000) / iters,
      "js alloc us": (jsMs * 1000) / iters,
      "native/js time": nativeMs / jsMs,
    });
  }
  printTable("allocation (zeroed, touched, released): median per allocation", rows);

  // Memory held during a synchronous loop (a training step that never yields to the event loop).
  const loop = (useNative: boolean): number => {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const base = process.memoryUsage.rss();
    let peak = 0;
    for (let i = 0; i < 64; i++) {
      if (useNative) {
        const buf = a.alloc(16 << 20, true);
        new Uint8Array(buf).fill(1);
        peak = Math.max(peak, process.memoryUsage.rss() - base);
        a.free(buf);
      } else {
        jsAligned(16 << 20).fill(1);
        peak = Math.max(peak, process.memoryUsage.rss() - base);
      }
    }
    return peak / (1 << 20);
  };
  const peaks = [
    { storage: "native + dispose()", "peak extra RSS MiB (64 x 16 MiB, no yield)": loop(true) },
    { storage: "JS ArrayBuffer + GC", "peak extra RSS MiB (64 x 16 MiB, no yield)": loop(false) },
  ];
  printTable("memory held by a loop of 64 short-lived 16 MiB tensors", peaks);
  console.log(`results: ${writeResults("storage", { allocation: rows, peaks })}`);
}
