"""The jepsen workloads: kazoo clients in threads that record every operation
in a History (lib/history.py) for the checkers of lib/checker.py.

Each worker has a home member (first in its connect string, the others
after it, not shuffled) so faults of one member hit some clients directly.
An operation whose outcome is unknown (ConnectionLoss, a session lost, no
answer within OP_TIMEOUT_S) is `info`, and the worker continues under a new
process name: the old operation may still be in flight.
"""

import json
import os
import queue
import random
import subprocess
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NodeExistsError, NoNodeError
from kazoo.protocol.states import KazooState, KeeperState
from kazoo.retry import KazooRetry

from history import FAIL, INFO, OK

ROOT = "/jepsen"
# Session timeout of every client: pauses of 4-7 s outlast it.
SESSION_TIMEOUT_S = 5.0
# An operation without an answer after this long is info.
OP_TIMEOUT_S = 6.0
# Register ops per key before the workers move to fresh keys (bounds the
# linearizability search), and keys in use at once.
OPS_PER_KEY = 120
KEYS_ACTIVE = 2
# Register values are 0..REGISTER_VALUES-1 (small, as Knossos' cas-register).
REGISTER_VALUES = 5
# Attempts of one counter increment whose CAS meets BadVersion.
INC_ATTEMPTS = 10
# Pause between a worker's operations.
THINK_S = 0.01


class Unknown(Exception):
    """The outcome of an operation is unknown."""


def new_client(hosts):
    """A started kazoo client with the jepsen session timeout (None when it
    cannot connect within a few seconds: a fault is in the way)."""
    c = KazooClient(hosts=hosts, timeout=SESSION_TIMEOUT_S, randomize_hosts=False,
                    connection_retry=KazooRetry(max_tries=-1, delay=0.05, max_delay=0.5))
    try:
        c.start(timeout=5)
    except Exception:  # noqa: BLE001 - no member reachable now; tried again later
        stop_client(c)
        return None
    return c


def stop_client(c):
    """Stop and close, ignoring a dying connection's errors."""
    try:
        c.stop()
        c.close()
    except Exception:  # noqa: BLE001
        pass


def wait(result):
    """The value of a kazoo async result, or Unknown after OP_TIMEOUT_S."""
    try:
        return result.get(timeout=OP_TIMEOUT_S)
    except (BadVersionError, NoNodeError, NodeExistsError):
        raise
    except Exception as exc:  # noqa: BLE001 - ConnectionLoss, session lost, timeout
        raise Unknown(type(exc).__name__) from exc


class Worker:
    """A thread running one workload's operations until stopped."""

    def __init__(self, name, hosts, history, seed, stop):
        self.name = name
        self.hosts = hosts
        self.history = history
        self.rng = random.Random(seed)
        self.stop = stop
        self.gen = 0
        self.client = None
        self.thread = threading.Thread(target=self.loop, daemon=True, name=name)

    @property
    def process(self):
        """The current process name (a new one after each info)."""
        return f"{self.name}.{self.gen}"

    def start(self):
        """Start the thread."""
        self.thread.start()
        return self

    def connected(self):
        """A client, connecting one if needed; None while none can be had."""
        if self.client is None:
            self.client = new_client(self.hosts)
        return self.client

    def loop(self):
        """Operations until stopped, then close the client."""
        try:
            while not self.stop.is_set():
                if self.connected() is None:
                    time.sleep(0.2)
                    continue
                self.step()
                time.sleep(self.rng.uniform(0, THINK_S))
        finally:
            self.finish()

    def finish(self):
        """Close the client."""
        if self.client is not None:
            stop_client(self.client)

    def run_op(self, f, key, value, body):
        """Record invoke, run body() -> result; ok, fail on a definite error,
        info (and a new process) when unknown."""
        done = self.history.invoke(self.process, f, key, value)
        try:
            result = body()
        except (BadVersionError, NoNodeError, NodeExistsError):
            done(FAIL)
            return None
        except Unknown:
            done(INFO)
            self.gen += 1
            return None
        done(OK, result)
        return result

    def join(self, timeout_s):
        """Wait (bounded) for the thread."""
        self.thread.join(timeout_s)


class KeyWindow:
    """Register keys in use: KEYS_ACTIVE at a time, the next ones after
    OPS_PER_KEY operations each."""

    def __init__(self):
        self.lock = threading.Lock()
        self.count = 0

    def next_key(self, rng):
        """The key for the next operation."""
        with self.lock:
            window = self.count // (OPS_PER_KEY * KEYS_ACTIVE)
            self.count += 1
        return f"{ROOT}/register/k{window * KEYS_ACTIVE + rng.randrange(KEYS_ACTIVE):05d}"


