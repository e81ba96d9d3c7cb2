package paddock.compat;

import static paddock.compat.Check.eq;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;

/**
 * The curator suite: Curator 5.4 recipes with two clients contending. This
 * class holds the lock and leader checks and runs the rest
 * ({@link CuratorCaches}, {@link CuratorMisc}). Recipes write on their own
 * timing, so the transcript prints outcomes, never zxids.
 */
public final class CuratorSuite {
    /** Lock rounds per client in the contention check. */
    static final int ROUNDS = 15;

    private CuratorSuite() {}

    /** Runs the whole curator suite against ZK_CONNECT. */
    public static void main(String[] args) {
        Check.main("curator", () -> {
            CuratorFramework c1 = Curators.open("C1", Check.connectString(), Curators.SESSION_TIMEOUT_MS);
            CuratorFramework c2 = Curators.open("C2", Check.connectString(), Curators.SESSION_TIMEOUT_MS);
            mutex(c1, c2);
            leaderLatch(c1, c2);
            CuratorCaches.run(c1, c2);
            CuratorMisc.run(c1, c2);
            c2.close();
            c1.close();
        });
    }

    private static void mutex(CuratorFramework c1, CuratorFramework c2) throws Exception {
        Check.section("InterProcessMutex");
        InterProcessMutex m1 = new InterProcessMutex(c1, "/cu/lock");
        Check.truth("C1 acquires", m1.acquire(15, TimeUnit.SECONDS));
        Check.truth("C1 re-enters", m1.acquire(15, TimeUnit.SECONDS));
        List<String> nodes = c1.getChildren().forPath("/cu/lock");
        eq("lock nodes", "[_c_<uuid>-lock-0000000000]", nodes.toString().replaceAll("_c_[0-9a-f-]{36}-", "_c_<uuid>-"));
        InterProcessMutex m2 = new InterProcessMutex(c2, "/cu/lock");
        Check.truth("C2 times out while C1 holds", !m2.acquire(300, TimeUnit.MILLISECONDS));
        m1.release();
        Check.truth("C2 still blocked after one release", !m2.acquire(300, TimeUnit.MILLISECONDS));
        m1.release();
        Check.truth("C2 acquires after full release", m2.acquire(15, TimeUnit.SECONDS));
        m2.release();
        contend(c1, c2);
        // C2's last release may have gone through another ensemble member.
        Check.sync(c1, "/cu/lock");
        eq("lock nodes after", "[]", c1.getChildren().forPath("/cu/lock").toString());
    }

    /** Two clients take the lock in turns; the unguarded counter must never be raced. */
    private static void contend(CuratorFramework c1, CuratorFramework c2) throws Exception {
        List<Integer> seen = LockContention.run(List.of(c1, c2), "/cu/lock", ROUNDS, 60_000);
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < 2 * ROUNDS; i++) {
            expected.add(i);
        }
        eq("ordering log is 0..n-1 in order", expected, seen);
    }

    private static void leaderLatch(CuratorFramework c1, CuratorFramework c2) throws Exception {
        Check.section("LeaderLatch");
        LeaderLatch l1 = new LeaderLatch(c1, "/cu/leader", "one");
        LeaderLatch l2 = new LeaderLatch(c2, "/cu/leader", "two");
        l1.start();
        Check.truth("one leads", l1.await(15, TimeUnit.SECONDS));
        l2.start();
        Check.eventually("two participants", 15_000, () -> l2.getParticipants().size() == 2);
        eq("leader seen by two", "one", l2.getLeader().getId());
        Check.truth("two is not leader", !l2.hasLeadership());
        l1.close();
        Check.truth("two leads after one closes", l2.await(15, TimeUnit.SECONDS));
        Check.truth("one has no leadership", !l1.hasLeadership());
        eq("participants", 1, l2.getParticipants().size());
        eq("leader", "two", l2.getLeader().getId());
        l2.close();
        // LeaderLatch.close() deletes its node in the background.
        Check.eventually("latch nodes all deleted", 15_000, () -> c1.getChildren().forPath("/cu/leader").isEmpty());
    }
}
