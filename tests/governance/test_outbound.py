"""Requests to tenant-chosen URLs: only the checked public address is reached, redirects never followed.

Real local HTTP(S) servers stand in for receivers and for "internal" services;
tests/fake_network.py stands in for DNS and the internet.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from governance import outbound
from governance.outbound import OutboundRefused, OutboundUnreachable, address_is_public, post_to_checked_address
from tests.fake_network import PUBLIC_V4

PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"


class Server(ThreadingHTTPServer):
    address_family = socket.AF_INET


class Server6(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def serve(*, status: int = 200, location: str = "", host: str = "127.0.0.1", tls: ssl.SSLContext | None = None):
    """A real local server answering `status` (with `Location`) to every request; records what it got."""
    received: list[SimpleNamespace] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append(SimpleNamespace(path=self.path, headers=self.headers, body=body))
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        do_GET = do_POST

        def log_message(self, *args: object) -> None:
            pass

    server = (Server6 if ":" in host else Server)((host, 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server, SimpleNamespace(port=server.server_address[1], received=received)


@pytest.fixture
def servers() -> Iterator[Callable[..., SimpleNamespace]]:
    started: list = []

    def start(**kwargs: Any) -> SimpleNamespace:
        server, handle = serve(**kwargs)
        started.append(server)
        return handle

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


def post(url: str, *, allow_private: bool = False) -> int:
    return post_to_checked_address(
        url=url, content=b'{"a":1}', headers={"X-Test": "1"}, timeout_seconds=5, allow_private=allow_private
    )


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",
        "ff02::1",
        "ff0e::1",
        "2001:db8::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "::ffff:10.0.0.1",
        "::127.0.0.1",
        "64:ff9b::a9fe:a9fe",
        "2002:a9fe:a9fe::1",
        "2002:7f00:1::",
    ],
)
def test_internal_and_special_addresses_are_not_public(address):
    assert not address_is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", [PUBLIC_V4, "8.8.8.8", PUBLIC_V6, "2001:4860:4860::8888"])
def test_globally_routable_addresses_are_public(address):
    assert address_is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[::ffff:a9fe:a9fe]/hook",
        "http://[64:ff9b::a9fe:a9fe]/hook",
        "http://0.0.0.0/hook",
        "http://2130706433/hook",  # 127.0.0.1 as one number
        "http://0x7f.1/hook",
        "http://localhost/hook",
    ],
)
def test_a_url_naming_an_internal_address_is_refused_before_any_connection(url, network):
    with pytest.raises(OutboundRefused, match="non-public"):
        post(url)
    assert network == []


@pytest.mark.parametrize("answer", ["::1", "::ffff:127.0.0.1", "fe80::1", "fd00::1", "64:ff9b::7f00:1"])
def test_a_name_answering_an_ipv6_internal_address_is_refused(answer, dns, network):
    dns["hooks.example.test"] = [answer]
    with pytest.raises(OutboundRefused, match="non-public"):
        post("https://hooks.example.test/hook")
    assert network == []


def test_a_name_answering_one_internal_address_among_public_ones_is_refused(dns, monkeypatch, network):
    def two_answers(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC_V4, port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", two_answers)
    with pytest.raises(OutboundRefused, match=r"169\.254\.169\.254"):
        post("http://hooks.example.test/hook")
    assert network == []


@pytest.mark.parametrize("target", ["http://127.0.0.1:{internal}/admin", "http://169.254.169.254/latest/meta-data/"])
def test_a_redirect_is_refused_and_never_followed(target, servers):
    # given: an internal service, and a receiver (allowed, being local) that redirects to it
    internal = servers()
    location = target.format(internal=internal.port)
    receiver = servers(status=302, location=location)
    # when / then
    with pytest.raises(OutboundRefused, match=r"302.*redirects are not followed"):
        post(f"http://127.0.0.1:{receiver.port}/hook", allow_private=True)
    assert len(receiver.received) == 1
    assert internal.received == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/hook",
        "http://[::ffff:169.254.169.254]/hook",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
        "http://240.0.0.1/hook",
    ],
)
def test_allowing_private_hosts_still_refuses_link_local_multicast_and_reserved(url, network):
    with pytest.raises(OutboundRefused, match="non-public"):
        post(url, allow_private=True)
    assert network == []


@pytest.mark.parametrize("address", ["10.1.2.3", "192.168.0.9", "172.16.5.5", "100.64.1.1", "fd12::1", "::1"])
def test_allowing_private_hosts_lets_an_on_premise_receiver_be_reached(address, dns, network):
    dns["chat.corp.test"] = [address]
    with pytest.raises(OutboundUnreachable):  # the fake network has no such host: tried, not refused
        post("http://chat.corp.test/hook", allow_private=True)
    assert network == [address] or address == "::1"


@pytest.mark.parametrize("status", [301, 303, 307, 308])
def test_every_redirect_status_is_refused(status, servers):
    internal = servers()
    receiver = servers(status=status, location=f"http://127.0.0.1:{internal.port}/")
    with pytest.raises(OutboundRefused):
        post(f"http://127.0.0.1:{receiver.port}/hook", allow_private=True)
    assert internal.received == []


def test_a_dns_answer_that_changes_after_the_check_cannot_reach_an_internal_address(servers, dns, network):
    # given: a name that answers a public address to the check and the internal service afterwards
    internal = servers()
    dns["rebind.example.test"] = [PUBLIC_V4, "127.0.0.1"]
    # when
    with pytest.raises(OutboundUnreachable):
        post(f"http://rebind.example.test:{internal.port}/hook")
    # then: the connection went to the address that was checked, the name was looked up once
    assert network == [PUBLIC_V4]
    assert dns.asked == ["rebind.example.test"]
    assert internal.received == []


def test_a_name_is_connected_to_at_its_checked_address_with_its_own_host_header(servers, dns):
    receiver = servers()
    dns["hooks.example.test"] = ["127.0.0.1", "10.9.9.9"]
    assert post(f"http://hooks.example.test:{receiver.port}/hook?x=1", allow_private=True) == 200
    [request] = receiver.received
    assert request.headers["Host"] == f"hooks.example.test:{receiver.port}"
    assert request.path == "/hook?x=1" and request.body == b'{"a":1}' and request.headers["X-Test"] == "1"


def test_a_proxy_in_the_environment_is_not_used(servers, monkeypatch):
    receiver = servers()
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    assert post(f"http://127.0.0.1:{receiver.port}/hook", allow_private=True) == 200


def test_ipv6_loopback_is_reached_only_when_private_hosts_are_allowed(servers):
    receiver = servers(host="::1")
    with pytest.raises(OutboundRefused):
        post(f"http://[::1]:{receiver.port}/hook")
    assert post(f"http://[::1]:{receiver.port}/hook", allow_private=True) == 200
    assert len(receiver.received) == 1


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "gopher://example.com/", "http:///x"])
def test_other_schemes_are_refused(url):
    with pytest.raises(OutboundRefused):
        post(url)


# --- https: SNI and the certificate are checked for the URL's name, not the address ---


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> SimpleNamespace:
    """A throwaway CA and a server certificate it signed for hooks.example.test only."""
    directory: Path = tmp_path_factory.mktemp("tls")
    now = datetime.datetime.now(datetime.UTC)

    def certificate(subject: str, key, issuer_name, issuer_key, *, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
            ).add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        else:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False
            ).add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "BizValue test CA")])
    ca = certificate("BizValue test CA", ca_key, ca_name, ca_key, ca=True)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = certificate("hooks.example.test", leaf_key, ca_name, ca_key, ca=False)
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (directory / "leaf.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (directory / "leaf.key").write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return SimpleNamespace(ca=directory / "ca.pem", cert=directory / "leaf.pem", key=directory / "leaf.key")


@pytest.fixture
def tls_receiver(servers, certificates, monkeypatch) -> SimpleNamespace:
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(certificates.cert, certificates.key)
    names_seen: list[str | None] = []
    server_context.sni_callback = lambda sock, name, context: names_seen.append(name)
    monkeypatch.setattr(outbound, "tls_context", lambda: ssl.create_default_context(cafile=str(certificates.ca)))
    receiver = servers(tls=server_context)
    receiver.names_seen = names_seen
    return receiver


def test_https_sends_the_name_in_sni_and_checks_the_certificate_for_it(tls_receiver, dns):
    dns["hooks.example.test"] = ["127.0.0.1"]
    assert post(f"https://hooks.example.test:{tls_receiver.port}/hook", allow_private=True) == 200
    assert tls_receiver.names_seen == ["hooks.example.test"]
    assert tls_receiver.received[0].headers["Host"] == f"hooks.example.test:{tls_receiver.port}"


def test_https_refuses_a_certificate_for_another_name(tls_receiver, dns):
    dns["other.example.test"] = ["127.0.0.1"]
    with pytest.raises(OutboundUnreachable, match="certificate"):
        post(f"https://other.example.test:{tls_receiver.port}/hook", allow_private=True)
    assert tls_receiver.received == []
