"""The server process never reaches off loopback: no connection, no DNS lookup.

The real socket calls are replaced by recorders before the guard is put on,
so this test itself sends nothing anywhere even if the guard were broken.
"""

from __future__ import annotations

import subprocess
import sys

from localcloud.tests.helpers import REPO

PROBE = """
import socket
reached = []
def record_connect(self, address):
    reached.append(address)
    raise ConnectionRefusedError("recorder")
real_getaddrinfo = socket.getaddrinfo
def record_getaddrinfo(host, *args, **kwargs):
    if host not in (None, "127.0.0.1", "localhost", "::1"):
        reached.append(host)
        raise socket.gaierror("recorder")
    return real_getaddrinfo(host, *args, **kwargs)
socket.socket.connect = record_connect
socket.getaddrinfo = record_getaddrinfo

from localcloud import patches
patches.guard_sockets()
for address in (("192.0.2.1", 443), ("10.0.0.1", 80), ("2001:db8::1", 443)):
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    try:
        socket.socket(family).connect(address)
    except OSError as err:
        print("refused", address[0], err)
try:
    socket.getaddrinfo("example.invalid", 443)
except OSError as err:
    print("refused lookup", err)
socket.socket().connect(("127.0.0.1", 9))
"""


def test_outbound_connections_and_lookups_are_refused():
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, timeout=60)
    # The last line reaches the recorder: loopback is let through (and refused by the recorder).
    assert "ConnectionRefusedError: recorder" in out.stderr, out.stderr
    assert [line.split()[0:2] for line in out.stdout.splitlines()] == [
        ["refused", "192.0.2.1"], ["refused", "10.0.0.1"], ["refused", "2001:db8::1"], ["refused", "lookup"],
    ]
    assert out.stdout.count("(loopback only)") == 4
    assert "recorder" not in out.stdout  # nothing but loopback got past the guard
