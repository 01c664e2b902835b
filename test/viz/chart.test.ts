// Charts: the Chart class (frozen spec, text, MIME bundle, SVG rendering) and every builder:
// its spec's marks and fields, the marks counted in its rendered SVG, and bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tableFromArrays } from "apache-arrow";
import { Chart, Generator, MIME_BUNDLE, MLPClassifier, fromArray, kernelChart, latencyChart, memoryStats, quantizeWeightsTernary, randn, ternaryFractions, Trainer, SGD, crossEntropy, TrainingMetrics, ternaryHistogram, ternaryHistogramFromWeights, throughputChart, toMimeBundle, trainingCurves, TrainingPoint, Tensor } from "../../src";
import { VEGA_LITE_SCHEMA } from "../../src/viz";
import { ariaLabel, lineVertices, markItems } from "./svg";

// Specs are JSON trees; tests index into them freely.
type Spec = Record<string, any>;

function specOf(c: Chart): Spec {
  return c.spec as Spec;
}

// ---------------------------------------------------------------------------------------------
// Chart

test("Chart: frozen copy of the spec with $schema, text summary, JSON, and a MIME bundle with spec + SVG", async () => {
  const input = { title: "tiny", name: "pts", data: { values: [{ x: 1, y: 2 }, { x: 2, y: 3 }, { x: 3, y: 1 }] }, mark: "point", encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } } };
  const c = new Chart(input);
  assert.equal(c.spec.$schema, VEGA_LITE_SCHEMA);
  assert.notEqual(c.spec, input);
  assert.equal((input as Spec).$schema, undefined); // the caller's object is untouched
  assert.throws(() => {
    (c.spec as Spec).data.values.push({ x: 0, y: 0 });
  }, TypeError);
  assert.equal(c.points, 3);
  assert.equal(c.title, "tiny");
  assert.equal(String(c), "<Chart: tiny, 3 points>");
  assert.deepEqual(JSON.parse(JSON.stringify(c)), { ...input, $schema: VEGA_LITE_SCHEMA });

  const b = await (toMimeBundle(c) as Promise<Record<string, unknown>>);
  assert.deepEqual(Object.keys(b).sort(), ["application/vnd.vegalite.v5+json", "image/svg+xml", "text/plain"]);
  assert.equal(b["application/vnd.vegalite.v5+json"], c.spec);
  assert.equal(b["text/plain"], "<Chart: tiny, 3 points>");
  const svg = b["image/svg+xml"] as string;
  assert.match(svg, /^<svg /);
  assert.equal(markItems(svg, "pts", "symbol").length, 3);
  // Rendering twice gives the same document (vega's tagging of data rows does not leak back).
  assert.equal(await c.toSVG(), svg);
  assert.equal(typeof c[MIME_BUNDLE], "function");
});

test("Chart: bad specs are errors", async () => {
  assert.throws(() => new Chart(null as never), /^TypeError: Chart: spec must be a Vega-Lite spec object, received null$/);
  assert.throws(() => new Chart({ f: () => 1 }), /^TypeError: Chart: spec must be plain JSON-like data/);
  assert.throws(() => new Chart({}, { points: -1 }), /^RangeError: Chart: opts.points must be a non-negative integer, received -1$/);
  await assert.rejects(new Chart({ mark: "no-such-mark", data: { values: [] } }).toSVG(), /^Error: Chart.toSVG: vega-lite could not compile the spec: /);
});

// ---------------------------------------------------------------------------------------------
// a. trainingCurves

function metricsTable(n: number, evalEvery: number) {
  return tableFromArrays({
    step: Int32Array.from({ length: n }, (_, i) => i + 1),
    loss: Float64Array.from({ length: n }, (_, i) => 4 * Math.exp(-i / 80) + 0.5),
    evalLoss: Array.from({ length: n }, (_, i) => ((i + 1) % evalEvery === 0 ? 4 * Math.exp(-i / 80) + 0.7 : null)),
    lr: Float64Array.from({ length: n }, (_, i) => 1e-3 * Math.min(1, (i + 1) / 20)),
    gradNorm: Float64Array.from({ length: n }, (_, i) => 1 + Math.cos(i / 7)),
    tokensPerSecond: Float64Array.from({ length: n }, () => 5000),
    elapsedSeconds: Float64Array.from({ length: n }, (_, i) => i * 0.1),
  });
}

