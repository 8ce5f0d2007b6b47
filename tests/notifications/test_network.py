"""The guarded connection: the address that is checked is the address that is connected to, with
the URL's host name kept in the Host header; redirects are not followed."""

from __future__ import annotations

import httpx
import pytest

from orchestrator.notifications.network import guarded_client
from orchestrator.notifications.policy import UrlRefused
from tests.notifications.receiver import Receiver


class FakeDns:
    """An injected resolver: each lookup of a name takes the next answer (the last one repeats)."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        queue = self.answers[host]
        return queue.pop(0) if len(queue) > 1 else queue[0]


def test_a_name_resolving_to_loopback_is_refused_at_connect_without_the_flag(receiver: Receiver) -> None:
    dns = FakeDns({"hooks.example.test": [["127.0.0.1"]]})
    with guarded_client(allow_private=False, resolver=dns) as client:
        with pytest.raises(UrlRefused, match=r"hooks.example.test \(127.0.0.1\) is a loopback address"):
            client.post(f"http://hooks.example.test:{receiver.port}/hook", content=b"{}")
    assert dns.lookups == ["hooks.example.test"]
    assert receiver.requests == [], "nothing may reach the loopback receiver"


def test_the_checked_address_is_the_one_connected_to_and_the_host_header_is_kept(receiver: Receiver) -> None:
    dns = FakeDns({"hooks.example.test": [["127.0.0.1"]]})
    with guarded_client(allow_private=True, resolver=dns) as client:
        response = client.post(f"http://hooks.example.test:{receiver.port}/hook", content=b"{}")
    assert response.status_code == 200
    [request] = receiver.requests
    assert request.headers["host"] == f"hooks.example.test:{receiver.port}"
    assert request.path == "/hook"


def test_dns_rebinding_between_requests_is_caught_at_each_connect(receiver: Receiver) -> None:
    # First answer: a public address (as when the endpoint was saved); then the name rebinds to
    # loopback. The connect after the rebinding is refused before any byte is sent.
    dns = FakeDns({"rebind.example.test": [["93.184.215.14"], ["::ffff:127.0.0.1"]]})
    assert dns("rebind.example.test", 80) == ["93.184.215.14"]
    with guarded_client(allow_private=False, resolver=dns) as client:
        with pytest.raises(UrlRefused, match="a loopback address"):
            client.post(f"http://rebind.example.test:{receiver.port}/", content=b"{}")
    assert receiver.requests == []


def test_an_unresolvable_name_is_a_connect_error() -> None:
    def nxdomain(host: str, port: int) -> list[str]:
        raise OSError(f"Name or service not known: {host}")

    with guarded_client(allow_private=False, resolver=nxdomain) as client:
        with pytest.raises(httpx.ConnectError, match="cannot resolve nowhere.example.test"):
            client.post("http://nowhere.example.test/", content=b"{}")


def test_redirects_are_not_followed(receiver: Receiver) -> None:
    receiver.statuses = [302]
    receiver.extra_headers = {"Location": "http://169.254.169.254/latest/meta-data/"}
    with guarded_client(allow_private=True) as client:
        response = client.post(f"{receiver.url}/hook", content=b"{}")
    assert response.status_code == 302
    assert len(receiver.requests) == 1


def test_environment_proxies_are_ignored(receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    # A proxy would connect on our behalf and bypass the address check.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    with guarded_client(allow_private=True) as client:
        assert client.post(f"{receiver.url}/hook", content=b"{}").status_code == 200
