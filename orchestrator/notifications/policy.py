"""The outgoing-URL allow policy, pure: which URLs and addresses Instep may send notifications to.

Private, loopback, link-local, unspecified, multicast, reserved and otherwise not globally
routable addresses are refused unless private webhooks are allowed (INSTEP_ALLOW_PRIVATE_WEBHOOKS),
so a project's endpoint cannot make the server reach into its own network. IPv4 addresses carried
inside IPv6 ones (IPv4-mapped, 6to4, NAT64) are judged by the IPv4 address they carry."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
ALLOW_FLAG = "INSTEP_ALLOW_PRIVATE_WEBHOOKS"


class UrlRefused(Exception):
    """An outgoing URL or the address it resolved to is not allowed; the message says why."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # a name or an IP literal, without brackets
    port: int


def refusal(ip: IPAddress) -> str | None:
    """Why `ip` may not be contacted without the private-webhooks flag, or None when it may."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            inner = refusal(embedded)
            return f"{inner} (carried in {ip})" if inner else None
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return "a site-local address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved:
        return "a reserved address"
    if not ip.is_global:
        return "not a globally routable address"
    return None


def check_address(ip: IPAddress, *, host: str, allow_private: bool) -> None:
    reason = None if allow_private else refusal(ip)
    if reason is not None:
        named = host if host == str(ip) else f"{host} ({ip})"
        raise UrlRefused(
            f"{named} is {reason}; Instep does not send notifications into private networks "
            f"unless {ALLOW_FLAG}=1 is set on the server"
        )


def check_addresses(host: str, addresses: Iterable[str], *, allow_private: bool) -> list[IPAddress]:
    """The resolved addresses of `host`, every one of them checked: one refused address refuses
    the host (a name that resolves partly inside the network is treated as inside)."""
    checked = [ipaddress.ip_address(a.split("%", 1)[0]) for a in addresses]
    if not checked:
        raise UrlRefused(f"{host} resolved to no address")
    for ip in checked:
        check_address(ip, host=host, allow_private=allow_private)
    return checked


def check_url(url: str, *, allow_private: bool) -> Target:
    """Parse an endpoint URL and check what can be checked without DNS: the scheme, the host, an
    IP literal, and names that are loopback by definition (`localhost`)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UrlRefused(f"{url!r} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise UrlRefused(f"{url!r}: only http and https URLs can receive notifications")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UrlRefused(f"{url!r} has no host name")
    target = Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80))
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        check_address(literal, host=host, allow_private=allow_private)
    elif not allow_private and (host == "localhost" or host.endswith(".localhost")):
        raise UrlRefused(
            f"{host} is a loopback name; Instep does not send notifications into private networks "
            f"unless {ALLOW_FLAG}=1 is set on the server"
        )
    return target


def display_url(url: str, *, keep_path: bool) -> str:
    """A URL safe to show in lists: no user info, no query; Slack-style URLs keep only the origin,
    since their path is the credential."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    origin = f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")
    return origin + (parts.path if keep_path else "/…")
