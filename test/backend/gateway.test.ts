// The gateway to native code (src/backend): no file outside it loads the addon, except the owners
// of memory named below; and because every kernel call passes through the gateway, a profile of a
// training step and of decode steps records every native kernel call made.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { AdamW, BitNetLM, CharTokenizer, InferenceEngine, TextDataset, Trainer, crossEntropy, packModel, profile } from "../../src";
import { kernelCallCount } from "../../src/backend/hook";

const ROOT = path.resolve(__dirname, "..", "..", "..");
/** Files that may load the addon for memory, not kernels: tensor storage and file mappings. */
const MEMORY_OWNERS = ["src/tensor/storage.ts", "src/io/file-bytes.ts"];

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.posix.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(rel));
    else if (e.name.endsWith(".ts")) out.push(rel);
  }
  return out;
}

/** Files outside src/backend that import, require or dynamically import src/backend/addon. */
export function addonImporters(files: readonly string[], read: (file: string) => string): string[] {
  const specifier = /(?:from\s+|require\(\s*|import\(\s*)["']([^"']+)["']/g;
  return files.filter((file) => {
    if (file.startsWith("src/backend/") || MEMORY_OWNERS.includes(file)) return false;
    for (const m of read(file).matchAll(specifier)) {
      if (!m[1].startsWith(".")) continue;
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1]));
      if (target === "src/backend/addon") return true;
    }
    return false;
  });
}

test("only src/backend and the memory owners load the addon", () => {
  const files = [...sources("src"), ...sources("kernel")];
  assert.ok(files.length > 50, `${files.length} source files found under ${ROOT}`);
  const read = (f: string) => fs.readFileSync(path.join(ROOT, f), "utf8");
  assert.deepEqual(addonImporters(files, read), []);
  for (const owner of MEMORY_OWNERS) assert.ok(files.includes(owner), `${owner} exists`);
  // The check itself catches each way of reaching the addon.
  const fake: Record<string, string> = {
    "src/ops/a.ts": 'import { addon } from "../backend/addon";',
    "src/ops/b.ts": 'const { addon } = require("../backend/addon");',
    "kernel/jupyter/c.ts": 'const m = await import("../../src/backend/addon");',
    "src/ops/d.ts": 'import * as native from "../backend/kernels";',
    "src/backend/e.ts": 'import { addon } from "./addon";',
  };
  assert.deepEqual(addonImporters(Object.keys(fake), (f) => fake[f]), ["src/ops/a.ts", "src/ops/b.ts", "kernel/jupyter/c.ts"]);
});

test("a profile of a training step and of decode steps records every native kernel call", async () => {
  const text = "the quick brown fox jumps over the lazy dog. ".repeat(200);
  const tokenizer = CharTokenizer.fromText(text);
  const data = TextDataset.fromText(text, tokenizer);
  // Wide enough that residual adds and AdamW reach the native element-wise kernels.
  const model = new BitNetLM({ hidden_size: 128, intermediate_size: 256, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: data.vocabSize, max_position_embeddings: 64 }, { seed: 0 });
  const trainer = new Trainer({
    model,
    optimizer: new AdamW(model.parameters(), { lr: 1e-3 }),
    seed: 1,
    nextBatch: (g) => data.batch(4, 64, g),
    loss: (b) => crossEntropy(model.forward(b.inputs).reshape([-1, data.vocabSize]), b.targets.reshape([-1])),
  });
  const before = kernelCallCount();
  const { report } = await profile(() => trainer.fit({ steps: 1 }));
  assert.equal(report.records.length, kernelCallCount() - before, "every call counted at the gateway was recorded");
  const trained = new Set(report.records.map((r) => r.kernel));
  for (const k of ["sgemm", "ternaryMatmul", "attentionForward", "attentionBackward", "rmsNormBackward", "adamwUpdate", "elementwise", "crossEntropyForward"]) {
    assert.ok(trained.has(k), `${k} recorded in a training step (${[...trained].join(", ")})`);
  }

  const packed = packModel(model, { headFormat: "int8" });
  const engine = new InferenceEngine(packed, { kvCache: "f16", maxLength: 64 });
  try {
    const start = kernelCallCount();
    const decode = await profile(() => {
      engine.forward([1, 2, 3]).dispose();
      engine.forward([4, 5]).dispose(); // several rows after f16 positions: widened by convert
      engine.forward([6]).dispose();
    });
    assert.equal(decode.report.records.length, kernelCallCount() - start);
    const kernels = new Set(decode.report.records.map((r) => r.kernel));
    for (const k of ["convert", "attentionDecode", "attentionForward", "ternaryMatmulGroup", "ternaryMatmul", "denseMatmul", "quantizeActivationsInt8"]) {
      assert.ok(kernels.has(k), `${k} recorded in decode (${[...kernels].join(", ")})`);
    }
    for (const r of decode.report.records) assert.notEqual(r.variant, "unknown", `${r.kernel} names its variant`);
  } finally {
    engine.dispose();
    packed.dispose();
    model.dispose();
  }
});
