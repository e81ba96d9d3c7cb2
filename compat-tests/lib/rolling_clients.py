"""The client load of ensemble-rolling: kazoo sessions with an ephemeral and
watches, a kazoo writer that records every acknowledged write with its time,
and Curator sessions (compat-tests/rolling/RollingCurator.java) that do all
of that in one JVM each and report it on stdout.

Watches: kazoo 2.8 does not send SetWatches. When its connection drops it
forgets every watch (its watchers get a NONE event) and its DataWatch and
ChildrenWatch recipes read again, with a new watch, once it is connected.
The Java client under Curator keeps its watches across a reconnection and
sends them to the new server in SetWatches with its last zxid; the server
fires at once those whose node changed meanwhile.
"""

import os
import subprocess
import threading
import time

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import (ConnectionLoss, KazooException, OperationTimeoutError,
                              SessionExpiredError)
from kazoo.recipe.watchers import ChildrenWatch, DataWatch
from kazoo.retry import KazooRetry

from ensemble import LIVE, REPO, log

WATCHED = "/roll/watch"
KIDS = "/roll/kids"
# Requested session timeout (maxSessionTimeout must allow it).
SESSION_S = 30.0
# Between two writes of the kazoo writer (bounds the tree the checks dump).
WRITE_PAUSE_S = 0.01
CURATOR_WRITE_PAUSE_MS = 40
JAVA_SRC = os.path.join(REPO, "compat-tests", "rolling", "RollingCurator.java")
JAVA_OUT = os.path.join(REPO, "target", "compat-cache", "rolling")
JARS = "/usr/share/java"
JAVA_DEPS = ":".join(f"{JARS}/{j}.jar" for j in (
    "zookeeper", "zookeeper-jute", "curator-client", "curator-framework", "curator-recipes"))


def kazoo_client(hosts):
    """A started kazoo client that keeps reconnecting (commands are not retried)."""
    c = KazooClient(hosts=hosts, timeout=SESSION_S,
                    connection_retry=KazooRetry(max_tries=-1, delay=0.05, max_delay=0.5))
    c.start(timeout=30)
    return c


def retried(fn, deadline_s=30.0):
    """fn() again after ConnectionLoss/OperationTimeout until deadline_s; other errors raise."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            return fn()
        except (ConnectionLoss, OperationTimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


class KazooSession:
    """One kazoo session: its ephemeral, a DataWatch and a ChildrenWatch, its states."""

    kind = "kazoo"

    def __init__(self, name, hosts):
        self.name = name
        self.hosts = hosts
        self.client = kazoo_client(hosts)
        self.session_id = self.client.client_id[0]
        self.lock = threading.Lock()
        self.states = []
        self.data_seen = set()
        self.kids_seen = set()
        self.client.add_listener(self.on_state)
        self.client.create(f"/roll/eph/{name}", b"", ephemeral=True)
        DataWatch(self.client, WATCHED, self.on_data)
        ChildrenWatch(self.client, KIDS, self.on_kids)

    def on_state(self, state):
        with self.lock:
            self.states.append(state)

    def on_data(self, data, _stat):
        with self.lock:
            if data is not None:
                self.data_seen.add(data.decode())

    def on_kids(self, children):
        with self.lock:
            self.kids_seen.update(children)

    def problems(self):
        """Why this session is not intact: lost, or another session id."""
        out = []
        with self.lock:
            if KazooState.LOST in self.states:
                out.append(f"{self.name}: session lost (states {self.states})")
        # kazoo's client_id is None while disconnected; _session_id is reset
        # only when the session is lost.
        if self.client._session_id != self.session_id:  # noqa: SLF001
            out.append(f"{self.name}: session changed to {self.client._session_id}")
        return out

    def write(self, label):
        """A write through this session (after reconnecting); a problem or None."""
        try:
            retried(lambda: self.client.set(f"/roll/s/{self.name}", label.encode()))
            return None
        except SessionExpiredError:
            return f"{self.name}: session expired"
        except KazooException as e:
            return f"{self.name}: write failed: {type(e).__name__}"

    def saw(self, data, kid):
        """True once this session's watches reported data and the child kid."""
        with self.lock:
            return data in self.data_seen and kid in self.kids_seen

    def close(self):
        try:
            self.client.stop()
            self.client.close()
        except Exception:  # noqa: BLE001 - the connection may already be gone
            pass


class Writer:
    """Synchronous creates under /roll/w through one client, one at a time;
    each acknowledged one is recorded with its monotonic ack time. Pausable."""

    def __init__(self, hosts):
        self.client = kazoo_client(hosts)
        self.lock = threading.Lock()
        self.acked = {}
        self.ack_times = []
        self.errors = {}
        self.running = threading.Event()
        self.running.set()
        self.idle = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        n = 0
        while not self.stopping.is_set():
            if not self.running.is_set():
                self.idle.set()
                self.running.wait(0.2)
                continue
            self.idle.clear()
            path = f"/roll/w/n-{n:07d}"
            n += 1
            try:
                self.client.create(path, path.encode())
                with self.lock:
                    self.acked[path] = path.encode()
                    self.ack_times.append(time.monotonic())
            except Exception as e:  # noqa: BLE001 - counted; never acknowledged
                with self.lock:
                    name = type(e).__name__
                    self.errors[name] = self.errors.get(name, 0) + 1
                time.sleep(0.05)
            time.sleep(WRITE_PAUSE_S)
        self.idle.set()

    def pause(self):
        """Stop sending; returns once the write in flight is settled."""
        self.running.clear()
        self.idle.wait(60)

    def resume(self):
        self.running.set()

    def acks(self):
        with self.lock:
            return list(self.ack_times)

    def stop(self):
        self.stopping.set()
        self.running.set()
        self.thread.join(60)
        try:
            self.client.stop()
            self.client.close()
        except Exception:  # noqa: BLE001
            pass


