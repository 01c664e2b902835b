// `npm run bench -- kernel`: the Jupyter kernel's cold start (spawn to the first execute_reply of
// `1+1`) and the round trip of a trivial cell, ours and tslab's own kernel measured the same way
// in the same run (same client, same machine).
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { KernelClient, newConnectionInfo } from "../kernel/jupyter/client";
import { median, printTable, Row, writeResults } from "./report";

const ROOT = path.join(__dirname, "..", "..");

interface Measured {
  coldStartMs: number[];
  roundTripMs: number[];
}

async function measure(kind: "bitnet-lab" | "tslab", starts: number, trips: number): Promise<Measured> {
  const coldStartMs: number[] = [];
  const roundTripMs: number[] = [];
  for (let s = 0; s < starts; s++) {
    const conn = await newConnectionInfo();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bitnet-kbench-"));
    const file = path.join(dir, "connection.json");
    fs.writeFileSync(file, JSON.stringify(conn));
    const args =
      kind === "bitnet-lab"
        ? ["--single-threaded-gc", path.join(ROOT, "bin", "bitnet-lab.js"), "kernel", "run", "--connection-file", file]
        : [path.join(ROOT, "node_modules", "tslab", "bin", "tslab"), "kernel", "--config-path", file];
    const client = new KernelClient(conn);
    client.connect();
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { cwd: dir, stdio: "ignore" });
    try {
      // The client's request is queued by ZeroMQ until the kernel binds.
      await client.replyTo("shell", "execute_request", { code: "1+1", silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true }, 60_000);
      coldStartMs.push(performance.now() - t0);
      if (s === 0) {
        // The round trip of the steady state: once the type checker is up (it loads in ~1 s).
        await new Promise((r) => setTimeout(r, 2500));
        for (let i = 0; i < trips + 5; i++) {
          const t = performance.now();
          await client.replyTo("shell", "execute_request", { code: "1", silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true });
          if (i >= 5) roundTripMs.push(performance.now() - t);
        }
      }
    } finally {
      client.close();
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return { coldStartMs, roundTripMs };
}

export async function run(): Promise<void> {
  const rows: Row[] = [];
  const results: Record<string, Measured> = {};
  for (const kind of ["bitnet-lab", "tslab"] as const) {
    const m = await measure(kind, 5, 50);
    results[kind] = m;
    rows.push({
      kernel: kind,
      "cold start to 1+1 reply, ms (median of 5)": median(m.coldStartMs),
      "min ms": Math.min(...m.coldStartMs),
      "trivial cell round trip, ms (median of 50)": median(m.roundTripMs),
    });
  }
  printTable("Jupyter kernel: cold start and round trip (same client, same run)", rows);
  console.log(`results: ${writeResults("kernel", { rows, results })}`);
}
