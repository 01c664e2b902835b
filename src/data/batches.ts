// Shuffled mini-batches over the rows of (input, target) tensors.
import { AnyDataArray, DType, describe } from "../tensor/dtype";
import { Generator } from "../tensor/random";
import { Tensor } from "../tensor/tensor";
import { checkGenerator, randomPermutation } from "./random";
import { checkInteger } from "../validate";

/** One mini-batch: rows of the inputs and the matching rows of the targets. */
export interface Batch<X extends DType = DType, Y extends DType = DType> {
  /** Rows of `x` [b, ...x.shape.slice(1)]. */
  inputs: Tensor<X>;
  /** The same rows of `y` [b, ...y.shape.slice(1)]. */
  targets: Tensor<Y>;
}

/** Options of {@link batches}. */
export interface BatchesOptions {
  /** Skip the last batch when it has fewer than batchSize rows (default false). */
  dropLast?: boolean;
}

/** The rows of `t` as a flat typed array: its own memory when contiguous, else a copy made now. */
function rowSource(t: Tensor, fn: string, arg: string): () => AnyDataArray {
  if (!(t instanceof Tensor)) throw new TypeError(`${fn}: ${arg} must be a Tensor, received ${describe(t)}`);
  if (t.disposed) throw new TypeError(`${fn}: ${arg} was disposed`);
  if (t.dtype === "ternary2") throw new TypeError(`${fn}: ${arg} is a packed 'ternary2' tensor; convert it with to('i8') first`);
  if (t.ndim === 0) throw new RangeError(`${fn}: ${arg} must have a row dimension, received a 0-d tensor`);
  if (t.isContiguous()) return () => t.data() as AnyDataArray;
  const c = t.contiguous();
  try {
    const copy = (c.data() as AnyDataArray).slice();
    return () => copy;
  } finally {
    c.dispose();
  }
}

/**
 * One epoch of mini-batches over the rows (dimension 0) of `x` and `y`, in an order shuffled by
 * `generator` (a Fisher-Yates permutation drawn when `batches` is called, so the same seed gives
 * the same epoch). Yields `batchSize` rows at a time (the last batch may be smaller unless
 * `dropLast`), as new tensors of the inputs' dtypes that the caller disposes. Contiguous inputs
 * are read as the iterator advances, so keep them alive until it is done.
 *
 * ```ts
 * const g = new Generator(0);
 * for (let epoch = 0; epoch < 3; epoch++) {
 *   for (const { inputs, targets } of batches(trainX, trainY, 64, g)) { ...; inputs.dispose(); targets.dispose(); }
 * }
 * ```
 *
 * @throws TypeError for non-tensors, packed ternary2 tensors or a non-Generator; RangeError when
 *   the row counts differ or are 0, or batchSize is not an integer >= 1.
 */
export function batches<X extends DType, Y extends DType>(
  x: Tensor<X>,
  y: Tensor<Y>,
  batchSize: number,
  generator: Generator,
  opts?: BatchesOptions,
): IterableIterator<Batch<X, Y>> {
  const fn = "batches";
  const xs = rowSource(x, fn, "x");
  const ys = rowSource(y, fn, "y");
  if (x.shape[0] !== y.shape[0]) {
    throw new RangeError(`${fn}: x and y must have the same number of rows, received x [${x.shape.join(", ")}] and y [${y.shape.join(", ")}]`);
  }
  const rows = x.shape[0];
  if (rows === 0) throw new RangeError(`${fn}: x and y have no rows`);
  checkInteger(fn, "batchSize", batchSize, 1);
  checkGenerator(fn, generator);
  if (opts !== undefined && (typeof opts !== "object" || opts === null)) throw new TypeError(`${fn}: options must be an object, received ${describe(opts)}`);
  const dropLast = opts?.dropLast ?? false;
  if (typeof dropLast !== "boolean") throw new TypeError(`${fn}: dropLast must be a boolean, received ${describe(dropLast)}`);
  const xRow = x.numel / rows;
  const yRow = y.numel / rows;
  const xRest = x.shape.slice(1);
  const yRest = y.shape.slice(1);
  const xType = x.dtype;
  const yType = y.dtype;
  const order = randomPermutation(rows, generator);
  const end = dropLast ? rows - (rows % batchSize) : rows;
  return (function* (): IterableIterator<Batch<X, Y>> {
    for (let first = 0; first < end; first += batchSize) {
      const n = Math.min(batchSize, end - first);
      // Read the sources first: a disposed input throws before anything is allocated.
      const xSrc = xs();
      const ySrc = ys();
      const inputs = Tensor.empty([n, ...xRest], xType, false, fn);
      const targets = Tensor.empty([n, ...yRest], yType, false, fn);
      const xDst = inputs.data() as AnyDataArray;
      const yDst = targets.data() as AnyDataArray;
      for (let r = 0; r < n; r++) {
        const src = order[first + r];
        xDst.set(xSrc.subarray(src * xRow, (src + 1) * xRow) as never, r * xRow);
        yDst.set(ySrc.subarray(src * yRow, (src + 1) * yRow) as never, r * yRow);
      }
      yield { inputs, targets };
    }
  })();
}
