// Bad-input cases of native/src/binding/gemm.cc.
import { Binding, gemmEntry } from "./harness";

export const TABLE: Record<string, Binding> = {
  sgemm: gemmEntry("sgemm"),
  sgemmBf16: gemmEntry("sgemmBf16"),
};
