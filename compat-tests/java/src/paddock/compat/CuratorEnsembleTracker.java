package paddock.compat;

import java.nio.charset.StandardCharsets;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.imps.CuratorFrameworkImpl;
import org.apache.curator.framework.imps.EnsembleTracker;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.server.quorum.flexible.QuorumVerifier;

/**
 * Curator's EnsembleTracker through a reconfig, for the ensemble-reconfig suite:
 * {@code CuratorEnsembleTracker <connect> <all members, comma-separated> <member to remove>
 * <server.N=spec to add back>}. A Curator client (super identity, ensemble tracking on)
 * first sets the whole membership (non-incremental, so that every member names its client
 * address), then removes the member and adds it back, with Curator's reconfig API; after
 * each change it waits until the tracker has read the new /zookeeper/config and prints the
 * members it tracks and the connection string it derives (ports masked).
 */
public final class CuratorEnsembleTracker {
    private CuratorEnsembleTracker() {}

    public static void main(String[] args) throws Exception {
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(args[0])
                .sessionTimeoutMs(10000)
                .connectionTimeoutMs(5000)
                .retryPolicy(new ExponentialBackoffRetry(100, 10, 1000))
                .authorization("digest", "super:test".getBytes(StandardCharsets.UTF_8))
                .build();
        client.start();
        if (!client.blockUntilConnected(15, TimeUnit.SECONDS)) {
            throw new AssertionError("Curator did not connect within 15 s");
        }
        long version = awaitNewer(client, 0);
        byte[] all = client.reconfig().withNewMembers(args[1].split(",")).forEnsemble();
        System.out.println("curator reconfig -members: " + mask(new String(all, StandardCharsets.UTF_8)));
        version = awaitNewer(client, version);
        System.out.println("tracking: " + describe(client));
        byte[] removed = client.reconfig().leaving(args[2]).forEnsemble();
        System.out.println("curator reconfig -remove: " + mask(new String(removed, StandardCharsets.UTF_8)));
        version = awaitNewer(client, version);
        System.out.println("tracking: " + describe(client));
        byte[] added = client.reconfig().joining(args[3]).forEnsemble();
        System.out.println("curator reconfig -add: " + mask(new String(added, StandardCharsets.UTF_8)));
        awaitNewer(client, version);
        System.out.println("tracking: " + describe(client));
        client.close();
    }

    /** Waits (up to 20 s) until the tracked configuration's version is above {@code than}. */
    private static long awaitNewer(CuratorFramework client, long than) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            QuorumVerifier qv = ((CuratorFrameworkImpl) client).getCurrentConfig();
            if (qv != null && qv.getVersion() > than) {
                return qv.getVersion();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the EnsembleTracker saw no configuration newer than " + Long.toHexString(than));
    }

    private static String describe(CuratorFramework client) throws Exception {
        QuorumVerifier qv = ((CuratorFrameworkImpl) client).getCurrentConfig();
        return "members " + new TreeSet<>(qv.getAllMembers().keySet()) + ", voters "
                + new TreeSet<>(qv.getVotingMembers().keySet()) + ", connection string '"
                + mask(EnsembleTracker.configToConnectionString(qv)) + "'";
    }

    private static String mask(String text) {
        return text.replaceAll(":\\d+", ":P").replace("\n", "\\n");
    }
}
