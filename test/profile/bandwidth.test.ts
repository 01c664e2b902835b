// measureReadBandwidth: the roofline probe the kernels notebook and benchmarks rest on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { measureReadBandwidth, memoryStats } from "../../src";

test("measureReadBandwidth: a positive, finite GB/s from the native read kernel, its buffer freed; bad options are named errors", () => {
  const live = memoryStats().liveTensors;
  const gbps = measureReadBandwidth({ megabytes: 16, repeats: 3 });
  assert.ok(Number.isFinite(gbps) && gbps > 0.1, `${gbps} GB/s`);
  assert.equal(memoryStats().liveTensors, live);
  assert.throws(() => measureReadBandwidth({ megabytes: 0 }), /^RangeError: measureReadBandwidth: megabytes must be an integer in \[1, 65536\], received 0$/);
  assert.throws(() => measureReadBandwidth({ repeats: 1.5 }), /measureReadBandwidth: repeats must be an integer >= 1, received 1.5/);
});
