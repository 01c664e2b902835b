// `npm run bench -- <name ...> [--option value ...]`: runs the named benchmarks (all when none is
// named), passing them the options (`--isa scalar,avx2,avx512` for kernels and infer).
import * as kernels from "./kernels";
import * as storage from "./storage";
import * as train from "./train";
import * as mnist from "./mnist";
import * as gemm from "./gemm";
import * as kernel from "./kernel";
import * as infer from "./infer";

export type BenchOptions = Record<string, string>;

const benches: Record<string, { run: (opts: BenchOptions) => void | Promise<void> }> = {
  kernels,
  gemm,
  storage,
  train,
  "train-quality": { run: train.runQuality },
  mnist,
  kernel,
  infer,
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const names: string[] = [];
  const opts: BenchOptions = {};
  for (let i = 0; i < args.length; i++) {
    if (args[i].startsWith("--")) {
      if (i + 1 >= args.length) {
        console.error(`option ${args[i]} needs a value`);
        process.exit(2);
      }
      opts[args[i].slice(2)] = args[++i];
    } else {
      names.push(args[i]);
    }
  }
  const unknown = names.filter((n) => !(n in benches));
  if (unknown.length) {
    console.error(`unknown benchmark(s): ${unknown.join(", ")}; available: ${Object.keys(benches).join(", ")}`);
    process.exit(2);
  }
  for (const n of names.length ? names : Object.keys(benches)) await benches[n].run(opts);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
