"""Histories of client operations for the jepsen harness and its checkers.

A history is a list of events, Jepsen-style: (process, type, f, key, value,
time) with type one of

- `invoke`: the process sends operation f on key with argument value;
- `ok`: it completed and happened (value is its result, e.g. what a read saw);
- `fail`: it completed and certainly did not happen (BadVersion, NodeExists);
- `info`: its outcome is unknown (ConnectionLoss, a timeout, a lost session):
  it may have happened at any time after its invoke, or never.

A process has at most one operation outstanding; after an `info` the harness
gives the worker a new process name, since the old operation may still be
in flight. Times are CLOCK_MONOTONIC seconds (Python's time.monotonic, the
Java worker's System.nanoTime), so every process of the machine shares them.
"""

import json
import threading
import time

INVOKE, OK, FAIL, INFO = "invoke", "ok", "fail", "info"


class Op:
    """One operation: an invoke paired with its completion.

    `end` is None for an `info` operation: it may take effect until the end
    of time. `result` is the completion's value (None for info and fail)."""

    __slots__ = ("process", "type", "f", "key", "value", "result", "start", "end", "index")

    def __init__(self, process, type_, f, key, value, result, start, end, index=0):
        self.process = process
        self.type = type_
        self.f = f
        self.key = key
        self.value = value
        self.result = result
        self.start = start
        self.end = end
        self.index = index

    def __repr__(self):
        end = "inf" if self.end is None else f"{self.end:.3f}"
        res = "" if self.result is None else f" -> {self.result!r}"
        return (f"[{self.process} {self.f} {self.key} {self.value!r}{res} {self.type} "
                f"{self.start:.3f}..{end}]")


class History:
    """A thread-safe recorder of events."""

    def __init__(self):
        self.lock = threading.Lock()
        self.events = []

    def add(self, process, type_, f, key, value, t=None):
        """Append one event (time now unless given)."""
        event = (process, type_, f, key, value, time.monotonic() if t is None else t)
        with self.lock:
            self.events.append(event)

    def invoke(self, process, f, key, value=None):
        """Record an invoke; returns a callable completing it: done(type, result)."""
        self.add(process, INVOKE, f, key, value)

        def done(type_, result=None):
            self.add(process, type_, f, key, result)
        return done

    def snapshot(self):
        """The events so far, in recording order."""
        with self.lock:
            return list(self.events)

    def write_jsonl(self, path):
        """One JSON array per event, for replays of the checker."""
        with open(path, "w") as f:
            for event in self.snapshot():
                f.write(json.dumps(event) + "\n")


def read_jsonl(path):
    """Events written by History.write_jsonl."""
    with open(path) as f:
        return [tuple(json.loads(line)) for line in f if line.strip()]


def operations(events):
    """Pair each invoke with the next completion of its process; an invoke
    left without one is `info`. Returns Ops ordered by invoke time."""
    pending = {}
    ops = []
    for process, type_, f, key, value, t in sorted(events, key=lambda e: e[5]):
        if type_ == INVOKE:
            if process in pending:
                raise ValueError(f"process {process} invoked twice without completing")
            pending[process] = Op(process, INFO, f, key, value, None, t, None)
            ops.append(pending[process])
            continue
        op = pending.pop(process, None)
        if op is None or op.f != f:
            raise ValueError(f"completion without invoke: {(process, type_, f, key, value, t)}")
        op.type = type_
        if type_ == OK:
            op.result, op.end = value, t
        elif type_ == FAIL:
            op.end = t
    for i, op in enumerate(ops):
        op.index = i
    return ops
