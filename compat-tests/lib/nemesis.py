"""The jepsen nemesis: faults of real members on a seeded random schedule.

Families (`--nemesis` takes a comma-separated list of them; `all` is every
one):

- kill: SIGKILL of one member, of a minority, or of all at once; the
  killed members restart when the fault heals.
- pause: SIGSTOP of the leader or of a follower, long (4-7 s, past the
  session timeout and syncLimit) or short (0.2-1 s), then SIGCONT.
- partition: through the relays between members (clients still reach every
  member): the leader isolated, a random majority/minority split, or (5
  members) a bridge: two pairs that only the fifth member connects.
- mix: a pause of the leader together with a partition isolating one
  follower, or a kill of a follower together with a short pause of the leader.
- stall (Paddock only): the log flushes of the leader, of a follower or of a
  minority held for 0.5-6 s, as a stalled disk holds fdatasync (the member's
  log thread waits while a file named by PADDOCK_FAILPOINT_LOG_STALL exists);
  sometimes a member is SIGKILLed while stalled, losing what it had not
  flushed.

Clock jumps are not a fault here: Paddock measures every timeout with
monotonic clocks only, so a wall-clock jump changes nothing it decides.
"""

import signal
import threading
import time

FAMILIES = ("kill", "pause", "partition", "mix", "stall")
# Families a ZooKeeper ensemble cannot take (no stall hook).
PADDOCK_ONLY = ("stall",)
STALL_S = (0.5, 6.0)
# Quiet time between faults, and how long a kill or partition lasts (s).
QUIET_S = (2.0, 4.0)
HOLD_S = (3.0, 8.0)
LONG_PAUSE_S = (4.0, 7.0)
SHORT_PAUSE_S = (0.2, 1.0)


