// Shared benchmark plumbing: timing with medians, a printed table, JSON under bench/results/.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { backendInfo } from "../src";

/** Median of `runs` timings (ms) of fn, after `warmup` untimed calls. */
/** Median of the values (the mean of the two middle ones for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

export function medianMs(fn: () => void, runs = 7, warmup = 2): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export type Row = Record<string, string | number>;

export function printTable(title: string, rows: Row[]): void {
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]);
  // Four significant digits, but never exponent notation for the magnitudes a table holds.
  const fmt = (v: string | number): string =>
    typeof v !== "number" ? v : Number.isInteger(v) || Math.abs(v) >= 1000 ? String(Math.round(v)) : v.toPrecision(4);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => fmt(r[c]).length)));
  console.log(`\n${title}`);
  console.log(cols.map((c, i) => c.padStart(widths[i])).join("  "));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(cols.map((c, i) => fmt(r[c]).padStart(widths[i])).join("  "));
}

/** Writes results with the machine description to bench/results/<name>-<timestamp>.json. */
export function writeResults(name: string, results: unknown): string {
  const dir = path.resolve(__dirname, "..", "..", "bench", "results");
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  const info = backendInfo();
  const body = JSON.stringify({ name, date: new Date().toISOString(), machine: { cpu: info.cpu, isa: info.isa, threads: info.threads, node: process.version, os: `${os.type()} ${os.release()}` }, results }, null, 2);
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, "w");
  fs.writeSync(fd, body);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
  return file;
}

/**
 * The ISAs a benchmark runs under: `--isa a,b,c` (each one this CPU supports), `--isa all` (every
 * supported one), or the best one when the option is absent.
 */
export function isasFromOptions(opts: Record<string, string>): string[] {
  const info = backendInfo();
  const spec = opts.isa;
  if (spec === undefined) return [info.isa.best];
  if (spec === "all") return info.isa.supported;
  const list = spec.split(",").map((s) => s.trim()).filter(Boolean);
  const bad = list.filter((i) => !info.isa.supported.includes(i));
  if (list.length === 0 || bad.length) {
    throw new Error(`--isa: ${bad.length ? `${bad.join(", ")} not supported here` : "empty"}; this CPU supports ${info.isa.supported.join(", ")} (or 'all')`);
  }
  return list;
}
