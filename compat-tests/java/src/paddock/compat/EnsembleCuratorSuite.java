package paddock.compat;

import static paddock.compat.Check.eq;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.cache.NodeCache;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;

/**
 * The ensemble-curator suite: Curator 5.4 against a 3-server ensemble. One
 * client uses the whole connect string; three more are each pinned to one
 * member (ZK_SERVERS, in server-id order), so every recipe here coordinates
 * clients whose sessions live on different servers.
 */
public final class EnsembleCuratorSuite {
    /** Lock rounds per pinned client in the contention check. */
    static final int ROUNDS = 8;

    private EnsembleCuratorSuite() {}

    /** Runs the suite against ZK_CONNECT and each member of ZK_SERVERS. */
    public static void main(String[] args) {
        Check.main("ensemble-curator", () -> {
            String[] servers = System.getenv("ZK_SERVERS").split(",");
            CuratorFramework all = Curators.open("ALL", Check.connectString(), Curators.SESSION_TIMEOUT_MS);
            List<CuratorFramework> pinned = new ArrayList<>();
            for (int i = 0; i < servers.length; i++) {
                pinned.add(Curators.open("C" + (i + 1), servers[i], Curators.SESSION_TIMEOUT_MS));
            }
            sessionOrigins(pinned);
            createRead(all, pinned);
            mutex(pinned);
            leaderLatch(pinned);
            caches(pinned);
            for (CuratorFramework c : pinned) {
                c.close();
            }
            all.close();
        });
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Each pinned client's session id carries its member's id in the top byte. */
    private static void sessionOrigins(List<CuratorFramework> pinned) throws Exception {
        Check.section("session ids");
        List<Long> tops = new ArrayList<>();
        for (CuratorFramework c : pinned) {
            tops.add(c.getZookeeperClient().getZooKeeper().getSessionId() >>> 56);
        }
        eq("top bytes", "[1, 2, 3]", tops.toString());
    }

    /** Writes through the whole connect string are read through every member after sync. */
    private static void createRead(CuratorFramework all, List<CuratorFramework> pinned) throws Exception {
        Check.section("create and read");
        eq("create", "/ec/a", all.create().creatingParentsIfNeeded().forPath("/ec/a", bytes("one")));
        all.setData().forPath("/ec/a", bytes("two"));
        for (int i = 0; i < pinned.size(); i++) {
            CuratorFramework c = pinned.get(i);
            c.sync().forPath("/ec/a");
            Check.eventually("synced via " + (i + 1), 15_000, () -> c.checkExists().forPath("/ec/a") != null);
            eq("data via " + (i + 1), "'two'", Check.data(c.getData().forPath("/ec/a")));
            eq("version via " + (i + 1), 1, c.checkExists().forPath("/ec/a").getVersion());
        }
    }

    /** One mutex, three clients on three members: handed over in turn, never shared. */
    private static void mutex(List<CuratorFramework> pinned) throws Exception {
        Check.section("InterProcessMutex");
        InterProcessMutex m1 = new InterProcessMutex(pinned.get(0), "/ec/lock");
        InterProcessMutex m2 = new InterProcessMutex(pinned.get(1), "/ec/lock");
        InterProcessMutex m3 = new InterProcessMutex(pinned.get(2), "/ec/lock");
        Check.truth("C1 acquires", m1.acquire(15, TimeUnit.SECONDS));
        Check.truth("C2 times out while C1 holds", !m2.acquire(300, TimeUnit.MILLISECONDS));
        Check.truth("C3 times out while C1 holds", !m3.acquire(300, TimeUnit.MILLISECONDS));
        m1.release();
        Check.truth("C2 acquires after C1 releases", m2.acquire(15, TimeUnit.SECONDS));
        Check.truth("C3 times out while C2 holds", !m3.acquire(300, TimeUnit.MILLISECONDS));
        m2.release();
        Check.truth("C3 acquires after C2 releases", m3.acquire(15, TimeUnit.SECONDS));
        m3.release();
        contend(pinned);
        Check.eventually("lock nodes all deleted", 15_000,
                () -> pinned.get(0).getChildren().forPath("/ec/lock").isEmpty());
    }

    /** The three clients take the lock in turns; the unguarded counter is never raced. */
    private static void contend(List<CuratorFramework> pinned) throws Exception {
        LockContention.run(pinned, "/ec/lock", ROUNDS, 90_000);
    }

    /** A latch per member: leadership passes in join order as leaders close. */
    private static void leaderLatch(List<CuratorFramework> pinned) throws Exception {
        Check.section("LeaderLatch");
        List<LeaderLatch> latches = new ArrayList<>();
        for (int i = 0; i < pinned.size(); i++) {
            LeaderLatch latch = new LeaderLatch(pinned.get(i), "/ec/leader", "L" + (i + 1));
            latch.start();
            latches.add(latch);
            if (i == 0) {
                Check.truth("L1 leads", latch.await(15, TimeUnit.SECONDS));
            }
            Check.eventually((i + 1) + " participants", 15_000,
                    () -> latch.getParticipants().size() == latches.size());
        }
        eq("leader seen through member 3", "L1", latches.get(2).getLeader().getId());
        latches.get(0).close();
        Check.truth("L2 leads after L1 closes", latches.get(1).await(15, TimeUnit.SECONDS));
        Check.truth("L3 does not lead", !latches.get(2).hasLeadership());
        eq("leader seen through member 3 now", "L2", latches.get(2).getLeader().getId());
        latches.get(1).close();
        Check.truth("L3 leads after L2 closes", latches.get(2).await(15, TimeUnit.SECONDS));
        latches.get(2).close();
        Check.eventually("latch nodes all deleted", 15_000,
                () -> pinned.get(0).getChildren().forPath("/ec/leader").isEmpty());
    }

    private static String data(ChildData d) {
        if (d == null) {
            return "-";
        }
        return d.getPath() + " " + Check.data(d.getData()) + " version=" + d.getStat().getVersion();
    }

    /**
     * A CuratorCache on member 1 sees changes made through members 2 and 3, in
     * order; a NodeCache on member 3 sees a change made through member 3. The
     * NodeCache has a client of its own: ZooKeeper 3.8 lets a standard watch
     * replace the same client's persistent recursive watch on a path
     * (ZOOKEEPER-4466): sharing c1 silenced the CuratorCache here.
     */
    @SuppressWarnings("deprecation")
    private static void caches(List<CuratorFramework> pinned) throws Exception {
        Check.section("CuratorCache and NodeCache");
        CuratorFramework c1 = pinned.get(0);
        CuratorFramework c2 = pinned.get(1);
        CuratorFramework c3 = pinned.get(2);
        c2.create().forPath("/ec/cache", bytes("root"));
        c1.sync().forPath("/ec/cache");
        Feed feed = new Feed("cache");
        Feed nodeFeed = new Feed("node");
        try (CuratorCache cache = CuratorCache.build(c1, "/ec/cache");
                NodeCache node = new NodeCache(c3, "/ec/cache")) {
            cache.listenable().addListener(CuratorCacheListener.builder()
                    .forAll((type, before, after) -> feed.add(type + " " + data(before) + " -> " + data(after)))
                    .forInitialized(() -> feed.add("initialized"))
                    .build());
            node.getListenable().addListener(() -> nodeFeed.add(data(node.getCurrentData())));
            cache.start();
            // Started without an initial build, NodeCache reports its first load.
            node.start();
            feed.expect("NODE_CREATED - -> /ec/cache 'root' version=0");
            feed.expect("initialized");
            nodeFeed.expect("/ec/cache 'root' version=0");
            c2.create().forPath("/ec/cache/x", bytes("1"));
            feed.expect("NODE_CREATED - -> /ec/cache/x '1' version=0");
            c3.sync().forPath("/ec/cache/x");
            c3.setData().forPath("/ec/cache/x", bytes("2"));
            feed.expect("NODE_CHANGED /ec/cache/x '1' version=0 -> /ec/cache/x '2' version=1");
            c3.setData().forPath("/ec/cache", bytes("root2"));
            feed.expect("NODE_CHANGED /ec/cache 'root' version=0 -> /ec/cache 'root2' version=1");
            nodeFeed.expect("/ec/cache 'root2' version=1");
            c2.sync().forPath("/ec/cache/x");
            c2.delete().forPath("/ec/cache/x");
            feed.expect("NODE_DELETED /ec/cache/x '2' version=1 -> -");
            feed.expectNone(500);
            nodeFeed.expectNone(100);
        }
    }
}
