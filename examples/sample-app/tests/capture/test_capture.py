"""Named screens for screenshot review: saved as <device-profile>/<locale>/<name>.png."""


def test_capture_screens(shop, instep_capture):
    assert instep_capture("signin").stat().st_size > 0
    shop.sign_in()
    shop.wait_screen("orders")
    instep_capture("orders")
    shop.el('.order[data-order-id="1042"] a').click()
    shop.wait_screen("product")
    instep_capture("product")
    shop.el("#nav-settings").click()
    shop.wait_screen("settings")
    instep_capture("settings")