class Nemesis:
    """Applies one fault at a time (apply, hold, heal, quiet) until stopped;
    `log` keeps (monotonic time, description) of every step."""

    def __init__(self, cluster, rng, families, say):
        self.cluster = cluster
        self.rng = rng
        self.families = families
        self.say = say
        self.log = []
        self.stopping = threading.Event()
        self.killed = set()
        self.paused = set()
        self.stalled = set()
        self.thread = threading.Thread(target=self.loop, daemon=True, name="nemesis")
        self.error = None

    def note(self, text):
        """Record (and print) one nemesis step."""
        self.log.append((time.monotonic(), text))
        self.say(f"  nemesis {text}")

    def start(self):
        """Start the schedule."""
        self.thread.start()

    def stop(self):
        """Stop the schedule and heal everything."""
        self.stopping.set()
        if self.thread.ident is not None:
            self.thread.join(30)
        self.heal_all()

    def loop(self):
        """Faults until stopped."""
        try:
            while not self.stopping.wait(self.rng.uniform(*QUIET_S)):
                family = self.rng.choice(self.families)
                getattr(self, family)()
        except Exception as exc:  # noqa: BLE001 - reported by the harness
            self.error = f"{type(exc).__name__}: {exc}"

    def hold(self, seconds):
        """Keep a fault for `seconds` (less when stopping)."""
        self.stopping.wait(seconds)

    def leader(self):
        """The member that says it leads (a random running one when none does)."""
        modes = self.cluster.modes()
        leaders = sorted(s for s, m in modes.items() if m == "leader")
        return leaders[0] if leaders else self.rng.choice(sorted(self.cluster.members))

    def others(self, sid):
        """Every member but sid."""
        return sorted(s for s in self.cluster.members if s != sid)

    # -------------------------------------------------------------- faults

    def kill(self):
        n = len(self.cluster.members)
        how = self.rng.choice(["one", "minority", "all"])
        count = {"one": 1, "minority": (n - 1) // 2, "all": n}[how]
        victims = self.rng.sample(sorted(self.cluster.members), count)
        self.kill_members(victims, f"kill {how}")
        self.hold(self.rng.uniform(*HOLD_S))
        self.restart_killed()

    def kill_members(self, victims, what):
        """SIGKILL the given members."""
        self.note(f"{what}: SIGKILL server.{victims}")
        for sid in victims:
            self.cluster.kill(sid)
            self.killed.add(sid)

    def restart_killed(self):
        """Restart every killed member."""
        if self.killed:
            self.note(f"restart server.{sorted(self.killed)}")
        for sid in sorted(self.killed):
            self.cluster.start(sid)
        self.killed.clear()

    def pause(self):
        who = self.rng.choice(["leader", "follower"])
        leader = self.leader()
        sid = leader if who == "leader" else self.rng.choice(self.others(leader))
        long_ = self.rng.random() < 0.5
        seconds = self.rng.uniform(*(LONG_PAUSE_S if long_ else SHORT_PAUSE_S))
        self.pause_member(sid, f"pause {who} {'long' if long_ else 'short'}", seconds)

    def pause_member(self, sid, what, seconds):
        """SIGSTOP a member for `seconds`, then SIGCONT."""
        self.note(f"{what}: SIGSTOP server.{sid} for {seconds:.2f}s")
        self.cluster.signal(sid, signal.SIGSTOP)
        self.paused.add(sid)
        self.hold(seconds)
        self.cluster.signal(sid, signal.SIGCONT)
        self.paused.discard(sid)
        self.note(f"SIGCONT server.{sid}")

    def partition(self):
        sids = sorted(self.cluster.members)
        kinds = ["leader", "split"] + (["bridge"] if len(sids) == 5 else [])
        kind = self.rng.choice(kinds)
        if kind == "leader":
            leader = self.leader()
            groups = [[leader], self.others(leader)]
        elif kind == "split":
            shuffled = self.rng.sample(sids, len(sids))
            minority = len(sids) // 2
            groups = [sorted(shuffled[:minority]), sorted(shuffled[minority:])]
        else:
            shuffled = self.rng.sample(sids, len(sids))
            groups = [sorted(shuffled[:2]), [shuffled[2]], sorted(shuffled[3:])]
        if kind == "bridge":
            pairs = {frozenset((a, b)) for a in groups[0] for b in groups[2]}
            what = f"partition bridge {groups[0]} | {groups[1]} (bridge) | {groups[2]}"
        else:
            pairs = {frozenset((a, b)) for a in groups[0] for b in groups[1]}
            what = f"partition {kind} {groups[0]} | {groups[1]}"
        self.note(what)
        self.cluster.cut_pairs(pairs)
        self.hold(self.rng.uniform(*HOLD_S))
        self.cluster.heal()
        self.note("heal partition")

    def mix(self):
        leader = self.leader()
        follower = self.rng.choice(self.others(leader))
        if self.rng.random() < 0.5:
            self.note(f"mix: isolate follower server.{follower}")
            self.cluster.cut_pairs({frozenset((follower, s)) for s in self.others(follower)})
            self.pause_member(leader, "mix: pause leader", self.rng.uniform(*LONG_PAUSE_S))
            self.hold(self.rng.uniform(0.5, 2.0))
            self.cluster.heal()
            self.note("heal partition")
        else:
            self.kill_members([follower], "mix: kill follower")
            self.pause_member(leader, "mix: pause leader short", self.rng.uniform(*SHORT_PAUSE_S))
            self.hold(self.rng.uniform(1.0, 3.0))
            self.restart_killed()

    def stall(self):
        leader = self.leader()
        n = len(self.cluster.members)
        who = self.rng.choice(["leader", "follower", "minority"])
        if who == "leader":
            victims = [leader]
        elif who == "follower":
            victims = [self.rng.choice(self.others(leader))]
        else:
            victims = self.rng.sample(sorted(self.cluster.members), (n - 1) // 2)
        seconds = self.rng.uniform(*STALL_S)
        self.note(f"stall {who}: log flushes of server.{victims} held for {seconds:.2f}s")
        for sid in victims:
            self.cluster.stall_disk(sid)
            self.stalled.add(sid)
        self.hold(seconds * self.rng.uniform(0.3, 1.0))
        if self.rng.random() < 0.3:
            self.kill_members(victims[:1], "stall: kill a stalled member")
        self.hold(seconds * 0.3)
        self.release_stalls()
        self.restart_killed()

    def release_stalls(self):
        """Let every stalled member flush again."""
        if self.stalled:
            self.note(f"release stall of server.{sorted(self.stalled)}")
        for sid in sorted(self.stalled):
            self.cluster.stall_disk(sid, False)
        self.stalled.clear()

    def heal_all(self):
        """Every member running and reachable again."""
        self.release_stalls()
        for sid in sorted(self.paused):
            self.cluster.signal(sid, signal.SIGCONT)
        self.paused.clear()
        self.cluster.heal()
        self.restart_killed()
