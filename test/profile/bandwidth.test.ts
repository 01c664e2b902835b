// measureReadBandwidth and measureInt8DotPeak: the roofline probes the kernels notebook and benchmarks rest on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { backendInfo, getIsa, getNumThreads, measureInt8DotPeak, measureReadBandwidth, memoryStats, setIsa, setNumThreads } from "../../src";

test("measureReadBandwidth: a positive, finite GB/s from the native read kernel, its buffer freed; bad options are named errors", () => {
  const live = memoryStats().liveTensors;
  const gbps = measureReadBandwidth({ megabytes: 16, repeats: 3 });
  assert.ok(Number.isFinite(gbps) && gbps > 0.1, `${gbps} GB/s`);
  assert.equal(memoryStats().liveTensors, live);
  assert.throws(() => measureReadBandwidth({ megabytes: 0 }), /^RangeError: measureReadBandwidth: megabytes must be an integer in \[1, 65536\], received 0$/);
  assert.throws(() => measureReadBandwidth({ repeats: 1.5 }), /measureReadBandwidth: repeats must be an integer >= 1, received 1.5/);
});

test("measureInt8DotPeak: every ISA's int8 chain, faster with wider instructions; scales with threads; bad options are named errors", () => {
  const before = getNumThreads();
  const isaBefore = getIsa();
  const peaks = new Map<string, number>();
  try {
    setNumThreads(1);
    for (const isa of backendInfo().isa.supported) {
      setIsa(isa as "scalar");
      const gops = measureInt8DotPeak({ milliseconds: 20, repeats: 3 });
      assert.ok(Number.isFinite(gops) && gops > 0.1, `${isa}: ${gops} GOPS`);
      peaks.set(isa, gops);
    }
    // The vector chains beat plain integer loops by far (8 lanes of int32 per AVX2 madd, 16 per
    // sdot) whatever the machine's clock.
    for (const [isa, gops] of peaks) if (isa !== "scalar") assert.ok(gops > 3 * peaks.get("scalar")!, `${isa} ${gops} vs scalar ${peaks.get("scalar")}`);
  } finally {
    setIsa(isaBefore as "scalar");
    setNumThreads(before);
  }
  assert.throws(() => measureInt8DotPeak({ milliseconds: 0 }), /^RangeError: measureInt8DotPeak: milliseconds must be a number in \(0, 60000\], received 0$/);
  assert.throws(() => measureInt8DotPeak({ milliseconds: NaN }), /measureInt8DotPeak: milliseconds must be a number in \(0, 60000\], received NaN/);
  assert.throws(() => measureInt8DotPeak({ repeats: 0 }), /measureInt8DotPeak: repeats must be an integer >= 1, received 0/);
});
