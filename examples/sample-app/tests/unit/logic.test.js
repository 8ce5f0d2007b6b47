const test = require("node:test");
const assert = require("node:assert/strict");
const L = require("../../www/logic.js");

test("demo credentials sign in", () => {
  assert.deepEqual(L.validateSignIn("qa@example.com", "instep-demo"), { ok: true, error: null });
});

test("a malformed email is refused before the password is checked", () => {
  assert.equal(L.validateSignIn("qa@", "instep-demo").error, "Enter a valid email address.");
});

test("a wrong password says so without revealing which field was wrong", () => {
  assert.equal(L.validateSignIn("qa@example.com", "nope").error, "Email or password is incorrect.");
});

test("routes map to screens and unknown products fall back to sign-in", () => {
  assert.deepEqual(L.parseRoute("#/orders"), { screen: "orders" });
  assert.deepEqual(L.parseRoute("#/product/p-200"), { screen: "product", productId: "p-200" });
  assert.deepEqual(L.parseRoute("#/product/p-999"), { screen: "signin" });
});

test("prices follow the chosen locale", () => {
  assert.equal(L.formatPrice(12900, "en-US"), "$129.00");
  assert.match(L.formatPrice(12900, "de-DE"), /129,00\s€/);
});

test("adding to the cart never mutates the previous cart", () => {
  const before = {};
  const after = L.addToCart(L.addToCart(before, "p-100"), "p-100");
  assert.deepEqual(before, {});
  assert.equal(L.cartCount(after), 2);
  assert.throws(() => L.addToCart(after, "p-999"), /unknown product/);
});
