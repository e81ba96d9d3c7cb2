"""Ensembles of real server processes on 127.0.0.1 for the fault harnesses
(ensemble-failover, jepsen): members, their zoo.cfg and processes, TCP relays
between members that can be cut or frozen, kazoo clients, tree dumps and the
convergence check.

Every process group started is in LIVE until reaped; a harness reaps what is
left there on every exit path (see `reap_all`).
"""

import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.retry import KazooRetry

from ports import free_ports

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(HERE)
# zoo.cfg of every member, before its server.N lines; Cluster(settings=)
# overrides or adds keys.
CFG_DEFAULTS = {
    "tickTime": 500,
    "initLimit": 10,
    "syncLimit": 5,
    "4lw.commands.whitelist": "*",
    "admin.enableServer": "false",
    "maxClientCnxns": 0,
}
STABLE_TIMEOUT_S = 60
CONVERGE_TIMEOUT_S = 60
STOP_GRACE_S = 15
LOG_TAIL_LINES = 30

# Every process group started and not yet reaped; stopped on any exit path.
LIVE = set()


def log(msg):
    """Progress and diagnostics go to stderr; stdout holds the verdicts."""
    print(msg, file=sys.stderr, flush=True)


def say(msg):
    """A verdict or measurement line on stdout."""
    print(msg, flush=True)


def four_letter_word(port, word, timeout_s=1.0):
    """A member's whole answer to a four-letter word ('' on failure)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout_s) as s:
            s.sendall(word.encode())
            chunks = []
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return b"".join(chunks).decode("utf-8", "replace")
                chunks.append(chunk)
    except OSError:
        return ""


def srvr_field(port, name):
    """A `Name: value` field of srvr ('' when absent or unreachable)."""
    found = re.search(rf"^{name}: (\S+)$", four_letter_word(port, "srvr"), re.M)
    return found.group(1) if found else ""


def mntr_value(port, key):
    """One mntr value as an int (None when absent)."""
    found = re.search(rf"^{key}\t(-?\d+)$", four_letter_word(port, "mntr"), re.M)
    return int(found.group(1)) if found else None


def kill_group(proc, sig):
    """Send sig to a process group (ignoring one already gone)."""
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def reap(proc, grace_s):
    """SIGTERM, then SIGKILL after grace_s, and wait; forget the group."""
    if proc.poll() is None:
        kill_group(proc, signal.SIGCONT)
        kill_group(proc, signal.SIGTERM)
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            pass
    kill_group(proc, signal.SIGKILL)
    proc.wait()
    LIVE.discard(proc)


def on_signal(signum, _frame):
    """SIGTERM/SIGHUP become an exception so cleanup runs."""
    raise KeyboardInterrupt(f"signal {signum}")


def cfg_text(member, settings):
    """A member's zoo.cfg without its server.N lines."""
    lines = [f"dataDir={member.data_dir}", f"clientPort={member.port}",
             "clientPortAddress=127.0.0.1"]
    lines += [f"{k}={v}" for k, v in settings.items()]
    return "\n".join(lines) + "\n"


def reap_all(grace_s=2):
    """Reap every process group still in LIVE."""
    for proc in list(LIVE):
        reap(proc, grace_s)


# ------------------------------------------------------------------ proxy


