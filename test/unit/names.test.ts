/**
 * validateName(): client names are DNS labels that cannot be mistaken for IDs.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { validateName } from "../../lib/names.ts";

describe("validateName()", () => {
  test("validateName() accepts DNS labels and returns them lower-cased", () => {
    assert.equal(validateName("shop"), "shop");
    assert.equal(validateName("ERP-2"), "erp-2");
    assert.equal(validateName("a"), "a");
    assert.equal(validateName("1a"), "1a");
    assert.equal(validateName("a".repeat(63)), "a".repeat(63));
    assert.equal(validateName("x-1-y"), "x-1-y");
  });

  test("validateName() refuses all-digit names, which would collide with IDs", () => {
    for (const name of ["1001", "0", "007"]) assert.throws(() => validateName(name), /not all digits/, name);
  });

  test("validateName() refuses names that are not DNS labels, quoting them", () => {
    for (const name of ["", "-shop", "shop-", "sh_op", "sh.op", "sh op", "shöp", "a".repeat(64), " shop", "shop\n", "*"]) {
      assert.throws(() => validateName(name), (error: Error) => {
        assert.match(error.message, /is not a valid DNS label/);
        assert.ok(error.message.includes(`"${name}"`), error.message);
        return true;
      }, JSON.stringify(name));
    }
  });

  test("validateName() refuses names with \"--\" in 3rd and 4th place, kept by DNS for international names that browsers show as look-alikes", () => {
    for (const name of ["xn--pple-43d", "XN--80ak6aa92e", "ab--c"]) {
      assert.throws(() => validateName(name), /has "--" as its 3rd and 4th characters.*choose another name/, name);
    }
    assert.equal(validateName("a--b"), "a--b");
    assert.equal(validateName("abc--d"), "abc--d");
  });

  test("validateName() cuts a very long name in its message", () => {
    assert.throws(() => validateName("x".repeat(5000)), (error: Error) => error.message.length < 300);
  });

  test("validateName() refuses a value that is not a string", () => {
    for (const value of [undefined, null, 42, ["shop"], { name: "shop" }]) {
      assert.throws(() => validateName(value), /must be a string/);
    }
  });
});
