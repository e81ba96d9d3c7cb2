package paddock.compat;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;

/**
 * The ZooKeeper layout and calls of Dubbo's ZookeeperRegistry, written with
 * Curator: persistent {@code /dubbo/<service>/providers} parents, one
 * ephemeral child per provider named by its URL-encoded URL, and consumers
 * that list the children with a watcher they re-arm on every change.
 */
public final class DubboRegistry {
    /** The service interface every provider of the suite exports. */
    public static final String SERVICE = "org.apache.dubbo.demo.DemoService";
    /** The directory of {@link #SERVICE}; Dubbo keeps one per category under it. */
    public static final String ROOT = "/dubbo/" + SERVICE;
    /** The providers directory of {@link #SERVICE}. */
    public static final String PROVIDERS = ROOT + "/providers";

    private DubboRegistry() {}

    /** A provider URL in Dubbo's format for {@link #SERVICE}. */
    public static String url(String host, int port, String application) {
        return "dubbo://" + host + ":" + port + "/" + SERVICE + "?anyhost=true&application=" + application
                + "&dubbo=2.0.2&interface=" + SERVICE + "&methods=sayHello,sayHelloAsync&side=provider";
    }

    /** Registers a provider: persistent parents, then its ephemeral node (replacing a leftover one). */
    public static void register(CuratorFramework c, String url) throws Exception {
        registerIn(c, PROVIDERS, url);
    }

    /** Registers {@code url} as an ephemeral child of the category directory {@code dir}. */
    public static void registerIn(CuratorFramework c, String dir, String url) throws Exception {
        String path = dir + "/" + URLEncoder.encode(url, StandardCharsets.UTF_8);
        try {
            c.create().creatingParentsIfNeeded().withMode(CreateMode.EPHEMERAL).forPath(path);
        } catch (KeeperException.NodeExistsException e) {
            c.delete().forPath(path);
            c.create().withMode(CreateMode.EPHEMERAL).forPath(path);
        }
    }

    /** Unregisters a provider by deleting its node. */
    public static void unregister(CuratorFramework c, String url) throws Exception {
        c.delete().forPath(PROVIDERS + "/" + URLEncoder.encode(url, StandardCharsets.UTF_8));
    }

    /**
     * Subscribes like Dubbo's consumer: lists the providers with a watcher,
     * and on every NodeChildrenChanged lists them again (re-arming the watch)
     * and reports the decoded, sorted list to {@code feed}.
     */
    public static void subscribe(CuratorFramework c, Feed feed) throws Exception {
        feed.add(list(c, feed));
    }

    private static String list(CuratorFramework c, Feed feed) throws Exception {
        CuratorWatcher watcher = event -> {
            if (event.getType() == Watcher.Event.EventType.NodeChildrenChanged) {
                feed.add(list(c, feed));
            }
        };
        List<String> out = new ArrayList<>();
        for (String child : c.getChildren().usingWatcher(watcher).forPath(PROVIDERS)) {
            out.add(URLDecoder.decode(child, StandardCharsets.UTF_8));
        }
        Collections.sort(out);
        return out.toString();
    }
}
