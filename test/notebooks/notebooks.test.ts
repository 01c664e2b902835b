// The shipped notebooks, run headless as CI runs them (`bitnet-lab run`, embedded kernel, small
// parameters): each one completes and shows what it promises; the QAT quickstart's run record is
// complete and a rerun reproduces its loss curve bit for bit; the files are committed clean.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { readArrowFile } from "../../src";
import { readNotebook } from "../../kernel/runner/notebook";

const ROOT = path.join(__dirname, "..", "..", "..");
const NOTEBOOKS = path.join(ROOT, "notebooks");
const bin = path.join(ROOT, "bin", "bitnet-lab.js");
let dir: string;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "bitnet-notebooks-"));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(name: string, out: string, ...params: string[]): ReturnType<typeof readNotebook> {
  const r = spawnSync(process.execPath, [bin, "run", path.join(NOTEBOOKS, name), "--output", out, ...params.flatMap((p) => ["-p", p])], { encoding: "utf8", timeout: 300_000 });
  assert.equal(r.status, 0, `${name}: ${r.stdout}\n${r.stderr}`);
  return readNotebook(out);
}

function outputs(nb: ReturnType<typeof readNotebook>) {
  return nb.cells.flatMap((c) => c.outputs ?? []);
}

test("the notebooks are committed without outputs and each has a parameters cell", () => {
  const names = fs.readdirSync(NOTEBOOKS).filter((f) => f.endsWith(".ipynb")).sort();
  assert.deepEqual(names, ["01-qat-quickstart.ipynb", "02-kernels.ipynb", "03-mnist-bitlinear.ipynb", "04-inference.ipynb"]);
  for (const name of names) {
    const nb = readNotebook(path.join(NOTEBOOKS, name));
    assert.ok(nb.cells.some((c) => c.metadata.tags?.includes("parameters")), `${name}: parameters cell`);
    for (const c of nb.cells.filter((c) => c.cell_type === "code")) {
      assert.deepEqual(c.outputs, [], `${name}: outputs`);
      assert.equal(c.execution_count, null, `${name}: execution count`);
    }
  }
});

test("01-qat-quickstart: trains, charts live, samples, histograms, records; a rerun reproduces the loss curve bit for bit", () => {
  const params = ["steps=12", "evalEvery=6", "hiddenSize=64", "seqLen=32", "batchSize=8"];
  const a = run("01-qat-quickstart.ipynb", path.join(dir, "01a.ipynb"), ...params, `recordDir=${path.join(dir, "rec-a")}`);
  const outs = outputs(a);
  const svgs = outs.filter((o) => (o.output_type === "display_data" || o.output_type === "execute_result") && typeof o.data["image/svg+xml"] === "string");
  assert.ok(svgs.length >= 3, "live chart, final curves and the ternary histogram render as SVG");
  assert.ok(outs.some((o) => o.output_type === "display_data" && /^training █{24} 100% 12\/12/.test(String(o.data["text/plain"]))), "the progress bar ends full");
  assert.ok(outs.some((o) => o.output_type === "execute_result" && /^The /.test(String(o.data["text/plain"]))), "a sample");
  const rec = JSON.parse(fs.readFileSync(path.join(dir, "rec-a", "record.json"), "utf8"));
  assert.deepEqual(rec.files, ["record.json", "metrics.arrow", "training-curves.svg", "ternary-histogram.svg"]);
  assert.equal(rec.steps, 12);
  assert.equal(rec.threads, 2);
  assert.deepEqual(rec.seed, { model: 0, data: 1 });
  assert.ok(rec.backend && rec.machine.cpus > 0);
  assert.match(fs.readFileSync(path.join(dir, "rec-a", "ternary-histogram.svg"), "utf8"), /^<svg/);
  run("01-qat-quickstart.ipynb", path.join(dir, "01b.ipynb"), ...params, `recordDir=${path.join(dir, "rec-b")}`);
  const lossA = readArrowFile(path.join(dir, "rec-a", "metrics.arrow")).getChild("loss")!.toArray();
  const lossB = readArrowFile(path.join(dir, "rec-b", "metrics.arrow")).getChild("loss")!.toArray();
  assert.equal(lossA.length, 12);
  assert.deepEqual(Array.from(lossB), Array.from(lossA), "same parameters and threads: the same loss curve");
});

test("02-kernels: ternary and fp32 GOPS on the roofline chart", () => {
  const nb = run("02-kernels.ipynb", path.join(dir, "02.ipynb"), "shapes=[[512, 512]]", "batch=16", "repeats=5");
  const chart = outputs(nb).find((o) => o.output_type === "execute_result" && typeof o.data["image/svg+xml"] === "string");
  assert.ok(chart && chart.output_type === "execute_result");
  const svg = String(chart.data["image/svg+xml"]);
  assert.equal((svg.match(/class="mark-rule role-mark/g) ?? []).length, 1, "the roofline rule");
  assert.ok((svg.match(/<path[^>]*aria-roledescription="bar"/g) ?? []).length >= 4 || /mark-rect/.test(svg), "the bars");
});

test("03-mnist-bitlinear: both models train and the accuracy chart is drawn", () => {
  const nb = run("03-mnist-bitlinear.ipynb", path.join(dir, "03.ipynb"), "epochs=1", "trainLimit=20");
  const outs = outputs(nb);
  assert.ok(outs.some((o) => o.output_type === "execute_result" && /BitLinear MLP/.test(String(o.data["text/plain"]))));
  assert.ok(outs.some((o) => o.output_type === "execute_result" && /^<svg/.test(String(o.data["image/svg+xml"] ?? ""))));
  assert.ok(outs.some((o) => o.output_type === "execute_result" && /^'?BitLinear vs fp32: -?\d+\.\d\d points/.test(String(o.data["text/plain"]))));
});

test("04-inference: packs, generates, batches (throughput chart), profiles, and round-trips through GGUF with identical logits", () => {
  const out = path.join(dir, "inference");
  const nb = run("04-inference.ipynb", path.join(dir, "04.ipynb"), "steps=10", "maxTokens=16", `outDir=${out}`);
  const text = outputs(nb).filter((o) => o.output_type === "execute_result").map((o) => String(o.data["text/plain"]));
  assert.ok(text.some((t) => /head: 'int8'/.test(t)), "the packed model's summary");
  assert.ok(text.some((t) => /generatedTokens: 16/.test(t) && /decodeTokensPerSecond/.test(t)), "a generation with its stats");
  assert.ok(outputs(nb).some((o) => o.output_type === "execute_result" && /^<svg/.test(String(o.data["image/svg+xml"] ?? ""))), "the batching chart");
  assert.ok(text.some((t) => /ternaryMatmul\s+\S+\s+\d+/.test(t) && /denseMatmul/.test(t) && /attentionDecode/.test(t)), "the decode profile");
  assert.ok(text.some((t) => /'identical logits after GGUF round trip': true/.test(t) && /'cache hit': true/.test(t)), "GGUF round trip and cache");
  assert.ok(fs.statSync(path.join(out, "model.gguf")).size > 0);
});
