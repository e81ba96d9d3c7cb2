package paddock.compat;

import static paddock.compat.Check.eq;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.TreeSet;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.details.JsonInstanceSerializer;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;

/** The curator suite's DistributedAtomicLong, transaction and service discovery checks. */
final class CuratorMisc {
    /** Increments per client in the atomic long check. */
    static final int INCREMENTS = 25;

    private CuratorMisc() {}

    static void run(CuratorFramework c1, CuratorFramework c2) throws Exception {
        atomicLong(c1, c2);
        transactions(c1);
        discovery(c1, c2);
    }

    private static void atomicLong(CuratorFramework c1, CuratorFramework c2) throws Exception {
        Check.section("DistributedAtomicLong");
        List<Long> pre = Collections.synchronizedList(new ArrayList<>());
        List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (CuratorFramework c : List.of(c1, c2)) {
            DistributedAtomicLong counter = new DistributedAtomicLong(c, "/cu/counter", new RetryNTimes(1000, 5));
            Thread t = new Thread(() -> {
                try {
                    for (int i = 0; i < INCREMENTS; i++) {
                        AtomicValue<Long> v = counter.increment();
                        if (!v.succeeded()) {
                            throw new AssertionError("increment gave up");
                        }
                        pre.add(v.preValue());
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join(60_000);
        }
        eq("increment errors", "[]", errors.toString());
        eq("final value", (long) 2 * INCREMENTS, new DistributedAtomicLong(c1, "/cu/counter", new RetryNTimes(3, 5)).get().postValue());
        TreeSet<Long> distinct = new TreeSet<>(pre);
        eq("distinct pre-values", 2 * INCREMENTS, distinct.size());
        eq("pre-values span", "0.." + (2 * INCREMENTS - 1), distinct.first() + ".." + distinct.last());
    }

    private static String results(List<CuratorTransactionResult> rs) {
        List<String> out = new ArrayList<>();
        for (CuratorTransactionResult r : rs) {
            out.add(r.getType() + " " + r.getForPath() + " -> " + r.getResultPath() + " err=" + r.getError()
                    + (r.getResultStat() == null ? "" : " version=" + r.getResultStat().getVersion()));
        }
        return out.toString();
    }

    private static void transactions(CuratorFramework c) throws Exception {
        Check.section("transactions");
        c.create().forPath("/cu/tx");
        List<CuratorTransactionResult> ok = c.transaction().forOperations(
                c.transactionOp().create().forPath("/cu/tx/a", "a".getBytes(StandardCharsets.UTF_8)),
                c.transactionOp().create().withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath("/cu/tx/s-"),
                c.transactionOp().setData().forPath("/cu/tx/a", "b".getBytes(StandardCharsets.UTF_8)),
                c.transactionOp().check().withVersion(1).forPath("/cu/tx/a"));
        eq("transaction ok", "[CREATE /cu/tx/a -> /cu/tx/a err=0, CREATE /cu/tx/s- -> /cu/tx/s-0000000001 err=0, "
                + "SET_DATA /cu/tx/a -> null err=0 version=1, CHECK /cu/tx/a -> null err=0]", results(ok));
        try {
            c.transaction().forOperations(
                    c.transactionOp().create().forPath("/cu/tx/b"),
                    c.transactionOp().delete().withVersion(5).forPath("/cu/tx/a"));
            throw new AssertionError("failing transaction succeeded");
        } catch (KeeperException e) {
            eq("transaction failure", "BADVERSION", e.code().name());
            eq("transaction failure results", "[error 0, error -103]", JavaClientSuite.results(e.getResults()));
        }
        eq("failed transaction applied nothing", null, c.checkExists().forPath("/cu/tx/b"));
        List<String> kids = new ArrayList<>(c.getChildren().forPath("/cu/tx"));
        Collections.sort(kids);
        eq("children", "[a, s-0000000001]", kids.toString());
    }

    private static ServiceDiscovery<String> discovery(CuratorFramework c) throws Exception {
        ServiceDiscovery<String> d = ServiceDiscoveryBuilder.builder(String.class).client(c).basePath("/cu/services")
                .serializer(new JsonInstanceSerializer<>(String.class)).build();
        d.start();
        return d;
    }

    private static List<String> instances(ServiceDiscovery<String> d, String name) throws Exception {
        List<String> out = new ArrayList<>();
        for (ServiceInstance<String> i : d.queryForInstances(name)) {
            out.add(i.getId() + "@" + i.getAddress() + ":" + i.getPort() + " " + i.getPayload());
        }
        Collections.sort(out);
        return out;
    }

    private static void discovery(CuratorFramework c1, CuratorFramework c2) throws Exception {
        Check.section("service discovery");
        try (ServiceDiscovery<String> provider = discovery(c1); ServiceDiscovery<String> consumer = discovery(c2)) {
            provider.registerService(ServiceInstance.<String>builder().name("echo").id("i1").address("10.0.0.1").port(8080).payload("p1").build());
            provider.registerService(ServiceInstance.<String>builder().name("echo").id("i2").address("10.0.0.2").port(8081).payload("p2").build());
            eq("names", "[echo]", consumer.queryForNames().toString());
            eq("instances", "[i1@10.0.0.1:8080 p1, i2@10.0.0.2:8081 p2]", instances(consumer, "echo").toString());
            eq("instance i2 port", 8081, consumer.queryForInstance("echo", "i2").getPort());
            eq("registration owner", "<sid:C1>",
                    Check.owner(c2.checkExists().forPath("/cu/services/echo/i1").getEphemeralOwner()));
            provider.unregisterService(provider.queryForInstance("echo", "i1"));
            eq("after unregister", "[i2@10.0.0.2:8081 p2]", instances(consumer, "echo").toString());
            eq("unknown service", "[]", instances(consumer, "nope").toString());
        }
        // c2 may sit on a follower that has not applied c1's deletes yet.
        Check.sync(c2, "/cu/services/echo");
        eq("instances after provider close", "[]", c2.getChildren().forPath("/cu/services/echo").toString());
    }
}
