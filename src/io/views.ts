// Tensors over bytes of a loaded file: a zero-copy view when the bytes sit at an offset aligned
// to the element size (what our writers and GGUF's alignment guarantee), a copy otherwise (a
// typed array cannot start at an unaligned offset).
import { DType, storageBytes } from "../tensor/dtype";
import { formatShape } from "../tensor/shape";
import { Tensor } from "../tensor/tensor";

const ARRAY = { f32: Float32Array, f16: Uint16Array, bf16: Uint16Array, i8: Int8Array, i32: Int32Array, u8: Uint8Array, ternary2: Uint8Array } as const;

/** A tensor of `dtype` and `shape` over `bytes` (exactly its size), sharing them when aligned. */
export function tensorOverBytes<D extends DType>(bytes: Uint8Array, dtype: D, shape: readonly number[]): Tensor<D> {
  let numel = 1;
  for (const d of shape) numel *= d;
  const need = storageBytes(dtype, numel);
  if (bytes.length !== need) throw new RangeError(`tensorOverBytes: ${dtype} ${formatShape(shape)} needs ${need} bytes, received ${bytes.length}`);
  const Ctor = ARRAY[dtype];
  const size = Ctor.BYTES_PER_ELEMENT;
  if (bytes.byteOffset % size === 0) {
    return Tensor.wrap(new Ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.length / size), shape, dtype);
  }
  const t = Tensor.empty(shape, dtype, false, "tensorOverBytes");
  const d = t.data() as ArrayBufferView;
  new Uint8Array(d.buffer, d.byteOffset, d.byteLength).set(bytes);
  return t;
}
