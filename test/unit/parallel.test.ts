import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mapLimit } from "../../runner/parallel.ts";

describe("bounded parallel work over volumes", () => {
  it("answers in the items' order with never more than the limit running", async () => {
    let running = 0;
    let most = 0;
    const results = await mapLimit([30, 10, 20, 5, 15], 2, async (ms) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, ms));
      running--;
      return ms * 2;
    });
    assert.deepEqual(results, [60, 20, 40, 10, 30]);
    assert.equal(most, 2);
  });

  it("stops with the first failure", async () => {
    await assert.rejects(mapLimit([1, 2, 3], 3, (item) => (item === 2 ? Promise.reject(new Error("PVC data-db-1 is stuck")) : Promise.resolve(item))), /data-db-1 is stuck/);
  });
});
