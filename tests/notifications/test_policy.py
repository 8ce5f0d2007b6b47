"""The outgoing-URL allow policy as a table: which addresses and URLs are refused, and why."""

from __future__ import annotations

import ipaddress

import pytest

from orchestrator.notifications.policy import UrlRefused, check_addresses, check_url, display_url, refusal


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        # IPv4
        ("8.8.8.8", None),
        ("140.82.112.3", None),
        ("127.0.0.1", "a loopback address"),
        ("127.255.0.9", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("192.168.1.1", "a private address"),
        ("169.254.169.254", "a link-local address"),  # cloud metadata
        ("0.0.0.0", "an unspecified address"),
        ("224.0.0.1", "a multicast address"),
        ("240.0.0.1", "a private address"),  # reserved, also in the private table
        ("255.255.255.255", "a private address"),
        ("100.64.0.1", "not a globally routable address"),  # carrier-grade NAT
        ("192.0.2.1", "a private address"),  # documentation
        # IPv6
        ("2606:4700:4700::1111", None),
        ("::1", "a loopback address"),
        ("::", "an unspecified address"),
        ("fe80::1", "a link-local address"),
        ("fc00::1", "a private address"),
        ("fd12:3456::1", "a private address"),
        ("fec0::1", "a site-local address"),
        ("ff02::1", "a multicast address"),
        ("2001:db8::1", "a private address"),
        ("::127.0.0.1", "a reserved address"),  # deprecated IPv4-compatible form
        # IPv4 carried in IPv6: judged by the IPv4 address
        ("::ffff:127.0.0.1", "a loopback address (carried in ::ffff:7f00:1)"),
        ("::ffff:10.0.0.1", "a private address (carried in ::ffff:a00:1)"),
        ("::ffff:8.8.8.8", None),
        ("2002:7f00:1::", "a loopback address (carried in 2002:7f00:1::)"),  # 6to4
        ("2002:808:808::", None),
        ("64:ff9b::a9fe:a9fe", "a link-local address (carried in 64:ff9b::a9fe:a9fe)"),  # NAT64
        ("64:ff9b::808:808", None),
    ],
)
def test_address_table(address: str, reason: str | None) -> None:
    assert refusal(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://[::1]:8080/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "http://localhost:9000/",
        "http://api.localhost/",
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0/",
        "http://10.0.0.5/",
    ],
)
def test_urls_into_private_networks_are_refused_without_the_flag_and_allowed_with_it(url: str) -> None:
    with pytest.raises(UrlRefused, match="INSTEP_ALLOW_PRIVATE_WEBHOOKS=1"):
        check_url(url, allow_private=False)
    assert check_url(url, allow_private=True).host


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/x", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("https:///path", "has no host name"),
        ("http://example.com:99999/", "not a valid URL"),
    ],
)
def test_malformed_urls_are_refused_even_with_the_flag(url: str, message: str) -> None:
    with pytest.raises(UrlRefused, match=message):
        check_url(url, allow_private=True)


def test_a_public_url_passes_with_its_default_port() -> None:
    target = check_url("https://hooks.slack.com/services/T/B/x", allow_private=False)
    assert (target.scheme, target.host, target.port) == ("https", "hooks.slack.com", 443)
    assert check_url("http://example.com/x", allow_private=False).port == 80


def test_one_private_answer_refuses_the_whole_name() -> None:
    with pytest.raises(UrlRefused, match=r"hooks.example.com \(10.0.0.7\) is a private address"):
        check_addresses("hooks.example.com", ["93.184.215.14", "10.0.0.7"], allow_private=False)
    assert [str(a) for a in check_addresses("h", ["93.184.215.14"], allow_private=False)] == ["93.184.215.14"]
    with pytest.raises(UrlRefused, match="resolved to no address"):
        check_addresses("h", [], allow_private=True)


def test_display_urls_hide_credentials() -> None:
    assert (
        display_url("https://hooks.slack.com/services/T0/B0/secret", keep_path=False)
        == "https://hooks.slack.com/…"
    )
    assert display_url("https://user:pw@ci.example.com:8443/hook?token=x", keep_path=True) == (
        "https://ci.example.com:8443/hook"
    )
    assert display_url("http://[::1]:8080/x", keep_path=True) == "http://[::1]:8080/x"
