// GGUF files (llama.cpp / bitnet.cpp): the format's types (gguf-format.ts), the reader
// (gguf-read.ts) and the writer (gguf-write.ts).
export {
  GGUFValueType,
  GGUFArrayElements,
  GGUFArray,
  GGUFValue,
  GGUFTensorInfo,
  GGUFFile,
  GGUFTensorInput,
  GGUFWriteSpec,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAX_ARRAY_DEPTH,
  GGUF_MAX_TENSOR_NAME_BYTES,
} from "./gguf-format";
export { parseGGUF, readGGUF, ggufTensor, ggufString, ggufNumber, ggufBool, ggufArray } from "./gguf-read";
export { encodeGGUF, writeGGUF } from "./gguf-write";
export { GGUFFormatError } from "./ggml-types";
