import { describe, it } from "node:test";
import * as assert from "node:assert/strict";

import { MNIST_PIXELS, MnistSplit, batches, loadMnist, mnistSplit } from "../../src/data";
import { arange, fromArray } from "../../src/tensor/create";
import { Generator } from "../../src/tensor/random";
import { memoryStats } from "../../src/tensor/storage";
import { Tensor } from "../../src/tensor/tensor";

// Images per digit in the mnist package's src/digits/<d>.json (array length / 784).
const PER_DIGIT = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];

/** Runs `body`; the live tensor count must be unchanged afterwards. */
function leakFree(body: () => void): () => void {
  return () => {
    (globalThis as { gc?: () => void }).gc?.();
    const before = memoryStats().liveTensors;
    body();
    assert.equal(memoryStats().liveTensors, before, "live tensors after the test (something was not disposed)");
  };
}

function disposeSplit(s: MnistSplit): void {
  s.trainX.dispose();
  s.trainY.dispose();
  s.testX.dispose();
  s.testY.dispose();
}

/** A fingerprint of each 784-pixel row plus its label (FNV-1a over the float bits). */
function rowKeys(images: Float32Array, labels: Int32Array): string[] {
  const bits = new Uint32Array(images.buffer, images.byteOffset, images.length);
  const keys: string[] = [];
  for (let r = 0; r < labels.length; r++) {
    let h1 = 0x811c9dc5;
    let h2 = 0x01000193;
    for (let p = 0; p < MNIST_PIXELS; p++) {
      const v = bits[r * MNIST_PIXELS + p];
      h1 = Math.imul(h1 ^ v, 0x01000193) >>> 0;
      h2 = Math.imul(h2 ^ (v + p), 0x5bd1e995) >>> 0;
    }
    keys.push(`${labels[r]}:${h1}:${h2}`);
  }
  return keys.sort();
}

describe("loadMnist", () => {
  const m = loadMnist();

  it("has the 10,000 digits, labelled 0-9, about 1000 of each", () => {
    assert.equal(m.count, 10_000);
    assert.equal(m.images.length, 10_000 * 784);
    assert.equal(m.labels.length, 10_000);
    const counts = new Array<number>(10).fill(0);
    for (const l of m.labels) counts[l]++;
    assert.deepEqual(counts, PER_DIGIT);
    for (const c of counts) assert.ok(c > 850 && c < 1150);
  });

  it("has pixels in [0, 1] with background 0 and full ink 1", () => {
    let min = Infinity;
    let max = -Infinity;
    let zeros = 0;
    for (const v of m.images) {
      if (v < min) min = v;
      if (v > max) max = v;
      if (v === 0) zeros++;
    }
    assert.equal(min, 0);
    assert.equal(max, 1);
    assert.ok(zeros / m.images.length > 0.7, "mostly background");
    // First image of 0.json, row 4 (pixels 112..139) holds the top of the zero: 0.2, 0.624, 0.992, ...
    assert.equal(m.images[127], Math.fround(0.2));
    assert.equal(m.images[128], Math.fround(0.624));
    assert.equal(m.labels[0], 0);
    assert.equal(m.labels[9999], 9);
  });

  it("returns copies of its cache", () => {
    const a = loadMnist();
    a.images[127] = 5;
    a.labels[0] = 7;
    const b = loadMnist();
    assert.equal(b.images[127], Math.fround(0.2));
    assert.equal(b.labels[0], 0);
  });
});

describe("mnistSplit", () => {
  it(
    "splits 8,000 / 2,000 by default, deterministically, covering every image once",
    leakFree(() => {
      const a = mnistSplit();
      const b = mnistSplit();
      const c = mnistSplit(new Generator(1));
      try {
        assert.deepEqual(a.trainX.shape, [8000, 784]);
        assert.deepEqual(a.trainY.shape, [8000]);
        assert.deepEqual(a.testX.shape, [2000, 784]);
        assert.deepEqual(a.testY.shape, [2000]);
        assert.equal(a.trainX.dtype, "f32");
        assert.equal(a.trainY.dtype, "i32");
        assert.deepEqual(Array.from(a.testY.data()), Array.from(b.testY.data()));
        assert.deepEqual(a.trainX.data(), b.trainX.data());
        assert.notDeepEqual(Array.from(a.testY.data()), Array.from(c.testY.data()));

        // The two parts together are exactly the loaded images with their labels.
        const m = loadMnist();
        const images = new Float32Array(m.images.length);
        images.set(a.trainX.data(), 0);
        images.set(a.testX.data(), 8000 * 784);
        const labels = new Int32Array(10_000);
        labels.set(a.trainY.data(), 0);
        labels.set(a.testY.data(), 8000);
        assert.deepEqual(rowKeys(images, labels), rowKeys(m.images, m.labels));

        // Shuffled: the test set holds every digit in about the overall proportion.
        const counts = new Array<number>(10).fill(0);
        for (const l of a.testY.data()) counts[l]++;
        counts.forEach((c, d) => assert.ok(Math.abs(c - PER_DIGIT[d] / 5) < 60, `digit ${d}: ${c} test images`));
      } finally {
        [a, b, c].forEach(disposeSplit);
      }
    }),
  );

  it(
    "takes testFraction and advances the given generator",
    leakFree(() => {
      const g = new Generator(3);
      const a = mnistSplit(g, 0.25);
      const b = mnistSplit(g, 0.25);
      try {
        assert.deepEqual(a.trainX.shape, [7500, 784]);
        assert.deepEqual(a.testX.shape, [2500, 784]);
        assert.notDeepEqual(Array.from(a.testY.data()), Array.from(b.testY.data()));
      } finally {
        disposeSplit(a);
        disposeSplit(b);
      }
    }),
  );

  it("rejects bad arguments", () => {
    assert.throws(() => mnistSplit(new Generator(0), 0), /^RangeError: mnistSplit: testFraction must be a number in \(0, 1\), received 0$/);
    assert.throws(() => mnistSplit(new Generator(0), 1), /^RangeError: mnistSplit: testFraction must be a number in \(0, 1\), received 1$/);
    assert.throws(() => mnistSplit(new Generator(0), NaN), /received NaN$/);
    assert.throws(() => mnistSplit(new Generator(0), 0.00001), /^RangeError: mnistSplit: testFraction 0.00001 of 10000 images leaves 10000 for training and 0 for testing; both need at least 1$/);
    assert.throws(() => mnistSplit(new Generator(0), "0.2" as never), /^TypeError: mnistSplit: testFraction must be a number in \(0, 1\), received '0.2'$/);
    assert.throws(() => mnistSplit(42 as never), /^TypeError: mnistSplit: generator must be a Generator \(new Generator\(seed\)\), received 42$/);
  });
});

