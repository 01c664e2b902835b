/**
 * File input and output: crash-safe (atomic) writes and Hugging Face safetensors files.
 * @packageDocumentation
 */
export { writeFileAtomic, fsReason } from "./atomic";
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
} from "./safetensors";
