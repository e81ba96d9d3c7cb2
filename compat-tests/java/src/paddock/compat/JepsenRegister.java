package paddock.compat;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

/**
 * The jepsen register workload through the plain Java client:
 * {@code JepsenRegister <connect> <key prefix> <threads> <seed>}. Each thread has its own
 * ZooKeeper session (5 s timeout) and performs read (sync then getData), write (setData) and
 * cas (getData, then setData with its version) on znodes holding 0..4, two keys at a time,
 * fresh keys after 120 operations each (created holding 0 first). Every event is one line
 * {@code <process> <invoke|ok|fail|info> <read|write|cas> <key> <JSON value> <System.nanoTime>}
 * (CLOCK_MONOTONIC, the clock of the Python harness). Runs until standard input closes, then
 * prints {@code done}.
 */
public final class JepsenRegister {
    private static final int OPS_PER_KEY = 120;
    private static final int KEYS_ACTIVE = 2;
    private static final int VALUES = 5;
    private static final AtomicBoolean STOP = new AtomicBoolean();
    private static final AtomicLong COUNT = new AtomicLong();

    private JepsenRegister() {}

    public static void main(String[] args) throws Exception {
        String connect = args[0];
        String prefix = args[1];
        int threads = Integer.parseInt(args[2]);
        long seed = Long.parseLong(args[3]);
        Thread[] workers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            final int id = t;
            workers[t] = new Thread(() -> work(connect, prefix, "jrg" + id, new Random(seed + id)));
            workers[t].start();
        }
        while (System.in.read() >= 0) {
            // Runs until the harness closes standard input.
        }
        STOP.set(true);
        for (Thread t : workers) {
            t.join(30000);
        }
        System.out.println("done");
        System.out.flush();
        System.exit(0);
    }

    private static ZooKeeper connect(String connect) {
        try {
            CountDownLatch up = new CountDownLatch(1);
            ZooKeeper zk = new ZooKeeper(connect, 5000, e -> {
                if (e.getState() == org.apache.zookeeper.Watcher.Event.KeeperState.SyncConnected) {
                    up.countDown();
                }
            });
            if (up.await(5, TimeUnit.SECONDS)) {
                return zk;
            }
            zk.close();
        } catch (Exception e) {
            // No member reachable now: tried again.
        }
        return null;
    }

    private static void work(String connect, String prefix, String name, Random rng) {
        ZooKeeper zk = null;
        int gen = 0;
        while (!STOP.get()) {
            if (zk == null || !zk.getState().isAlive()) {
                zk = connect(connect);
                if (zk == null) {
                    sleep(200);
                    continue;
                }
            }
            long n = COUNT.getAndIncrement();
            String key = String.format("%s/k%05d", prefix,
                    n / (OPS_PER_KEY * KEYS_ACTIVE) * KEYS_ACTIVE + rng.nextInt(KEYS_ACTIVE));
            String process = name + "." + gen;
            try {
                if (!ensure(zk, key)) {
                    continue;
                }
                if (!op(zk, key, process, rng)) {
                    gen++;
                }
            } catch (InterruptedException e) {
                return;
            }
            sleep(rng.nextInt(10));
        }
        if (zk != null) {
            try {
                zk.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static boolean ensure(ZooKeeper zk, String key) throws InterruptedException {
        try {
            zk.create(key, "0".getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE,
                    CreateMode.PERSISTENT);
        } catch (KeeperException.NodeExistsException e) {
            return true;
        } catch (KeeperException e) {
            return false;
        }
        return true;
    }

    /** One operation; false when its outcome is unknown (a new process follows). */
    private static boolean op(ZooKeeper zk, String key, String process, Random rng)
            throws InterruptedException {
        double roll = rng.nextDouble();
        if (roll < 0.4) {
            event(process, "invoke", "read", key, "null");
            try {
                sync(zk, key);
                int v = value(zk.getData(key, false, null));
                event(process, "ok", "read", key, Integer.toString(v));
            } catch (KeeperException e) {
                event(process, "info", "read", key, "null");
                return false;
            }
            return true;
        }
        if (roll < 0.7) {
            int v = rng.nextInt(VALUES);
            event(process, "invoke", "write", key, Integer.toString(v));
            return set(zk, key, v, -1, process, "write");
        }
        Stat stat = new Stat();
        int from;
        try {
            from = value(zk.getData(key, false, stat));
        } catch (KeeperException e) {
            return true;
        }
        int to = rng.nextInt(VALUES);
        event(process, "invoke", "cas", key, "[" + from + "," + to + "]");
        return set(zk, key, to, stat.getVersion(), process, "cas");
    }

    private static boolean set(ZooKeeper zk, String key, int v, int version, String process,
            String f) throws InterruptedException {
        try {
            zk.setData(key, Integer.toString(v).getBytes(StandardCharsets.UTF_8), version);
            event(process, "ok", f, key, "null");
            return true;
        } catch (KeeperException.BadVersionException | KeeperException.NoNodeException e) {
            event(process, "fail", f, key, "null");
            return true;
        } catch (KeeperException e) {
            event(process, "info", f, key, "null");
            return false;
        }
    }

    private static void sync(ZooKeeper zk, String key) throws KeeperException, InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        int[] rc = new int[1];
        zk.sync(key, (code, path, ctx) -> {
            rc[0] = code;
            done.countDown();
        }, null);
        done.await();
        if (rc[0] != 0) {
            throw KeeperException.create(KeeperException.Code.get(rc[0]), key);
        }
    }

    private static int value(byte[] data) {
        return Integer.parseInt(new String(data, StandardCharsets.UTF_8));
    }

    private static synchronized void event(String process, String type, String f, String key,
            String value) {
        System.out.println(process + " " + type + " " + f + " " + key + " " + value + " "
                + System.nanoTime());
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
