"""Checkers of jepsen histories (lib/history.py): each takes the operations of
one workload (and what the members hold at the end) and returns anomalies,
[Anomaly], empty when the history is valid.

- register: linearizability of a compare-and-set register per key, by the
  Wing–Gong–Lowe search (Lowe, "Testing for linearizability", 2017; the
  algorithm of Knossos' `wgl` checker) with memoized configurations.
- set: sequential creates and sync+getChildren reads (no deletes).
- counter: CAS increments and sync+get reads.
- session: ephemerals exist exactly while their session lives.
- watch: one-shot data watches re-armed after every event.

An `info` operation may have happened at any time after its invoke, or never;
a `fail` never happened.
"""

from history import FAIL, INFO, OK

# Configurations a register search may visit per key before it gives up
# (reported as unchecked, never as valid).
SEARCH_LIMIT = 2_000_000
# Operations named in one anomaly's detail at most.
EXAMPLES = 3


class Anomaly:
    """One violation: its kind (a short name) and what shows it."""

    def __init__(self, kind, detail):
        self.kind = kind
        self.detail = detail

    def __repr__(self):
        return f"{self.kind}: {self.detail}"


# ---------------------------------------------------------------- register
#
# The model: a register holding a small integer (INITIAL at first). read ->
# v is allowed when the register holds v; write v sets it; cas [a, b] (a get
# that saw a, then a set with that get's version) sets b when it holds a.


def register_step(state, op):
    """(allowed, next state) of applying op to a register holding state."""
    if op.f == "read":
        return op.result == state, state
    if op.f == "write":
        return True, op.value
    if op.f == "cas":
        expected, new = op.value
        return state == expected, new
    raise ValueError(f"unknown register op {op.f}")


def linearize(ops, initial, step, limit=SEARCH_LIMIT):
    """Wing–Gong–Lowe search for a linearization of ops (history.Op, each
    ok or info; info ops have end None: they may linearize anywhere after
    their start, or not at all). Returns (result, detail): result True,
    False, or None when the search visited `limit` configurations.

    The history is a doubly linked list of call and return entries in time
    order. Walking it from the front, a call whose op the model allows is
    linearized (its call and return lifted out of the list) unless that
    (linearized set, state) configuration was seen before; meeting a return
    means the op it belongs to had to be linearized already: backtrack."""
    entries = []  # (time, is_return, op position)
    for i, op in enumerate(ops):
        entries.append((op.start, 0, i))
        if op.end is not None:
            entries.append((op.end, 1, i))
    # At equal times calls go first: the ops overlap (the permissive order).
    entries.sort()
    n = len(entries)
    # Node 0 is the head; entry k is node k + 1; n + 1 is the tail.
    nxt = list(range(1, n + 2)) + [None]
    prv = [None] + list(range(0, n + 1))
    is_return = [False] + [e[1] == 1 for e in entries] + [False]
    position = [None] + [e[2] for e in entries] + [None]
    return_node = {}
    call_node = {}
    for k, (_, ret, i) in enumerate(entries, start=1):
        (return_node if ret else call_node)[i] = k
    tail = n + 1

    def lift(node):
        nxt[prv[node]], prv[nxt[node]] = nxt[node], prv[node]

    def unlift(node):
        nxt[prv[node]] = node
        prv[nxt[node]] = node

    # Info ops with the same effect are interchangeable, and one invoked
    # earlier can take effect wherever a later one can: among them only the
    # earliest not yet linearized is tried, so the linearized ones of a
    # class are always its first `taken[class]` (without this, 30 pending
    # info writes over 5 values are 2^30 configurations, with it 6^5).
    info_class, info_rank, taken = {}, {}, {}
    for i, op in sorted(enumerate(ops), key=lambda p: p[1].start):
        if op.end is None:
            cls = (op.f, repr(op.value))
            info_class[i] = cls
            info_rank[i] = taken.get(cls, 0)
            taken[cls] = info_rank[i] + 1
    taken = dict.fromkeys(taken, 0)

    remaining = sum(1 for op in ops if op.end is not None)
    linearized, state = 0, initial
    stack, seen = [], set()
    best = (-1, None, None)  # (depth, op stuck at, state then)
    node = nxt[0]
    visited = 0
    while remaining:
        if node == tail:
            raise AssertionError("walked past every return with ops left")
        i = position[node]
        if not is_return[node]:
            cls = info_class.get(i)
            if cls is not None and info_rank[i] != taken[cls]:
                node = nxt[node]
                continue
            allowed, after = step(state, ops[i])
            if allowed:
                config = (linearized | (1 << i), after)
                if config not in seen:
                    seen.add(config)
                    visited += 1
                    if visited > limit:
                        return None, f"search gave up after {limit} configurations"
                    stack.append((node, state))
                    linearized, state = config
                    lift(node)
                    if cls is not None:
                        taken[cls] += 1
                    if i in return_node:
                        lift(return_node[i])
                        remaining -= 1
                    node = nxt[0]
                    continue
            node = nxt[node]
            continue
        # A return: its op must already be linearized; undo the last choice.
        if len(stack) > best[0]:
            best = (len(stack), ops[i], state)
        if not stack:
            break
        node, state = stack.pop()
        j = position[node]
        linearized &= ~(1 << j)
        if j in info_class:
            taken[info_class[j]] -= 1
        if j in return_node:
            unlift(return_node[j])
            remaining += 1
        unlift(node)
        node = nxt[node]
    if not remaining:
        return True, ""
    depth, stuck, then = best
    return False, (f"no linearization: after the longest linearizable prefix ({depth} "
                   f"ops) the register held {then!r} and {stuck!r} could not take "
                   f"effect before it returned")


