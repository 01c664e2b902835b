// Built-in representations: tensor summaries (statistics against float64 references, strided
// views, sampling of huge tensors, escaping, disposed tensors) and Arrow tables (head / tail /
// elision, column types, escaping).
import { test } from "node:test";
import assert from "node:assert/strict";
import { tableFromArrays } from "apache-arrow";
import { MimeBundle, Tensor, fromArray, randn, Generator } from "../../src";
import { TENSOR_STATS_LIMIT, tableMimeBundle, tensorMimeBundle, tensorStats } from "../../src/viz";

/** Float64 reference: min, max, mean and population std of the finite values. */
function reference(values: ArrayLike<number>): { min: number; max: number; mean: number; std: number } {
  const finite = Array.from(values).filter((v) => Number.isFinite(v));
  let sum = 0;
  for (const v of finite) sum += v;
  const mean = sum / finite.length;
  let sq = 0;
  for (const v of finite) sq += (v - mean) ** 2;
  const min = finite.reduce((a, v) => Math.min(a, v), Infinity);
  const max = finite.reduce((a, v) => Math.max(a, v), -Infinity);
  return { min, max, mean, std: Math.sqrt(sq / finite.length) };
}

/** The exact value of a statistic in the HTML (its data-value attribute). */
function htmlStat(html: string, name: string): number | undefined {
  const m = new RegExp(`<th>${name}</th><td data-value="([^"]*)">`).exec(html);
  return m === null ? undefined : Number(m[1]);
}

function html(t: Tensor): string {
  return tensorMimeBundle(t)["text/html"] as string;
}

