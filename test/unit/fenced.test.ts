import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FencedError, type Fence } from "../../runner/fence.ts";
import { fenced } from "../../runner/fenced.ts";
import { currentStep, withinPart, withinStep } from "../../runner/saga/step-scope.ts";

class Store {
  readonly #rows: string[] = [];
  read(): readonly string[] {
    return this.#rows;
  }
  async create(row: string): Promise<void> {
    await Promise.resolve();
    this.#rows.push(row);
  }
}

function switchable(): Fence & { open: boolean } {
  const fence = {
    open: true,
    check() {
      if (!fence.open) throw new FencedError("closed");
    },
    close() {
      fence.open = false;
    },
  };
  return fence;
}

describe("a fenced client", () => {
  it("lets writes through while the fence is open, and refuses them once it is closed, leaving the target untouched", async () => {
    const fence = switchable();
    const store = new Store();
    const client = fenced(store, fence);
    await client.create("before");
    fence.close("the Lease was lost");
    await assert.rejects(client.create("after"), FencedError);
    assert.deepEqual(store.read(), ["before"]);
  });

  it("lets reads through a closed fence, on classes with private fields", () => {
    const fence = switchable();
    fence.close("the Lease was lost");
    assert.deepEqual(fenced(new Store(), fence).read(), []);
  });

  it("asks the fence after the write seam: a worker that froze at the seam past its Lease writes nothing", async () => {
    const fence = switchable();
    const store = new Store();
    const seen: string[] = [];
    // The seam stands for a pause: while it lasts, the Lease is lost.
    const client = fenced(store, fence, (call) => {
      seen.push(call);
      fence.close("the Lease ran out during the pause");
      return Promise.resolve();
    });
    await assert.rejects(client.create("late"), FencedError);
    assert.deepEqual(seen, ["create"]);
    assert.deepEqual(store.read(), []);
  });

  it("labels each write with the saga step it belongs to, through every await of the step", async () => {
    const labels: string[] = [];
    const client = fenced(new Store(), switchable(), (call) => {
      const where = currentStep();
      labels.push(`${where?.step ?? "-"}/${where?.phase ?? "-"}/${where?.part ?? "-"}:${call}`);
      return Promise.resolve();
    });
    await withinStep({ step: "rebind", phase: "forward", part: "work" }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      await client.create("pv");
      await withinPart("checkpoint", () => client.create("checkpoint"));
    });
    await client.create("outside");
    assert.deepEqual(labels, ["rebind/forward/work:create", "rebind/forward/checkpoint:create", "-/-/-:create"]);
  });
});
