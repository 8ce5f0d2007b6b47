from selenium.webdriver.common.by import By


def test_demo_user_signs_in_and_sees_orders(shop):
    shop.sign_in()
    shop.wait_screen("orders")
    assert shop.el("#nav-orders").is_displayed()
    assert not shop.driver.find_element(By.CSS_SELECTOR, '[data-screen="signin"]').is_displayed()


def test_wrong_password_is_refused_with_a_message(shop):
    shop.sign_in(password="not-the-password")
    error = shop.el("#signin-error")
    assert error.text == "Email or password is incorrect."
    assert shop.driver.find_element(By.CSS_SELECTOR, '[data-screen="signin"]').is_displayed()


def test_sign_out_returns_to_sign_in(signed_in):
    signed_in.el("#nav-signout").click()
    signed_in.wait_screen("signin")
    assert signed_in.el("#signin-button").is_displayed()