def check_register(ops, initial=0, limit=SEARCH_LIMIT):
    """Anomalies of register ops (every key), and the number of keys whose
    search gave up. Failed ops and info reads constrain nothing and drop out."""
    by_key = {}
    for op in ops:
        if op.type == FAIL or (op.type == INFO and op.f == "read"):
            continue
        by_key.setdefault(op.key, []).append(op)
    anomalies, unchecked = [], 0
    for key in sorted(by_key):
        result, detail = linearize(by_key[key], initial, register_step, limit)
        if result is None:
            unchecked += 1
        elif not result:
            anomalies.append(Anomaly("nonlinearizable", f"register {key}: {detail}"))
    return anomalies, unchecked


# --------------------------------------------------------------------- set


def check_set(ops, finals):
    """Anomalies of set ops: add (value the element) and read (result the
    elements listed, duplicates kept). finals: {member: [elements]} at the end.

    Once an add was acknowledged, or a read returned the element, every read
    invoked later must list it (linearizability without deletes); an
    acknowledged element must be on every member at the end; an element
    never attempted, or attempted only after the read returned, is a
    phantom; an element listed twice was applied twice."""
    anomalies = []
    attempted = {}  # element -> earliest invoke of an add not known failed
    must_have_by = {}  # element -> time after which every read must list it
    for op in ops:
        if op.f != "add" or op.type == FAIL:
            continue
        attempted[op.value] = min(op.start, attempted.get(op.value, op.start))
        if op.type == OK:
            must_have_by[op.value] = min(op.end, must_have_by.get(op.value, op.end))
    reads = [op for op in ops if op.f == "read" and op.type == OK]
    for r in reads:
        for e in r.result:
            must_have_by[e] = min(r.end, must_have_by.get(e, r.end))
    ordered = sorted(must_have_by.items(), key=lambda kv: kv[1])
    stale, phantoms, dups = [], [], []
    for r in reads:
        listed = set(r.result)
        if len(listed) != len(r.result):
            dups.append(r)
        missing = [e for e, t in ordered if t < r.start and e not in listed]
        if missing:
            stale.append((r, missing))
        for e in listed:
            if e not in attempted or attempted[e] > r.end:
                phantoms.append((r, e))
    if stale:
        r, missing = stale[0]
        anomalies.append(Anomaly("set-stale-read",
                                 f"{len(stale)} reads lack elements acknowledged or read "
                                 f"before they started, e.g. {r!r} lacks {missing[:EXAMPLES]}"))
    if phantoms:
        anomalies.append(Anomaly("set-phantom", f"{len(phantoms)} elements never (or not yet) "
                                                f"added, e.g. {phantoms[:EXAMPLES]!r}"))
    if dups:
        anomalies.append(Anomaly("set-duplicate", f"{len(dups)} reads list an element twice, "
                                                  f"e.g. {dups[0]!r}"))
    acked = {op.value for op in ops if op.f == "add" and op.type == OK}
    for member, elements in sorted(finals.items()):
        present = set(elements)
        lost = sorted(acked - present)
        if lost:
            anomalies.append(Anomaly("set-lost", f"server.{member} lacks {len(lost)} "
                                                 f"acknowledged elements, e.g. {lost[:EXAMPLES]}"))
        extra = sorted(e for e in present if e not in attempted)
        if extra:
            anomalies.append(Anomaly("set-phantom", f"server.{member} holds elements never "
                                                    f"added: {extra[:EXAMPLES]}"))
        if len(present) != len(elements):
            anomalies.append(Anomaly("set-duplicate", f"server.{member} holds an element twice"))
    return anomalies