test("trainingCurves from Trainer.metricsTable(): loss + eval panel, lr and grad-norm panels, 300 points each", async () => {
  const c = trainingCurves(metricsTable(300, 50));
  const s = specOf(c);
  assert.equal(s.title, "Training curves");
  assert.equal(String(c), "<Chart: Training curves, 300 points>");
  const [loss, small] = s.vconcat;
  assert.deepEqual(loss.layer.map((l: Spec) => [l.name, l.mark.type]), [["loss_train", "line"], ["loss_eval", "line"], ["loss_eval_points", "point"]]);
  assert.equal(loss.encoding.x.field, "step");
  assert.equal(loss.encoding.y.title, "loss");
  assert.deepEqual(loss.encoding.color.scale.domain, ["train", "eval"]);
  assert.equal(loss.layer[0].data.values.length, 300);
  assert.equal(loss.layer[1].data.values.length, 6);
  assert.deepEqual(small.hconcat.map((p: Spec) => [p.name, p.encoding.y.field]), [["lr", "lr"], ["grad_norm", "gradNorm"]]);
  assert.deepEqual(small.hconcat[0].encoding.x.scale.domain, [1, 300]);

  const svg = await c.toSVG();
  const train = markItems(svg, "loss_train", "line");
  assert.equal(train.length, 1);
  assert.equal(lineVertices(train[0]), 300);
  assert.equal(lineVertices(markItems(svg, "loss_eval", "line")[0]), 6);
  const points = markItems(svg, "loss_eval_points", "symbol");
  assert.deepEqual(points.map((p) => /step: (\d+)/.exec(ariaLabel(p))![1]), ["50", "100", "150", "200", "250", "300"]);
  assert.equal(lineVertices(markItems(svg, "lr", "line")[0]), 300);
  assert.equal(lineVertices(markItems(svg, "grad_norm", "line")[0]), 300);
  assert.match(svg, />learning rate</);
  assert.match(svg, />grad norm</);
});

test("trainingCurves takes a real Trainer's history and metricsTable() as they are", async () => {
  const model = new MLPClassifier({ sizes: [6, 8, 3], seed: 4 });
  try {
    const trainer = new Trainer({
      model,
      optimizer: new SGD(model.parameters(), { lr: 0.05 }),
      nextBatch: (g) => ({ x: randn([5, 6], { generator: g }), y: fromArray(Int32Array.from([0, 1, 2, 0, 1]), { dtype: "i32" }) }),
      loss: (b: { x: Tensor<"f32">; y: Tensor<"i32"> }) => crossEntropy(model.forward(b.x), b.y),
      evaluate: () => 1.5,
    });
    await trainer.fit({ steps: 12, evalEvery: 4 });
    // TrainingMetrics rows are TrainingPoints (a compile-time check as much as a runtime one).
    const history: readonly TrainingPoint[] = trainer.history satisfies TrainingMetrics[];
    for (const c of [trainingCurves(history), trainingCurves(trainer.metricsTable())]) {
      const svg = await c.toSVG();
      assert.equal(lineVertices(markItems(svg, "loss_train", "line")[0]), 12);
      assert.equal(markItems(svg, "loss_eval_points", "symbol").length, 3);
      assert.equal(lineVertices(markItems(svg, "lr", "line")[0]), 12);
      assert.equal(lineVertices(markItems(svg, "grad_norm", "line")[0]), 12);
    }
  } finally {
    model.dispose();
  }
});

