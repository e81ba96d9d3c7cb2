package paddock.compat;

import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;

/** Opening Curator clients with timeouts that fit the harness's [1000, 10000] ms clamp. */
public final class Curators {
    /** Session timeout asked for by every Curator client of the suites. */
    public static final int SESSION_TIMEOUT_MS = 6000;

    private Curators() {}

    /** Starts a Curator client on {@code connect} and waits (bounded) until it is connected. */
    public static CuratorFramework open(String name, String connect, int sessionTimeoutMs) throws Exception {
        CuratorFramework c = CuratorFrameworkFactory.builder()
                .connectString(connect)
                .sessionTimeoutMs(sessionTimeoutMs)
                .connectionTimeoutMs(5000)
                .retryPolicy(new ExponentialBackoffRetry(100, 10, 1000))
                .build();
        c.start();
        if (!c.blockUntilConnected(15, TimeUnit.SECONDS)) {
            throw new AssertionError(name + ": Curator client did not connect within 15 s");
        }
        Check.nameSession(c.getZookeeperClient().getZooKeeper().getSessionId(), name);
        return c;
    }
}