def set_lost(ops, finals):
    """How many acknowledged elements some member lacks at the end (the most)."""
    acked = {op.value for op in ops if op.f == "add" and op.type == OK}
    return max((len(acked - set(e)) for e in finals.values()), default=0)


# ----------------------------------------------------------------- counter


def check_counter(ops, finals):
    """Anomalies of counter ops: inc (ok: one CAS set took effect) and read
    (result the value). finals: {member: value} at the end.

    A read lies between the increments acknowledged before it started and
    those invoked before it ended; a read invoked after another returned is
    not smaller; the final value lies within [acked, acked + info]."""
    anomalies = []
    incs = [op for op in ops if op.f == "inc" and op.type != FAIL]
    acked_ends = sorted(op.end for op in incs if op.type == OK)
    starts = sorted(op.start for op in incs)
    reads = sorted((op for op in ops if op.f == "read" and op.type == OK), key=lambda o: o.end)
    out_of_bounds, backwards = [], []
    for r in reads:
        low = sum(1 for t in acked_ends if t < r.start)
        high = sum(1 for t in starts if t < r.end)
        if not low <= r.result <= high:
            out_of_bounds.append((r, low, high))
    # Backwards: a read invoked after an earlier read returned saw less.
    running, k = None, 0  # the largest read that returned before r started
    by_start = sorted(reads, key=lambda o: o.start)
    for r in by_start:
        while k < len(reads) and reads[k].end < r.start:
            if running is None or reads[k].result > running.result:
                running = reads[k]
            k += 1
        if running is not None and r.result < running.result:
            backwards.append((running, r))
    if out_of_bounds:
        r, low, high = out_of_bounds[0]
        anomalies.append(Anomaly("counter-out-of-bounds",
                                 f"{len(out_of_bounds)} reads outside [acked before, invoked "
                                 f"before end], e.g. {r!r} not in [{low}, {high}]"))
    if backwards:
        a, b = backwards[0]
        anomalies.append(Anomaly("counter-backwards",
                                 f"{len(backwards)} reads saw less than a read that returned "
                                 f"before they started, e.g. {a!r} then {b!r}"))
    acked = len(acked_ends)
    info = sum(1 for op in incs if op.type == INFO)
    for member, value in sorted(finals.items()):
        if not acked <= value <= acked + info:
            anomalies.append(Anomaly("counter-final",
                                     f"server.{member} ends at {value}, outside [acked {acked}, "
                                     f"acked + info {acked + info}]"))
    return anomalies


def counter_lost(ops, finals):
    """Acknowledged increments missing from the lowest final value."""
    acked = sum(1 for op in ops if op.f == "inc" and op.type == OK)
    return max((acked - v for v in finals.values()), default=0) if finals else 0


# ----------------------------------------------------------------- session


