package paddock.compat;

import static paddock.compat.Check.eq;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;

/** The java-client suite's asynchronous API checks: every callback's rc and payload. */
final class JavaClientAsync {
    private JavaClientAsync() {}

    /** Formats a callback's return code as its KeeperException code name. */
    private static String rc(int rc) {
        return KeeperException.Code.get(rc).name();
    }

    private static String await(CompletableFuture<String> f) throws Exception {
        return f.get(Events.WAIT_MS, TimeUnit.MILLISECONDS);
    }

    static void run(ZooKeeper zk) throws Exception {
        Check.section("async");
        CompletableFuture<String> f = new CompletableFuture<>();
        zk.create("/jc/async", JavaClientSuite.bytes("x"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT,
                (rc, path, ctx, name, stat) -> f.complete(rc(rc) + " " + name + " " + ctx + " " + Check.stat(stat)), "c1");
        eq("async create2", "OK /jc/async c1 czxid=+45 mzxid=+45 pzxid=+45 version=0 cversion=0 aversion=0 "
                + "ephemeralOwner=0 dataLength=1 numChildren=0", await(f));
        CompletableFuture<String> dup = new CompletableFuture<>();
        zk.create("/jc/async", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT,
                (rc, path, ctx, name) -> dup.complete(rc(rc) + " " + path + " " + name), null);
        eq("async create existing", "NODEEXISTS /jc/async null", await(dup));
        CompletableFuture<String> set = new CompletableFuture<>();
        zk.setData("/jc/async", JavaClientSuite.bytes("yy"), 0,
                (rc, path, ctx, stat) -> set.complete(rc(rc) + " " + Check.stat(stat)), null);
        eq("async setData", "OK czxid=+45 mzxid=+47 pzxid=+45 version=1 cversion=0 aversion=0 "
                + "ephemeralOwner=0 dataLength=2 numChildren=0", await(set));
        CompletableFuture<String> get = new CompletableFuture<>();
        zk.getData("/jc/async", false,
                (rc, path, ctx, data, stat) -> get.complete(rc(rc) + " " + Check.data(data) + " version=" + stat.getVersion()), null);
        eq("async getData", "OK 'yy' version=1", await(get));
        CompletableFuture<String> missing = new CompletableFuture<>();
        zk.getData("/jc/nope", false,
                (rc, path, ctx, data, stat) -> missing.complete(rc(rc) + " " + Check.data(data) + " " + stat), null);
        eq("async getData no node", "NONODE null null", await(missing));
        CompletableFuture<String> exists = new CompletableFuture<>();
        zk.exists("/jc/nope", false, (rc, path, ctx, stat) -> exists.complete(rc(rc) + " " + stat), null);
        eq("async exists absent", "NONODE null", await(exists));
        CompletableFuture<String> kids = new CompletableFuture<>();
        zk.getChildren("/jc/m", false, (rc, path, ctx, children, stat) -> kids.complete(
                rc(rc) + " " + sorted(children) + " numChildren=" + stat.getNumChildren()), null);
        eq("async getChildren2", "OK [s-0000000001] numChildren=1", await(kids));
        CompletableFuture<String> multi = new CompletableFuture<>();
        zk.multi(Arrays.asList(Op.check("/jc/async", 1), Op.delete("/jc/async", 1)),
                (rc, path, ctx, results) -> multi.complete(rc(rc) + " " + JavaClientSuite.results(results)), null);
        eq("async multi", "OK [check, delete]", await(multi));
        CompletableFuture<String> del = new CompletableFuture<>();
        zk.delete("/jc/async", -1, (rc, path, ctx) -> del.complete(rc(rc) + " " + path), null);
        eq("async delete no node", "NONODE /jc/async", await(del));
        CompletableFuture<String> sync = new CompletableFuture<>();
        zk.sync("/jc", (rc, path, ctx) -> sync.complete(rc(rc) + " " + path), null);
        eq("sync", "OK /jc", await(sync));
    }

    private static List<String> sorted(List<String> in) {
        List<String> out = new ArrayList<>(in);
        Collections.sort(out);
        return out;
    }
}
