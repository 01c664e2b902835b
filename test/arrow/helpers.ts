// Shared helpers of the Arrow tests.
import * as assert from "node:assert/strict";

import { fromArray } from "../../src/tensor/create";
import { DType } from "../../src/tensor/dtype";
import { memoryStats } from "../../src/tensor/storage";
import { Tensor } from "../../src/tensor/tensor";

/**
 * Wraps a test body: the live tensor count must be back to its starting value at the end (every
 * test disposes what it makes). A GC first, so that no stray tensor of an earlier test is
 * collected in the middle and skews the count.
 */
export function leakFree(body: () => void | Promise<void>): () => Promise<void> {
  return async () => {
    (globalThis as { gc?: () => void }).gc?.();
    const before = memoryStats().liveTensors;
    await body();
    assert.equal(memoryStats().liveTensors, before, "live tensors after the test (something was not disposed)");
  };
}

/** Deterministic values that every dtype represents exactly. */
export function sampleValues(dtype: DType, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    switch (dtype) {
      case "f32":
        out.push((i - 3) * 0.375 + (i % 5 === 0 ? 2 ** -20 : 0));
        break;
      case "f16":
        out.push((i - 3) * 0.25);
        break;
      case "bf16":
        out.push((i - 3) * 0.5);
        break;
      case "i8":
        out.push(((i * 37) % 256) - 128);
        break;
      case "u8":
        out.push((i * 37) % 256);
        break;
      case "i32":
        out.push(((i * 2654435761) % 4294967296) - 2147483648);
        break;
      case "ternary2":
        out.push((i % 3) - 1);
        break;
    }
  }
  return out;
}

/** A tensor of the given dtype and shape holding sampleValues. */
export function sampleTensor(dtype: DType, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return fromArray(sampleValues(dtype, n), { dtype, shape });
}

/** Runs `fn` with the tensors, disposing them afterwards whatever happens. */
export function using<T>(tensors: Tensor[], fn: () => T): T {
  try {
    return fn();
  } finally {
    for (const t of tensors) t.dispose();
  }
}
