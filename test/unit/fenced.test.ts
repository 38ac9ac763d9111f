import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FencedError, type Fence } from "../../runner/fence.ts";
import { fenced } from "../../runner/fenced.ts";

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
});
