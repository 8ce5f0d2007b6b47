// Screen wiring for the sample app. State lives in sessionStorage so a reload keeps it.
(function () {
  "use strict";
  const L = window.ShopLogic;
  const store = window.sessionStorage;
  const state = {
    signedIn: store.getItem("signedIn") === "1",
    cart: JSON.parse(store.getItem("cart") || "{}"),
    settings: JSON.parse(store.getItem("settings") || '{"notifications":false,"locale":"en-US"}'),
  };

  function save() {
    store.setItem("signedIn", state.signedIn ? "1" : "0");
    store.setItem("cart", JSON.stringify(state.cart));
    store.setItem("settings", JSON.stringify(state.settings));
  }

  function show(screen) {
    document.querySelectorAll("[data-screen]").forEach((el) => {
      el.hidden = el.getAttribute("data-screen") !== screen;
    });
    document.getElementById("nav").hidden = screen === "signin";
  }

  function renderOrders() {
    const list = document.getElementById("orders");
    list.textContent = "";
    L.ORDERS.forEach((order) => {
      const product = L.PRODUCTS[order.productId];
      const li = document.createElement("li");
      li.className = "order";
      li.setAttribute("data-order-id", order.id);
      const link = document.createElement("a");
      link.href = "#/product/" + product.id;
      link.textContent = "#" + order.id + " · " + product.title;
      const meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = order.status + " · " + order.placed;
      li.append(link, meta);
      list.append(li);
    });
  }

  function renderProduct(productId) {
    const product = L.PRODUCTS[productId];
    document.getElementById("product-title").textContent = product.title;
    document.getElementById("product-price").textContent =
      L.formatPrice(product.priceCents, state.settings.locale);
    document.getElementById("cart-count").textContent = String(L.cartCount(state.cart));
    document.getElementById("add-to-cart").onclick = function () {
      state.cart = L.addToCart(state.cart, productId);
      save();
      document.getElementById("cart-count").textContent = String(L.cartCount(state.cart));
    };
  }

  function renderSettings() {
    document.getElementById("notifications-toggle").checked = state.settings.notifications;
    document.getElementById("locale-select").value = state.settings.locale;
    document.getElementById("settings-saved").hidden = true;
  }

  function route() {
    let r = L.parseRoute(window.location.hash);
    if (!state.signedIn && r.screen !== "signin") r = { screen: "signin" };
    if (r.screen === "signin" && window.location.hash === "#/signin" && state.signedIn) {
      state.signedIn = false;
      save();
    }
    if (r.screen === "orders") renderOrders();
    if (r.screen === "product") renderProduct(r.productId);
    if (r.screen === "settings") renderSettings();
    show(r.screen);
  }

  document.getElementById("signin-form").addEventListener("submit", function (event) {
    event.preventDefault();
    const result = L.validateSignIn(
      document.getElementById("email").value.trim(),
      document.getElementById("password").value,
    );
    const error = document.getElementById("signin-error");
    if (!result.ok) {
      error.textContent = result.error;
      error.hidden = false;
      return;
    }
    error.hidden = true;
    state.signedIn = true;
    save();
    window.location.hash = "#/orders";
  });

  document.getElementById("save-settings").addEventListener("click", function () {
    state.settings = {
      notifications: document.getElementById("notifications-toggle").checked,
      locale: document.getElementById("locale-select").value,
    };
    save();
    document.getElementById("settings-saved").hidden = false;
  });

  fetch("version.json")
    .then((r) => (r.ok ? r.json() : null))
    .then((v) => {
      if (v) document.getElementById("version").textContent = "v" + v.version + " (" + v.build + ")";
    })
    .catch(() => {});

  window.addEventListener("hashchange", route);
  route();
})();
