"""Outbound safety: which URLs a webhook may call, and the one way a delivery is sent.

A hook's host is resolved and every address checked (private, loopback, link-local,
multicast, reserved, unspecified; IPv4 and IPv6, an IPv4-mapped IPv6 address judged as its
IPv4 one) when the hook is written and again before every delivery, since DNS can change.
The request then goes to the address that was checked, with the name in the Host header (and
in TLS's SNI and certificate check): a second lookup, which a rebinding DNS could answer
differently, never happens. Redirects are not followed, at most `BODY_CAP` bytes of the
answer are read, and the whole call is bounded by `WEBHOOK_TIMEOUT_SECONDS`.
"""

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.conf import settings

SCHEMES = {"http": 80, "https": 443}
BODY_CAP = 4096  # bytes of a receiver's answer read (and the first 200 kept in `error`)
USER_AGENT = "AtomicHabitsTracker-Webhooks/1"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeUrl(Exception):
    """The URL may not be called; the message says why (safe to show its owner)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written in the URL (a name or an address)
    port: int
    path: str  # with the query
    address: str  # the checked address the request goes to

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == SCHEMES[self.scheme] else f"{host}:{self.port}"


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (tests replace this to play a DNS that changed)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def address_refusal(text: str) -> str | None:
    """Why a request may not go to this address; None when it may."""
    address: Address = ipaddress.ip_address(text.split("%", 1)[0])  # a scope id is no part
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if address.is_loopback:
        return None if settings.WEBHOOK_ALLOW_PRIVATE else "is a loopback address"
    for kind in ("link_local", "multicast", "private", "reserved", "unspecified"):
        if getattr(address, f"is_{kind}"):
            return f"is a {kind.replace('_', '-')} address"
    if not address.is_global:
        return "is not a public address"
    return None


def target_of(url: str) -> Target:
    """The URL checked, resolved and its every address checked; UnsafeUrl says why not."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as bad:
        raise UnsafeUrl(f"is not a valid URL ({bad})") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UnsafeUrl("must be an http or https URL")
    if not parts.hostname:
        raise UnsafeUrl("has no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("must not carry credentials")
    port = port or SCHEMES[scheme]
    try:
        addresses = resolve(parts.hostname, port)
    except (OSError, UnicodeError):
        raise UnsafeUrl(f"host {parts.hostname} does not resolve") from None
    if not addresses:
        raise UnsafeUrl(f"host {parts.hostname} does not resolve")
    for address in addresses:
        if (refusal := address_refusal(address)) is not None:
            raise UnsafeUrl(f"host {parts.hostname} resolves to {address}, which {refusal}")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme, parts.hostname, port, path, addresses[0])


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    error: str  # empty when delivered (a 2xx within the timeout)

    @property
    def delivered(self) -> bool:
        return not self.error


def post(target: Target, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body` to the checked address of `target`; never raises for the receiver's sake."""
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    pool = _pool(target, timeout)
    started = time.monotonic()
    try:
        response = pool.urlopen(
            "POST", target.path, body=body,
            headers={**headers, "Host": target.host_header, "User-Agent": USER_AGENT},
            redirect=False, retries=False, preload_content=False, assert_same_host=False,
        )  # fmt: skip
        try:
            head = response.read(BODY_CAP)
        finally:
            response.release_conn()
    except urllib3.exceptions.NewConnectionError as failed:
        # Before TimeoutError, of which urllib3 2 makes it a subclass: refused or unreachable
        # at once, no time waited (the socket's own error says which).
        return Answer(None, f"connection failed: {type(failed.__cause__ or failed).__name__}")
    except urllib3.exceptions.TimeoutError:
        return Answer(None, f"no answer within {timeout:g} s")
    except (urllib3.exceptions.HTTPError, OSError) as failed:
        return Answer(None, f"connection failed: {type(failed).__name__}"[:255])
    finally:
        pool.close()
    return _judge(response.status, head, time.monotonic() - started, timeout)


def _pool(target: Target, timeout: float) -> urllib3.HTTPConnectionPool:
    limits = urllib3.Timeout(total=timeout)
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            target.address, target.port, timeout=limits, retries=False,
            server_hostname=target.host, assert_hostname=target.host, cert_reqs="CERT_REQUIRED",
        )  # fmt: skip
    return urllib3.HTTPConnectionPool(target.address, target.port, timeout=limits, retries=False)


def _judge(status: int, head: bytes, took: float, timeout: float) -> Answer:
    if took > timeout:  # a receiver trickling its answer past the timeout
        return Answer(status, f"answered after {took:.1f} s (over {timeout:g} s)")
    if 200 <= status < 300:
        return Answer(status, "")
    if 300 <= status < 400:
        return Answer(status, f"HTTP {status}: redirects are not followed")
    text = head[:200].decode("utf-8", "replace")
    return Answer(status, f"HTTP {status}: {text}"[:255])
