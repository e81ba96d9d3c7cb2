package paddock.compat;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;

/**
 * A Dubbo-style provider run as its own JVM by {@link DubboSuite}, so the
 * suite can freeze it with SIGSTOP. Arguments: connect string, session
 * timeout in ms, provider URL. It registers, and registers again each time
 * Curator reconnects on a new session (what Dubbo's registry recovery does
 * after an expiry). Each registration prints one line to stdout, which the
 * suite reads; it runs until killed.
 */
public final class DubboProvider {
    private DubboProvider() {}

    /** Entry point; see the class comment for the arguments. */
    public static void main(String[] args) throws Exception {
        CuratorFramework c = Curators.open("provider", args[0], Integer.parseInt(args[1]));
        String url = args[2];
        long[] session = {c.getZookeeperClient().getZooKeeper().getSessionId()};
        c.getConnectionStateListenable().addListener((client, state) -> {
            if (state != ConnectionState.RECONNECTED) {
                return;
            }
            try {
                long now = client.getZookeeperClient().getZooKeeper().getSessionId();
                if (now != session[0]) {
                    session[0] = now;
                    DubboRegistry.register(client, url);
                    System.out.println("registered on a new session");
                    System.out.flush();
                }
            } catch (Exception e) {
                e.printStackTrace();
                System.out.println("re-registration failed: " + e);
                System.out.flush();
            }
        });
        DubboRegistry.register(c, url);
        System.out.println("registered");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