function assertClose(actual: number | undefined, expected: number, what: string): void {
  assert.ok(actual !== undefined, `${what} missing`);
  assert.ok(Math.abs(actual - expected) <= 1e-12 * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

test("tensor bundle: text/plain is toString(), HTML shows shape, dtype, device, numel and float64 statistics", () => {
  const data = Float32Array.from([0.5, -2.25, 3.125, 1e-3, 7, -0.75, 2, 2.5, -1, 0, 4, 1.5]);
  const t = fromArray(data, { shape: [3, 4] });
  try {
    const b = tensorMimeBundle(t);
    assert.equal(b["text/plain"], t.toString());
    const h = b["text/html"] as string;
    assert.match(h, /shape \[3, 4\] · f32 · cpu · 12 elements/);
    const ref = reference(data);
    assert.equal(htmlStat(h, "min"), ref.min);
    assert.equal(htmlStat(h, "max"), ref.max);
    assertClose(htmlStat(h, "mean"), ref.mean, "mean");
    assertClose(htmlStat(h, "std"), ref.std, "std");
    assert.equal(htmlStat(h, "nan"), undefined);
    assert.doesNotMatch(h, /statistics over the first/);
    // The value preview: 3 rows of 4, nothing elided.
    assert.match(h, /<tr><th>\[0, :\]<\/th><td>0\.5<\/td><td>-2\.25<\/td><td>3\.125<\/td><td>0\.001<\/td><\/tr>/);
    assert.match(h, /<tr><th>\[2, :\]<\/th><td>-1<\/td><td>0<\/td><td>4<\/td><td>1\.5<\/td><\/tr><\/table>/);
    assert.doesNotMatch(h, /…/);
  } finally {
    t.dispose();
  }
});

test("tensor statistics of random data match a float64 computation (f32, f16, bf16)", () => {
  for (const dtype of ["f32", "f16", "bf16"] as const) {
    const t = randn([37, 53], { generator: new Generator(7), dtype, mean: 3, std: 2 });
    try {
      const values = t.values();
      const ref = reference(values);
      const s = tensorStats(t);
      assert.equal(s.count, 37 * 53);
      assert.equal(s.sampled, false);
      assert.equal(s.min, ref.min);
      assert.equal(s.max, ref.max);
      assertClose(s.mean, ref.mean, `${dtype} mean`);
      assertClose(s.std, ref.std, `${dtype} std`);
      const h = html(t);
      assert.match(h, new RegExp(`· ${dtype} ·`));
      assertClose(htmlStat(h, "std"), ref.std, `${dtype} html std`);
    } finally {
      t.dispose();
    }
  }
});

test("a strided view is summarised in its own row-major order without a copy", () => {
  const base = randn([6, 10], { generator: new Generator(3) });
  const view = base.transpose(0, 1).slice(0, 1, 9, 2); // [4, 6], non-contiguous
  try {
    assert.equal(view.isContiguous(), false);
    const ref = reference(view.values());
    const s = tensorStats(view);
    assert.equal(s.min, ref.min);
    assertClose(s.mean, ref.mean, "mean");
    assertClose(s.std, ref.std, "std");
    const h = html(view);
    const firstRow = [0, 1, 2, 3, 4, 5].map((j) => view.get(0, j));
    const cells = /<tr><th>\[0, :\]<\/th>(.*?)<\/tr>/.exec(h)![1].match(/<td>([^<]*)<\/td>/g)!.map((c) => Number(c.slice(4, -5)));
    cells.forEach((c, j) => assert.ok(Math.abs(c - firstRow[j]) <= 1e-5 * Math.max(1, Math.abs(firstRow[j])), `cell ${j}: ${c} vs ${firstRow[j]}`));
  } finally {
    view.dispose();
    base.dispose();
  }
});

test("NaN and infinities are counted apart; statistics cover the finite values", () => {
  const t = fromArray([1, NaN, 3, Infinity, -Infinity, NaN, 5]);
  try {
    const h = html(t);
    assert.equal(htmlStat(h, "nan"), 2);
    assert.equal(htmlStat(h, "inf"), 2);
    assert.equal(htmlStat(h, "min"), 1);
    assert.equal(htmlStat(h, "max"), 5);
    assert.equal(htmlStat(h, "mean"), 3);
    assertClose(htmlStat(h, "std"), Math.sqrt(8 / 3), "std");
    assert.match(h, /<td>nan<\/td>/);
    assert.match(h, /<td>-inf<\/td>/);
  } finally {
    t.dispose();
  }
});

test("integer tensors show min and max only; 0-d and empty tensors do not throw", () => {
  const i = fromArray([[-3, 7], [2, 0]], { dtype: "i8" });
  const scalar = fromArray(2.5);
  const empty = fromArray(new Float32Array(0), { shape: [0, 3] });
  try {
    const h = html(i);
    assert.equal(htmlStat(h, "min"), -3);
    assert.equal(htmlStat(h, "max"), 7);
    assert.equal(htmlStat(h, "mean"), undefined);
    assert.equal(htmlStat(h, "std"), undefined);
    assert.match(h, /· i8 ·/);
    // Packed ternary weights are read through their 2-bit codes.
    const codes = fromArray([[-1, 0, 1, 1], [0, 0, -1, 1]], { dtype: "i8" });
    const packed = codes.to("ternary2");
    codes.dispose();
    try {
      const ph = html(packed);
      assert.equal(htmlStat(ph, "min"), -1);
      assert.equal(htmlStat(ph, "max"), 1);
      assert.match(ph, /<tr><th>\[1, :\]<\/th><td>0<\/td><td>0<\/td><td>-1<\/td><td>1<\/td><\/tr>/);
    } finally {
      packed.dispose();
    }
    assert.match(html(scalar), /shape \[\] · f32 · cpu · 1 elements.*<td>2\.5<\/td>/);
    assert.match(html(empty), /shape \[0, 3\].*0 elements.*\(empty\)/);
    assert.equal(tensorMimeBundle(empty)["text/plain"], empty.toString());
  } finally {
    i.dispose();
    scalar.dispose();
    empty.dispose();
  }
});

test("large tensors: the preview elides rows and columns; >2-d rows are labelled by their leading indices", () => {
  const t = randn([2, 5, 12], { generator: new Generator(1) });
  try {
    const h = html(t);
    assert.match(h, /<th>\[0, 0, :\]<\/th>/);
    assert.match(h, /<th>\[0, 3, :\]<\/th>/);
    assert.doesNotMatch(h, /\[0, 4, :\]/); // 4 rows shown
    const header = /<table class="bitnet-tensor-values"><tr>(.*?)<\/tr>/.exec(h)![1];
    assert.equal(header, "<th></th>" + [0, 1, 2, 3, 4, 5, 6, 7].map((c) => `<th>${c}</th>`).join("") + "<th>…</th>");
    assert.match(h, /<tr><th>…<\/th>(<td>…<\/td>){9}<\/tr><\/table>/);
  } finally {
    t.dispose();
  }
});

test(`tensors over ${TENSOR_STATS_LIMIT} elements: statistics of the first ${TENSOR_STATS_LIMIT}, said so, and a one-line text`, () => {
  const n = TENSOR_STATS_LIMIT + 200_000;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = i < TENSOR_STATS_LIMIT ? (i % 1000) / 10 : 1e6; // the tail would move every statistic
  const t = fromArray(data, { shape: [n / 400, 400] });
  try {
    const b = tensorMimeBundle(t);
    const h = b["text/html"] as string;
    assert.match(h, /statistics over the first 1,000,000 of 1,200,000 elements/);
    const ref = reference(data.subarray(0, TENSOR_STATS_LIMIT));
    assert.equal(htmlStat(h, "max"), ref.max);
    assertClose(htmlStat(h, "mean"), ref.mean, "mean");
    assertClose(htmlStat(h, "std"), ref.std, "std");
    assert.equal(b["text/plain"], "tensor(<1,200,000 elements not shown>, shape=[3000, 400], dtype=f32)");
  } finally {
    t.dispose();
  }
});

test("disposed tensors are described, not thrown on", () => {
  const t = fromArray([[1, 2], [3, 4]]);
  t.dispose();
  const b = tensorMimeBundle(t);
  assert.match(b["text/plain"] as string, /<disposed>/);
  assert.equal(b["text/html"], '<div class="bitnet-tensor"><b>disposed tensor</b> shape [2, 2] · f32</div>');
});

test("tensor HTML is escaped (grad_fn names come from user code)", () => {
  const x = fromArray([1, 2]);
  try {
    x.gradNode = { op: `<img src=x onerror="alert('x')">&`, inputs: [], backward: () => [] };
    const h = html(x);
    assert.doesNotMatch(h, /<img/);
    assert.ok(h.includes("grad_fn=&#60;img src=x onerror=&#34;alert(&#39;x&#39;)&#34;&#62;&#38;"), h);
  } finally {
    x.gradNode = null;
    x.dispose();
  }
});

// ---------------------------------------------------------------------------------------------

function rowsOf(h: string): string[][] {
  const body = /<tbody>(.*)<\/tbody>/.exec(h)![1];
  return body.split("</tr>").filter((r) => r !== "").map((r) => [...r.matchAll(/<t[hd][^>]*>(.*?)<\/t[hd]>/g)].map((m) => m[1]));
}

test("Arrow table HTML: first 5 and last 5 rows, an elision row between, types in the header, a row-count caption", () => {
  const n = 12;
  const table = tableFromArrays({
    step: Int32Array.from({ length: n }, (_, i) => i * 10),
    loss: Float64Array.from({ length: n }, (_, i) => 1 / (i + 1)),
    note: Array.from({ length: n }, (_, i) => (i === 11 ? "<b>&last</b>" : i % 2 ? null : `row ${i}`)),
  });
  const b = tableMimeBundle(table);
  const h = b["text/html"] as string;
  assert.match(h, /<caption>12 rows × 3 columns<\/caption>/);
  assert.match(h, /<th>step<br><small>Int32<\/small><\/th><th>loss<br><small>Float64<\/small><\/th><th>note<br><small>Dictionary&#60;Int32, Utf8&#62;<\/small><\/th>/);
  const rows = rowsOf(h);
  assert.equal(rows.length, 11);
  assert.deepEqual(rows.map((r) => r[0]), ["0", "1", "2", "3", "4", "…", "7", "8", "9", "10", "11"]);
  assert.deepEqual(rows[5], ["…", "…", "…", "…"]);
  assert.deepEqual(rows[0], ["0", "0", "1", "row 0"]);
  assert.deepEqual(rows[1], ["1", "10", "0.5", "null"]);
  assert.deepEqual(rows[10], ["11", "110", "0.0833333", "&#60;b&#62;&#38;last&#60;/b&#62;"]);
  assert.doesNotMatch(h, /<b>&last/);

  const text = b["text/plain"] as string;
  const lines = text.split("\n");
  assert.equal(lines[0], "Table: 12 rows × 3 columns");
  assert.match(lines[1], /^\s+step\s+loss\s+note$/);
  assert.match(lines[2], /^\s+Int32\s+Float64\s+Dictionary<Int32, Utf8>$/);
  assert.equal(lines.length, 3 + 11);
  assert.match(lines[3], /^0\s+0\s+1\s+row 0$/);
  assert.match(lines[8], /^…\s+…\s+…\s+…$/);
  assert.match(lines[13], /^11\s+110\s+0\.0833333\s+<b>&last<\/b>$/);
});

test("Arrow tables of up to 10 rows are shown whole; empty tables and wide tables work", () => {
  const ten = tableFromArrays({ x: Float32Array.from({ length: 10 }, (_, i) => i / 4) });
  const rows = rowsOf(tableMimeBundle(ten)["text/html"] as string);
  assert.deepEqual(rows.map((r) => r[1]), ["0", "0.25", "0.5", "0.75", "1", "1.25", "1.5", "1.75", "2", "2.25"]);
  assert.doesNotMatch(tableMimeBundle(ten)["text/html"] as string, /elided/);

  const empty = tableFromArrays({ a: new Int32Array(0) });
  const eb: MimeBundle = tableMimeBundle(empty);
  assert.match(eb["text/html"] as string, /<caption>0 rows × 1 column<\/caption>.*<tbody><\/tbody>/);
  assert.match(eb["text/plain"] as string, /^Table: 0 rows × 1 column/);

  const cols: Record<string, Int32Array> = {};
  for (let j = 0; j < 25; j++) cols[`c${j}`] = Int32Array.from([j]);
  const wide = tableMimeBundle(tableFromArrays(cols));
  assert.match(wide["text/html"] as string, /\(5 columns not shown\)/);
  assert.match(wide["text/html"] as string, /<th>c19<br>/);
  assert.doesNotMatch(wide["text/html"] as string, /<th>c20<br>/);
});

test("Arrow cells: bigints, booleans, lists and long strings are formatted", () => {
  const table = tableFromArrays({
    big: BigInt64Array.from([12345678901234n]),
    flag: [true],
    long: ["x".repeat(100)],
  });
  const rows = rowsOf(tableMimeBundle(table)["text/html"] as string);
  assert.equal(rows[0][1], "12345678901234");
  assert.equal(rows[0][2], "true");
  assert.equal(rows[0][3], "x".repeat(59) + "…");
});
