"""Which address a request comes from (pure rules; hypothesis explores the chains)."""
from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from services.common.client_address import client_address, limit_key, parse_address

PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"))
trusted = st.builds(lambda n: str(ipaddress.IPv4Address(0x0A000000 + n)), st.integers(0, 2**24 - 1))
untrusted = st.ip_addresses(v=4).filter(lambda a: not a.is_private).map(str)
hop = st.one_of(trusted, untrusted)


@given(peer=untrusted, chain=st.lists(hop, max_size=6))
def test_an_untrusted_peer_is_the_client_whatever_it_forwards(peer, chain):
    assert client_address(peer, [", ".join(chain)], PROXIES) == peer


@given(peer=trusted, chain=st.lists(hop, max_size=6), client=untrusted, proxies=st.lists(trusted, max_size=4))
def test_behind_trusted_proxies_the_right_most_untrusted_hop_is_the_client(peer, chain, client, proxies):
    header = ", ".join([*chain, client, *proxies])
    assert client_address(peer, [header], PROXIES) == client


@given(peer=trusted, chain=st.lists(hop, min_size=1, max_size=6))
def test_several_headers_are_one_chain(peer, chain):
    assert client_address(peer, chain, PROXIES) == client_address(peer, [",".join(chain)], PROXIES)


@given(peer=trusted, proxies=st.lists(trusted, max_size=4))
def test_a_chain_of_only_trusted_hops_ends_at_its_left_most_hop(peer, proxies):
    assert client_address(peer, [", ".join(proxies)], PROXIES) == (proxies[0] if proxies else peer)


@given(peer=trusted, junk=st.text(max_size=20).filter(lambda s: "," not in s and parse_address(s) is None),
       client=untrusted)
def test_a_malformed_hop_stops_the_walk_at_the_proxy_that_wrote_it(peer, junk, client):
    assert client_address(peer, [f"{client}, {junk}, 10.0.0.1"], PROXIES) == "10.0.0.1"


def test_ports_and_brackets_are_understood():
    assert client_address("10.0.0.1", ["203.0.113.5:4711"], PROXIES) == "203.0.113.5"
    assert client_address("10.0.0.1", ["[2001:db8::1]:443"], PROXIES) == "2001:db8::1"
    assert client_address("::ffff:10.0.0.1", ["198.51.100.1"], PROXIES) == "198.51.100.1"


def test_ipv6_clients_are_limited_per_64():
    assert limit_key("2001:db8:1:2:aaaa::1") == limit_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert limit_key("203.0.113.5") == "203.0.113.5"