class RegisterWorker(Worker):
    """read (sync+get, or get only with sync_reads False), write (set), cas
    (get, then set with its version) on a few znodes holding 0..4. A key is
    created holding 0 before its first operation."""

    def __init__(self, name, hosts, history, seed, stop, keys, sync_reads=True):
        super().__init__(name, hosts, history, seed, stop)
        self.keys = keys
        self.sync_reads = sync_reads
        self.created = set()

    def ensure(self, key):
        """Create the key holding 0 unless this worker saw it exist."""
        if key in self.created:
            return True
        try:
            wait(self.client.create_async(key, b"0"))
        except NodeExistsError:
            pass
        except (Unknown, NoNodeError):
            return False
        self.created.add(key)
        return True

    def step(self):
        key = self.keys.next_key(self.rng)
        if not self.ensure(key):
            return
        c = self.client
        roll = self.rng.random()
        if roll < 0.4:
            def read():
                if self.sync_reads:
                    wait(c.sync_async(key))
                return int(wait(c.get_async(key))[0])
            self.run_op("read", key, None, read)
        elif roll < 0.7:
            v = self.rng.randrange(REGISTER_VALUES)
            self.run_op("write", key, v, lambda: wait(c.set_async(key, str(v).encode())) and None)
        else:
            try:
                data, stat = wait(c.get_async(key))
            except (Unknown, NoNodeError):
                return
            new = self.rng.randrange(REGISTER_VALUES)
            self.run_op("cas", key, [int(data), new],
                        lambda: wait(c.set_async(key, str(new).encode(), stat.version)) and None)


class SetWorker(Worker):
    """add: a sequential create /jepsen/set/<element>-<seq>; read:
    sync+getChildren, the elements listed."""

    def __init__(self, name, hosts, history, seed, stop):
        super().__init__(name, hosts, history, seed, stop)
        self.n = 0

    def step(self):
        c = self.client
        parent = f"{ROOT}/set"
        if self.rng.random() < 0.2:
            def read():
                wait(c.sync_async(parent))
                return sorted(elements(wait(c.get_children_async(parent))))
            self.run_op("read", "set", None, read)
            return
        element = f"{self.name}_{self.n}"
        self.n += 1
        self.run_op("add", "set", element,
                    lambda: wait(c.create_async(f"{parent}/{element}-", b"", sequence=True))
                    and None)


def elements(children):
    """Set elements of /jepsen/set's child names (`<element>-<seq>`)."""
    return [name.rsplit("-", 1)[0] for name in children]


class CounterWorker(Worker):
    """inc: get, then set value+1 with its version, again on BadVersion;
    read: sync+get."""

    def step(self):
        c = self.client
        path = f"{ROOT}/counter"
        if self.rng.random() < 0.3:
            def read():
                wait(c.sync_async(path))
                return int(wait(c.get_async(path))[0])
            self.run_op("read", "counter", None, read)
            return

        def inc():
            for _ in range(INC_ATTEMPTS):
                data, stat = wait(c.get_async(path))
                try:
                    wait(c.set_async(path, str(int(data) + 1).encode(), stat.version))
                    return None
                except BadVersionError:
                    continue
            raise BadVersionError()
        self.run_op("inc", "counter", None, inc)


class SessionWorker(Worker):
    """Sessions that create ephemerals, check them now and then through
    themselves (own: sync+exists), close (acknowledged or not), and have
    another client check them after the close (other). A process is one
    session: a session lost or replaced ends it."""

    def __init__(self, name, hosts, history, seed, stop, observer_hosts):
        super().__init__(name, hosts, history, seed, stop)
        self.observer_hosts = observer_hosts
        self.final = threading.Event()
        self.states = []

    def loop(self):
        observer = None
        try:
            while not self.stop.is_set():
                if observer is None:
                    observer = new_client(self.observer_hosts)
                c = new_client(self.hosts)
                if c is None or observer is None:
                    time.sleep(0.2)
                    continue
                self.one_session(c, observer)
                self.gen += 1
                if self.final.is_set():
                    return
        finally:
            if observer is not None:
                stop_client(observer)

    def one_session(self, c, observer):
        """Create ephemerals, check them for a while, close, observe."""
        states = []
        original = c._session_callback

        def record(state):
            states.append(state)
            original(state)
        c._session_callback = record
        sid = c.client_id[0]
        lost = threading.Event()
        c.add_listener(lambda s: lost.set() if s == KazooState.LOST else None)
        mine = []
        for i in range(self.rng.randint(1, 3)):
            path = f"{ROOT}/session/{self.name}_{self.gen}_{i}"
            done = self.history.invoke(self.process, "create", "session", path)
            try:
                wait(c.create_async(path, b"", ephemeral=True))
                done(OK, sid)
                mine.append(path)
            except NodeExistsError:
                done(FAIL)
            except Unknown:
                done(INFO)
                mine.append(path)
        until = time.monotonic() + self.rng.uniform(2, 6)
        while (time.monotonic() < until or self.final.is_set()) and not lost.is_set() \
                and c.client_id and c.client_id[0] == sid and not self.stop.is_set():
            for path in mine:
                self.own_check(c, sid, path, lost)
            if self.final.is_set():
                break
            time.sleep(0.3)
        done = self.history.invoke(self.process, "close", "session", None)
        stop_client(c)
        done(OK if KeeperState.CLOSED in states and not lost.is_set() else INFO)
        for path in mine:
            done = self.history.invoke(f"{self.name}-observer", "other", "session", path)
            try:
                wait(observer.sync_async(path))
                done(OK, wait(observer.exists_async(path)) is not None)
            except (Unknown, NoNodeError):
                done(INFO)

    def own_check(self, c, sid, path, lost):
        """sync+exists of an own ephemeral; info unless the session stayed the same."""
        done = self.history.invoke(self.process, "own", "session", path)
        try:
            wait(c.sync_async(path))
            found = wait(c.exists_async(path)) is not None
        except (Unknown, NoNodeError):
            done(INFO)
            return
        same = not lost.is_set() and c.client_id and c.client_id[0] == sid
        done(OK if same else INFO, found if same else None)


