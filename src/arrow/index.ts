/**
 * Arrow exchange: tensors as `arrow.fixed_shape_tensor` columns (zero-copy where the memory
 * allows), tables of them, and Arrow IPC files and streams.
 * @packageDocumentation
 */
export {
  TensorColumn,
  TensorColumnInfo,
  TensorSource,
  TensorToArrowOptions,
  tensorToArrow,
  tensorFromArrow,
  tensorColumnInfo,
  tensorsToTable,
  tableToTensors,
  stripExtensionTypes,
  EXTENSION_NAME_KEY,
  EXTENSION_METADATA_KEY,
  FIXED_SHAPE_TENSOR,
  DTYPE_METADATA_KEY,
  PLAIN_TENSOR_KEY,
} from "./tensor";
export { IPCFormat, IPCWriteOptions, WriteArrowFileOptions, tableToIPCBytes, tableFromIPCBytes, writeArrowFile, readArrowFile } from "./ipc";
export { ArrowFormatError } from "./verify";
