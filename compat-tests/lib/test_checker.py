"""The jepsen checkers can fail: broken histories, each as a faulty server
would produce it, must be caught; valid histories with concurrency and
indeterminate operations must pass. Run: `compat-tests/jepsen --self-test`
(or `/usr/bin/python3 -m unittest` in compat-tests/lib)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checker import (check_counter, check_register, check_sessions,  # noqa: E402
                     check_set, check_watches, linearize, register_step)
from history import FAIL, INFO, OK, History, operations  # noqa: E402


def op_history(*rows):
    """Ops from rows (process, f, key, value, type, result, start, end);
    end None for info."""
    events = []
    for process, f, key, value, type_, result, start, end in rows:
        events.append((process, "invoke", f, key, value, start))
        if type_ != INFO:
            events.append((process, type_, f, key, result, end))
    return operations(events)


def reg(process, f, value, type_, result, start, end, key="k"):
    """A register row."""
    return (process, f, key, value, type_, result, start, end)


def kinds(anomalies):
    """The kinds of a list of anomalies."""
    return sorted({a.kind for a in anomalies})


class RegisterTest(unittest.TestCase):

    def check(self, *rows):
        anomalies, unchecked = check_register(op_history(*rows))
        self.assertEqual(unchecked, 0)
        return anomalies

    def test_concurrent_writes_and_reads_with_info_pass(self):
        self.assertEqual(self.check(
            reg("a", "write", 1, OK, None, 0.0, 2.0),
            reg("b", "write", 2, OK, None, 0.5, 1.0),
            reg("c", "read", None, OK, 1, 1.5, 3.0),  # a's write after b's
            reg("d", "cas", [1, 3], INFO, None, 3.5, None),
            reg("c", "read", None, OK, 1, 4.0, 4.5),  # d's cas not yet
            reg("e", "read", None, OK, 3, 5.0, 5.5),  # now it took effect
            reg("b", "write", 4, INFO, None, 6.0, None),  # never happened
            reg("c", "read", None, OK, 3, 7.0, 7.5),
            reg("c", "cas", [0, 9], FAIL, None, 8.0, 8.5),
        ), [])

    def test_stale_read_of_a_lagging_member_is_caught(self):
        # The write was acknowledged; a follower that missed it answers a
        # read invoked afterwards with the old value.
        anomalies = self.check(
            reg("a", "write", 1, OK, None, 0.0, 1.0),
            reg("b", "read", None, OK, 0, 2.0, 2.1),
        )
        self.assertEqual(kinds(anomalies), ["nonlinearizable"])
        self.assertIn("read", anomalies[0].detail)

    def test_acknowledged_write_lost_is_caught(self):
        # Acked before fsync, gone after a crash: later reads see the value before it.
        self.assertEqual(kinds(self.check(
            reg("a", "write", 1, OK, None, 0.0, 1.0),
            reg("a", "write", 2, OK, None, 1.5, 2.0),
            reg("b", "read", None, OK, 2, 2.5, 3.0),
            reg("c", "read", None, OK, 1, 10.0, 10.5),
        )), ["nonlinearizable"])

    def test_zombie_leader_answering_sync_and_read_is_caught(self):
        # ZOOKEEPER-1675: an old leader, paused while a new one took writes,
        # resumes and answers a client's sync, then the read sees old data.
        self.assertEqual(kinds(self.check(
            reg("a", "write", 1, OK, None, 0.0, 0.5),
            reg("z", "read", None, OK, 1, 0.6, 0.9),
            reg("b", "cas", [1, 2], OK, None, 5.0, 5.5),  # through the new leader
            reg("z", "read", None, OK, 1, 6.0, 9.0),  # sync+read through the zombie
        )), ["nonlinearizable"])

    def test_successful_cas_from_a_value_never_held_is_caught(self):
        self.assertEqual(kinds(self.check(
            reg("a", "write", 1, OK, None, 0.0, 0.5),
            reg("b", "cas", [2, 3], OK, None, 1.0, 1.5),
        )), ["nonlinearizable"])

    def test_keys_are_independent(self):
        self.assertEqual(self.check(
            reg("a", "write", 1, OK, None, 0.0, 0.5, key="x"),
            reg("b", "read", None, OK, 0, 1.0, 1.5, key="y"),
        ), [])

    def test_many_concurrent_info_ops_stay_within_the_search_bound(self):
        rows = [reg(f"i{n}", "write", n % 5, INFO, None, 0.1 * n, None) for n in range(30)]
        rows += [reg("r", "read", None, OK, n % 5, 10.0 + n, 10.5 + n) for n in range(30)]
        result, _ = linearize([o for o in op_history(*rows)], 0, register_step)
        self.assertIsNotNone(result)


class SetTest(unittest.TestCase):

    def test_valid_with_info_adds_passes(self):
        ops = op_history(
            ("a", "add", "s", "a-0", OK, None, 0.0, 1.0),
            ("b", "add", "s", "b-0", INFO, None, 0.5, None),
            ("c", "read", "s", None, OK, ["a-0"], 1.5, 2.0),
            ("c", "read", "s", None, OK, ["a-0", "b-0"], 3.0, 3.5),
            ("a", "add", "s", "a-1", INFO, None, 4.0, None),
        )
        self.assertEqual(check_set(ops, {1: ["a-0", "b-0"], 2: ["a-0", "b-0"]}), [])

    def test_missing_acknowledged_element_is_caught(self):
        ops = op_history(
            ("a", "add", "s", "a-0", OK, None, 0.0, 1.0),
            ("c", "read", "s", None, OK, [], 2.0, 2.5),
        )
        self.assertEqual(kinds(check_set(ops, {1: ["a-0"], 2: []})), ["set-lost", "set-stale-read"])

    def test_element_read_then_unread_is_caught(self):
        ops = op_history(
            ("a", "add", "s", "a-0", INFO, None, 0.0, None),
            ("c", "read", "s", None, OK, ["a-0"], 1.0, 1.5),
            ("d", "read", "s", None, OK, [], 2.0, 2.5),
        )
        self.assertEqual(kinds(check_set(ops, {1: ["a-0"]})), ["set-stale-read"])

    def test_phantom_and_duplicate_are_caught(self):
        ops = op_history(
            ("a", "add", "s", "a-0", OK, None, 0.0, 1.0),
            ("c", "read", "s", None, OK, ["a-0", "a-0", "zz"], 2.0, 2.5),
        )
        self.assertEqual(kinds(check_set(ops, {1: ["a-0"]})), ["set-duplicate", "set-phantom"])


class CounterTest(unittest.TestCase):

    def test_valid_with_info_passes(self):
        ops = op_history(
            ("a", "inc", "c", None, OK, None, 0.0, 1.0),
            ("b", "inc", "c", None, INFO, None, 0.5, None),
            ("c", "read", "c", None, OK, 1, 1.5, 2.0),
            ("c", "read", "c", None, OK, 2, 3.0, 3.5),
            ("a", "inc", "c", None, FAIL, None, 4.0, 4.5),
        )
        self.assertEqual(check_counter(ops, {1: 2, 2: 2}), [])

    def test_counter_going_backwards_is_caught(self):
        ops = op_history(
            ("a", "inc", "c", None, OK, None, 0.0, 1.0),
            ("b", "inc", "c", None, OK, None, 0.2, 1.0),
            ("c", "read", "c", None, OK, 2, 1.5, 2.0),
            ("d", "read", "c", None, INFO, None, 2.0, None),
            ("c", "read", "c", None, OK, 1, 3.0, 3.5),
        )
        self.assertEqual(kinds(check_counter(ops, {1: 2})),
                         ["counter-backwards", "counter-out-of-bounds"])

    def test_final_value_below_acknowledged_is_caught(self):
        ops = op_history(
            ("a", "inc", "c", None, OK, None, 0.0, 1.0),
            ("a", "inc", "c", None, OK, None, 1.0, 2.0),
        )
        self.assertEqual(kinds(check_counter(ops, {1: 2, 2: 1})), ["counter-final"])


class SessionTest(unittest.TestCase):

    def test_valid_lifecycle_passes(self):
        ops = op_history(
            ("s1", "create", "e", "/s/1", OK, 7, 0.0, 0.5),
            ("s1", "own", "e", "/s/1", OK, True, 1.0, 1.5),
            ("o", "other", "e", "/s/1", OK, True, 1.0, 1.2),
            ("s1", "close", "e", None, OK, None, 2.0, 2.5),
            ("o", "other", "e", "/s/1", OK, False, 3.0, 3.2),
        )
        self.assertEqual(check_sessions(ops, {1: {}, 2: {}}), [])

    def test_ephemeral_of_live_session_vanishing_is_caught(self):
        ops = op_history(
            ("s1", "create", "e", "/s/1", OK, 7, 0.0, 0.5),
            ("s1", "own", "e", "/s/1", OK, False, 1.0, 1.5),
            ("s1", "own", "e", "/s/1", OK, True, 2.0, 2.5),
        )
        self.assertEqual(kinds(check_sessions(ops, {})), ["ephemeral-vanished"])

    def test_ephemeral_outliving_its_closed_session_is_caught(self):
        ops = op_history(
            ("s1", "create", "e", "/s/1", OK, 7, 0.0, 0.5),
            ("s1", "close", "e", None, OK, None, 2.0, 2.5),
            ("o", "other", "e", "/s/1", OK, True, 3.0, 3.2),
        )
        self.assertEqual(kinds(check_sessions(ops, {1: {"/s/1": 7}})),
                         ["ephemeral-outlived-session"])


class WatchTest(unittest.TestCase):

    def test_valid_watch_chain_passes(self):
        ops = op_history(
            ("w", "wread", "n", None, OK, 0, 0.0, 0.1),
            ("w", "wevent", "n", None, OK, "CHANGED", 0.5, 0.5),
            ("w", "wread", "n", None, OK, 3, 0.6, 0.7),
            ("w", "wevent", "n", None, OK, "CHANGED", 1.0, 1.0),
            ("w", "wread", "n", None, OK, 4, 1.1, 1.2),
            ("w", "wfinal", "n", None, OK, True, 5.0, 5.0),
        )
        self.assertEqual(check_watches(ops, 4), [])

    def test_lost_event_is_caught(self):
        ops = op_history(
            ("w", "wread", "n", None, OK, 3, 0.0, 0.1),
            ("w", "wfinal", "n", None, OK, True, 5.0, 5.0),
        )
        self.assertEqual(kinds(check_watches(ops, 5)), ["watch-lost"])

    def test_duplicate_event_is_caught(self):
        ops = op_history(
            ("w", "wread", "n", None, OK, 3, 0.0, 0.1),
            ("w", "wevent", "n", None, OK, "CHANGED", 0.5, 0.5),
            ("w", "wevent", "n", None, OK, "CHANGED", 0.6, 0.6),
            ("w", "wread", "n", None, OK, 4, 0.7, 0.8),
        )
        self.assertEqual(kinds(check_watches(ops, 4)), ["watch-duplicate"])

    def test_event_before_its_data_is_caught(self):
        ops = op_history(
            ("w", "wread", "n", None, OK, 3, 0.0, 0.1),
            ("w", "wevent", "n", None, OK, "CHANGED", 0.5, 0.5),
            ("w", "wread", "n", None, OK, 3, 0.7, 0.8),
        )
        self.assertEqual(kinds(check_watches(ops, 3)), ["watch-event-before-data"])


class HistoryTest(unittest.TestCase):

    def test_unfinished_invoke_is_info(self):
        h = History()
        done = h.invoke("a", "write", "k", 1)
        done(OK)
        h.invoke("a", "write", "k", 2)
        ops = operations(h.snapshot())
        self.assertEqual([o.type for o in ops], [OK, INFO])
        self.assertIsNone(ops[1].end)


if __name__ == "__main__":
    unittest.main()
