package paddock.compat;

import static paddock.compat.Check.eq;

import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

/**
 * The java-client suite's container and TTL checks. They run last: the
 * server reaps these nodes on its own schedule, so no zxid is printed after.
 * Needs -Dzookeeper.extendedTypesEnabled=true and a short
 * znode.container.checkIntervalMs (see suites/java-client.jvmflags).
 */
final class JavaClientReaping {
    private JavaClientReaping() {}

    static void run(ZooKeeper a) throws Exception {
        Check.section("container");
        Stat s = new Stat();
        a.create("/jc/cont", null, Ids.OPEN_ACL_UNSAFE, CreateMode.CONTAINER, s);
        eq("container create2 ephemeralOwner", "0", Check.owner(s.getEphemeralOwner()));
        eq("container exists ephemeralOwner", "0", Check.owner(a.exists("/jc/cont", false).getEphemeralOwner()));
        a.create("/jc/cont/c", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        Events cont = new Events("container");
        a.exists("/jc/cont", cont);
        a.delete("/jc/cont/c", -1);
        cont.expect("NodeDeleted /jc/cont");
        Check.section("ttl");
        Stat t = new Stat();
        a.create("/jc/ttl", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_WITH_TTL, t, 500);
        eq("ttl create2 ephemeralOwner", "0", Check.owner(t.getEphemeralOwner()));
        eq("ttl exists ephemeralOwner", "0", Check.owner(a.exists("/jc/ttl", false).getEphemeralOwner()));
        String seq = a.create("/jc/ttls-", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, t, 700);
        eq("sequential ttl name", "/jc/ttls-0000000026", seq);
        eq("sequential ttl exists ephemeralOwner", "0", Check.owner(a.exists(seq, false).getEphemeralOwner()));
        // Stats show ephemeralOwner 0 for containers and TTL nodes (the owner field is internal).
        // A ttl <= 0 or above 2^40-1 is refused by the Java client itself, so it cannot be sent from here.
        Events ttl = new Events("ttl");
        Events ttls = new Events("ttl-seq");
        a.exists("/jc/ttl", ttl);
        a.exists(seq, ttls);
        ttl.expect("NodeDeleted /jc/ttl");
        ttls.expect("NodeDeleted " + seq);
    }
}
