// Drives the Apache ZooKeeper Java client through every client opcode it can
// send, so that scripts/capture-golden can record the frames on the wire.
// Usage: java GoldenDriver <host:port> <scenario>, scenario = ops | reconnect.
// The path "/__drop__" is a signal to the capture proxy: it cuts the TCP
// connection, which makes the client reconnect with its session id, password
// and watches.

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.admin.ZooKeeperAdmin;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;

public class GoldenDriver {
    private static final int SESSION_TIMEOUT_MS = 4000;
    private static final LinkedBlockingQueue<WatchedEvent> EVENTS = new LinkedBlockingQueue<>();

    public static void main(String[] args) throws Exception {
        ZooKeeper zk = connect(args[0]);
        if (args[1].equals("ops")) {
            ops(zk);
            reconfig(args[0]);
        } else {
            reconnect(zk);
        }
        zk.close();
    }

    private static ZooKeeper connect(String hostPort) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(hostPort, SESSION_TIMEOUT_MS, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected && event.getPath() == null) {
                connected.countDown();
            }
            EVENTS.add(event);
        });
        if (!connected.await(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("no connection");
        }
        return zk;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Waits for the watch event on `path`, failing after a deadline. */
    private static void awaitEvent(String path) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            WatchedEvent e = EVENTS.poll(100, TimeUnit.MILLISECONDS);
            if (e != null && path.equals(e.getPath())) {
                return;
            }
        }
        throw new IllegalStateException("no event for " + path);
    }

    /** Waits for a session state event, failing after a deadline. */
    private static void awaitState(Watcher.Event.KeeperState state) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            WatchedEvent e = EVENTS.poll(100, TimeUnit.MILLISECONDS);
            if (e != null && e.getPath() == null && e.getState() == state) {
                return;
            }
        }
        throw new IllegalStateException("no state " + state);
    }

    private static void expectError(KeeperException.Code code, ThrowingRunnable r) throws Exception {
        try {
            r.run();
        } catch (KeeperException e) {
            if (e.code() == code) {
                return;
            }
            throw e;
        }
        throw new IllegalStateException("expected " + code);
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    private static void ops(ZooKeeper zk) throws Exception {
        List<ACL> open = Ids.OPEN_ACL_UNSAFE;
        Stat stat = new Stat();
        zk.create("/g", bytes("root"), open, CreateMode.PERSISTENT);
        zk.create("/g/empty", new byte[0], open, CreateMode.PERSISTENT);
        zk.create("/g/null", null, open, CreateMode.PERSISTENT);
        zk.create("/g/eph", bytes("e"), open, CreateMode.EPHEMERAL);
        zk.create("/g/seq-", bytes("s"), open, CreateMode.PERSISTENT_SEQUENTIAL);
        zk.create("/g/eseq-", bytes("es"), open, CreateMode.EPHEMERAL_SEQUENTIAL);
        zk.create("/g/c2", bytes("c2"), open, CreateMode.PERSISTENT, stat);
        zk.create("/g/container", null, open, CreateMode.CONTAINER, stat);
        zk.create("/g/ttl", bytes("t"), open, CreateMode.PERSISTENT_WITH_TTL, stat, 60000);
        zk.create("/g/ttlseq-", bytes("t"), open, CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, stat, 60000);
        expectError(KeeperException.Code.NODEEXISTS, () -> zk.create("/g", null, open, CreateMode.PERSISTENT));
        expectError(KeeperException.Code.NONODE, () -> zk.create("/nope/x", null, open, CreateMode.PERSISTENT));

        zk.getData("/g", false, stat);
        zk.getData("/g/null", false, stat);
        expectError(KeeperException.Code.NONODE, () -> zk.getData("/absent", false, null));
        zk.exists("/g", false);
        zk.exists("/absent", false);
        zk.setData("/g", bytes("root2"), -1);
        expectError(KeeperException.Code.BADVERSION, () -> zk.setData("/g", bytes("x"), 42));
        zk.getChildren("/g", false);
        zk.getChildren("/g", false, stat);
        zk.getAllChildrenNumber("/g");
        zk.getEphemerals();
        zk.getEphemerals("/g");
        zk.getACL("/g", stat);
        zk.addAuthInfo("digest", bytes("alice:secret"));
        zk.setACL("/g/c2", Arrays.asList(new ACL(31, new Id("auth", "")), new ACL(1, Ids.ANYONE_ID_UNSAFE)), -1);
        zk.getACL("/g/c2", stat);
        expectError(KeeperException.Code.BADVERSION, () -> zk.setACL("/g/c2", open, 7));
        zk.whoAmI();

        CountDownLatch synced = new CountDownLatch(1);
        zk.sync("/g", (rc, path, ctx) -> synced.countDown(), null);
        synced.await(10, TimeUnit.SECONDS);

        zk.multi(Arrays.asList(
            Op.create("/g/m1", bytes("m"), open, CreateMode.PERSISTENT),
            Op.setData("/g/m1", bytes("m2"), -1),
            Op.check("/g/m1", 1),
            Op.delete("/g/m1", -1)));
        expectError(KeeperException.Code.BADVERSION, () -> zk.multi(Arrays.asList(
            Op.create("/g/m2", bytes("m"), open, CreateMode.PERSISTENT),
            Op.check("/g", 99),
            Op.delete("/g/empty", -1))));
        zk.multi(Arrays.asList(Op.getChildren("/g"), Op.getData("/g"), Op.getData("/absent")));

        watches(zk, open);
        expectError(KeeperException.Code.NOTEMPTY, () -> zk.delete("/g", -1));
        expectError(KeeperException.Code.NONODE, () -> zk.delete("/absent", -1));
        zk.delete("/g/empty", -1);
        Thread.sleep(SESSION_TIMEOUT_MS / 2);
    }

    private static void watches(ZooKeeper zk, List<ACL> open) throws Exception {
        zk.exists("/g/w", true);
        zk.create("/g/w", bytes("w"), open, CreateMode.PERSISTENT);
        awaitEvent("/g/w");
        zk.getData("/g/w", true, null);
        zk.setData("/g/w", bytes("w2"), -1);
        awaitEvent("/g/w");
        zk.getChildren("/g/w", true);
        zk.create("/g/w/kid", null, open, CreateMode.PERSISTENT);
        awaitEvent("/g/w");
        zk.addWatch("/g/w", AddWatchMode.PERSISTENT_RECURSIVE);
        zk.setData("/g/w/kid", bytes("k"), -1);
        awaitEvent("/g/w/kid");
        Watcher own = event -> EVENTS.add(event);
        zk.getData("/g/w", own, null);
        zk.removeWatches("/g/w", own, Watcher.WatcherType.Data, false);
        expectError(KeeperException.Code.NOWATCHER,
            () -> zk.removeWatches("/g/w", own, Watcher.WatcherType.Data, false));
        zk.getChildren("/g/w", true);
        zk.removeAllWatches("/g/w", Watcher.WatcherType.Any, false);
        zk.delete("/g/w/kid", -1);
        zk.delete("/g/w", -1);
    }

    /** Sends a reconfig, which a standalone server refuses, on its own
     * connection (reconfig is a ZooKeeperAdmin call). */
    private static void reconfig(String hostPort) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeperAdmin admin = new ZooKeeperAdmin(hostPort, SESSION_TIMEOUT_MS, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        if (!connected.await(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("no admin connection");
        }
        try {
            admin.reconfigure("server.9=127.0.0.1:2888:3888:participant;127.0.0.1:2189", null, null, -1, new Stat());
            throw new IllegalStateException("a standalone server accepted reconfig");
        } catch (KeeperException expected) {
            System.out.println("reconfig refused: " + expected.code());
        }
        admin.close();
    }

    private static void reconnect(ZooKeeper zk) throws Exception {
        List<ACL> open = Ids.OPEN_ACL_UNSAFE;
        zk.create("/r", null, open, CreateMode.PERSISTENT);
        zk.exists("/r/new", true);
        zk.getData("/r", true, null);
        zk.getChildren("/r", true);
        dropAndReconnect(zk);
        zk.addWatch("/r", AddWatchMode.PERSISTENT);
        zk.addWatch("/r/deep", AddWatchMode.PERSISTENT_RECURSIVE);
        dropAndReconnect(zk);
        zk.create("/r/new", null, open, CreateMode.PERSISTENT);
        awaitEvent("/r/new");
    }

    /** Asks the capture proxy to cut the connection and waits for the client
     * to reconnect, which re-sends the session id, password and watches. */
    private static void dropAndReconnect(ZooKeeper zk) throws Exception {
        zk.exists("/__drop__", false, (rc, path, ctx, stat) -> { }, null);
        awaitState(Watcher.Event.KeeperState.Disconnected);
        awaitState(Watcher.Event.KeeperState.SyncConnected);
    }
}
