/**
 * File input and output: crash-safe (atomic) writes, Hugging Face safetensors files, GGUF files
 * (llama.cpp / bitnet.cpp) and the ggml tensor codecs (F16, BF16, Q8_0, TQ1_0, TQ2_0, I2_S).
 * @packageDocumentation
 */
export { writeFileAtomic, fsReason } from "./atomic";
export { FormatError } from "../errors";
export {
  SafetensorsFormatError,
  SafetensorsTensorInfo,
  SafetensorsHeader,
  SafetensorsContents,
  ReadSafetensorsOptions,
  SAFETENSORS_MAX_HEADER_BYTES,
  readSafetensors,
  readSafetensorsHeader,
  writeSafetensors,
  parseSafetensors,
  SafetensorsBytes,
} from "./safetensors";
export {
  GGUFFormatError,
  GGUFValueType,
  GGUFValue,
  GGUFArray,
  GGUFArrayElements,
  GGUFTensorInfo,
  GGUFFile,
  GGUFTensorInput,
  GGUFWriteSpec,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAX_ARRAY_DEPTH,
  GGUF_MAX_TENSOR_NAME_BYTES,
  parseGGUF,
  readGGUF,
  ggufTensor,
  ggufString,
  ggufNumber,
  ggufBool,
  ggufArray,
  encodeGGUF,
  writeGGUF,
} from "./gguf";
export {
  GGML_TYPE,
  GGMLTypeName,
  GGMLTypeInfo,
  I2S_TRAILER_BYTES,
  ggmlTypeInfo,
  ggmlTensorBytes,
  decodeF32,
  encodeF32,
  decodeF16,
  encodeF16,
  decodeBF16,
  encodeBF16,
  decodeQ8_0,
  encodeTQ2_0,
  decodeTQ2_0,
  decodeTQ2_0Ternary,
  decodeTQ1_0,
  decodeTQ1_0Ternary,
  BlockTernary,
  encodeI2S,
  decodeI2S,
  DecodedI2S,
  dequantizeGGML,
} from "./ggml-types";