test("trainingCurves from rows: NaN and missing eval losses are skipped; panels without data are left out", async () => {
  const rows: TrainingPoint[] = Array.from({ length: 40 }, (_, i) => ({
    step: i,
    loss: 3 - i / 20,
    evalLoss: i === 10 ? 2.6 : i === 30 ? 1.7 : i === 20 ? NaN : null,
  }));
  const c = trainingCurves(rows, { title: "run <7>", logLoss: true });
  const s = specOf(c);
  assert.equal(s.vconcat, undefined); // no lr or grad norm in the rows: one panel
  assert.equal(s.encoding.y.scale.type, "log");
  const svg = await c.toSVG();
  assert.equal(lineVertices(markItems(svg, "loss_train", "line")[0]), 40);
  const points = markItems(svg, "loss_eval_points", "symbol");
  assert.equal(points.length, 2);
  assert.deepEqual(points.map(ariaLabel), ["step: 10; loss: 2.6; series: eval", "step: 30; loss: 1.7; series: eval"]);
  assert.doesNotMatch(svg, /NaN/);
  assert.match(svg, /run &lt;7&gt;/); // vega escapes the title

  // No eval loss at all: no eval marks, a one-entry legend.
  const plain = await trainingCurves([{ step: 0, loss: 1, lr: 0.1 }, { step: 1, loss: 0.5, lr: 0.1 }]).toSVG();
  assert.throws(() => markItems(plain, "loss_eval_points", "symbol"), /no mark/);
  assert.equal(lineVertices(markItems(plain, "lr", "line")[0]), 2);
});

test("trainingCurves: bad input names the argument", () => {
  assert.throws(() => trainingCurves([]), /^RangeError: trainingCurves: metrics is empty \(no rows to plot\)$/);
  assert.throws(() => trainingCurves("x" as never), /^TypeError: trainingCurves: metrics must be an array of objects or an Arrow Table, received 'x'$/);
  assert.throws(() => trainingCurves([{ step: 0, loss: 1 }, 5 as never]), /^TypeError: trainingCurves: metrics\[1\] must be an object, received 5$/);
  assert.throws(
    () => trainingCurves(tableFromArrays({ step: Int32Array.from([1]), lost: Float64Array.from([1]) })),
    /^TypeError: trainingCurves: metrics has no column 'loss' \(columns: step, lost\)$/,
  );
  const rows = Array.from({ length: 8 }, (_, i) => ({ step: i, loss: i === 5 ? NaN : 1 }));
  assert.throws(() => trainingCurves(rows), /^RangeError: trainingCurves: metrics\[5\].loss must be a finite number, received NaN$/);
  assert.throws(() => trainingCurves([{ step: "1" as never, loss: 1 }]), /^TypeError: trainingCurves: metrics\[0\].step must be a finite number, received '1'$/);
  assert.throws(() => trainingCurves([{ step: 0, loss: 1, evalLoss: Infinity }]), /^RangeError: trainingCurves: metrics\[0\].evalLoss must be a finite number, received Infinity$/);
  assert.throws(() => trainingCurves([{ step: 0, loss: 1, gradNorm: NaN }]), /^RangeError: trainingCurves: metrics\[0\].gradNorm must be a finite number, received NaN$/);
  const table = tableFromArrays({ step: Int32Array.from([1, 2]), loss: Float64Array.from([1, Infinity]) });
  assert.throws(() => trainingCurves(table), /^RangeError: trainingCurves: metrics column 'loss' row 1 must be a finite number, received Infinity$/);
  assert.throws(() => trainingCurves([{ step: 0, loss: 0 }], { logLoss: true }), /^RangeError: trainingCurves: opts.logLoss needs positive losses, received 0 at step 0$/);
  assert.throws(() => trainingCurves([{ step: 0, loss: 1 }], { width: -5 }), /^RangeError: trainingCurves: opts.width must be a positive number of pixels/);
  assert.throws(() => trainingCurves([{ step: 0, loss: 1 }], { colour: "red" } as never), /^TypeError: trainingCurves: unknown option 'colour' \(options: title, width, height, logLoss\)$/);
});

