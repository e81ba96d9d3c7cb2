package paddock.compat;

import static paddock.compat.Check.code;
import static paddock.compat.Check.eq;
import static paddock.compat.Check.section;
import static paddock.compat.Check.stat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.admin.ZooKeeperAdmin;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.ClientInfo;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;

/**
 * The java-client suite, part one: every plain ZooKeeper operation through
 * the synchronous and asynchronous APIs, with exact results and Stat fields.
 * Watches and sessions live in {@link JavaClientWatches} and
 * {@link JavaClientSessions}; this class runs all three in order on one
 * server, so every zxid below is relative to the first create.
 */
public final class JavaClientSuite {
    static final int TIMEOUT_MS = 6000;

    private JavaClientSuite() {}

    /** Runs the whole java-client suite against ZK_CONNECT. */
    public static void main(String[] args) {
        Check.main("java-client", () -> {
            Zk.Client a = Zk.open("A", Check.firstServer(), TIMEOUT_MS);
            ZooKeeper zk = a.zk;
            createModes(zk);
            sequential(zk);
            nullAndEmptyData(zk);
            setDataAndDelete(zk);
            acls(zk);
            children(zk);
            multi(zk);
            multiRead(zk);
            systemNodes(zk);
            JavaClientAsync.run(zk);
            JavaClientWatches.run(a);
            JavaClientSessions.run(a);
            JavaClientReaping.run(zk);
            JavaClientWatches.runAclFiltering(a);
            zk.close();
        });
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String create(ZooKeeper zk, String path, String data, CreateMode mode, String expectedStat)
            throws Exception {
        Stat s = new Stat();
        String name = zk.create(path, data == null ? null : bytes(data), Ids.OPEN_ACL_UNSAFE, mode, s);
        Check.line("create " + path + " " + mode + " -> " + name);
        stat(name, expectedStat, s);
        Check.fresh(name, s);
        return name;
    }

    private static void createModes(ZooKeeper zk) throws Exception {
        section("create modes");
        Stat s = new Stat();
        zk.create("/jc", bytes("root"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, s);
        Check.setZxidBase(s.getCzxid());
        stat("/jc", "czxid=+0 mzxid=+0 pzxid=+0 version=0 cversion=0 aversion=0 ephemeralOwner=0 dataLength=4 numChildren=0", s);
        Check.fresh("/jc", s);
        create(zk, "/jc/p", "p", CreateMode.PERSISTENT,
                "czxid=+1 mzxid=+1 pzxid=+1 version=0 cversion=0 aversion=0 ephemeralOwner=0 dataLength=1 numChildren=0");
        create(zk, "/jc/e", "eph", CreateMode.EPHEMERAL,
                "czxid=+2 mzxid=+2 pzxid=+2 version=0 cversion=0 aversion=0 ephemeralOwner=<sid:A> dataLength=3 numChildren=0");
        code("create existing /jc/p", "NODEEXISTS", () -> zk.create("/jc/p", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        code("create /jc/none/x without parent", "NONODE", () -> zk.create("/jc/none/x", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        code("create child of ephemeral", "NOCHILDRENFOREPHEMERALS", () -> zk.create("/jc/e/x", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        stat("/jc after failed creates", "czxid=+0 mzxid=+0 pzxid=+2 version=0 cversion=2 aversion=0 ephemeralOwner=0 dataLength=4 numChildren=2",
                zk.exists("/jc", false));
        eq("exists /jc/absent", null, zk.exists("/jc/absent", false));
    }

    private static void sequential(ZooKeeper zk) throws Exception {
        section("sequential");
        create(zk, "/jc/seq", "", CreateMode.PERSISTENT,
                "czxid=+6 mzxid=+6 pzxid=+6 version=0 cversion=0 aversion=0 ephemeralOwner=0 dataLength=0 numChildren=0");
        eq("first", "/jc/seq/s-0000000000", zk.create("/jc/seq/s-", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL));
        eq("second", "/jc/seq/s-0000000001", zk.create("/jc/seq/s-", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL));
        eq("ephemeral", "/jc/seq/e-0000000002", zk.create("/jc/seq/e-", null, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL));
        zk.delete("/jc/seq/s-0000000001", -1);
        eq("after delete", "/jc/seq/s-0000000003", zk.create("/jc/seq/s-", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL));
        eq("other prefix shares the counter", "/jc/seq/0000000004", zk.create("/jc/seq/", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL));
        code("create existing sequential parent", "NODEEXISTS", () -> zk.create("/jc/seq", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        eq("failed create leaves counter", "/jc/seq/s-0000000005", zk.create("/jc/seq/s-", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL));
        List<String> kids = zk.getChildren("/jc/seq", false);
        Collections.sort(kids);
        eq("children", "[0000000004, e-0000000002, s-0000000000, s-0000000003, s-0000000005]", kids.toString());
        stat("/jc/seq", "czxid=+6 mzxid=+6 pzxid=+14 version=0 cversion=7 aversion=0 ephemeralOwner=0 dataLength=0 numChildren=5",
                zk.exists("/jc/seq", false));
    }

    private static void nullAndEmptyData(ZooKeeper zk) throws Exception {
        section("null and empty data");
        create(zk, "/jc/null", null, CreateMode.PERSISTENT,
                "czxid=+15 mzxid=+15 pzxid=+15 version=0 cversion=0 aversion=0 ephemeralOwner=0 dataLength=0 numChildren=0");
        create(zk, "/jc/empty", "", CreateMode.PERSISTENT,
                "czxid=+16 mzxid=+16 pzxid=+16 version=0 cversion=0 aversion=0 ephemeralOwner=0 dataLength=0 numChildren=0");
        eq("getData /jc/null", "null", Check.data(zk.getData("/jc/null", false, null)));
        eq("getData /jc/empty", "''", Check.data(zk.getData("/jc/empty", false, null)));
        zk.setData("/jc/empty", null, -1);
        eq("getData /jc/empty after setData null", "null", Check.data(zk.getData("/jc/empty", false, null)));
    }

    private static void setDataAndDelete(ZooKeeper zk) throws Exception {
        section("setData and delete");
        Stat s = zk.setData("/jc/p", bytes("p1"), 0);
        stat("setData v0", "czxid=+1 mzxid=+18 pzxid=+1 version=1 cversion=0 aversion=0 ephemeralOwner=0 dataLength=2 numChildren=0", s);
        code("setData bad version", "BADVERSION", () -> zk.setData("/jc/p", bytes("x"), 0));
        code("setData no node", "NONODE", () -> zk.setData("/jc/nope", bytes("x"), -1));
        s = zk.setData("/jc/p", bytes("p22"), -1);
        stat("setData any version", "czxid=+1 mzxid=+21 pzxid=+1 version=2 cversion=0 aversion=0 ephemeralOwner=0 dataLength=3 numChildren=0", s);
        Stat got = new Stat();
        eq("getData /jc/p", "'p22'", Check.data(zk.getData("/jc/p", false, got)));
        stat("getData /jc/p", Check.stat(s), got);
        Check.truth("mtime moved past ctime", got.getMtime() >= got.getCtime());
        zk.create("/jc/p/c", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        code("delete non-empty", "NOTEMPTY", () -> zk.delete("/jc/p", -1));
        code("delete bad version", "BADVERSION", () -> zk.delete("/jc/p/c", 3));
        code("delete no node", "NONODE", () -> zk.delete("/jc/p/nope", -1));
        zk.delete("/jc/p/c", 0);
        stat("/jc/p after child create+delete", "czxid=+1 mzxid=+21 pzxid=+26 version=2 cversion=2 aversion=0 ephemeralOwner=0 dataLength=3 numChildren=0",
                zk.exists("/jc/p", false));
    }

    private static void acls(ZooKeeper zk) throws Exception {
        section("acl");
        zk.create("/jc/acl", bytes("a"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        Stat s = new Stat();
        eq("getACL default", "[31:world:anyone]", Check.acl(zk.getACL("/jc/acl", s)));
        stat("getACL stat", "czxid=+27 mzxid=+27 pzxid=+27 version=0 cversion=0 aversion=0 ephemeralOwner=0 dataLength=1 numChildren=0", s);
        List<ACL> acl = new ArrayList<>();
        acl.add(new ACL(31, new Id("ip", "127.0.0.1")));
        acl.add(new ACL(1, new Id("world", "anyone")));
        acl.add(new ACL(3, new Id("digest", "bob:Xyz0abc=")));
        code("setACL bad version", "BADVERSION", () -> zk.setACL("/jc/acl", acl, 4));
        code("setACL auth scheme unauthenticated", "INVALIDACL",
                () -> zk.setACL("/jc/acl", Ids.CREATOR_ALL_ACL, -1));
        stat("setACL", "czxid=+27 mzxid=+27 pzxid=+27 version=0 cversion=0 aversion=1 ephemeralOwner=0 dataLength=1 numChildren=0",
                zk.setACL("/jc/acl", acl, 0));
        eq("getACL after set", "[31:ip:127.0.0.1, 1:world:anyone, 3:digest:bob:Xyz0abc=]", Check.acl(zk.getACL("/jc/acl", new Stat())));
        code("setACL no node", "NONODE", () -> zk.setACL("/jc/nope", acl, -1));
        zk.create("/jc/ro", bytes("r"), Ids.READ_ACL_UNSAFE, CreateMode.PERSISTENT);
        code("setData on read-only node", "NOAUTH", () -> zk.setData("/jc/ro", bytes("w"), -1));
        code("create under read-only node", "NOAUTH", () -> zk.create("/jc/ro/c", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        eq("getData read-only node", "'r'", Check.data(zk.getData("/jc/ro", false, null)));
        code("create with empty ACL", "INVALIDACL", () -> zk.create("/jc/noacl", null, new ArrayList<>(), CreateMode.PERSISTENT));
    }

    private static void children(ZooKeeper zk) throws Exception {
        section("children");
        List<String> kids = zk.getChildren("/jc", false);
        Collections.sort(kids);
        eq("getChildren /jc", "[acl, e, empty, null, p, ro, seq]", kids.toString());
        Stat s = new Stat();
        kids = zk.getChildren("/jc/seq", false, s);
        eq("getChildren2 count", 5, kids.size());
        stat("getChildren2 stat", Check.stat(zk.exists("/jc/seq", false)), s);
        eq("getChildren leaf", "[]", zk.getChildren("/jc/null", false).toString());
        code("getChildren no node", "NONODE", () -> zk.getChildren("/jc/nope", false));
        eq("getAllChildrenNumber /jc", 12, zk.getAllChildrenNumber("/jc"));
        eq("getAllChildrenNumber leaf", 0, zk.getAllChildrenNumber("/jc/null"));
        code("getAllChildrenNumber no node", "NONODE", () -> zk.getAllChildrenNumber("/jc/nope"));
        List<String> eph = zk.getEphemerals();
        Collections.sort(eph);
        eq("getEphemerals", "[/jc/e, /jc/seq/e-0000000002]", eph.toString());
        eq("getEphemerals /jc/seq", "[/jc/seq/e-0000000002]", zk.getEphemerals("/jc/seq").toString());
        eq("getEphemerals /jc/s prefix", "[/jc/seq/e-0000000002]", zk.getEphemerals("/jc/s").toString());
        eq("getEphemerals /nope", "[]", zk.getEphemerals("/nope").toString());
    }

    static String result(OpResult r) {
        if (r instanceof OpResult.CreateResult) {
            OpResult.CreateResult c = (OpResult.CreateResult) r;
            return "create " + c.getPath() + (c.getStat() == null ? "" : " " + Check.stat(c.getStat()));
        } else if (r instanceof OpResult.SetDataResult) {
            return "setData " + Check.stat(((OpResult.SetDataResult) r).getStat());
        } else if (r instanceof OpResult.DeleteResult) {
            return "delete";
        } else if (r instanceof OpResult.CheckResult) {
            return "check";
        } else if (r instanceof OpResult.GetDataResult) {
            OpResult.GetDataResult g = (OpResult.GetDataResult) r;
            return "getData " + Check.data(g.getData()) + " " + Check.stat(g.getStat());
        } else if (r instanceof OpResult.GetChildrenResult) {
            List<String> kids = new ArrayList<>(((OpResult.GetChildrenResult) r).getChildren());
            Collections.sort(kids);
            return "getChildren " + kids;
        }
        return "error " + ((OpResult.ErrorResult) r).getErr();
    }

    static String results(List<OpResult> rs) {
        List<String> out = new ArrayList<>();
        for (OpResult r : rs) {
            out.add(result(r));
        }
        return out.toString();
    }

    private static void multi(ZooKeeper zk) throws Exception {
        section("multi");
        zk.create("/jc/m", bytes("m"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        List<OpResult> ok = zk.multi(Arrays.asList(
                Op.create("/jc/m/a", bytes("a"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                Op.create("/jc/m/s-", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL),
                Op.setData("/jc/m", bytes("m2"), 0),
                Op.check("/jc/m", 1),
                Op.delete("/jc/m/a", 0)));
        eq("multi ok", "[create /jc/m/a, create /jc/m/s-0000000001, "
                + "setData czxid=+35 mzxid=+36 pzxid=+36 version=1 cversion=2 aversion=0 ephemeralOwner=0 dataLength=2 numChildren=2, "
                + "check, delete]", results(ok));
        try {
            zk.multi(Arrays.asList(
                    Op.create("/jc/m/b", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                    Op.setData("/jc/m", bytes("m3"), 7),
                    Op.delete("/jc/m/s-0000000001", -1)));
            throw new AssertionError("failing multi succeeded");
        } catch (KeeperException e) {
            eq("multi failure code", "BADVERSION", e.code().name());
            eq("multi failure path", null, e.getPath());
            eq("multi failure results", "[error 0, error -103, error -2]", results(e.getResults()));
        }
        eq("multi failure applied nothing", null, zk.exists("/jc/m/b", false));
        eq("multi failure left data", "'m2'", Check.data(zk.getData("/jc/m", false, null)));
        code("multi check fails", "NONODE", () -> zk.multi(Arrays.asList(
                Op.check("/jc/m/zz", -1))));
        eq("empty multi", "[]", results(zk.multi(new ArrayList<>())));
    }

    private static void multiRead(ZooKeeper zk) throws Exception {
        section("multi read");
        List<OpResult> rs = zk.multi(Arrays.asList(
                Op.getData("/jc/m"),
                Op.getChildren("/jc/m"),
                Op.getData("/jc/nope"),
                Op.getChildren("/jc/nope")));
        eq("multiRead", "[getData 'm2' czxid=+35 mzxid=+36 pzxid=+36 version=1 cversion=3 aversion=0 ephemeralOwner=0 dataLength=2 numChildren=1, "
                + "getChildren [s-0000000001], error -101, error -101]", results(rs));
    }

    private static void systemNodes(ZooKeeper zk) throws Exception {
        section("system nodes");
        List<String> kids = zk.getChildren("/zookeeper", false);
        Collections.sort(kids);
        eq("children of /zookeeper", "[config, quota]", kids.toString());
        stat("/zookeeper/quota", "czxid=0 mzxid=0 pzxid=0 version=0 cversion=0 aversion=0 ephemeralOwner=0 dataLength=0 numChildren=0",
                zk.exists("/zookeeper/quota", false));
        Stat s = new Stat();
        String config = Check.data(zk.getConfig(false, s));
        if (Check.ensembleSize() == 0) {
            eq("getConfig", "''", config);
            stat("getConfig", "czxid=0 mzxid=0 pzxid=0 version=0 cversion=0 aversion=-1 ephemeralOwner=0 dataLength=0 numChildren=0", s);
        } else {
            // An ensemble lists its members; the length depends on the ports' digits.
            StringBuilder members = new StringBuilder("'");
            for (int i = 1; i <= Check.ensembleSize(); i++) {
                members.append("server.").append(i).append("=127.0.0.1:<port>:<port>:participant\n");
            }
            eq("getConfig", members.append("version=0'").toString(),
                    config.replaceAll("(server\\.\\d+=[^:]+):\\d+:\\d+", "$1:<port>:<port>"));
            eq("getConfig stat", "czxid=0 mzxid=0 pzxid=0 version=-1 cversion=0 aversion=-1 ephemeralOwner=0 dataLength=<n> numChildren=0",
                    Check.stat(s).replaceAll("dataLength=\\d+", "dataLength=<n>"));
        }
        eq("getACL /zookeeper/config", "[1:world:anyone]", Check.acl(zk.getACL("/zookeeper/config", new Stat())));
        code("delete /zookeeper", "BADARGUMENTS", () -> zk.delete("/zookeeper", -1));
        code("create under /zookeeper", "OK", () -> zk.create("/zookeeper/mine", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        zk.delete("/zookeeper/mine", -1);
        eq("getAllChildrenNumber /", 18, zk.getAllChildrenNumber("/"));
        eq("whoAmI", "[ip:127.0.0.1]", whoAmI(zk));
        ZooKeeperAdmin admin =
                new ZooKeeperAdmin(Check.firstServer(), TIMEOUT_MS, e -> { });
        code("reconfig while disabled", "RECONFIGDISABLED",
                () -> admin.reconfigure(null, null, "server.1=127.0.0.1:2888:3888;2181", -1, null));
        admin.close();
    }

    static String whoAmI(ZooKeeper zk) throws Exception {
        List<String> out = new ArrayList<>();
        for (ClientInfo ci : zk.whoAmI()) {
            out.add(ci.getAuthScheme() + ":" + ci.getUser());
        }
        // The server keeps a connection's identities in a set: their order is not part of the answer.
        Collections.sort(out);
        return out.toString();
    }
}
