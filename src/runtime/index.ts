/**
 * `bitnet-lab/runtime`: what a host (the Jupyter kernel, a headless runner) needs without loading
 * the library: interrupts, the native runtime controls and report, crash-safe file writes.
 * @packageDocumentation
 */
export { InterruptedError, interruptRunning, onInterrupt } from "./interrupt";
export { backendInfo, setNumThreads, getNumThreads, setIsa, getIsa, resolveDevice, Device, Isa, BackendInfo } from "../backend/runtime";
export { writeFileAtomic } from "../io/atomic";
export { readFileBytes } from "../io/file-bytes";
