"""Ports for the servers the compat harnesses start on 127.0.0.1.

A port found free by binding port 0 comes from the kernel's ephemeral range,
which every outgoing connection on the machine draws from too: between that
check and the server's own bind a client socket (a suite's, another member's
dial) may take it, and the server then fails with "Address already in use"
(server.5 of a 5-member ensemble-failover run in CI on 2026-12-06). Ports are
therefore picked outside that range, where only listeners bind: at random,
each checked bindable, and never handed out twice by one process.
"""

import random
import socket

# Below the ephemeral range, ports from here up are picked (under 10000 sit
# the well-known services people run on development machines).
LOW = 10000

_handed_out = set()


def _ephemeral_range():
    """The kernel's (first, last) ephemeral port."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            first, last = (int(p) for p in f.read().split()[:2])
            return first, last
    except (OSError, ValueError):
        return 32768, 60999


def _candidates():
    """The range ports are picked from: below the ephemeral range, or above
    it when it starts too low to leave room."""
    first, last = _ephemeral_range()
    if first - LOW >= 1000:
        return LOW, first
    return last + 1, 65536


def free_ports(count):
    """`count` distinct ports outside the ephemeral range, each free on
    127.0.0.1 a moment ago and not handed out before by this process."""
    low, high = _candidates()
    ports = []
    for _ in range(1000 * count):
        if len(ports) == count:
            return ports
        port = random.randrange(low, high)
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        ports.append(port)
    if len(ports) == count:
        return ports
    raise RuntimeError(f"no {count} free ports found in {low}-{high - 1}")


def free_port():
    """One port as `free_ports` picks them."""
    return free_ports(1)[0]
