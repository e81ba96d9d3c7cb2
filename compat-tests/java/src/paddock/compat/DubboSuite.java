package paddock.compat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;

/**
 * The dubbo suite: a Dubbo-style registry scenario. Provider 1 runs in this
 * JVM, provider 2 in a child JVM that the suite freezes with SIGSTOP past
 * its session timeout; the consumer must see each provider appear and
 * disappear, including the expiry, and provider 2 re-register afterwards.
 */
public final class DubboSuite {
    /** Provider 2's session timeout: short, so the freeze outlives it quickly. */
    static final int PROVIDER_TIMEOUT_MS = 2000;

    private DubboSuite() {}

    /** Runs the dubbo suite against ZK_CONNECT. */
    public static void main(String[] args) {
        Check.main("dubbo", DubboSuite::run);
    }

    private static void run() throws Exception {
        String connect = Check.connectString();
        String url1 = DubboRegistry.url("10.0.0.1", 20880, "provider-one");
        String url2 = DubboRegistry.url("10.0.0.2", 20880, "provider-two");
        CuratorFramework consumer = Curators.open("consumer", connect, Curators.SESSION_TIMEOUT_MS);
        CuratorFramework p1 = Curators.open("provider1", connect, Curators.SESSION_TIMEOUT_MS);
        for (String category : List.of("providers", "configurators", "routers")) {
            consumer.create().creatingParentsIfNeeded().forPath(DubboRegistry.ROOT + "/" + category);
        }
        String consumerUrl = "consumer://10.0.0.9/" + DubboRegistry.SERVICE + "?application=consumer&category=consumers&side=consumer";
        DubboRegistry.registerIn(consumer, DubboRegistry.ROOT + "/consumers", consumerUrl);
        Feed seen = new Feed("consumer sees");
        DubboRegistry.subscribe(consumer, seen);
        seen.expect("[]");
        DubboRegistry.register(p1, url1);
        seen.expect(List.of(url1).toString());
        Process p2 = startProvider(connect, url2);
        try {
            Feed out = providerOutput(p2);
            out.expect("registered");
            seen.expect(List.of(url1, url2).toString());
            Check.section("provider 2 frozen past its session timeout");
            signal(p2, "STOP");
            seen.expect(List.of(url1).toString());
            Check.eq("provider 2 node gone", "[" + URLEncoder.encode(url1, StandardCharsets.UTF_8) + "]",
                    consumer.getChildren().forPath(DubboRegistry.PROVIDERS).toString());
            signal(p2, "CONT");
            out.expect("registered on a new session");
            seen.expect(List.of(url1, url2).toString());
            Check.section("provider 2 killed");
            p2.destroyForcibly();
            Check.truth("provider 2 exited", p2.waitFor(15, TimeUnit.SECONDS));
            seen.expect(List.of(url1).toString());
        } finally {
            p2.destroyForcibly();
        }
        Check.section("provider 1 unregisters");
        DubboRegistry.unregister(p1, url1);
        seen.expect("[]");
        seen.expectNone(500);
        Check.eq("providers directory stays", true, consumer.checkExists().forPath(DubboRegistry.PROVIDERS) != null);
        consumer.close();
        Check.eventually("consumer node gone with its session", 15_000,
                () -> p1.getChildren().forPath(DubboRegistry.ROOT + "/consumers").isEmpty());
        List<String> dirs = new ArrayList<>(p1.getChildren().forPath(DubboRegistry.ROOT));
        Collections.sort(dirs);
        Check.eq("category directories", "[configurators, consumers, providers, routers]", dirs.toString());
        p1.close();
    }

    private static Process startProvider(String connect, String url) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        return new ProcessBuilder(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"),
                DubboProvider.class.getName(), connect, Integer.toString(PROVIDER_TIMEOUT_MS), url)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
    }

    /** Feeds the provider's stdout lines (one per registration) to a queue. */
    private static Feed providerOutput(Process p) {
        Feed feed = new Feed("provider 2");
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    feed.add(line);
                }
            } catch (IOException e) {
                // the provider exited
            }
        }, "provider-output");
        t.setDaemon(true);
        t.start();
        return feed;
    }

    private static void signal(Process p, String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).inheritIO().start();
        Check.eq("kill -" + signal + " provider 2", 0, kill.waitFor());
    }
}
