// The `bitnet-lab` command line. Subcommands are added by the kernel and runner issues.
// Modules are loaded by the commands that need them: `kernel run` must start fast, without the
// native addon or the training code.
import path from "node:path";
import type { InstallTarget } from "./kernelspec";

const PACKAGE_ROOT = path.join(__dirname, "..", "..");

const USAGE = `usage: bitnet-lab <command>

commands:
  info        print the native backend: CPU, ISA chosen per kernel family, threads, compiler
  demo [--steps N]
              train a small BitNet b1.58 model with QAT on the Brown corpus (default 100
              steps), print its validation loss, a sample and the kernel profile
  run NB.ipynb [more.ipynb ...] [-p key=value ...] [--output OUT.ipynb | --output-dir D]
      [--timeout S] [--startup-timeout S] [--cwd D] [--allow-errors] [--json]
      [--server URL [--token T]] [--parallel N]
              execute notebooks headless (papermill's semantics) on the bitnet-lab kernel,
              embedded (default) or on a running Jupyter Server
  kernel install [--user | --sys-prefix | --prefix P]
              register the bitnet-lab Jupyter kernel (default --user)
  kernel list list the Jupyter kernels Jupyter would find (* = bitnet-lab)
  kernel uninstall [--user | --sys-prefix | --prefix P]
              remove the kernelspec
  kernel run --connection-file F
              run the kernel (what Jupyter starts)
  help        print this message`;

function installTarget(args: string[]): InstallTarget {
  const i = args.indexOf("--prefix");
  if (i >= 0) {
    const prefix = args[i + 1];
    if (prefix === undefined || prefix.startsWith("--")) throw new Error("bitnet-lab kernel: --prefix needs a directory");
    return { kind: "prefix", prefix };
  }
  if (args.includes("--sys-prefix")) return { kind: "sys-prefix" };
  return { kind: "user" };
}