// ---------------------------------------------------------------------------------------------
// b. throughputChart

const THROUGHPUT = [1, 2, 4, 8].flatMap((threads) => [
  { threads, impl: "ours", tokensPerSecond: 900 * threads },
  { threads, impl: "torch", tokensPerSecond: 600 * threads },
]);

test("throughputChart: grouped bars, one per (x, series) row", async () => {
  const c = throughputChart(THROUGHPUT, { x: "threads", series: "impl" });
  const s = specOf(c);
  assert.equal(s.title, "tokens/s by threads");
  assert.equal(s.mark.type, "bar");
  assert.equal(s.encoding.x.title, "threads");
  assert.equal(s.encoding.y.title, "tokens/s");
  assert.equal(s.encoding.xOffset.field, "series");
  assert.equal(s.encoding.color.title, "impl");
  const bars = markItems(await c.toSVG(), "bars", "rect");
  assert.equal(bars.length, 8);
  assert.ok(bars.some((b) => /^threads: 8; tokens\/s: 4800; impl: torch/.test(ariaLabel(b))), bars.map(ariaLabel).join("\n"));
});

test("throughputChart: lines from an Arrow table, any y field", async () => {
  const table = tableFromArrays({
    batch: Int32Array.from([1, 2, 4, 1, 2, 4]),
    impl: ["ours", "ours", "ours", "torch", "torch", "torch"],
    samplesPerSecond: Float64Array.from([10, 19, 35, 8, 15, 26]),
  });
  const c = throughputChart(table, { x: "batch", y: "samplesPerSecond", series: "impl", mark: "line", yTitle: "samples/s" });
  const svg = await c.toSVG();
  const lines = markItems(svg, "lines", "line");
  assert.equal(lines.length, 2);
  assert.deepEqual(lines.map(lineVertices), [3, 3]);
  assert.match(svg, />samples\/s</);
  assert.equal(String(c), "<Chart: samples/s by batch, 6 points>");
});

test("throughputChart: bad input names the argument", () => {
  assert.throws(() => throughputChart(THROUGHPUT, undefined as never), /^TypeError: throughputChart: opts must be an object with at least \{ x \}/);
  assert.throws(() => throughputChart(THROUGHPUT, {} as never), /^TypeError: throughputChart: opts.x must be a non-empty field name, received undefined$/);
  assert.throws(() => throughputChart([], { x: "threads" }), /^RangeError: throughputChart: rows is empty/);
  const bad = THROUGHPUT.map((r, i) => (i === 3 ? { ...r, tokensPerSecond: NaN } : r));
  assert.throws(() => throughputChart(bad, { x: "threads", series: "impl" }), /^RangeError: throughputChart: rows\[3\].tokensPerSecond must be a finite number, received NaN$/);
  assert.throws(() => throughputChart(THROUGHPUT, { x: "threads" }), /^RangeError: throughputChart: rows\[1\] repeats threads=1 \(first at rows\[0\]\); aggregate repeated measurements first$/);
  assert.throws(() => throughputChart(THROUGHPUT, { x: "batch" }), /^TypeError: throughputChart: rows\[0\].batch must be a non-empty string \(or a finite number\), received undefined$/);
  const table = tableFromArrays({ threads: Int32Array.from([1]), tps: Float64Array.from([1]) });
  assert.throws(() => throughputChart(table, { x: "threads" }), /^TypeError: throughputChart: rows has no column 'tokensPerSecond' \(columns: threads, tps\)$/);
  assert.throws(() => throughputChart(THROUGHPUT, { x: "threads", series: "impl", mark: "area" as never }), /^RangeError: throughputChart: opts.mark must be 'bar' or 'line', received 'area'$/);
});

// ---------------------------------------------------------------------------------------------
// c. kernelChart

