"""The guarded connection for outgoing notifications: resolve the host, check every address with
the allow policy, then connect to the checked address itself.

The check and the connection use the same resolved address, so a name whose DNS answer changes
between a check and a connect (DNS rebinding) cannot slip through. TLS still verifies, and SNI
and the Host header still carry, the name from the URL: only the TCP connect is replaced."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from typing import Any

import httpcore
import httpx

from orchestrator.notifications.policy import UrlRefused, check_addresses

# (host, port) -> the IP addresses it resolves to, as strings.
Resolver = Callable[[str, int], list[str]]


class HostNotFound(Exception):
    """The host name of an outgoing URL does not resolve."""


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def resolve_checked(
    host: str, port: int, *, resolver: Resolver, allow_private: bool
) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The addresses of `host` that may be contacted; refused when any of them may not."""
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise HostNotFound(f"cannot resolve {host}: {exc}") from exc
    return check_addresses(host, addresses, allow_private=allow_private)


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's network backend with the allow policy between resolution and connect."""

    def __init__(self, *, resolver: Resolver, allow_private: bool) -> None:
        self._resolver = resolver
        self._allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = resolve_checked(
                host, port, resolver=self._resolver, allow_private=self._allow_private
            )
        except HostNotFound as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        error: Exception | None = None
        for ip in addresses:
            try:
                return super().connect_tcp(str(ip), port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                error = exc
        assert error is not None  # resolve_checked never returns an empty list
        raise error

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise UrlRefused("notifications are never sent over a Unix socket")


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport whose connection pool connects through `GuardedBackend`; no proxies."""

    def __init__(
        self, *, resolver: Resolver = system_resolver, allow_private: bool, verify: Any = True
    ) -> None:
        super().__init__(verify=verify, trust_env=False)
        # httpx builds its pool without a way to pass a network backend; swap in an identical pool
        # that has one (tests/notifications/test_network.py fails if this stops taking effect).
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=10,
            network_backend=GuardedBackend(resolver=resolver, allow_private=allow_private),
        )


def guarded_client(
    *, allow_private: bool, resolver: Resolver = system_resolver, timeout: float = 10.0
) -> httpx.Client:
    """The client every notification goes through. Redirects are not followed: a 3xx answer is
    a failed attempt whose error names the new location, so the URL gets fixed where it is saved."""
    return httpx.Client(
        transport=GuardedTransport(resolver=resolver, allow_private=allow_private),
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        headers={"User-Agent": "Instep-Notifications/1"},
    )