async function runCommand(args: string[]): Promise<number> {
  const inputs: string[] = [];
  const params: string[] = [];
  const opts = {
    output: undefined as string | undefined, outputDir: undefined as string | undefined, timeout: 0, startupTimeout: 60, cwd: undefined as string | undefined,
    allowErrors: false, json: false, server: undefined as string | undefined, token: process.env.JUPYTER_TOKEN ?? "", parallel: 1,
  };
  const value = (i: number, flag: string): string => {
    const v = args[i + 1];
    if (v === undefined || (v.startsWith("-") && !/^-?\d/.test(v))) throw new Error(`bitnet-lab run: ${flag} needs a value`);
    return v;
  };
  const seconds = (v: string, flag: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`bitnet-lab run: ${flag} must be a number of seconds >= 0, received '${v}'`);
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    switch (a) {
      case "-p":
      case "--parameter":
        params.push(value(i++, a));
        break;
      case "--output":
      case "-o":
        opts.output = value(i++, a);
        break;
      case "--output-dir":
        opts.outputDir = value(i++, a);
        break;
      case "--timeout":
        opts.timeout = seconds(value(i++, a), a);
        break;
      case "--startup-timeout":
        opts.startupTimeout = seconds(value(i++, a), a);
        break;
      case "--cwd":
        opts.cwd = value(i++, a);
        break;
      case "--allow-errors":
        opts.allowErrors = true;
        break;
      case "--json":
        opts.json = true;
        break;
      case "--server":
        opts.server = value(i++, a);
        if (!/^https?:\/\//.test(opts.server)) throw new Error(`bitnet-lab run: --server must be an http(s) URL, received '${opts.server}'`);
        break;
      case "--token":
        opts.token = value(i++, a);
        break;
      case "--parallel": {
        const v = value(i++, a);
        opts.parallel = Number(v);
        if (!Number.isInteger(opts.parallel) || opts.parallel < 1) throw new Error(`bitnet-lab run: --parallel must be an integer >= 1, received '${v}'`);
        break;
      }
      default:
        if (a.startsWith("-")) throw new Error(`bitnet-lab run: unknown option '${a}'`);
        inputs.push(a);
    }
  }
  if (inputs.length === 0) throw new Error("bitnet-lab run: name at least one notebook (.ipynb)");
  if (opts.output && inputs.length > 1) throw new Error("bitnet-lab run: --output names one file; with several notebooks use --output-dir");
  const { runNotebook } = await import("./runner/run");
  const { parseParameters } = await import("./runner/notebook");
  const parameters = parseParameters(params);
  const fs = await import("node:fs");
  if (opts.outputDir) fs.mkdirSync(opts.outputDir, { recursive: true });
  // Progress to stderr when stdout carries the JSON summary.
  const log = (line: string) => (opts.json ? console.error(line) : console.log(line));
  const { embeddedTransport, serverTransport } = await import("./runner/transport");
  const transport = opts.server ? serverTransport(opts.server.replace(/\/$/, ""), opts.token) : embeddedTransport;
  const reports: Awaited<ReturnType<typeof runNotebook>>[] = new Array(inputs.length);
  // Up to --parallel notebooks at once, each on its own kernel; reports keep the input order.
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < inputs.length; i = next++) {
      const input = inputs[i];
      const output = opts.output ?? (opts.outputDir ? path.join(opts.outputDir, path.basename(input)) : undefined);
      log(`running ${input}${output ? ` -> ${output}` : ""}${opts.server ? ` on ${opts.server}` : ""}`);
      const prefix = inputs.length > 1 ? `${path.basename(input)} ` : "";
      const r = await runNotebook(input, { parameters, output, timeout: opts.timeout, startupTimeout: opts.startupTimeout, cwd: opts.cwd, allowErrors: opts.allowErrors, log: (l) => log(prefix + l), transport });
      reports[i] = r;
      if (r.failure) {
        const f = r.failure;
        console.error(`\n${input}: ${f.message}`);
        if (f.traceback?.length) console.error(f.traceback.join("\n"));
      }
      log(`${input}: ${r.status} in ${r.seconds.toFixed(1)} s, output ${r.output}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.parallel, inputs.length) }, worker));
  if (opts.json) console.log(JSON.stringify({ status: reports.every((r) => r.status === "ok") ? "ok" : "error", notebooks: reports }, null, 2));
  return reports.every((r) => r.status === "ok") ? 0 : 1;
}

async function kernelCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case "install": {
      const { installKernelspec } = await import("./kernelspec");
      const dir = installKernelspec(PACKAGE_ROOT, installTarget(rest));
      console.log(`installed the bitnet-lab kernelspec in ${dir}`);
      return 0;
    }
    case "uninstall": {
      const { uninstallKernelspec } = await import("./kernelspec");
      const dir = uninstallKernelspec(installTarget(rest));
      console.log(dir === null ? "no bitnet-lab kernelspec there" : `removed ${dir}`);
      return dir === null ? 1 : 0;
    }
    case "list": {
      const { listKernelspecs } = await import("./kernelspec");
      for (const k of listKernelspecs()) console.log(`${k.ours ? "*" : " "} ${k.name.padEnd(20)} ${k.dir}`);
      return 0;
    }
    case "run": {
      const i = rest.findIndex((a) => a === "--connection-file" || a === "-f");
      const file = i >= 0 ? rest[i + 1] : undefined;
      if (file === undefined) {
        console.error("bitnet-lab kernel run: --connection-file FILE is required");
        return 2;
      }
      // Loaded only here: the other commands need neither zeromq nor the kernel.
      const { runKernel } = await import("./jupyter/main");
      await runKernel(file, PACKAGE_ROOT);
      return new Promise<number>(() => undefined); // the kernel exits on shutdown_request
    }
    default:
      console.error(`bitnet-lab kernel: unknown subcommand '${sub ?? ""}' (install, list, uninstall, run)\n\n${USAGE}`);
      return 2;
  }
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "info": {
      const { backendInfo, getNumThreads } = await import("../src/runtime");
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
      console.log(`  addon:     ${info.addon.source === "prebuilt" ? "prebuilt" : info.addon.source === "forced" ? "BITNET_ADDON_PATH" : "built from source"}, ${info.addon.file}`);
      console.log(`  compiler:  ${info.compiler}, ${info.flags.base}`);
      for (const [isa, flags] of Object.entries(info.flags)) {
        if (isa !== "base" && flags) console.log(`             ${isa}: ${flags}`);
      }
      console.log(`  devices:   cpu${info.devices.metal ? ", metal" : ""}`);
      console.log(`  bf16 gemm: ${info.bf16Gemm === "native" ? "bf16 instructions" : "runs in fp32 (no bf16 instructions under this ISA)"}`);
      console.log(`  kernels:`);
      const width = Math.max(...info.families.map((f) => f.name.length)) + 1;
      const chosenWidth = Math.max(...info.families.map((f) => f.chosen.length)) + 1;
      for (const f of info.families) console.log(`    ${f.name.padEnd(width)} ${f.chosen.padEnd(chosenWidth)} (available: ${f.available.join(", ")})`);
      return 0;
    }
    case "demo": {
      const i = rest.indexOf("--steps");
      const steps = i >= 0 ? Number(rest[i + 1]) : 100;
      if (!Number.isInteger(steps) || steps < 1) {
        console.error(`bitnet-lab demo: --steps must be a positive integer, received ${rest[i + 1]}`);
        return 2;
      }
      const { runDemo } = await import("./demo");
      return runDemo({ steps, log: (line) => console.log(line) });
    }
    case "run":
      try {
        return await runCommand(rest);
      } catch (e) {
        console.error((e as Error).message);
        return 2;
      }
    case "kernel":
      try {
        return await kernelCommand(rest);
      } catch (e) {
        console.error((e as Error).message);
        return 1;
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