const KERNELS = [
  { kernel: "ternaryMatmul", isa: "scalar", gops: 21 },
  { kernel: "ternaryMatmul", isa: "avx2", gops: 160 },
  { kernel: "sgemm", isa: "scalar", gops: 9.5 },
  { kernel: "sgemm", isa: "avx2", gops: 95 },
  { kernel: "attention", isa: "avx2", gops: 40 },
];

test("kernelChart: grouped bars per kernel and ISA with the roofline as a rule", async () => {
  const c = kernelChart(KERNELS, { roofline: 210, rooflineLabel: "DRAM <roof>" });
  const s = specOf(c);
  assert.deepEqual(s.layer.map((l: Spec) => [l.name, l.mark.type]), [["bars", "bar"], ["roofline", "rule"], ["roofline_label", "text"]]);
  assert.equal(s.layer[0].encoding.x.field, "kernel");
  assert.equal(s.layer[0].encoding.xOffset.field, "variant");
  assert.equal(s.layer[0].encoding.color.title, "isa");
  assert.equal(s.layer[0].encoding.y.title, "GOPS");
  assert.equal(s.layer[1].data.values[0].roofline, 210);
  const svg = await c.toSVG();
  assert.equal(markItems(svg, "bars", "rect").length, 5);
  assert.equal(markItems(svg, "roofline", "rule").length, 1);
  const label = markItems(svg, "roofline_label", "text");
  assert.equal(label.length, 1);
  assert.match(svg, />DRAM &lt;roof&gt;<\/text>/);
  assert.equal(String(c), "<Chart: Kernel throughput, 5 points>");

  // `variant` is used when present; without a roofline there is no rule.
  const plain = kernelChart([{ kernel: "a", variant: "v1", gops: 1 }, { kernel: "a", variant: "v2", gops: 2 }]);
  assert.equal(specOf(plain).layer.length, 1);
  assert.equal(specOf(plain).layer[0].encoding.color.title, "variant");
  const psvg = await plain.toSVG();
  assert.equal(markItems(psvg, "bars", "rect").length, 2);
  assert.throws(() => markItems(psvg, "roofline", "rule"), /no mark/);
});

test("kernelChart: bad input names the argument", () => {
  const bad = KERNELS.map((r, i) => (i === 2 ? { ...r, gops: NaN } : r));
  assert.throws(() => kernelChart(bad), /^RangeError: kernelChart: rows\[2\].gops must be a finite number, received NaN$/);
  assert.throws(() => kernelChart([{ kernel: "k", gops: "9" as never }]), /^TypeError: kernelChart: rows\[0\].gops must be a finite number, received '9'$/);
  assert.throws(() => kernelChart([{ kernel: "k", gops: -1 }]), /^RangeError: kernelChart: rows\[0\].gops must be >= 0, received -1$/);
  assert.throws(() => kernelChart([{ kernel: "", gops: 1 }]), /^TypeError: kernelChart: rows\[0\].kernel must be a non-empty string/);
  assert.throws(() => kernelChart([{ kernel: "k", isa: "avx2", gops: 1 }, { kernel: "k", gops: 2 }]), /^TypeError: kernelChart: rows\[1\].isa must be a non-empty string \(or a finite number\), received undefined$/);
  assert.throws(() => kernelChart([...KERNELS, { kernel: "sgemm", isa: "avx2", gops: 1 }]), /^RangeError: kernelChart: rows\[5\] repeats kernel 'sgemm' isa 'avx2' \(first at rows\[3\]\)$/);
  assert.throws(() => kernelChart(KERNELS, { roofline: NaN }), /^RangeError: kernelChart: opts.roofline must be a positive finite number \(GOPS\), received NaN$/);
  assert.throws(() => kernelChart(KERNELS, { roofline: "100" as never }), /^TypeError: kernelChart: opts.roofline must be a positive finite number/);
  assert.throws(() => kernelChart([]), /^RangeError: kernelChart: rows is empty/);
  assert.throws(() => kernelChart([{ gops: 1 } as never]), /^TypeError: kernelChart: rows\[0\].kernel must be a non-empty string \(or a finite number\), received undefined$/);
});

