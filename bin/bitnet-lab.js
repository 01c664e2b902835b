#!/usr/bin/env node
"use strict";
// Training runs with V8's garbage collector on the main thread only: its concurrent marking
// threads otherwise take a core from the kernel threads (on 2 cores a training step stalled on
// the preempted worker for ms at a time). The flag must be given at startup, so the CLI re-runs
// itself once with it.
const GC_FLAG = "--single-threaded-gc";
if (!process.execArgv.includes(GC_FLAG) && !process.env.BITNET_LAB_CHILD) {
  const { spawnSync } = require("node:child_process");
  // The terminal's Ctrl-C reaches the child directly (same process group); the parent only waits.
  process.on("SIGINT", () => {});
  const r = spawnSync(process.execPath, [...process.execArgv, GC_FLAG, __filename, ...process.argv.slice(2)], {
    stdio: "inherit",
    env: { ...process.env, BITNET_LAB_CHILD: "1" },
  });
  if (r.error) {
    console.error(`bitnet-lab: could not start node: ${r.error.message}`);
    process.exit(1);
  }
  process.exit(r.status === null ? 1 : r.status);
}
require("../dist/kernel/cli.js")
  .main(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
