// Public runtime controls: threads, ISA ceiling, devices and the backend report.
import { addon, addonLocation, AddonLocation, NativeBackendInfo } from "./addon";
import { renameFunction } from "../validate";

/** Devices a tensor or model can live on. "auto" picks the best built backend (today: CPU). */
export type Device = "cpu" | "metal" | "auto";
/**
 * Instruction-set ceilings for kernel dispatch, one chain per architecture (each level implies
 * the ones before it): x86-64 `scalar` < `avx2` (AVX2, FMA, F16C) < `avxvnni` (+ VEX vpdpbusd) <
 * `avx512` (F/BW/VL/DQ/VNNI/BF16); arm64 `scalar` < `neon` < `neon-dotprod` (sdot) < `neon-i8mm`
 * (smmla). A family without a variant at the ceiling runs its best one below it.
 */
export type Isa = "auto" | "scalar" | "avx2" | "avxvnni" | "avx512" | "neon" | "neon-dotprod" | "neon-i8mm";

/**
 * Description of the native backend: CPU and ISA, the variant each kernel family runs, threads,
 * compiler and flags, and the addon file loaded (`source`: built in this package; `prebuilt`: the
 * platform package; `forced`: BITNET_ADDON_PATH).
 */
export type BackendInfo = NativeBackendInfo & { addon: AddonLocation };

/** CPU model, ISA detected and chosen per kernel family, threads, compiler and flags. */
export function backendInfo(): BackendInfo {
  const info = addon().backendInfo();
  return { ...info, addon: addonLocation() as AddonLocation };
}

/**
 * Sets the number of threads native kernels use (default: BITNET_NUM_THREADS, else all cores).
 * Results are identical for a given thread count; work is split statically.
 */
export function setNumThreads(threads: number): void {
  addon().setNumThreads(threads);
}

/** The number of threads native kernels use. */
export function getNumThreads(): number {
  return addon().getNumThreads();
}

/**
 * Caps the instruction set kernels may use ("auto" = the best the CPU has). Same effect as the
 * BITNET_ISA environment variable; tests use it to compare every variant. Returns the ISA set.
 */
export function setIsa(isa: Isa): string {
  return addon().setIsa(isa);
}

/** The current ISA ceiling. */
export function getIsa(): string {
  return addon().getIsa();
}

/**
 * Resolves a device name to the backend that will serve it ("auto" -> "cpu" today). Asking for
 * "metal" where it is not built throws an Error saying so.
 */
export function resolveDevice(device: Device): "cpu" | "metal" {
  try {
    return addon().selectDevice(device) as "cpu" | "metal";
  } catch (e) {
    // Name the function the user called, not the binding behind it.
    throw renameFunction(e, "resolveDevice");
  }
}
