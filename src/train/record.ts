// Run records: what a training run needs to be understood and reproduced later, in one folder:
// record.json (config, seed, threads, git revision, machine and backendInfo(), final metrics),
// metrics.arrow (the Trainer's metrics table, Arrow IPC) and one SVG per chart. Every file is
// written to a temp file, fsynced and renamed.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Table } from "apache-arrow";
import { writeArrowFile } from "../arrow/ipc";
import { backendInfo, getNumThreads } from "../backend/runtime";
import { writeFileAtomic } from "../io/atomic";
import { describe } from "../tensor/dtype";

/** Something that renders to SVG (a viz Chart). */
export interface SvgSource {
  toSVG(): Promise<string>;
}

/** What saveRunRecord writes. */
export interface RunRecordOptions {
  /** The run's configuration (model config, optimizer settings, parameters): any JSON value. */
  config: unknown;
  /** The seed(s) the run used. */
  seed: number | Record<string, number>;
  /** The metrics table (Trainer.metricsTable()). */
  metrics: Table;
  /** Charts to save as `<name>.svg`. */
  charts?: Record<string, SvgSource>;
  /** Free-form notes. */
  notes?: string;
}

/** The contents of record.json. */
export interface RunRecord {
  createdAt: string;
  config: unknown;
  seed: number | Record<string, number>;
  threads: number;
  git: { revision: string; dirty: boolean } | null;
  machine: { hostname: string; platform: string; arch: string; cpus: number; memoryBytes: number; node: string };
  backend: unknown;
  steps: number;
  finalLoss: number | null;
  files: string[];
  notes?: string;
}

function gitRevision(cwd: string): { revision: string; dirty: boolean } | null {
  try {
    const revision = execFileSync("git", ["rev-parse", "HEAD"], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const status = execFileSync("git", ["status", "--porcelain"], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    return { revision, dirty: status.trim() !== "" };
  } catch {
    return null; // not a repository, or no git
  }
}

/**
 * Saves a run record into `dir` (created if needed) and returns it. Chart names must be simple
 * file names (letters, digits, `-`, `_`).
 */
export async function saveRunRecord(dir: string, opts: RunRecordOptions): Promise<RunRecord> {
  const fn = "saveRunRecord";
  if (typeof dir !== "string" || dir === "") throw new TypeError(`${fn}: dir must be a non-empty string, received ${describe(dir)}`);
  if (opts === null || typeof opts !== "object") throw new TypeError(`${fn}: options must be an object like { config, seed, metrics }, received ${describe(opts)}`);
  if (!(opts.metrics instanceof Table)) throw new TypeError(`${fn}: metrics must be an Arrow Table (Trainer.metricsTable()), received ${describe(opts.metrics)}`);
  const seedOk = typeof opts.seed === "number" ? Number.isFinite(opts.seed) : opts.seed !== null && typeof opts.seed === "object" && Object.values(opts.seed).every((v) => typeof v === "number" && Number.isFinite(v));
  if (!seedOk) throw new TypeError(`${fn}: seed must be a number or an object of numbers, received ${describe(opts.seed)}`);
  const charts = Object.entries(opts.charts ?? {});
  for (const [name, chart] of charts) {
    if (!/^[\w-]+$/.test(name)) throw new RangeError(`${fn}: chart names must be simple file names ([A-Za-z0-9_-]), received '${name}'`);
    if (!chart || typeof chart.toSVG !== "function") throw new TypeError(`${fn}: charts.${name} must have a toSVG() method (a Chart), received ${describe(chart)}`);
  }
  const configJson = JSON.stringify(opts.config);
  if (configJson === undefined) throw new TypeError(`${fn}: config must be a JSON value, received ${describe(opts.config)}`);
  fs.mkdirSync(dir, { recursive: true });
  const files = ["record.json", "metrics.arrow"];
  writeArrowFile(path.join(dir, "metrics.arrow"), opts.metrics);
  for (const [name, chart] of charts) {
    writeFileAtomic(fn, path.join(dir, `${name}.svg`), [Buffer.from(await chart.toSVG(), "utf8")]);
    files.push(`${name}.svg`);
  }
  const loss = opts.metrics.getChild("loss");
  const record: RunRecord = {
    createdAt: new Date().toISOString(),
    config: JSON.parse(configJson),
    seed: opts.seed,
    threads: getNumThreads(),
    git: gitRevision(process.cwd()),
    machine: { hostname: os.hostname(), platform: process.platform, arch: process.arch, cpus: os.cpus().length, memoryBytes: os.totalmem(), node: process.version },
    backend: backendInfo(),
    steps: opts.metrics.numRows,
    finalLoss: loss && opts.metrics.numRows > 0 ? Number(loss.get(opts.metrics.numRows - 1)) : null,
    files,
    ...(opts.notes !== undefined ? { notes: String(opts.notes) } : {}),
  };
  writeFileAtomic(fn, path.join(dir, "record.json"), [Buffer.from(JSON.stringify(record, null, 2) + "\n", "utf8")]);
  return record;
}
