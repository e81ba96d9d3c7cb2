package paddock.rolling;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher.Event.EventType;

/**
 * One Curator session of ensemble-rolling:
 * {@code RollingCurator <connect> <name> <session ms> <write pause ms>}.
 *
 * <p>It creates the ephemeral {@code /roll/eph/<name>}, keeps a data watch on {@code /roll/watch}
 * and a child watch on {@code /roll/kids} (plain ZooKeeper watches: across a reconnection the
 * ZooKeeper client re-registers them with SetWatches, and the server fires those whose node
 * changed meanwhile; they are re-armed here only after an event), and creates
 * {@code /roll/c/<name>-<n>} one at a time until stdin closes or says {@code stop}.
 *
 * <p>Prints, one line each (wall-clock ms, so the caller can compare with its own clock):
 * {@code session <hex id>} at start and after every reconnection, {@code state <name> <ms>},
 * {@code data <value> <ms>}, {@code children <a,b,...> <ms>}, {@code ack <path> <sent> <acked>},
 * {@code err <exception class> <ms>}, and {@code done} at the end.
 */
public final class RollingCurator {
    private static final String WATCHED = "/roll/watch";
    private static final String KIDS = "/roll/kids";

    private final CuratorFramework client;
    /** Re-arming runs off ZooKeeper's event thread, one at a time. */
    private final ExecutorService rearm = Executors.newSingleThreadExecutor();

    private RollingCurator(CuratorFramework client) {
        this.client = client;
    }

    public static void main(String[] args) throws Exception {
        String connect = args[0];
        String name = args[1];
        int sessionMs = Integer.parseInt(args[2]);
        long pauseMs = Long.parseLong(args[3]);
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(connect)
                .sessionTimeoutMs(sessionMs)
                .connectionTimeoutMs(5000)
                .retryPolicy(new ExponentialBackoffRetry(50, 29, 500))
                .build();
        client.getConnectionStateListenable().addListener((c, state) -> {
            print("state " + state + " " + System.currentTimeMillis());
            if (state.isConnected()) {
                printSession(c);
            }
        });
        client.start();
        if (!client.blockUntilConnected(30, TimeUnit.SECONDS)) {
            print("err NotConnected " + System.currentTimeMillis());
            print("done");
            return;
        }
        printSession(client);
        RollingCurator me = new RollingCurator(client);
        client.create().creatingParentsIfNeeded().withMode(CreateMode.EPHEMERAL)
                .forPath("/roll/eph/" + name);
        me.readData();
        me.readChildren();
        AtomicBoolean stop = new AtomicBoolean();
        Thread writer = new Thread(() -> me.write("/roll/c/" + name + "-", pauseMs, stop));
        writer.start();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = in.readLine(); line != null && !line.equals("stop"); line = in.readLine()) {
            // Only "stop" (or the end of stdin) means anything.
        }
        stop.set(true);
        writer.join(30000);
        me.rearm.shutdownNow();
        client.close();
        print("done");
    }

    private static void printSession(CuratorFramework c) {
        try {
            print("session 0x" + Long.toHexString(c.getZookeeperClient().getZooKeeper().getSessionId()));
        } catch (Exception e) {
            print("err " + e.getClass().getSimpleName() + " " + System.currentTimeMillis());
        }
    }

    /** Watcher of both paths: an event re-arms the watch that fired (state events do not). */
    private final CuratorWatcher watcher = new CuratorWatcher() {
        @Override
        public void process(WatchedEvent event) {
            if (event.getType() == EventType.NodeChildrenChanged) {
                rearm.execute(RollingCurator.this::readChildren);
            } else if (event.getType() != EventType.None) {
                rearm.execute(RollingCurator.this::readData);
            }
        }
    };

    private void readData() {
        retry(() -> {
            byte[] data = client.getData().usingWatcher(watcher).forPath(WATCHED);
            print("data " + new String(data, StandardCharsets.UTF_8) + " " + System.currentTimeMillis());
        });
    }

    private void readChildren() {
        retry(() -> {
            List<String> kids = new ArrayList<>(client.getChildren().usingWatcher(watcher).forPath(KIDS));
            Collections.sort(kids);
            print("children " + String.join(",", kids) + " " + System.currentTimeMillis());
        });
    }

    /** Runs a read until it succeeds (a watch is only armed by a read that succeeded). */
    private void retry(Op op) {
        for (int attempt = 0; attempt < 600; attempt++) {
            try {
                op.run();
                return;
            } catch (Exception e) {
                print("err " + e.getClass().getSimpleName() + " " + System.currentTimeMillis());
                try {
                    Thread.sleep(100);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private void write(String prefix, long pauseMs, AtomicBoolean stop) {
        for (long n = 0; !stop.get(); n++) {
            String path = String.format("%s%07d", prefix, n);
            long sent = System.currentTimeMillis();
            try {
                client.create().forPath(path, path.getBytes(StandardCharsets.UTF_8));
                print("ack " + path + " " + sent + " " + System.currentTimeMillis());
            } catch (Exception e) {
                print("err " + e.getClass().getSimpleName() + " " + System.currentTimeMillis());
            }
            try {
                Thread.sleep(pauseMs);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static synchronized void print(String line) {
        System.out.println(line);
    }

    /** A read that may throw. */
    private interface Op {
        void run() throws Exception;
    }
}
