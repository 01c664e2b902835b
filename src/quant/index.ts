// BitNet b1.58 quantization: int8 activations, absmean ternary weights, the packed layouts and
// their products (ternary.ts); dense weight matrices in decode formats (dense.ts).
export * from "./ternary";
export { DenseWeights, DenseFormat, DENSE_FORMATS, denseMatmul, denseWeightBytes } from "./dense";