// ---------------------------------------------------------------------------------------------
// d. ternary histograms

test("ternaryFractions counts -1 / 0 / +1 (Int8Array, i8 and ternary2 tensors)", () => {
  const codes = Int8Array.from([-1, 0, 0, 1, 1, 1, 0, -1]);
  assert.deepEqual(ternaryFractions(codes), { count: 8, minusOne: 0.25, zero: 0.375, plusOne: 0.375 });
  const t = fromArray(codes, { shape: [2, 4] });
  const packed = t.to("ternary2");
  const strided = t.transpose(0, 1);
  try {
    assert.deepEqual(ternaryFractions(t), ternaryFractions(codes));
    assert.deepEqual(ternaryFractions(packed), ternaryFractions(codes));
    assert.deepEqual(ternaryFractions(strided), ternaryFractions(codes));
  } finally {
    strided.dispose();
    packed.dispose();
    t.dispose();
  }
  assert.throws(() => ternaryFractions(Int8Array.from([0, 1, 3])), /^RangeError: ternaryFractions: codes\[2\] must be -1, 0 or \+1, received 3$/);
  assert.throws(() => ternaryFractions(new Int8Array(0)), /^RangeError: ternaryFractions: codes is empty$/);
  assert.throws(() => ternaryFractions([1, 0] as never), /^TypeError: ternaryFractions: codes must be an Int8Array or a Tensor of ternary codes, received an array of length 2$/);
  const f = fromArray([1, 0]);
  try {
    assert.throws(() => ternaryFractions(f), /received dtype 'f32' \(for latent weights use ternaryHistogramFromWeights\)/);
  } finally {
    f.dispose();
  }
});

test("ternaryHistogram: one stacked bar per layer, three segments each, fractions in the spec", async () => {
  const layers = [
    { name: "blocks.0.attn.q", codes: Int8Array.from([-1, 0, 1, 1]) },
    { name: "blocks.0.attn.k", codes: Int8Array.from([0, 0, 0, 1]) },
    { name: "blocks.0.mlp.up", codes: Int8Array.from([-1, -1, 0, 1, 1, 1, 1, 1]) },
  ];
  const c = ternaryHistogram(layers);
  const s = specOf(c);
  assert.equal(s.mark.type, "bar");
  assert.equal(s.encoding.y.field, "layer");
  assert.equal(s.encoding.x.field, "fraction");
  assert.equal(s.encoding.x.stack, "zero");
  assert.deepEqual(s.encoding.color.scale.domain, ["-1", "0", "+1"]);
  assert.deepEqual(
    s.data.values.filter((r: Spec) => r.layer === "blocks.0.mlp.up").map((r: Spec) => [r.code, r.fraction, r.count]),
    [["-1", 0.25, 2], ["0", 0.125, 1], ["+1", 0.625, 5]],
  );
  assert.equal(String(c), "<Chart: Ternary weight codes per layer, 3 points>");
  const rects = markItems(await c.toSVG(), "codes", "rect");
  assert.equal(rects.length, 9);
  assert.ok(rects.some((r) => ariaLabel(r).includes("layer: blocks.0.attn.k") && ariaLabel(r).includes("code: 0") && ariaLabel(r).includes("75.00%")));
});

test("ternaryHistogramFromWeights quantizes each weight as quantizeWeightsTernary does and frees the codes", () => {
  const g = new Generator(11);
  const ws: [string, Tensor][] = [["a.weight", randn([16, 32], { generator: g })], ["b.weight", randn([8, 64], { generator: g, std: 0.02 })]];
  try {
    const expected = ws.map(([, w]) => {
      const q = quantizeWeightsTernary(w as Tensor<"f32">);
      try {
        return ternaryFractions(q.codes);
      } finally {
        q.dispose();
      }
    });
    const before = memoryStats().liveTensors;
    const c = ternaryHistogramFromWeights(ws);
    assert.equal(memoryStats().liveTensors, before);
    const rows = specOf(c).data.values as Spec[];
    ws.forEach(([name], i) => {
      const got = rows.filter((r) => r.layer === name).map((r) => r.fraction);
      assert.deepEqual(got, [expected[i].minusOne, expected[i].zero, expected[i].plusOne]);
    });
  } finally {
    ws.forEach(([, w]) => w.dispose());
  }
});

