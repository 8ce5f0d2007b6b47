from selenium.webdriver.common.by import By


def test_orders_list_shows_every_order(signed_in):
    orders = signed_in.driver.find_elements(By.CSS_SELECTOR, "#orders .order")
    assert [o.get_attribute("data-order-id") for o in orders] == ["1042", "1043", "1044"]
    assert "Trail Runner 2" in orders[0].text


def test_open_product_and_add_to_cart(signed_in):
    signed_in.el('.order[data-order-id="1043"] a').click()
    signed_in.wait_screen("product")
    assert signed_in.el("#product-title").text == "Rain Shell Jacket"
    assert signed_in.el("#product-price").text == "$189.50"
    assert signed_in.el("#cart-count").text == "0"
    signed_in.el("#add-to-cart").click()
    signed_in.el("#add-to-cart").click()
    assert signed_in.el("#cart-count").text == "2"
