"""The DHCP client against a fake server on 127.0.0.1 (stdlib UDP sockets, a thread)."""
import socket
import struct
import threading

import pytest

from llmos_init.net import dhcp

MAC = bytes.fromhex("525400123456")


def request_fields(pkt: bytes) -> tuple[int, int, dict[int, bytes]]:
    """(xid, message type, options) of a client's BOOTREQUEST, as a server reads it."""
    head = dhcp.HEADER.unpack_from(pkt)
    assert head[0] == dhcp.BOOTREQUEST and head[11][:6] == MAC
    assert pkt[dhcp.HEADER.size:dhcp.HEADER.size + 4] == dhcp.MAGIC
    opts = dhcp.parse_options(pkt[dhcp.HEADER.size + 4:])
    return head[4], opts[dhcp.OPT_MSG_TYPE][0], opts


def reply(xid: int, mtype: int, yiaddr: str = "10.0.2.15", mac: bytes = MAC,
          options: bytes | None = None) -> bytes:
    head = dhcp.HEADER.pack(dhcp.BOOTREPLY, 1, 6, 0, xid, 0, 0, bytes(4), socket.inet_aton(yiaddr),
                            bytes(4), bytes(4), mac.ljust(16, b"\0"), bytes(64), bytes(128))
    if options is None:
        options = (bytes([53, 1, mtype, 54, 4]) + socket.inet_aton("10.0.2.2") +
                   bytes([1, 4]) + socket.inet_aton("255.255.255.0") +
                   bytes([3, 4]) + socket.inet_aton("10.0.2.2") +
                   bytes([6, 8]) + socket.inet_aton("10.0.2.3") + socket.inet_aton("1.1.1.1") +
                   bytes([51, 4]) + struct.pack("!I", 86400) + bytes([15, 3]) + b"lan")
    return head + dhcp.MAGIC + options + bytes([255])


class FakeServer:
    """Answers each request with what `script(xid, mtype, opts)` returns (a list of packets)."""

    def __init__(self, script):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(10)
        self.addr = self.sock.getsockname()
        self.script, self.seen = script, []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                pkt, peer = self.sock.recvfrom(2048)
            except OSError:
                return
            xid, mtype, opts = request_fields(pkt)
            self.seen.append((mtype, opts))
            for out in self.script(xid, mtype, opts):
                self.sock.sendto(out, peer)

    def close(self):
        self.sock.close()


def normal(xid, mtype, opts):
    return [reply(xid, dhcp.OFFER if mtype == dhcp.DISCOVER else dhcp.ACK)]


@pytest.fixture
def client():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    yield s
    s.close()


def run(client, script, **kw):
    srv = FakeServer(script)
    try:
        return dhcp.exchange(client, MAC, dest=srv.addr, **kw), srv.seen
    finally:
        srv.close()


def test_discover_offer_request_ack(client):
    lease, seen = run(client, normal, hostname="llmos")
    assert (lease.address, lease.netmask, lease.router) == ("10.0.2.15", "255.255.255.0", "10.0.2.2")
    assert lease.dns == ["10.0.2.3", "1.1.1.1"] and lease.server == "10.0.2.2"
    assert lease.lease_s == 86400 and lease.renew_s == 43200 and lease.domain == "lan"
    assert [m for m, _ in seen] == [dhcp.DISCOVER, dhcp.REQUEST]
    req = seen[1][1]
    assert req[dhcp.OPT_REQUESTED_IP] == socket.inet_aton("10.0.2.15")
    assert req[dhcp.OPT_SERVER_ID] == socket.inet_aton("10.0.2.2")
    assert req[dhcp.OPT_HOSTNAME] == b"llmos"


def test_garbage_and_other_clients_replies_are_ignored(client):
    def script(xid, mtype, opts):
        good = normal(xid, mtype, opts)[0]
        return [b"\xff" * 7, b"\0" * 400, reply(xid ^ 1, dhcp.OFFER), reply(xid, dhcp.OFFER, mac=b"\1" * 6),
                good[:250], reply(xid, dhcp.OFFER, options=bytes([53, 9, 2])),  # runs past the end
                reply(xid, dhcp.ACK if mtype == dhcp.DISCOVER else dhcp.OFFER), good]
    lease, seen = run(client, script, timeouts=(2.0,))
    assert lease.address == "10.0.2.15" and len(seen) == 2


