// Profiling: every native kernel call recorded with its variant, threads, time, ops and bytes
// (profiler.ts), and the rooflines they are compared against (roofline.ts).
export { KernelRecord, KernelTotal, ProfileReport, Profiler, profile } from "./profiler";
export { measureInt8DotPeak, measureReadBandwidth } from "./roofline";
