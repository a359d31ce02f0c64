"""Where a clinic's webhook may point: only at the public internet, unless the server's
WEBHOOK_ALLOWED_NETWORKS lists an internal network (a clinic's own receiver).

A clinic admin chooses the webhook's address, and the server, not the admin, connects to it:
without this check an admin could make the server post to itself, to its database, to a cloud
metadata service or to any machine on its private network. So an address is refused when it is
loopback, private, link-local, multicast, reserved, unspecified, unique-local or site-local, or an
IPv6 address that carries such an IPv4 address (IPv4-mapped, NAT64, 6to4, Teredo). A name is
checked by what it resolves to, when the address is saved and again for every attempt; the
attempt then connects to the very address that was checked (alert_delivery), so a name that
resolves elsewhere a moment later (DNS rebinding) cannot slip past.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address

_NAT64 = IPv6Network("64:ff9b::/96")


class RefusedAddressError(Exception):
    """The webhook's host is, or resolves to, an address it may not reach."""


def _translated_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 one is only another way to write (IPv4-mapped, NAT64)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _tunnelled_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address a 6to4 or Teredo address carries: a packet to it can end up there."""
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # the client's: the Teredo server's is public by design
    return None


def kind_of_refused(address: Address, allowed: Sequence[Network] = ()) -> str | None:
    """Why the server may not post to ``address`` (a word for the log); None if it may."""
    if isinstance(address, IPv6Address):
        if (translated := _translated_ipv4(address)) is not None:
            why = kind_of_refused(translated, allowed)
            return None if why is None else f"{why} (IPv4 as IPv6)"
        tunnelled = _tunnelled_ipv4(address)
        if tunnelled is not None and (why := kind_of_refused(tunnelled, allowed)) is not None:
            return f"{why} (IPv4 in an IPv6 tunnel)"
    # An allowed network is the operator's own decision: it wins over every class below.
    if any(address in network for network in allowed if network.version == address.version):
        return None
    for why, flag in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("site-local", isinstance(address, IPv6Address) and address.is_site_local),
        # Shared address space (100.64.0.0/10) and anything else not on the public internet.
        ("non-public", not address.is_global),
    ):
        if flag:
            return why
    return None


def literal_address(host: str) -> Address | None:
    """The address ``host`` spells, in any form the system's resolver reads as one without
    asking DNS ("127.1", "2130706433", "0x7f.1" are all 127.0.0.1); None for a name."""
    try:
        return ip_address(host)
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except (OSError, UnicodeError):
        return None
    return ip_address(str(found[0][4][0]).partition("%")[0])


def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to now, for a TCP connection, in the resolver's order.
    Raises OSError when it resolves to none."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(entry[4][0]) for entry in found))


def checked_addresses(host: str, port: int, allowed: Sequence[Network] = ()) -> list[str]:
    """The addresses to connect to for ``host``, each one checked. If any of them is refused,
    all are: a name that answers with a public and an internal address is not to be trusted."""
    addresses = resolve(host, port)
    for text in addresses:
        if (why := kind_of_refused(ip_address(text.partition("%")[0]), allowed)) is not None:
            raise RefusedAddressError(f"{host} resolves to a {why} address ({text})")
    return addresses
