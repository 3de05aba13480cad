"""Which addresses a feed may send newsbot to: feed content is untrusted.

A feed item's link, and every redirect, may lead only to a public address or to the feed's own
host (so an operator's intranet or local news site still works). Anything else — loopback,
private, link-local, shared (CGNAT), multicast, reserved — would let a hostile feed make the
bot request an internal address and serve whatever it answers to readers (server-side request
forgery). Each hop is resolved and checked before it is requested, and the address actually
connected to is checked again (a name that resolves differently the second time).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class RefusedAddress(Exception):
    """A link or redirect leads to an address newsbot does not request; one line why."""


def host_of(url: str) -> str:
    """The URL's host name, lower-case, without brackets ("" when it has none)."""
    return (urlsplit(url).hostname or "").lower().rstrip(".")


def is_public(address: str) -> bool:
    """Whether an IP address is on the public internet (not loopback, private, link-local,
    shared, multicast, reserved or unspecified)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # no IPv6 zone id
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str, own_host: str | None) -> None:
    """Raise RefusedAddress unless the URL's host is `own_host` or resolves to public
    addresses only. No `own_host`: the operator's own setting (a feed URL), allowed."""
    host = host_of(url)
    if own_host is None or host == own_host.lower().rstrip("."):
        return
    port = urlsplit(url).port or (443 if url.lower().startswith("https") else 80)
    try:
        found = {str(info[4][0])
                 for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}
    except (OSError, UnicodeError) as exc:
        raise RefusedAddress(f"cannot resolve {host!r} ({exc})") from None
    private = sorted(a for a in found if not is_public(a))
    if private:
        raise RefusedAddress(f"{host} is not a public address ({private[0]}); only the feed's "
                             "own host or public addresses are fetched")


def check_peer(address: str, host: str, own_host: str | None) -> None:
    """Raise RefusedAddress when a connection to `host` reached a non-public address although
    the host is not the feed's own."""
    if own_host is None or host == own_host.lower().rstrip("."):
        return
    if not is_public(address):
        raise RefusedAddress(f"{host} connected to {address}, not a public address")
