// dtype conversion. f32 <-> f16/bf16 runs on the native convert kernels; integer casts are
// checked here because a silent wrap (what typed arrays do) hides bugs.
import * as native from "../backend/kernels";
import { AnyDataArray, DType, dtypeInfo, isFloat } from "./dtype";
import { Tensor, fillOutput, usingTemp } from "./tensor";

/** The public name allocation errors report. */
const FN = "Tensor.to";

export function convertTensor<T extends DType>(src: Tensor, dtype: T): Tensor<T> {
  if ((src.dtype as DType) === dtype) return src.contiguous() as unknown as Tensor<T>;
  return usingTemp(src.contiguous(), (c) => convertContiguous(c, dtype));
}

function convertContiguous<T extends DType>(src: Tensor, dtype: T): Tensor<T> {
  const from = src.dtype;
  const half = (d: DType): boolean => d === "f16" || d === "bf16";
  if ((from === "f32" && half(dtype)) || (half(from) && dtype === "f32")) {
    return fillOutput(Tensor.empty(src.shape, dtype, false, FN), (out) =>
      native.convert(src.data() as Float32Array | Uint16Array, from as native.FloatFormat, out.data() as Float32Array | Uint16Array, dtype as native.FloatFormat),
    );
  }
  // Every other route goes through a wider type first.
  if (half(from) || (from === "ternary2" && dtype !== "i8")) {
    return usingTemp(convertContiguous(src, from === "ternary2" ? "i8" : "f32"), (mid) => convertContiguous(mid, dtype));
  }
  if (half(dtype)) return usingTemp(convertContiguous(src, "f32"), (mid) => convertContiguous(mid, dtype));
  if (dtype === "ternary2") return packTernary2(src);
  if (from === "ternary2") return unpackTernary2(src) as Tensor<T>;
  return fillOutput(Tensor.empty(src.shape, dtype, false, FN), (out) => {
    const input = src.data() as AnyDataArray;
    const output = out.data() as AnyDataArray;
    if (dtype === "f32") {
      output.set(input);
      return;
    }
    const { min, max } = dtypeInfo(dtype);
    const truncate = isFloat(from);
    for (let i = 0; i < input.length; i++) {
      const v = truncate ? Math.trunc(input[i]) : input[i];
      if (!(v >= min && v <= max)) throw new RangeError(`Tensor.to('${dtype}'): element ${i} is ${input[i]}, outside [${min}, ${max}]`);
      output[i] = v;
    }
  });
}

/** Packs values in {-1, 0, +1} into ternary2 (code = w + 1, four a byte, low bits first). */
function packTernary2<T extends DType>(src: Tensor): Tensor<T> {
  const out = fillOutput(Tensor.empty(src.shape, "ternary2", true, FN), (t) => {
    const input = src.data() as AnyDataArray;
    const bytes = t.data();
    for (let i = 0; i < input.length; i++) {
      const v = input[i];
      if (v !== -1 && v !== 0 && v !== 1) throw new RangeError(`Tensor.to('ternary2'): element ${i} is ${v}, expected -1, 0 or 1`);
      bytes[i >> 2] |= (v + 1) << ((i & 3) * 2);
    }
  });
  return out as unknown as Tensor<T>;
}

function unpackTernary2(src: Tensor): Tensor<"i8"> {
  return fillOutput(Tensor.empty(src.shape, "i8", false, FN), (out) => {
    const bytes = src.data() as Uint8Array;
    const values = out.data();
    for (let i = 0; i < values.length; i++) {
      const code = (bytes[i >> 2] >> ((i & 3) * 2)) & 3;
      if (code === 3) throw new RangeError(`Tensor.to('i8'): ternary2 element ${i} has the invalid code 3`);
      values[i] = code - 1;
    }
  });
}
