package paddock.compat;

import static paddock.compat.Check.code;
import static paddock.compat.Check.eq;

import java.util.Arrays;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

/**
 * The java-ttl-disabled suite: without -Dzookeeper.extendedTypesEnabled=true
 * the server refuses TTL creates (plain and sequential, also inside a multi)
 * and creates nothing, while containers still work.
 */
public final class TtlDisabledSuite {
    private TtlDisabledSuite() {}

    /** Runs the suite against ZK_CONNECT. */
    public static void main(String[] args) {
        Check.main("java-ttl-disabled", () -> {
            ZooKeeper zk = Zk.open("A", Check.connectString(), JavaClientSuite.TIMEOUT_MS).zk;
            Stat s = new Stat();
            zk.create("/td", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, s);
            Check.setZxidBase(s.getCzxid());
            code("create PERSISTENT_WITH_TTL", "UNIMPLEMENTED",
                    () -> zk.create("/td/ttl", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_WITH_TTL, new Stat(), 1000));
            code("create PERSISTENT_SEQUENTIAL_WITH_TTL", "UNIMPLEMENTED",
                    () -> zk.create("/td/ttls-", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, new Stat(), 1000));
            code("multi with a TTL create", "UNIMPLEMENTED", () -> zk.multi(Arrays.asList(
                    Op.create("/td/ttlm", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_WITH_TTL, 1000))));
            eq("nothing created", "[]", zk.getChildren("/td", false).toString());
            zk.create("/td/cont", null, Ids.OPEN_ACL_UNSAFE, CreateMode.CONTAINER, s);
            Check.stat("container", "czxid=+4 mzxid=+4 pzxid=+4 version=0 cversion=0 aversion=0 ephemeralOwner=0 dataLength=0 numChildren=0", s);
            eq("sequential after refusals", "/td/s-0000000001",
                    zk.create("/td/s-", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL));
            Check.stat("/td", "czxid=+0 mzxid=+0 pzxid=+5 version=0 cversion=2 aversion=0 ephemeralOwner=0 dataLength=0 numChildren=2",
                    zk.exists("/td", false));
            zk.close();
        });
    }
}
