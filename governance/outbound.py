"""HTTP requests to a URL a tenant chose, which must not reach our own network.

A tenant admin sets an alert webhook URL and a worker posts to it. Three ways that could be
turned against us, and what stops each one:

- the name resolves to an internal address: every address it resolves to must be public;
- the name resolves to something else when the connection is made (DNS rebinding): it is
  resolved once, and the connection goes to the address that was checked, with the URL's
  host name in the `Host` header and, on https, in SNI and the certificate check;
- the receiver redirects to an internal address: redirects are never followed; a 3xx is
  refused like a 4xx.

`settings.ALERT_WEBHOOK_ALLOW_PRIVATE_HOSTS` lets an on-premise receiver on a private or
loopback address (and the tests' local servers) through the first check; link-local (the
cloud metadata service), multicast, reserved and unspecified addresses stay refused, and
the other two hold regardless.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# RFC 6052's well-known NAT64 prefix: on an IPv6-only network with NAT64, 64:ff9b::a9fe:a9fe
# reaches 169.254.169.254, so the IPv4 address inside is what gets checked.
NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")


class OutboundRefused(Exception):
    """The URL may not be called (scheme, non-public address) or answered a redirect: retrying will not help."""


class OutboundUnreachable(ConnectionError):
    """The name did not resolve, or the connection failed or timed out: worth retrying."""


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (IPv4-mapped, 6to4, NAT64), or None."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64_PREFIX:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_is_public(ip: IPAddress) -> bool:
    """True for a globally routable unicast address; False for private, loopback, link-local,
    multicast, reserved, unspecified and shared addresses, and IPv6 forms wrapping any of those."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = embedded_ipv4(ip)
        if inner is not None and not address_is_public(inner):
            return False
    return ip.is_global and not (
        ip.is_multicast or ip.is_reserved or ip.is_unspecified or ip.is_loopback or ip.is_link_local or ip.is_private
    )


def address_is_local_network(ip: IPAddress) -> bool:
    """True for loopback and private unicast (RFC 1918, shared, unique-local): where an
    on-premise receiver may live. Never link-local (the cloud metadata service, 169.254.169.254),
    multicast, reserved or unspecified."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = embedded_ipv4(ip)
        if inner is not None:
            return address_is_local_network(inner)
    if ip.is_link_local or ip.is_multicast or ip.is_unspecified or (ip.is_reserved and not ip.is_loopback):
        return False
    shared = ipaddress.IPv4Network("100.64.0.0/10")
    return ip.is_loopback or ip.is_private or (isinstance(ip, ipaddress.IPv4Address) and ip in shared)


def resolve_checked(*, host: str, port: int, allow_private: bool) -> IPAddress:
    """The one address to connect to: `host` resolved once, refused unless every answer is public.

    Every answer is checked, not just the one used, so that a name answering one public and
    one internal address cannot get through on a resolver's change of order.
    """
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise OutboundUnreachable(f"cannot resolve {host}: {error}") from error
    addresses = [ipaddress.ip_address(str(answer[4][0]).split("%")[0]) for answer in answers]
    if not addresses:
        raise OutboundUnreachable(f"{host} has no address")
    for address in addresses:
        if not (address_is_public(address) or (allow_private and address_is_local_network(address))):
            raise OutboundRefused(f"{host} resolves to a non-public address ({address})")
    return addresses[0]


def tls_context() -> ssl.SSLContext:
    """Certificates checked against the system's trusted authorities (a seam for tests' own CA)."""
    return ssl.create_default_context()


def post_to_checked_address(
    *, url: str, content: bytes, headers: dict[str, str], timeout_seconds: float, allow_private: bool
) -> int:
    """POST `content` to `url` over a connection to the address that was checked; returns the status.

    Raises OutboundRefused (scheme, address, or a redirect) or OutboundUnreachable. The
    response body is never read: a receiver cannot make the worker download anything.
    """
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as error:
        raise OutboundRefused(f"not a valid URL: {error}") from error
    if parsed.scheme not in {"http", "https"} or not parsed.raw_host:
        raise OutboundRefused("only http(s) URLs with a host are called")
    host = parsed.raw_host.decode("ascii").strip("[]")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    address = resolve_checked(host=host, port=port, allow_private=allow_private)
    pinned = parsed.copy_with(host=str(address))
    request_headers = {**headers, "Host": parsed.netloc.decode("ascii")}
    # trust_env off: an HTTP(S)_PROXY in the worker's environment would resolve the name itself.
    with httpx.Client(verify=tls_context(), trust_env=False, follow_redirects=False, timeout=timeout_seconds) as client:
        try:
            with client.stream(
                "POST",
                pinned,
                content=content,
                headers=request_headers,
                extensions={"sni_hostname": host} if parsed.scheme == "https" else {},
            ) as response:
                status = response.status_code
                location = response.headers.get("Location", "")
        except httpx.HTTPError as error:
            raise OutboundUnreachable(f"{host} unreachable: {error}") from error
    if 300 <= status < 400:
        raise OutboundRefused(f"{host} answered {status} (redirect to {location[:200]!r}); redirects are not followed")
    return status