test("ternaryHistogram of a model: every BitLinear layer's weight, nothing else", async () => {
  const model = new MLPClassifier({ sizes: [12, 16, 8, 3], seed: 2 });
  try {
    const c = ternaryHistogram(model);
    const names = [...new Set((specOf(c).data.values as Spec[]).map((r) => r.layer))];
    assert.deepEqual(names, ["hidden.0.weight", "hidden.1.weight"]);
    assert.equal(markItems(await c.toSVG(), "codes", "rect").length, 6);
  } finally {
    model.dispose();
  }
  const fp = new MLPClassifier({ sizes: [4, 4, 2], linear: "fp32" });
  try {
    assert.throws(() => ternaryHistogram(fp), /^RangeError: ternaryHistogram: the model has no BitLinear layers$/);
  } finally {
    fp.dispose();
  }
});

test("ternary histograms: bad input names the argument", () => {
  assert.throws(() => ternaryHistogram([]), /^RangeError: ternaryHistogram: layers is empty/);
  assert.throws(() => ternaryHistogram(3 as never), /^TypeError: ternaryHistogram: layers must be an array of \{ name, codes \} or a model \(Module\), received 3$/);
  assert.throws(() => ternaryHistogram([{ name: "a", codes: Int8Array.from([1]) }, { name: "a", codes: Int8Array.from([0]) }]), /^RangeError: ternaryHistogram: layers\[1\].name repeats the name 'a' \(first at layers\[0\].name\)$/);
  assert.throws(() => ternaryHistogram([{ name: "a", codes: Int8Array.from([1, 2]) }]), /^RangeError: ternaryHistogram: layers\[0\].codes\[1\] must be -1, 0 or \+1, received 2$/);
  assert.throws(() => ternaryHistogram([{ name: "a", codes: [1] as never }]), /^TypeError: ternaryHistogram: layers\[0\].codes must be an Int8Array or a Tensor/);
  const w3 = randn([2, 2, 2]);
  const disposed = randn([2, 2]);
  disposed.dispose();
  try {
    assert.throws(() => ternaryHistogramFromWeights([["w", w3]]), /^RangeError: ternaryHistogramFromWeights: named\[0\]\[1\] \('w'\) must be a 2-d weight, received shape \[2, 2, 2\]$/);
    assert.throws(() => ternaryHistogramFromWeights([["w", disposed]]), /^TypeError: ternaryHistogramFromWeights: named\[0\]\[1\] \('w'\) was disposed$/);
    assert.throws(() => ternaryHistogramFromWeights([]), /^RangeError: ternaryHistogramFromWeights: named is empty/);
  } finally {
    w3.dispose();
  }
});

// ---------------------------------------------------------------------------------------------
// e. latencyChart

/** Linear-interpolation quantile (numpy's default) as the reference. */
function quantileRef(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo] + ((s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (pos - lo));
}

