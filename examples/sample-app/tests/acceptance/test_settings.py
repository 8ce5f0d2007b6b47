from selenium.webdriver.support.ui import Select


def test_change_locale_and_notifications(signed_in):
    signed_in.el("#nav-settings").click()
    signed_in.wait_screen("settings")
    toggle = signed_in.el("#notifications-toggle")
    assert not toggle.is_selected()
    toggle.click()
    Select(signed_in.el("#locale-select")).select_by_value("de-DE")
    signed_in.el("#save-settings").click()
    assert signed_in.el("#settings-saved").text == "Settings saved"

    # The saved locale is what the product screen formats prices with.
    signed_in.el("#nav-orders").click()
    signed_in.el('.order[data-order-id="1042"] a').click()
    signed_in.wait_screen("product")
    assert signed_in.el("#product-price").text.replace("\u00a0", " ") == "129,00 €"
