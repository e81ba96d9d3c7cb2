package paddock.compat;

import java.nio.charset.StandardCharsets;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.cache.PathChildrenCache;
import org.apache.curator.framework.recipes.cache.PathChildrenCacheEvent;

/**
 * The curator suite's cache checks: C1 caches, C2 changes the tree one step
 * at a time, and every cache event is asserted in order, exactly.
 */
final class CuratorCaches {
    private CuratorCaches() {}

    static void run(CuratorFramework c1, CuratorFramework c2) throws Exception {
        pathChildrenCache(c1, c2);
        curatorCache(c1, c2);
    }

    private static String data(ChildData d) {
        if (d == null) {
            return "-";
        }
        String text = d.getData() == null ? "null" : "'" + new String(d.getData(), StandardCharsets.UTF_8) + "'";
        return d.getPath() + " " + text + " version=" + d.getStat().getVersion();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** PathChildrenCache is deprecated in Curator 5 but still what many users (Dubbo among them) run. */
    @SuppressWarnings("deprecation")
    private static void pathChildrenCache(CuratorFramework c1, CuratorFramework c2) throws Exception {
        Check.section("PathChildrenCache");
        c2.create().creatingParentsIfNeeded().forPath("/cu/pcc/x", bytes("x"));
        Feed feed = new Feed("pcc");
        try (PathChildrenCache cache = new PathChildrenCache(c1, "/cu/pcc", true)) {
            cache.getListenable().addListener((client, e) -> {
                if (e.getType() == PathChildrenCacheEvent.Type.INITIALIZED || e.getData() != null) {
                    feed.add(e.getType() + " " + data(e.getData()));
                }
            });
            cache.start(PathChildrenCache.StartMode.POST_INITIALIZED_EVENT);
            feed.expect("CHILD_ADDED /cu/pcc/x 'x' version=0");
            feed.expect("INITIALIZED -");
            c2.create().forPath("/cu/pcc/a", bytes("1"));
            feed.expect("CHILD_ADDED /cu/pcc/a '1' version=0");
            c2.setData().forPath("/cu/pcc/a", bytes("2"));
            feed.expect("CHILD_UPDATED /cu/pcc/a '2' version=1");
            c2.create().forPath("/cu/pcc/a/deep", bytes("d"));
            c2.delete().forPath("/cu/pcc/a/deep");
            c2.delete().forPath("/cu/pcc/a");
            feed.expect("CHILD_REMOVED /cu/pcc/a '2' version=1");
            c2.setData().forPath("/cu/pcc", bytes("parent"));
            feed.expectNone(500);
            Check.eq("cached children", "[/cu/pcc/x]", cache.getCurrentData().stream().map(ChildData::getPath).toList().toString());
        }
    }

    private static void curatorCache(CuratorFramework c1, CuratorFramework c2) throws Exception {
        Check.section("CuratorCache");
        c2.create().creatingParentsIfNeeded().forPath("/cu/cc/x", bytes("x"));
        Feed feed = new Feed("cc");
        try (CuratorCache cache = CuratorCache.build(c1, "/cu/cc")) {
            cache.listenable().addListener(CuratorCacheListener.builder()
                    .forAll((type, before, after) -> feed.add(type + " " + data(before) + " -> " + data(after)))
                    .forInitialized(() -> feed.add("initialized"))
                    .build());
            cache.start();
            feed.expect("NODE_CREATED - -> /cu/cc '' version=0");
            feed.expect("NODE_CREATED - -> /cu/cc/x 'x' version=0");
            feed.expect("initialized");
            c2.create().forPath("/cu/cc/a", bytes("1"));
            feed.expect("NODE_CREATED - -> /cu/cc/a '1' version=0");
            c2.create().forPath("/cu/cc/a/b", bytes("2"));
            feed.expect("NODE_CREATED - -> /cu/cc/a/b '2' version=0");
            c2.setData().forPath("/cu/cc/a", bytes("3"));
            feed.expect("NODE_CHANGED /cu/cc/a '1' version=0 -> /cu/cc/a '3' version=1");
            c2.delete().forPath("/cu/cc/a/b");
            feed.expect("NODE_DELETED /cu/cc/a/b '2' version=0 -> -");
            c2.delete().forPath("/cu/cc/a");
            feed.expect("NODE_DELETED /cu/cc/a '3' version=1 -> -");
            c2.delete().forPath("/cu/cc/x");
            feed.expect("NODE_DELETED /cu/cc/x 'x' version=0 -> -");
            c2.delete().forPath("/cu/cc");
            feed.expect("NODE_DELETED /cu/cc '' version=0 -> -");
            feed.expectNone(500);
        }
    }
}