def build_curator():
    """Compiles RollingCurator into target/compat-cache/rolling when the
    source is newer; returns the runtime classpath."""
    stamp = os.path.join(JAVA_OUT, ".built")
    if not os.path.exists(stamp) or os.path.getmtime(stamp) < os.path.getmtime(JAVA_SRC):
        os.makedirs(JAVA_OUT, exist_ok=True)
        subprocess.check_call(["javac", "-Xlint:all,-path", "-Werror", "-d", JAVA_OUT,
                               "-cp", JAVA_DEPS, JAVA_SRC])
        with open(stamp, "w"):
            pass
    return f"{JAVA_OUT}:{JAVA_DEPS}:{JARS}/slf4j-nop.jar"


class CuratorSession:
    """A RollingCurator JVM; its stdout goes to a file read back for the checks."""

    kind = "curator"

    def __init__(self, name, hosts, classpath, out_dir):
        self.name = name
        self.hosts = hosts
        self.out_path = os.path.join(out_dir, f"curator-{name}.out")
        self.out = open(self.out_path, "w")
        self.proc = subprocess.Popen(
            ["java", "-Xmx128m", "-XX:TieredStopAtLevel=1", "-cp", classpath,
             "paddock.rolling.RollingCurator", hosts, name, str(int(SESSION_S * 1000)),
             str(CURATOR_WRITE_PAUSE_MS)],
            stdin=subprocess.PIPE, stdout=self.out, stderr=subprocess.STDOUT,
            start_new_session=True, text=True)
        LIVE.add(self.proc)
        self.session_id = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.proc.poll() is None:
            lines = self.lines()
            sessions = [ln.split()[1] for ln in lines if ln.startswith("session ")]
            if sessions and any(ln.startswith("children ") for ln in lines):
                self.session_id = int(sessions[0], 16)
                return
            time.sleep(0.2)
        raise RuntimeError(f"curator {name} did not start: {self.lines()[-5:]}")

    def lines(self):
        with open(self.out_path) as f:
            return f.read().splitlines()

    def problems(self):
        out = []
        lines = self.lines()
        sessions = {ln.split()[1] for ln in lines if ln.startswith("session ")}
        if len(sessions) != 1:
            out.append(f"{self.name}: sessions {sorted(sessions)}")
        lost = [ln for ln in lines if ln.startswith("state LOST")]
        expired = [ln for ln in lines if ln.startswith("err SessionExpired")]
        if lost or expired:
            out.append(f"{self.name}: {lost[:1] + expired[:1]}")
        if self.proc.poll() is not None:
            out.append(f"{self.name}: exited {self.proc.returncode}")
        return out

    def write(self, _label):
        return None  # it writes all the time; see acked_after

    def acked_after(self, t_wall):
        """True once a write sent after wall time t_wall was acknowledged."""
        for ln in self.lines():
            parts = ln.split()
            if parts[:1] == ["ack"] and int(parts[2]) / 1000 > t_wall:
                return True
        return False

    def saw(self, data, kid):
        seen_data, seen_kid = False, False
        for ln in self.lines():
            parts = ln.split()
            if parts[:1] == ["data"] and len(parts) == 3 and parts[1] == data:
                seen_data = True
            elif parts[:1] == ["children"] and len(parts) == 3 and kid in parts[1].split(","):
                seen_kid = True
        return seen_data and seen_kid

    def acks(self):
        """[(path, sent wall s, acked wall s)] of every acknowledged create."""
        out = []
        for ln in self.lines():
            parts = ln.split()
            if parts[:1] == ["ack"]:
                out.append((parts[1], int(parts[2]) / 1000, int(parts[3]) / 1000))
        return out

    def errors(self):
        out = {}
        for ln in self.lines():
            parts = ln.split()
            if parts[:1] == ["err"]:
                out[parts[1]] = out.get(parts[1], 0) + 1
        return out

    def close(self):
        """stop on stdin; the JVM closes its session and prints done."""
        try:
            self.proc.stdin.write("stop\n")
            self.proc.stdin.close()
            self.proc.wait(60)
        except (OSError, subprocess.TimeoutExpired):
            log(f"curator {self.name} did not stop; killing it")
            self.proc.kill()
            self.proc.wait()
        LIVE.discard(self.proc)
        self.out.close()


def max_gap(ack_times, t0, t1):
    """The longest time between consecutive acknowledgements from the last
    one before t0 to the first one after t1 (None without one after t1)."""
    times = sorted(ack_times)
    before = [t for t in times if t <= t0]
    after = [t for t in times if t > t1]
    if not after:
        return None
    span = ([before[-1]] if before else []) + [t for t in times if t0 < t <= t1] + [after[0]]
    return max(b - a for a, b in zip(span, span[1:])) if len(span) > 1 else 0.0
