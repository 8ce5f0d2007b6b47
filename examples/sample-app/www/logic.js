// Pure shop logic shared by the screens and the unit tests (no DOM here).
(function (root) {
  "use strict";

  const DEMO_USER = { email: "qa@example.com", password: "instep-demo" };

  const PRODUCTS = {
    "p-100": { id: "p-100", title: "Trail Runner 2", priceCents: 12900 },
    "p-200": { id: "p-200", title: "Rain Shell Jacket", priceCents: 18950 },
    "p-300": { id: "p-300", title: "Merino Socks (3 pack)", priceCents: 2400 },
  };

  const ORDERS = [
    { id: "1042", productId: "p-100", status: "shipped", placed: "2026-10-30" },
    { id: "1043", productId: "p-200", status: "processing", placed: "2026-11-12" },
    { id: "1044", productId: "p-300", status: "delivered", placed: "2026-11-18" },
  ];

  const LOCALES = { "en-US": "USD", "de-DE": "EUR", "ja-JP": "JPY" };

  function validateSignIn(email, password) {
    if (!email || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
      return { ok: false, error: "Enter a valid email address." };
    }
    if (!password) {
      return { ok: false, error: "Enter your password." };
    }
    if (email.toLowerCase() !== DEMO_USER.email || password !== DEMO_USER.password) {
      return { ok: false, error: "Email or password is incorrect." };
    }
    return { ok: true, error: null };
  }

  function formatPrice(cents, locale) {
    const currency = LOCALES[locale] || "USD";
    const amount = currency === "JPY" ? Math.round(cents) : cents / 100;
    return new Intl.NumberFormat(locale in LOCALES ? locale : "en-US", {
      style: "currency",
      currency: currency,
    }).format(amount);
  }

  function parseRoute(hash) {
    const path = (hash || "").replace(/^#\/?/, "");
    const parts = path.split("/").filter(Boolean);
    if (parts[0] === "orders") return { screen: "orders" };
    if (parts[0] === "settings") return { screen: "settings" };
    if (parts[0] === "product" && parts[1] && PRODUCTS[parts[1]]) {
      return { screen: "product", productId: parts[1] };
    }
    return { screen: "signin" };
  }

  function addToCart(cart, productId) {
    if (!PRODUCTS[productId]) throw new Error("unknown product " + productId);
    const next = Object.assign({}, cart);
    next[productId] = (next[productId] || 0) + 1;
    return next;
  }

  function cartCount(cart) {
    return Object.values(cart).reduce((sum, n) => sum + n, 0);
  }

  const api = {
    DEMO_USER, PRODUCTS, ORDERS, LOCALES,
    validateSignIn, formatPrice, parseRoute, addToCart, cartCount,
  };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.ShopLogic = api;
})(typeof window !== "undefined" ? window : globalThis);