def check_sessions(ops, finals):
    """Anomalies of session ops. Processes are sessions (one name each):
    create (value the path; result the session id), own (sync+exists of the
    session's own ephemeral by that session: value path, result exists),
    close (ok when the server acknowledged closeSession), other (another
    session's sync+exists: value path, result exists). finals: {member:
    {path: ephemeralOwner}} of the session nodes at the end.

    A live session's ephemeral never vanishes: `own` says absent for an
    acknowledged create while a later op of that session succeeded. After
    the close was acknowledged, a read invoked later does not list it. At
    the end, once every session is closed or expired, none remains."""
    anomalies = []
    by_process = {}
    for op in ops:
        by_process.setdefault(op.process, []).append(op)
    created = {}  # path -> create op (ok)
    closed_at = {}  # path -> end of its session's acknowledged close
    for process, pops in by_process.items():
        pops.sort(key=lambda o: o.start)
        mine = {op.value for op in pops if op.f == "create" and op.type == OK}
        for op in pops:
            if op.f == "create" and op.type == OK:
                created[op.value] = op
        closes = [op for op in pops if op.f == "close" and op.type == OK]
        for path in mine:
            if closes:
                closed_at[path] = closes[0].end
        last_ok = max((op.end for op in pops if op.type == OK), default=None)
        for op in pops:
            if (op.f == "own" and op.type == OK and not op.result and op.value in mine
                    and created[op.value].end < op.start and last_ok is not None
                    and last_ok > op.end):
                anomalies.append(Anomaly("ephemeral-vanished",
                                         f"{op!r}: the ephemeral of a live session was "
                                         f"absent (the session answered later)"))
                break
    for op in ops:
        if (op.f == "other" and op.type == OK and op.result and op.value in closed_at
                and op.start > closed_at[op.value]):
            anomalies.append(Anomaly("ephemeral-outlived-session",
                                     f"{op!r} saw an ephemeral whose session's close was "
                                     f"acknowledged at {closed_at[op.value]:.3f}"))
            break
    for member, nodes in sorted(finals.items()):
        if nodes:
            anomalies.append(Anomaly("ephemeral-outlived-session",
                                     f"server.{member} still holds {len(nodes)} ephemerals after "
                                     f"every session ended, e.g. {sorted(nodes)[:EXAMPLES]}"))
    return anomalies


# ------------------------------------------------------------------- watch


def check_watches(ops, final_version):
    """Anomalies of watch ops. A watcher process (one session) repeats: wread
    (a get that sets a data watch; result the version seen), then waits for
    wevent and reads again. At the end it records wfinal (result True when it
    is still the same session, so its watch must have fired for every change
    after its last wread). final_version: the node's version at the end.

    Versions a session reads never go back; an event announces a change
    after the watched version, so the read after it sees a newer version; a
    one-shot watch fires once; a watch set at a version older than the final
    one, on a session alive at the end, has fired (no event lost)."""
    anomalies = []
    by_process = {}
    for op in ops:
        if op.f in ("wread", "wevent", "wfinal") and op.type == OK:
            by_process.setdefault(op.process, []).append(op)
    for process, pops in sorted(by_process.items()):
        pops.sort(key=lambda o: (o.end, o.start))
        watched, events, last = None, 0, None
        for op in pops:
            if op.f == "wevent":
                events += 1
                if events > 1:
                    anomalies.append(Anomaly("watch-duplicate",
                                             f"{process}: a second event {op!r} for the watch set "
                                             f"at version {watched}"))
                continue
            if op.f == "wread":
                if last is not None and op.result < last:
                    anomalies.append(Anomaly("watch-read-backwards",
                                             f"{process}: {op!r} after reading version {last}"))
                if watched is not None and events and op.result <= watched:
                    anomalies.append(Anomaly("watch-event-before-data",
                                             f"{process}: after an event for the watch set at "
                                             f"version {watched}, {op!r} saw no newer version"))
                watched, events, last = op.result, 0, op.result
                continue
            if op.f == "wfinal" and op.result and watched is not None \
                    and watched < final_version and not events:
                anomalies.append(Anomaly("watch-lost",
                                         f"{process}: watch set at version {watched}, the node "
                                         f"reached version {final_version}, no event came"))
    return anomalies
