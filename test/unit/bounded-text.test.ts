import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { clipText, listWithin, quoted } from "../../core/bounded-text.ts";
import { MAX_MESSAGE_LENGTH, MAX_WARNING_LENGTH, MAX_WARNINGS, denied, withinBounds } from "../../webhook/admission/response.ts";

describe("bounding the text of answers", () => {
  it("lists ten items and counts the rest", () => {
    const items = Array.from({ length: 25 }, (_, index) => `PVC data-db-${index}`);
    assert.equal(listWithin(items), `${items.slice(0, 10).join(", ")} … and 15 more`);
    assert.equal(listWithin(items.slice(0, 3)), "PVC data-db-0, PVC data-db-1, PVC data-db-2");
  });

  it("quotes the start of a long value and says how long it was", () => {
    assert.equal(quoted("cn-shanghai-b"), '"cn-shanghai-b"');
    assert.equal(quoted("x".repeat(2_900_000)), `"${"x".repeat(80)}"… (2900000 characters)`);
  });

  it("cuts a text and says how many characters were left out", () => {
    assert.equal(clipText("abcdef", 4), "abcd… and 2 more characters");
    assert.equal(clipText("abc", 4), "abc");
  });

  it("keeps every answer's message and warnings within bounds, saying what was left out", () => {
    const verdict = withinBounds(denied("m".repeat(1_300_000), Array.from({ length: 3_447 }, (_, index) => `${index}:${"w".repeat(5_000)}`)));
    assert.ok(verdict.status!.message.length < MAX_MESSAGE_LENGTH + 40);
    assert.match(verdict.status!.message, /… and 1295904 more characters$/);
    assert.equal(verdict.warnings!.length, MAX_WARNINGS);
    assert.ok(verdict.warnings!.every((warning) => warning.length < MAX_WARNING_LENGTH + 40));
    assert.equal(verdict.warnings!.at(-1), "… and 3438 more warnings");
  });

  it("leaves an answer within bounds as it was", () => {
    const verdict = denied("zoneferry: no", ["one", "two"]);
    assert.deepEqual(withinBounds(verdict), verdict);
  });
});