describe("batches", () => {
  it(
    "visits every row once per epoch with matching targets, deterministically",
    leakFree(() => {
      const x = fromArray(Array.from({ length: 30 }, (_, i) => i), { shape: [10, 3] });
      const y = arange(0, 10, 1, { dtype: "i32" }) as Tensor<"i32">;
      try {
        const epoch = (seed: number, opts?: { dropLast?: boolean }): number[][] => {
          const rows: number[][] = [];
          for (const { inputs, targets } of batches(x, y, 4, new Generator(seed), opts)) {
            const xs = inputs.data();
            const ys = targets.data();
            const order: number[] = [];
            for (let r = 0; r < ys.length; r++) {
              assert.deepEqual(Array.from(xs.subarray(r * 3, r * 3 + 3)), [3 * ys[r], 3 * ys[r] + 1, 3 * ys[r] + 2]);
              order.push(ys[r]);
            }
            assert.deepEqual(inputs.shape, [ys.length, 3]);
            rows.push(order);
            inputs.dispose();
            targets.dispose();
          }
          return rows;
        };
        const a = epoch(11);
        assert.deepEqual(a.map((r) => r.length), [4, 4, 2]);
        assert.deepEqual(a.flat().sort((p, q) => p - q), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert.notDeepEqual(a.flat(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert.deepEqual(epoch(11), a);
        assert.notDeepEqual(epoch(12), a);
        assert.deepEqual(epoch(11, { dropLast: true }), a.slice(0, 2));
      } finally {
        x.dispose();
        y.dispose();
      }
    }),
  );

  it(
    "reads strided inputs and MNIST tensors",
    leakFree(() => {
      const base = fromArray([0, 1, 2, 3, 4, 5], { shape: [2, 3] });
      const xT = base.transpose(0, 1); // [3, 2], not contiguous
      const y = fromArray([0, 1, 2], { dtype: "i32" });
      try {
        const seen: number[][] = [];
        for (const { inputs, targets } of batches(xT, y, 3, new Generator(0))) {
          const xs = inputs.data();
          for (let r = 0; r < 3; r++) seen[targets.data()[r]] = [xs[2 * r], xs[2 * r + 1]];
          inputs.dispose();
          targets.dispose();
        }
        assert.deepEqual(seen, [
          [0, 3],
          [1, 4],
          [2, 5],
        ]);
      } finally {
        base.dispose();
        xT.dispose();
        y.dispose();
      }

      const split = mnistSplit();
      try {
        let rows = 0;
        let n = 0;
        for (const { inputs, targets } of batches(split.trainX, split.trainY, 1000, new Generator(0))) {
          assert.deepEqual(inputs.shape, [1000, 784]);
          rows += targets.shape[0];
          n++;
          inputs.dispose();
          targets.dispose();
        }
        assert.equal(n, 8);
        assert.equal(rows, 8000);
      } finally {
        disposeSplit(split);
      }
    }),
  );

  it("rejects bad arguments", () => {
    const x = fromArray([1, 2, 3, 4], { shape: [2, 2] });
    const y = fromArray([0, 1, 2], { dtype: "i32" });
    const t = fromArray([1, 0], { dtype: "ternary2" });
    const g = new Generator(0);
    try {
      assert.throws(() => batches(x, y, 2, g), /^RangeError: batches: x and y must have the same number of rows, received x \[2, 2\] and y \[3\]$/);
      assert.throws(() => batches(x, x, 0, g), /^RangeError: batches: batchSize must be an integer >= 1, received 0$/);
      assert.throws(() => batches(x, x, 2, {} as never), /^TypeError: batches: generator must be a Generator \(new Generator\(seed\)\), received an object$/);
      assert.throws(() => batches([1, 2] as never, x, 2, g), /^TypeError: batches: x must be a Tensor, received an array of length 2$/);
      assert.throws(() => batches(t, t, 1, g), /^TypeError: batches: x is a packed 'ternary2' tensor; convert it with to\('i8'\) first$/);
      assert.throws(() => batches(x, x, 1, g, { dropLast: 1 as never }), /^TypeError: batches: dropLast must be a boolean, received 1$/);
    } finally {
      x.dispose();
      y.dispose();
      t.dispose();
    }
  });
});