class Relay:
    """A TCP relay from a local port to a target port that can be cut and healed."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.cut = False
        self.frozen = False
        self.open = []
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        """Accept; refuse (close) while cut, else relay both ways."""
        while not self.closed:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            if self.cut:
                conn.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), 2)
            except OSError:
                conn.close()
                continue
            with self.lock:
                self.open += [conn, upstream]
            threading.Thread(target=self.pump, args=(conn, upstream), daemon=True).start()

    def pump(self, a, b):
        """Copy bytes both ways until either side closes or the relay is cut.

        Bytes read while frozen are held, not sent: a read that began before
        the freeze may return bytes written after it (a thread preempted
        between its frozen check and its recv drained a leader's proposal
        made after the freeze along with the ping before it, and scenario
        d's "uncommitted" write reached the followers, in CI on 2026-12-06).
        Held bytes go out when thawed and are dropped when cut."""
        held = []
        try:
            while True:
                if self.frozen:
                    time.sleep(0.02)
                    continue
                for s, data in held:
                    (b if s is a else a).sendall(data)
                held = []
                ready, _, _ = select.select([a, b], [], [], 0.1)
                if self.frozen:
                    continue
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    if self.frozen:
                        held.append((s, data))
                    else:
                        (b if s is a else a).sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for s in (a, b):
                close_quietly(s)

    def set_frozen(self, frozen):
        """Frozen: relay nothing (bytes wait in socket buffers) until thawed or cut."""
        self.frozen = frozen

    def set_cut(self, cut):
        """Cut: close every relayed connection and refuse new ones; or heal."""
        self.cut = cut
        if cut:
            with self.lock:
                sockets, self.open = self.open, []
            for s in sockets:
                close_quietly(s)

    def close(self):
        """Stop accepting and drop everything."""
        self.closed = True
        self.set_cut(True)
        close_quietly(self.listener)


def close_quietly(s):
    """shutdown+close a socket, ignoring errors."""
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass


# ---------------------------------------------------------------- cluster


class Member:
    """One ensemble member: ports, dataDir with myid, cfg, log and process."""

    def __init__(self, root, sid, ports):
        self.sid = sid
        self.port, self.quorum_port, self.election_port = ports
        self.dir = os.path.join(root, f"server{sid}")
        self.data_dir = os.path.join(self.dir, "data")
        self.cfg = os.path.join(self.dir, "zoo.cfg")
        self.log_path = os.path.join(self.dir, "server.log")
        # Paddock's log thread holds every flush while this file exists
        # (PADDOCK_FAILPOINT_LOG_STALL): a stalled disk.
        self.stall_path = os.path.join(self.dir, "log-stall")
        self.proc = None
        os.makedirs(self.data_dir)
        with open(os.path.join(self.data_dir, "myid"), "w") as f:
            f.write(f"{sid}\n")

    @property
    def host(self):
        """This member's client address."""
        return f"127.0.0.1:{self.port}"

    def running(self):
        """True while the process is alive (stopped counts as alive)."""
        return self.proc is not None and self.proc.poll() is None


class Cluster:
    """A fresh ensemble; with proxied=True, peers reach each other through Relays."""

    def __init__(self, target, size, root, proxied=False, settings=None, jvmflags=""):
        self.target = target
        # SERVER_JVMFLAGS of every member (ZooKeeper's JVM takes them as flags).
        self.jvmflags = jvmflags
        # zoo.cfg keys over CFG_DEFAULTS, e.g. {"syncLimit": 4, "snapCount": 2000}.
        self.settings = dict(CFG_DEFAULTS, **(settings or {}))
        ports = free_ports(3 * size)
        self.members = {sid: Member(root, sid, ports[3 * sid - 3:3 * sid])
                        for sid in range(1, size + 1)}
        # (from, to, "q"|"e") -> Relay forwarding to `to`'s real port.
        self.relays = {}
        for m in self.members.values():
            lines = []
            for o in self.members.values():
                q, e = o.quorum_port, o.election_port
                if proxied and o.sid != m.sid:
                    rq, re_ = Relay(q), Relay(e)
                    self.relays[(m.sid, o.sid, "q")] = rq
                    self.relays[(m.sid, o.sid, "e")] = re_
                    q, e = rq.port, re_.port
                lines.append(f"server.{o.sid}=127.0.0.1:{q}:{e}\n")
            with open(m.cfg, "w") as f:
                f.write(cfg_text(m, self.settings) + "".join(lines))

    def connect_string(self, sids=None):
        """Client addresses of the given members (all by default)."""
        return ",".join(self.members[s].host for s in (sids or self.members))

    def start(self, sid):
        """Start one member; its output is appended to its server.log."""
        m = self.members[sid]
        env = dict(os.environ, SERVER_JVMFLAGS=self.jvmflags)
        if self.target == "paddock":
            argv = [paddock_binary(), "server", m.cfg]
            env["PADDOCK_FAILPOINT_LOG_STALL"] = m.stall_path
        else:
            argv = ["java", "-cp", zookeeper_classpath(), *self.jvmflags.split(),
                    "org.apache.zookeeper.server.quorum.QuorumPeerMain", m.cfg]
        with open(m.log_path, "ab") as out:
            m.proc = subprocess.Popen(argv, cwd=m.dir, env=env, stdin=subprocess.DEVNULL,
                                      stdout=out, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        LIVE.add(m.proc)

    def start_all(self):
        """Start every member."""
        for sid in self.members:
            self.start(sid)

    def signal(self, sid, sig):
        """Send a signal to a member's process group."""
        kill_group(self.members[sid].proc, sig)

    def kill(self, sid):
        """SIGKILL a member and reap it."""
        self.signal(sid, signal.SIGKILL)
        self.members[sid].proc.wait()
        LIVE.discard(self.members[sid].proc)

    def stop(self, sid):
        """SIGTERM a member and wait for it (SIGKILL after a grace period)."""
        reap(self.members[sid].proc, STOP_GRACE_S)

    def modes(self, sids=None):
        """{sid: srvr Mode ('' when not serving)} of the given running members."""
        return {s: srvr_field(self.members[s].port, "Mode")
                for s in (sids or self.members) if self.members[s].running()}

    def wait_stable(self, sids=None, timeout_s=STABLE_TIMEOUT_S, not_leader=None):
        """The leader's sid once, among `sids`, one leads and the rest follow; None on timeout."""
        sids = list(sids or self.members)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            modes = self.modes(sids)
            leaders = [s for s, mode in modes.items() if mode == "leader"]
            if (len(modes) == len(sids) and len(leaders) == 1 and leaders[0] != not_leader
                    and all(mode in ("leader", "follower") for mode in modes.values())):
                return leaders[0]
            time.sleep(0.1)
        log(f"not stable after {timeout_s}s: modes {self.modes(sids)}")
        return None

    def cut(self, sid, cut=True):
        """Cut (or heal) every relay into and out of member `sid`."""
        for (a, b, _), relay in self.relays.items():
            if sid in (a, b):
                relay.set_cut(cut)

    def cut_pairs(self, pairs):
        """Cut the relays both ways between each pair {a, b} of members."""
        for (a, b, _), relay in self.relays.items():
            if frozenset((a, b)) in pairs:
                relay.set_cut(True)

    def heal(self):
        """Heal every relay: nothing cut, nothing frozen."""
        for relay in self.relays.values():
            relay.set_cut(False)
            relay.set_frozen(False)

    def stall_disk(self, sid, stalled=True):
        """Stall (or release) member `sid`'s log flushes (Paddock only)."""
        path = self.members[sid].stall_path
        if stalled:
            with open(path, "w"):
                pass
        elif os.path.exists(path):
            os.remove(path)

    def freeze(self, sid, frozen=True):
        """Freeze (or thaw) every relay into and out of member `sid`."""
        for (a, b, _), relay in self.relays.items():
            if sid in (a, b):
                relay.set_frozen(frozen)

    def shutdown(self):
        """Stop every member and relay."""
        for m in self.members.values():
            if m.proc is not None:
                reap(m.proc, 5)
        for relay in self.relays.values():
            relay.close()

    def keep_logs(self, dest):
        """Copy every member's log to the directory dest (emptied first)."""
        shutil.rmtree(dest, ignore_errors=True)
        os.makedirs(dest)
        for m in self.members.values():
            if os.path.exists(m.log_path):
                shutil.copy(m.log_path, os.path.join(dest, f"server{m.sid}.log"))
        return dest

    def log_tails(self):
        """The last lines of every member's log."""
        out = []
        for m in self.members.values():
            try:
                with open(m.log_path, errors="replace") as f:
                    tail = f.readlines()[-LOG_TAIL_LINES:]
            except OSError:
                tail = []
            out.append(f"=== server.{m.sid}\n" + "".join(tail))
        return "".join(out)


def paddock_binary():
    """PADDOCK_BIN, else the release binary under CARGO_TARGET_DIR (or target/)."""
    if os.environ.get("PADDOCK_BIN"):
        return os.environ["PADDOCK_BIN"]
    target_dir = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
    return os.path.join(target_dir, "release", "paddock")


def zookeeper_classpath():
    """ZK_CLASSPATH, else Debian's ZooKeeper jars and every jar beside them."""
    return os.environ.get("ZK_CLASSPATH") or \
        "/usr/share/java/zookeeper.jar:/usr/share/java/zookeeper-jute.jar:/usr/share/java/*"


# ---------------------------------------------------------------- clients


def client(hosts, timeout_s=10.0):
    """A started kazoo client retrying its connection forever (commands never)."""
    c = KazooClient(hosts=hosts, timeout=timeout_s,
                    connection_retry=KazooRetry(max_tries=-1, delay=0.05, max_delay=0.5))
    c.start(timeout=30)
    return c


def close(c):
    """Stop and close a kazoo client, ignoring errors of a dying connection."""
    try:
        c.stop()
        c.close()
    except Exception:  # noqa: BLE001 - the connection may already be gone
        pass


def dump_tree(host, with_owner=False):
    """{path: data} of the whole tree as one member has it (after sync),
    /zookeeper excluded; with_owner, {path: (data, ephemeralOwner)}."""
    c = client(host)
    try:
        c.sync("/")
        tree = {}
        level = ["/"]
        while level:
            kids = [(p, c.get_children_async(p)) for p in level]
            level = []
            for p, r in kids:
                for name in r.get(timeout=30):
                    child = ("" if p == "/" else p) + "/" + name
                    if child != "/zookeeper":
                        level.append(child)
            datas = [(p, c.get_async(p)) for p in level]
            for p, r in datas:
                data, stat = r.get(timeout=30)
                tree[p] = (data, stat.ephemeralOwner) if with_owner else data
        return tree
    finally:
        close(c)


def converge(cluster, sids=None, with_owner=False, timeout_s=CONVERGE_TIMEOUT_S):
    """Wait until every given member has the same tree; return (trees by sid, problem)."""
    sids = list(sids or cluster.members)
    deadline = time.monotonic() + timeout_s
    trees = {}
    while time.monotonic() < deadline:
        try:
            trees = {s: dump_tree(cluster.members[s].host, with_owner) for s in sids}
        except Exception as exc:  # noqa: BLE001 - a member not ready yet; retried
            log(f"dump failed: {type(exc).__name__}: {exc}")
            time.sleep(0.5)
            continue
        if all(trees[s] == trees[sids[0]] for s in sids):
            return trees, None
        time.sleep(0.5)
    sizes = {s: len(t) for s, t in trees.items()}
    return trees, f"trees differ after {timeout_s}s (node counts {sizes})"
