"""Outbound HTTP to addresses given by outsiders (webhooks), without server-side request forgery.

`check_url(url, allow_private=...)` refuses a URL whose host resolves (socket.getaddrinfo: every
address it resolves to is checked) to a loopback, private, link-local, multicast, reserved or
unspecified address, and returns the addresses that passed. `post(url, body, headers, ...)`
checks again at sending time and connects to a checked address itself, so a DNS answer that
changes between the check and the connection (DNS rebinding) cannot swap the target; the request
keeps the URL's host in its Host header (and as the TLS server name, so certificates are still
verified against it). Redirects are never followed: a 3xx is an answer like any other.

`allow_private=True` (a government intranet deployment, where receiving systems have 10.x or
192.168.x addresses: setting PUBCREDIT_WEBHOOK_ALLOW_PRIVATE) also accepts private ranges and
loopback; link-local (cloud metadata at 169.254.169.254), multicast, reserved and unspecified
addresses stay refused whatever the setting.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

MAX_BODY = 64 * 1024  # at most this much of an answer is read


class UnsafeTarget(ValueError):
    """The URL is not an http(s) address of a host the platform may send to (message in Chinese)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def _refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_private: bool) -> str:
    """Why this address may not be sent to ("" when it may)."""
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    if address.is_unspecified:
        return _("未指定地址")
    if address.is_link_local:
        return _("链路本地地址")
    if address.is_multicast:
        return _("组播地址")
    if address.is_loopback:
        return "" if allow_private else _("本机回环地址")
    if address.is_reserved:
        return _("保留地址")
    if address.is_private or not address.is_global:
        return "" if allow_private else _("内网地址")
    return ""


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise UnsafeTarget(
            _("通知地址的主机名“%(host)s”无法解析,请核对。") % {"host": host}
        ) from None
    found: list[str] = []
    for info in infos:
        text = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 scope id
        if text not in found:
            found.append(text)
    return found


def check_url(url: str, *, allow_private: bool = False) -> Target:
    """The URL's target with the addresses its host resolves to, after checking every one of
    them; UnsafeTarget (Chinese message) when the URL is not http(s) with a host, does not
    resolve, or any address is refused."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        raise UnsafeTarget(_("通知地址应为 http:// 或 https:// 开头的完整网址。")) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget(_("通知地址应为 http:// 或 https:// 开头的完整网址。"))
    host = parts.hostname
    port = port or (443 if parts.scheme == "https" else 80)
    addresses = _resolve(host, port)
    if not addresses:
        raise UnsafeTarget(_("通知地址的主机名“%(host)s”无法解析,请核对。") % {"host": host})
    for text in addresses:
        reason = _refusal(ipaddress.ip_address(text), allow_private)
        if reason:
            raise UnsafeTarget(
                _(
                    "通知地址不能指向%(reason)s(%(host)s 解析为 %(address)s),请使用对外提供服务的地址。"
                )
                % {"reason": reason, "host": host, "address": text}
            )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port, path, tuple(addresses))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to a fixed, already checked address; Host stays the URL's host."""

    def __init__(self, host, port, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """The same over TLS: the certificate is verified against the URL's host name."""

    def __init__(self, host, port, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    allow_private: bool = False,
) -> int:
    """POST `body` to `url` and return the HTTP status (redirects are not followed). Raises
    UnsafeTarget when the URL is refused (checked now, at sending time), OSError and
    http.client errors on network failures."""
    target = check_url(url, allow_private=allow_private)
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = kind(target.host, target.port, address=target.addresses[0], timeout=timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(MAX_BODY)
        return response.status
    finally:
        connection.close()
