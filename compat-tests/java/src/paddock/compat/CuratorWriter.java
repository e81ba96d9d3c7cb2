package paddock.compat;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;

/**
 * A Curator write load for ensemble-failover: {@code CuratorWriter <connect> <parent> <seconds>}.
 * Four threads create unique nodes under {@code parent} (data = the path) through one Curator
 * client with the given multi-host connect string, for {@code seconds}. Each success prints
 * {@code ack <path> <sent ms> <acked ms>} (wall clock, so the caller can compare with its own
 * clock); each failure {@code err <exception class>}. Ends with {@code done}.
 */
public final class CuratorWriter {
    private CuratorWriter() {}

    public static void main(String[] args) throws Exception {
        String connect = args[0];
        String parent = args[1];
        long seconds = Long.parseLong(args[2]);
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(connect)
                .sessionTimeoutMs(10000)
                .connectionTimeoutMs(3000)
                .retryPolicy(new ExponentialBackoffRetry(50, 20, 500))
                .build();
        client.start();
        if (!client.blockUntilConnected(15, TimeUnit.SECONDS)) {
            System.out.println("err NotConnected");
            System.out.println("done");
            return;
        }
        AtomicBoolean stop = new AtomicBoolean();
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            final int id = t;
            threads[t] = new Thread(() -> write(client, parent + "/c" + id + "-", stop));
            threads[t].start();
        }
        Thread.sleep(seconds * 1000);
        stop.set(true);
        for (Thread t : threads) {
            t.join(20000);
        }
        client.close();
        System.out.println("done");
    }

    private static void write(CuratorFramework client, String prefix, AtomicBoolean stop) {
        for (long n = 0; !stop.get(); n++) {
            String path = String.format("%s%07d", prefix, n);
            long sent = System.currentTimeMillis();
            try {
                client.create().forPath(path, path.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                print("ack " + path + " " + sent + " " + System.currentTimeMillis());
            } catch (Exception e) {
                print("err " + e.getClass().getSimpleName());
            }
        }
    }

    private static synchronized void print(String line) {
        System.out.println(line);
    }
}
