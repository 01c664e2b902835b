// The differentiable ops: each records its backward on the autograd tape when an input requires
// grad (src/autograd), and is a plain tensor function otherwise.
import { Tensor } from "../tensor/tensor";
import { DType } from "../tensor/dtype";
import { concat as concatAny } from "../tensor/create";
import { concat as concatF32 } from "./nn";
import { isGradEnabled } from "../autograd/tape";

export { add, sub, mul, div, neg, scale, exp, log, sqrt, square, relu, relu2, sigmoid, silu, tanh, dropout, DropoutOptions, sumToShape } from "./elementwise";
export { sum, mean, max, ReduceOptions } from "./reduce";
export { matmul, linear } from "./matmul";
export { embedding, rmsNorm, softmax, logSoftmax, crossEntropy, CrossEntropyOptions } from "./nn";
export { ropeTables, rope, causalAttention, RopeTables } from "./attention";
export { bitLinear, BitLinearOptions } from "./bitlinear";

/**
 * Joins tensors along `dim` (all other dimensions equal), any dtype. When an f32 input requires
 * grad (and recording is on) the result is on the tape and gradients flow back to each input.
 */
export function concat<D extends DType>(tensors: readonly Tensor<D>[], dim = 0): Tensor<D> {
  if (
    isGradEnabled() &&
    Array.isArray(tensors) &&
    tensors.length > 0 &&
    tensors.every((t) => t instanceof Tensor && t.dtype === "f32") &&
    tensors.some((t) => t.requiresGrad)
  ) {
    return concatF32(tensors as unknown as Tensor<"f32">[], dim) as unknown as Tensor<D>;
  }
  return concatAny(tensors, dim);
}