test("latencyChart of one sample set: histogram bins covering every sample, the median as a rule", async () => {
  const g = new Generator(5);
  const noise = randn([501], { generator: g });
  const samples = noise.values().map((v) => 10 + Math.abs(v) * 3);
  noise.dispose();
  const c = latencyChart(samples, { bins: 12, unit: "µs" });
  const s = specOf(c);
  const bins = s.layer[0].data.values as Spec[];
  assert.equal(bins.length, 12);
  assert.equal(bins.reduce((n, b) => n + b.count, 0), 501);
  assert.equal(bins[0].start, Math.min(...samples));
  assert.equal(bins[11].end, Math.max(...samples));
  const median = quantileRef(samples, 0.5);
  assert.equal(s.layer[1].data.values[0].median, median);
  assert.equal(s.layer[0].encoding.x.title, "latency (µs)");
  const svg = await c.toSVG();
  assert.equal(markItems(svg, "bins", "rect").length, 12);
  assert.equal(markItems(svg, "median", "rule").length, 1);
  assert.ok(ariaLabel(markItems(svg, "median_label", "text")[0]).endsWith(`label: median ${Number(median.toPrecision(4))} µs`));
  assert.match(svg, new RegExp(`>median ${Number(median.toPrecision(4))} µs</text>`));
  assert.equal(String(c), "<Chart: Latency distribution, 501 points>");

  // Identical samples still make one visible bin; typed arrays are accepted.
  const flat = latencyChart(Float64Array.from([2, 2, 2]));
  assert.equal(markItems(await flat.toSVG(), "bins", "rect").length, 1);
});

test("latencyChart of labelled series: a box (IQR), whisker (min-max) and median tick per label", async () => {
  const prefill = [12, 10, 11, 30, 13, 11.5, 12.5];
  const decode = [2.1, 2.3, 2, 2.6, 2.2];
  const c = latencyChart([{ label: "prefill", samples: prefill }, { label: "decode", samples: decode }]);
  const rows = specOf(c).data.values as Spec[];
  assert.deepEqual(rows.map((r) => r.label), ["prefill", "decode"]);
  for (const [i, xs] of [prefill, decode].entries()) {
    assert.equal(rows[i].n, xs.length);
    assert.equal(rows[i].min, Math.min(...xs));
    assert.equal(rows[i].max, Math.max(...xs));
    assert.equal(rows[i].q1, quantileRef(xs, 0.25));
    assert.equal(rows[i].median, quantileRef(xs, 0.5));
    assert.equal(rows[i].q3, quantileRef(xs, 0.75));
  }
  const svg = await c.toSVG();
  assert.equal(markItems(svg, "boxes", "rect").length, 2);
  assert.equal(markItems(svg, "whiskers", "rule").length, 2);
  const medians = markItems(svg, "medians", "rect");
  assert.equal(medians.length, 2);
  assert.ok(medians.every((m) => /aria-roledescription="tick"/.test(m)));
  assert.equal(String(c), "<Chart: Latency distribution, 12 points>");
});

test("latencyChart: bad input names the argument", () => {
  assert.throws(() => latencyChart([]), /^RangeError: latencyChart: samples is empty \(no samples to plot\)$/);
  assert.throws(() => latencyChart([1, 2, NaN]), /^RangeError: latencyChart: samples\[2\] must be a finite number >= 0, received NaN$/);
  assert.throws(() => latencyChart([1, -2]), /^RangeError: latencyChart: samples\[1\] must be a finite number >= 0, received -2$/);
  assert.throws(() => latencyChart([1, "2" as never]), /^TypeError: latencyChart: samples\[1\] must be a finite number >= 0, received '2'$/);
  assert.throws(() => latencyChart([{ label: "a", samples: [1] }, 3 as never]), /^TypeError: latencyChart: samples\[1\] must be an object \{ label, samples \}, received 3$/);
  assert.throws(() => latencyChart([{ label: "a", samples: [] }]), /^RangeError: latencyChart: samples\[0\].samples is empty/);
  assert.throws(() => latencyChart([{ label: "a", samples: [1] }, { label: "a", samples: [2] }]), /^RangeError: latencyChart: samples\[1\].label repeats the name 'a'/);
  assert.throws(() => latencyChart([1, 2], { bins: 0 }), /^RangeError: latencyChart: opts.bins must be an integer in \[1, 1000\], received 0$/);
  assert.throws(() => latencyChart([{ label: "a", samples: [1] }], { bins: 5 }), /^TypeError: latencyChart: opts.bins applies to a single sample set/);
});
