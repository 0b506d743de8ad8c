"""A fake resolver and internet for tests of outbound calls (tests have no DNS or internet of their own).

`dns`: name -> the addresses it answers, one per lookup (the last one repeats), so an answer
can change between a check and a connection (DNS rebinding); other names resolve for real.
`network`: connections to loopback go through; a connection anywhere else is recorded and
refused, so a test sees where the client tried to go.
"""

from __future__ import annotations

import ipaddress
import socket

import pytest

PUBLIC_V4 = "93.184.215.14"
REAL_GETADDRINFO = socket.getaddrinfo
REAL_CREATE_CONNECTION = socket.create_connection


class FakeDns(dict[str, list[str]]):
    """name -> the answers it gives, one per lookup (the last one repeats); `asked`: the names looked up."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []


@pytest.fixture
def dns(monkeypatch) -> FakeDns:
    """The resolver answers the names set in the returned mapping; other names resolve for real."""
    answers = FakeDns()

    def fake_getaddrinfo(host, port, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in answers:
            return REAL_GETADDRINFO(host, port, *args, **kwargs)
        answers.asked.append(name)
        queue = answers[name]
        address = queue.pop(0) if len(queue) > 1 else queue[0]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sockaddr = (address, port or 0, 0, 0) if family == socket.AF_INET6 else (address, port or 0)
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    return answers


@pytest.fixture
def network(monkeypatch) -> list[str]:
    """Connections to loopback go through; anything else is recorded and refused (no internet here)."""
    attempted: list[str] = []

    def fake_create_connection(address, *args, **kwargs):
        host, port = address[0], address[1]
        resolved = str(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][4][0])
        if ipaddress.ip_address(resolved).is_loopback:
            return REAL_CREATE_CONNECTION((resolved, port), *args, **kwargs)
        attempted.append(resolved)
        raise ConnectionRefusedError(f"no route to {resolved} in tests")

    monkeypatch.setattr(socket, "create_connection", fake_create_connection)
    return attempted
