export { Tensor, NestedArray } from "./tensor";
export { DType, DataArray, AnyDataArray, DTYPES } from "./dtype";
export { empty, zeros, ones, full, fromArray, wrap, arange, rand, randn, concat, CreateOptions, RandomOptions, NestedNumbers } from "./create";
export { Generator, GeneratorState, defaultGenerator, manualSeed } from "./random";
export { memoryStats, resetPeakMemory, MemoryStats, setMemoryLimit, getMemoryLimit } from "./storage";
export { f16BitsToNumber, bf16BitsToNumber, numberToF16Bits, numberToBf16Bits } from "./half";
export { tidy, keep } from "./scope";
