/**
 * bitnet-lab: tensors, ternary kernels, training and inference for BitNet b1.58 networks.
 * This file is the public API: what a notebook cell sees.
 * @packageDocumentation
 */
export * from "./tensor";
export { backendInfo, setNumThreads, getNumThreads, setIsa, getIsa, resolveDevice, Device, Isa, BackendInfo } from "./backend/runtime";
export * from "./arrow";
export * from "./quant";
export { DenseWeights, DenseFormat, DENSE_FORMATS, denseMatmul, denseWeightBytes } from "./quant/dense";
export * from "./profile";
export * from "./autograd";
export * from "./ops";
export * from "./nn";
export * from "./data";
export * from "./train";
export * from "./io";
export * from "./viz";
export * from "./infer";
export { InterruptedError, interruptRunning, onInterrupt } from "./runtime/interrupt";
// The differentiable concat (ops) supersedes the tensor module's for f32 inputs.
export { concat } from "./ops";
