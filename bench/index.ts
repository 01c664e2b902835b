// `npm run bench -- <name ...>`: runs the named benchmarks (all when none is named).
import * as kernels from "./kernels";
import * as storage from "./storage";
import * as train from "./train";
import * as mnist from "./mnist";
import * as gemm from "./gemm";
import * as kernel from "./kernel";
import * as infer from "./infer";

const benches: Record<string, { run: () => void | Promise<void> }> = {
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
  const names = process.argv.slice(2);
  const unknown = names.filter((n) => !(n in benches));
  if (unknown.length) {
    console.error(`unknown benchmark(s): ${unknown.join(", ")}; available: ${Object.keys(benches).join(", ")}`);
    process.exit(2);
  }
  for (const n of names.length ? names : Object.keys(benches)) await benches[n].run();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
