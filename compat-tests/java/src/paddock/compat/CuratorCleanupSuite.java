package paddock.compat;

import static paddock.compat.Check.eq;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.nodes.PersistentTtlNode;
import org.apache.zookeeper.data.Stat;

/**
 * The curator-cleanup suite: nodes that Curator recipes leave for the server
 * to clean up. Container parents made by creatingParentContainersIfNeeded go
 * once their last child is gone, and a PersistentTtlNode (a container whose
 * TTL child the recipe keeps touching) goes once the recipe stops touching
 * it. The server reaps on its own schedule (suites/curator-cleanup.jvmflags
 * sets a 500 ms check interval), so the transcript prints outcomes only.
 */
public final class CuratorCleanupSuite {
    /** How long the reaper may take: several check intervals and TTLs. */
    static final long REAP_MS = 15_000;

    private CuratorCleanupSuite() {}

    /** Runs the suite against ZK_CONNECT. */
    public static void main(String[] args) {
        Check.main("curator-cleanup", () -> {
            CuratorFramework c = Curators.open("C", Check.connectString(), Curators.SESSION_TIMEOUT_MS);
            containerParents(c);
            persistentTtlNode(c);
            c.close();
        });
    }

    private static void containerParents(CuratorFramework c) throws Exception {
        Check.section("creatingParentContainersIfNeeded");
        c.create().creatingParentContainersIfNeeded().forPath("/cc/a/b/leaf", "x".getBytes(StandardCharsets.UTF_8));
        Stat parent = c.checkExists().forPath("/cc/a/b");
        eq("parent is a container (ephemeralOwner shown as 0)", 0L, parent.getEphemeralOwner());
        eq("parent children", 1, parent.getNumChildren());
        c.delete().forPath("/cc/a/b/leaf");
        Check.eventually("emptied container parent /cc/a/b reaped", REAP_MS,
                () -> c.checkExists().forPath("/cc/a/b") == null);
        Check.eventually("then its own container parent /cc/a", REAP_MS,
                () -> c.checkExists().forPath("/cc/a") == null);
        Check.eventually("and /cc", REAP_MS, () -> c.checkExists().forPath("/cc") == null);
    }

    private static void persistentTtlNode(CuratorFramework c) throws Exception {
        Check.section("PersistentTtlNode");
        PersistentTtlNode node = new PersistentTtlNode(c, "/ttlnode", 1000, "v".getBytes(StandardCharsets.UTF_8));
        node.start();
        Check.truth("created", node.waitForInitialCreate(10, TimeUnit.SECONDS));
        eq("data", "v", new String(c.getData().forPath("/ttlnode"), StandardCharsets.UTF_8));
        // While the recipe touches its TTL child, the node outlives several TTLs.
        Thread.sleep(3000);
        Check.truth("kept alive while touched", c.checkExists().forPath("/ttlnode") != null);
        node.close();
        Check.eventually("gone once no longer touched", REAP_MS,
                () -> c.checkExists().forPath("/ttlnode") == null);
    }
}
