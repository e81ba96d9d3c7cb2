"""A raw ZooKeeper protocol client: frames built by hand, so a test can send
what no client library sends (any xid, any bytes as a path) and see the
server's reply header as it is."""

import socket
import struct

# Opcodes (ZooDefs.OpCode).
CREATE, DELETE, EXISTS, GET_DATA, SET_DATA, GET_ACL, SET_ACL = 1, 2, 3, 4, 5, 6, 7
GET_CHILDREN, SYNC, PING, GET_CHILDREN2, CHECK, MULTI, CREATE2 = 8, 9, 11, 12, 13, 14, 15
CREATE_CONTAINER, CREATE_TTL, AUTH, SET_WATCHES, SASL = 19, 21, 100, 101, 102

OPEN_ACL = [(31, "world", "anyone")]


def buffer(data):
    """A Jute buffer (or ustring, as bytes): length then bytes; None is -1."""
    if data is None:
        return struct.pack(">i", -1)
    return struct.pack(">i", len(data)) + data


def ustring(text):
    """A Jute ustring from str (UTF-8) or raw bytes."""
    return buffer(text.encode() if isinstance(text, str) else text)


def acl_vector(acl):
    out = struct.pack(">i", len(acl))
    for perms, scheme, ident in acl:
        out += struct.pack(">i", perms) + ustring(scheme) + ustring(ident)
    return out


def create_body(path, data=b"", flags=0, acl=OPEN_ACL):
    return ustring(path) + buffer(data) + acl_vector(acl) + struct.pack(">i", flags)


def path_version_body(path, version=-1):
    return ustring(path) + struct.pack(">i", version)


def set_data_body(path, data=b"", version=-1):
    return ustring(path) + buffer(data) + struct.pack(">i", version)


def path_watch_body(path, watch=False):
    return ustring(path) + struct.pack(">?", watch)


def multi_body(ops):
    """ops: (opcode, body) pairs; MultiHeader(type, done=false, err=-1) each."""
    out = b""
    for op, body in ops:
        out += struct.pack(">i?i", op, False, -1) + body
    return out + struct.pack(">i?i", -1, True, -1)


def set_watches_body(relative_zxid, data=(), exist=(), child=()):
    out = struct.pack(">q", relative_zxid)
    for paths in (data, exist, child):
        out += struct.pack(">i", len(paths)) + b"".join(ustring(p) for p in paths)
    return out


class Raw:
    """One connection with a session (or, with handshake=False, without)."""

    def __init__(self, connect, timeout_ms=10000, handshake=True):
        host, port = connect.split(",")[0].rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        if handshake:
            req = struct.pack(">iqiq", 0, 0, timeout_ms, 0) + buffer(b"\0" * 16) + b"\0"
            self.send_frame(req)
            reply = self.read_frame()
            self.timeout_ms, self.session_id = struct.unpack(">iq", reply[4:16])

    def send_frame(self, payload):
        self.sock.sendall(struct.pack(">i", len(payload)) + payload)

    def read_frame(self):
        head = self.read_exact(4)
        (n,) = struct.unpack(">i", head)
        return self.read_exact(n)

    def read_exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise ConnectionError("closed by the server")
            out += chunk
        return out

    def request(self, xid, op, body=b""):
        """Sends one request; returns the first reply that is not a watch
        event as (xid, zxid, err, body)."""
        self.send_frame(struct.pack(">ii", xid, op) + body)
        while True:
            reply = self.read_frame()
            rxid, zxid, err = struct.unpack(">iqi", reply[:16])
            if rxid != -1:
                return rxid, zxid, err, reply[16:]

    def closed(self):
        """True when the server has closed the connection (waits up to the
        socket timeout for it)."""
        try:
            return self.sock.recv(1) == b""
        except (ConnectionError, socket.timeout):
            return False

    def close(self):
        self.sock.close()