def test_a_lost_offer_is_retried(client):
    calls = []

    def script(xid, mtype, opts):
        calls.append(mtype)
        return [] if len(calls) == 1 else normal(xid, mtype, opts)
    lease, seen = run(client, script, timeouts=(0.2, 1.0))
    assert lease.address == "10.0.2.15"
    assert [m for m, _ in seen] == [dhcp.DISCOVER, dhcp.DISCOVER, dhcp.REQUEST]


def test_no_server_times_out(client):
    with pytest.raises(TimeoutError):
        run(client, lambda *a: [], timeouts=(0.1, 0.1))


def test_a_nak_is_an_error(client):
    def script(xid, mtype, opts):
        return [reply(xid, dhcp.OFFER if mtype == dhcp.DISCOVER else dhcp.NAK)]
    with pytest.raises(dhcp.DHCPError, match="NAK"):
        run(client, script, timeouts=(0.5,))


def test_renewal_asks_for_the_held_address_first(client):
    lease, seen = run(client, normal, requested="10.0.2.15")
    assert lease.address == "10.0.2.15"
    assert [m for m, _ in seen] == [dhcp.REQUEST]
    assert seen[0][1][dhcp.OPT_REQUESTED_IP] == socket.inet_aton("10.0.2.15")


def test_renewal_refused_falls_back_to_discover(client):
    def script(xid, mtype, opts):
        if mtype == dhcp.REQUEST and dhcp.OPT_SERVER_ID not in opts:
            return [reply(xid, dhcp.NAK)]
        return normal(xid, mtype, opts)
    lease, seen = run(client, script, requested="10.0.2.99")
    assert [m for m, _ in seen] == [dhcp.REQUEST, dhcp.DISCOVER, dhcp.REQUEST]


def test_an_ack_without_an_address_is_refused(client):
    def script(xid, mtype, opts):
        return [reply(xid, dhcp.OFFER if mtype == dhcp.DISCOVER else dhcp.ACK, yiaddr="0.0.0.0")]
    with pytest.raises(dhcp.DHCPError, match="offered 0.0.0.0"):
        run(client, script, timeouts=(0.5,))


@pytest.mark.parametrize("opts, why", [
    ({1: b"\xff\xff"}, "not an address"),
    ({51: b"\0\0"}, "not a time"),
    ({6: b"\1\2\3\4\5"}, "address list"),
])
def test_malformed_lease_options(opts, why):
    with pytest.raises(dhcp.DHCPError, match=why):
        dhcp.lease_from("10.0.2.15", opts, 0.0)


def test_defaults_when_the_server_says_little():
    lease = dhcp.lease_from("192.168.1.20", {}, 5.0)
    assert lease.netmask == "255.255.255.0" and lease.router is None and lease.dns == []
    assert lease.lease_s == 3600 and lease.renew_s == 1800 and lease.obtained == 5.0


def test_parse_options_concatenates_and_stops_at_end():
    assert dhcp.parse_options(bytes([0, 6, 4, 1, 2, 3, 4, 6, 4, 5, 6, 7, 8, 255, 9, 9])) == \
        {6: bytes([1, 2, 3, 4, 5, 6, 7, 8])}
    with pytest.raises(dhcp.DHCPError):
        dhcp.parse_options(bytes([6]))


def test_build_sets_broadcast_and_mac():
    pkt = dhcp.build(dhcp.DISCOVER, 0x1234, MAC)
    head = dhcp.HEADER.unpack_from(pkt)
    assert head[6] == dhcp.FLAG_BROADCAST and head[11][:6] == MAC and head[4] == 0x1234
    with pytest.raises(ValueError):
        dhcp.build(dhcp.DISCOVER, 1, b"\0" * 5)
