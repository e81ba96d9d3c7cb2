"""Shared helpers for the Python compat suites (kazoo-*, zkcli, c-client).

A suite prints its transcript on stdout: one deterministic line per step,
with values that legitimately differ between servers or runs masked. Every
check compares an actual value with the exact value Apache ZooKeeper 3.8
gives; a mismatch is reported on stderr and in the transcript, and makes the
suite exit 1 from `Transcript.finish()`.
"""

import logging
import os
import re
import socket
import sys
import time

# Set by compat-tests/run: the fresh server this suite must talk to.
CONNECT = os.environ["ZK_CONNECT"]

# Set by `compat-tests/run --ensemble N`: the number of members (0 standalone).
ENSEMBLE = int(os.environ.get("ZK_ENSEMBLE", "0"))

# A fresh ensemble's first leader starts epoch 1: its zxids are 0x1_0000_0000
# past a fresh standalone server's, counted the same way within the epoch.
FIRST_EPOCH_START = 1 << 32

# Kazoo's most verbose log level; its connection logs the negotiated timeout there.
KAZOO_BLATHER = 5


class Transcript:
    """Collects checks; prints each as one transcript line."""

    def __init__(self):
        self.failures = 0
        # Session ids seen so far, named in order of registration, so a
        # transcript says "sid:A" where the raw id would differ per run.
        self.sessions = {}

    def line(self, text):
        """Print one transcript line as is."""
        print(text, flush=True)

    def name_session(self, session_id, name):
        """Remember that session_id belongs to the client called `name`."""
        self.sessions[session_id] = name

    def sid(self, session_id):
        """Masked form of a session id: 0, `<sid:NAME>` or `<sid>`."""
        if session_id == 0:
            return "0"
        name = self.sessions.get(session_id)
        return f"<sid:{name}>" if name else "<sid>"

    def check(self, label, actual, expected):
        """Print `label -> actual`; count a failure unless actual == expected."""
        self.line(f"{label} -> {actual}")
        if actual != expected:
            self.fail(f"{label}: expected {expected!r}, got {actual!r}")
        return actual

    def check_true(self, label, condition):
        """Print `label -> ok`; count a failure when the condition is false."""
        self.line(f"{label} -> {'ok' if condition else 'WRONG'}")
        if not condition:
            self.fail(f"{label}: condition is false")

    def raises(self, label, fn, expected_exc_name):
        """Call fn; check it raises the exception class named expected_exc_name."""
        try:
            result = fn()
        except Exception as exc:  # the class name is what is being checked
            return self.check(label, type(exc).__name__, expected_exc_name)
        return self.check(label, f"returned {result!r}", expected_exc_name)

    def fail(self, message):
        """Record a failed assertion in the transcript and on stderr."""
        self.failures += 1
        self.line(f"ASSERTION FAILED: {message}")
        print(f"ASSERTION FAILED: {message}", file=sys.stderr, flush=True)

    def finish(self):
        """Exit 0 when every check passed, 1 otherwise."""
        self.line(f"checks failed: {self.failures}")
        sys.exit(1 if self.failures else 0)


def wait_for(condition, timeout_s=10.0, interval_s=0.05):
    """Poll condition() until it is truthy or timeout_s passes; return its last value."""
    deadline = time.monotonic() + timeout_s
    value = condition()
    while not value and time.monotonic() < deadline:
        time.sleep(interval_s)
        value = condition()
    return value


def four_letter_word(word, connect=None):
    """A four-letter word's whole answer from the first server of `connect`
    (default CONNECT), over a socket of its own: kazoo's command() reads at
    most 8,192 bytes and needs a live session."""
    host, port = (connect or CONNECT).split(",")[0].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(word.encode())
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out.decode("utf-8", "replace")


def mask_times(text):
    """Replace timestamps zkCli-style (`Sun Nov 22 03:41:13 UTC 2026`) by <time>."""
    return re.sub(r"[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \w+ \d{4}", "<time>", text)


class NegotiatedTimeout(logging.Handler):
    """Captures the session timeout the server negotiated, from kazoo's log."""

    def __init__(self):
        super().__init__(level=KAZOO_BLATHER)
        self.values = []

    def emit(self, record):
        """Keep the negotiated timeout of each session kazoo establishes."""
        if "negotiated" not in str(record.msg):
            return
        found = re.search(r"negotiated session timeout: (\d+)", record.getMessage())
        if found:
            self.values.append(int(found.group(1)))

    def install(self):
        """Attach to kazoo's loggers at their most verbose level."""
        logger = logging.getLogger("kazoo")
        logger.setLevel(KAZOO_BLATHER)
        logger.addHandler(self)
        return self


def fmt_zxid(zxid):
    """A zxid in hex; on an ensemble counted from the first epoch's start, so
    transcripts match a standalone server's (a zxid of another epoch shows
    negative or past 32 bits, and so differs)."""
    if ENSEMBLE and zxid:
        zxid -= FIRST_EPOCH_START
    return f"{zxid:#x}"


def mask_zkcli_zxids(line):
    """zkCli's `cZxid = 0x…` (and m/p) lines with the zxid as fmt_zxid shows it."""
    return re.sub(r"^([cmp]Zxid = )0x([0-9a-f]+)$",
                  lambda m: m.group(1) + fmt_zxid(int(m.group(2), 16)), line)


def ensemble_config_lines():
    """/zookeeper/config of a fresh `--ensemble N` ensemble, ports masked by
    mask_member_ports: one participant line per member, then the version."""
    return [f"server.{i}=127.0.0.1:<port>:<port>:participant"
            for i in range(1, ENSEMBLE + 1)] + ["version=0"]


def mask_member_ports(line):
    """A `server.N=host:quorum:election…` line with both ports masked."""
    return re.sub(r"^(server\.\d+=[^:]+):\d+:\d+", r"\1:<port>:<port>", line)


def fmt_stat(t, stat):
    """One-line Stat with times masked, the owner as a named session and
    zxids as fmt_zxid shows them."""
    return (
        f"czxid={fmt_zxid(stat.czxid)} mzxid={fmt_zxid(stat.mzxid)} "
        f"pzxid={fmt_zxid(stat.pzxid)} "
        f"ctime=<time> mtime=<time> version={stat.version} cversion={stat.cversion} "
        f"aversion={stat.aversion} ephemeralOwner={t.sid(stat.ephemeralOwner)} "
        f"dataLength={stat.dataLength} numChildren={stat.numChildren}"
    )
