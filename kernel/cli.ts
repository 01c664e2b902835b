// The `bitnet-lab` command line. Subcommands are added by the kernel and runner issues.
import { backendInfo, getNumThreads } from "../src";
import { runDemo } from "./demo";

const USAGE = `usage: bitnet-lab <command>

commands:
  info        print the native backend: CPU, ISA chosen per kernel family, threads, compiler
  demo [--steps N]
              train a small BitNet b1.58 model with QAT on the Brown corpus (default 100
              steps), print its validation loss, a sample and the kernel profile
  help        print this message`;

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "info": {
      const json = rest.includes("--json");
      const info = backendInfo();
      if (json) {
        console.log(JSON.stringify(info, null, 2));
        return 0;
      }
      console.log(`bitnet-lab backend`);
      console.log(`  cpu:       ${info.cpu.model} (${info.cpu.arch}, ${info.cpu.logicalCores} logical cores)`);
      console.log(`  features:  ${info.cpu.features.join(" ") || "(none detected)"}`);
      console.log(`  isa:       best ${info.isa.best}, active ${info.isa.active}${info.isa.forced ? ` (BITNET_ISA=${info.isa.forced})` : ""}`);
      console.log(`  threads:   ${getNumThreads()}`);
      // bin/bitnet-lab.js restarts node with this flag (see the comment there).
      console.log(`  v8 gc:     ${process.execArgv.includes("--single-threaded-gc") ? "single-threaded" : "concurrent (start node with --single-threaded-gc for training)"}`);
      console.log(`  compiler:  ${info.compiler}, ${info.flags.base}`);
      for (const [isa, flags] of Object.entries(info.flags)) {
        if (isa !== "base" && flags) console.log(`             ${isa}: ${flags}`);
      }
      console.log(`  devices:   cpu${info.devices.metal ? ", metal" : ""}`);
      console.log(`  kernels:`);
      for (const f of info.families) console.log(`    ${f.name.padEnd(10)} ${f.chosen.padEnd(8)} (available: ${f.available.join(", ")})`);
      return 0;
    }
    case "demo": {
      const i = rest.indexOf("--steps");
      const steps = i >= 0 ? Number(rest[i + 1]) : 100;
      if (!Number.isInteger(steps) || steps < 1) {
        console.error(`bitnet-lab demo: --steps must be a positive integer, received ${rest[i + 1]}`);
        return 2;
      }
      return runDemo({ steps, log: (line) => console.log(line) });
    }
    case undefined:
    case "help":
    case "--help":
    case "-h":
      console.log(USAGE);
      return command === undefined ? 1 : 0;
    default:
      console.error(`bitnet-lab: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}