class WatchWriter(Worker):
    """Sets /jepsen/watch/n to 1, 2, 3, ... (wwrite)."""

    def __init__(self, name, hosts, history, seed, stop):
        super().__init__(name, hosts, history, seed, stop)
        self.n = 0

    def step(self):
        self.n += 1
        n = self.n
        self.run_op("wwrite", "watch", n,
                    lambda: wait(self.client.set_async(f"{ROOT}/watch/n", str(n).encode()))
                    .version)
        time.sleep(0.05)


class Watcher(Worker):
    """A data watch on /jepsen/watch/n, re-armed by a get after every event:
    wread (the version the get saw), wevent; at the end wfinal. A session
    lost or replaced, or a dropped connection (kazoo 2.8 forgets its watches
    then), starts a new process."""

    def __init__(self, name, hosts, history, seed, stop):
        super().__init__(name, hosts, history, seed, stop)
        self.done = threading.Event()

    def loop(self):
        try:
            while not self.done.is_set():
                c = new_client(self.hosts)
                if c is None:
                    time.sleep(0.2)
                    continue
                try:
                    self.watch(c)
                finally:
                    stop_client(c)
                self.gen += 1
        except Exception:  # noqa: BLE001 - a broken watcher ends; the check sees it
            pass

    def watch(self, c):
        """One session's chain of reads and events."""
        path = f"{ROOT}/watch/n"
        sid = c.client_id[0]
        lost = threading.Event()
        c.add_listener(lambda s: lost.set() if s == KazooState.LOST else None)
        events = queue.Queue()
        process = self.process
        armed = False
        while not self.done.is_set():
            if not armed:
                done = self.history.invoke(process, "wread", "watch", None)
                try:
                    _, stat = wait(c.get_async(path, watch=events.put))
                except (Unknown, NoNodeError):
                    done(INFO)
                    return
                if lost.is_set() or c.client_id[0] != sid:
                    done(INFO)
                    return
                done(OK, stat.version)
                armed = True
            try:
                event = events.get(timeout=0.2)
            except queue.Empty:
                if lost.is_set() or not c.client_id or c.client_id[0] != sid:
                    return
                continue
            armed = False
            if event.type == "NONE":
                # kazoo 2.8 drops every watch when a connection drops and
                # tells its watchers so: the chain starts again.
                self.gen += 1
                process = self.process
                continue
            self.history.invoke(process, "wevent", "watch", None)(OK, event.type)
        while not events.empty():
            event = events.get()
            if event.type != "NONE":
                self.history.invoke(process, "wevent", "watch", None)(OK, event.type)
        alive = not lost.is_set() and c.client_id and c.client_id[0] == sid
        self.history.invoke(process, "wfinal", "watch", None)(OK, bool(alive))


class JavaRegister:
    """The register workload through the Java client: compat-tests/java's
    JepsenRegister (one session per thread, keys under /jepsen/jregister),
    whose event lines go into the history with the times it took."""

    def __init__(self, hosts, history, seed, threads, live):
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        classpath = subprocess.check_output([os.path.join(here, "java", "build")],
                                            text=True).strip()
        self.history = history
        self.proc = subprocess.Popen(
            ["java", "-Xmx256m", "-cp", classpath, "paddock.compat.JepsenRegister", hosts,
             f"{ROOT}/jregister", str(threads), str(seed)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, start_new_session=True)
        live.add(self.proc)
        self.finished = threading.Event()
        self.thread = threading.Thread(target=self.read, daemon=True, name="java-register")
        self.thread.start()

    def read(self):
        """Each line: process type f key value nanoTime."""
        for line in self.proc.stdout:
            parts = line.split()
            if parts == ["done"]:
                self.finished.set()
                continue
            if len(parts) != 6:
                continue
            process, type_, f, key, value, nanos = parts
            self.history.add(process, type_, f, key, json.loads(value), int(nanos) / 1e9)

    def stop(self, timeout_s):
        """Close its stdin and wait (bounded) for `done`; True when it finished."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        finished = self.finished.wait(timeout_s)
        self.thread.join(5)
        return finished
