package paddock.compat;

import static paddock.compat.Check.code;
import static paddock.compat.Check.eq;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooDefs.Perms;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;

/**
 * The acl-matrix suite: for each single permission, a node whose ACL grants
 * only that permission to digest user {@code u:p}, and every operation that
 * user tries on it, with the exact code ZooKeeper 3.8 answers and the node's
 * stat afterwards. The server runs with a super digest for {@code super:secret}
 * (acl-matrix.jvmflags), and the super session sets up and repairs the nodes.
 * {@link AclIdentities} covers the other schemes and identities.
 */
public final class AclMatrixSuite {
    /** Session timeout of every client of the suite. */
    static final int TIMEOUT_MS = 6000;
    /** The credentials of the digest user the ACLs name. */
    static final String USER = "u:p";
    /** The credentials matching the server's super digest. */
    static final String SUPER = "super:secret";

    private static final String[] PERM_NAMES = {"READ", "WRITE", "CREATE", "DELETE", "ADMIN"};
    private static final int[] PERM_BITS = {Perms.READ, Perms.WRITE, Perms.CREATE, Perms.DELETE, Perms.ADMIN};

    /** By permission bit: the stat of the node once the user has tried everything on it. */
    private static final String[] STAT_AFTER = new String[17];
    /** By permission bit: getACL as the user shows (digest masked without ADMIN). */
    private static final String[] GETACL_SHOWS = new String[17];
    /** By permission bit: the outcome of multi [check, create child]. */
    private static final String[] MULTI_CHECK_CREATE = new String[17];
    /** By permission bit: the outcome of multiRead [getData, getChildren]. */
    private static final String[] MULTI_READ = new String[17];

    static {
        STAT_AFTER[Perms.READ] = "czxid=+2 mzxid=+2 pzxid=+3 version=0 cversion=1 aversion=0 ephemeralOwner=0 dataLength=1 numChildren=1";
        STAT_AFTER[Perms.WRITE] = "czxid=+13 mzxid=+21 pzxid=+14 version=2 cversion=1 aversion=0 ephemeralOwner=0 dataLength=1 numChildren=1";
        STAT_AFTER[Perms.CREATE] = "czxid=+24 mzxid=+24 pzxid=+32 version=0 cversion=3 aversion=0 ephemeralOwner=0 dataLength=1 numChildren=1";
        STAT_AFTER[Perms.DELETE] = "czxid=+36 mzxid=+36 pzxid=+48 version=0 cversion=5 aversion=0 ephemeralOwner=0 dataLength=1 numChildren=1";
        STAT_AFTER[Perms.ADMIN] = "czxid=+49 mzxid=+49 pzxid=+50 version=0 cversion=1 aversion=1 ephemeralOwner=0 dataLength=1 numChildren=1";
        GETACL_SHOWS[Perms.READ] = "[1:digest:u:x]";
        GETACL_SHOWS[Perms.WRITE] = "[]";
        GETACL_SHOWS[Perms.CREATE] = "[]";
        GETACL_SHOWS[Perms.DELETE] = "[]";
        GETACL_SHOWS[Perms.ADMIN] = "[16:digest:u:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ=]";
        MULTI_CHECK_CREATE[Perms.READ] = "NOAUTH [OK, NOAUTH]";
        MULTI_CHECK_CREATE[Perms.WRITE] = "NOAUTH [NOAUTH, RUNTIMEINCONSISTENCY]";
        MULTI_CHECK_CREATE[Perms.CREATE] = "NOAUTH [NOAUTH, RUNTIMEINCONSISTENCY]";
        MULTI_CHECK_CREATE[Perms.DELETE] = "NOAUTH [NOAUTH, RUNTIMEINCONSISTENCY]";
        MULTI_CHECK_CREATE[Perms.ADMIN] = "NOAUTH [NOAUTH, RUNTIMEINCONSISTENCY]";
        MULTI_READ[Perms.READ] = "OK [GetDataResult, GetChildrenResult]";
        MULTI_READ[Perms.WRITE] = "OK [NOAUTH, NOAUTH]";
        MULTI_READ[Perms.CREATE] = "OK [NOAUTH, NOAUTH]";
        MULTI_READ[Perms.DELETE] = "OK [NOAUTH, NOAUTH]";
        MULTI_READ[Perms.ADMIN] = "OK [NOAUTH, NOAUTH]";
    }

    private AclMatrixSuite() {}

    /** Runs the suite against ZK_CONNECT. */
    public static void main(String[] args) {
        Check.main("acl-matrix", () -> {
            ZooKeeper root = authed("S", SUPER);
            Stat s = new Stat();
            root.create("/am", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, s);
            Check.setZxidBase(s.getCzxid());
            ZooKeeper u = authed("U", USER);
            for (int i = 0; i < PERM_NAMES.length; i++) {
                matrix(root, u, PERM_NAMES[i], PERM_BITS[i]);
            }
            anonymous(root);
            precedence(u);
            AclIdentities.run(root, u);
            u.close();
            root.close();
        });
    }

    /** A new session that has added digest credentials {@code userPassword}. */
    static ZooKeeper authed(String name, String userPassword) throws Exception {
        ZooKeeper zk = Zk.open(name, Check.connectString(), TIMEOUT_MS).zk;
        zk.addAuthInfo("digest", bytes(userPassword));
        return zk;
    }

    /** The digest Id ZooKeeper derives from {@code user:password}. */
    static Id digest(String userPassword) throws Exception {
        return new Id("digest", DigestAuthenticationProvider.generateDigest(userPassword));
    }

    static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** One node granting only {@code perm} to {@code u:p}; every operation of {@code u} on it. */
    private static void matrix(ZooKeeper root, ZooKeeper u, String name, int perm) throws Exception {
        Check.section("only " + name);
        String p = "/am/" + name;
        List<ACL> acl = Collections.singletonList(new ACL(perm, digest(USER)));
        root.create(p, bytes("d"), acl, CreateMode.PERSISTENT);
        root.create(p + "/c", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        sync(u, p);
        reads(u, name, perm, p);
        writes(root, u, name, p, acl);
        multis(root, u, name, perm, p);
        Check.stat(name + " after", STAT_AFTER[perm], root.exists(p, false));
    }

    private static void reads(ZooKeeper u, String name, int perm, String p) throws Exception {
        code(name + " getData", expect(name, "READ"), () -> u.getData(p, false, null));
        code(name + " getChildren", expect(name, "READ"), () -> u.getChildren(p, false));
        code(name + " getChildren2", expect(name, "READ"), () -> u.getChildren(p, false, new Stat()));
        code(name + " getAllChildrenNumber", expect(name, "READ"), () -> u.getAllChildrenNumber(p));
        code(name + " exists", "OK", () -> u.exists(p, false));
        // ZooKeeper 3.8.0 checks no permission for addWatch.
        code(name + " addWatch persistent", "OK",
                () -> u.addWatch(p, e -> { }, AddWatchMode.PERSISTENT));
        String acl = "READ".equals(name) || "ADMIN".equals(name) ? "OK" : "NOAUTH";
        List<ACL> seen = new ArrayList<>();
        code(name + " getACL", acl, () -> seen.addAll(u.getACL(p, new Stat())));
        eq(name + " getACL shows", GETACL_SHOWS[perm], Check.acl(seen));
    }

    private static void writes(ZooKeeper root, ZooKeeper u, String name, String p, List<ACL> acl)
            throws Exception {
        code(name + " setData", expect(name, "WRITE"), () -> u.setData(p, bytes("w"), -1));
        code(name + " setACL", expect(name, "ADMIN"), () -> u.setACL(p, acl, -1));
        code(name + " create child", expect(name, "CREATE"),
                () -> u.create(p + "/n", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        code(name + " create child with bad ACL", "INVALIDACL",
                () -> u.create(p + "/bad", null, Collections.singletonList(new ACL(31, new Id("world", "x"))),
                        CreateMode.PERSISTENT));
        code(name + " delete child", expect(name, "DELETE"), () -> u.delete(p + "/c", -1));
        code(name + " delete missing child", expect(name, "DELETE").equals("OK") ? "NONODE" : "NOAUTH",
                () -> u.delete(p + "/none", -1));
        eq(name + " sync", "OK", sync(u, p));
        restore(root, u, p);
    }

    /**
     * Puts the node's children back as the matrix started (/c present, /n
     * absent), as {@code u}'s member sees them too.
     */
    private static void restore(ZooKeeper root, ZooKeeper u, String p) throws Exception {
        if (root.exists(p + "/n", false) != null) {
            root.delete(p + "/n", -1);
        }
        if (root.exists(p + "/c", false) == null) {
            root.create(p + "/c", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        }
        sync(u, p);
    }

    private static void multis(ZooKeeper root, ZooKeeper u, String name, int perm, String p) throws Exception {
        eq(name + " multi setData", one(name, "WRITE", "SetDataResult"), multi(u, Op.setData(p, bytes("m"), -1)));
        eq(name + " multi check+create", MULTI_CHECK_CREATE[perm], multi(u, Op.check(p, -1),
                Op.create(p + "/m", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT)));
        eq(name + " multi delete", one(name, "DELETE", "DeleteResult"), multi(u, Op.delete(p + "/c", -1)));
        eq(name + " multiRead", MULTI_READ[perm], multi(u, Op.getData(p), Op.getChildren(p)));
        if (root.exists(p + "/m", false) != null) {
            root.delete(p + "/m", -1);
        }
        restore(root, u, p);
    }

    /**
     * Runs sync on {@code path} and waits (bounded) for its result code. On an
     * ensemble {@code zk}'s member then holds every write made through another
     * member before (ZooKeeper promises nothing across members without it).
     */
    static String sync(ZooKeeper zk, String path) throws Exception {
        CompletableFuture<Integer> rc = new CompletableFuture<>();
        zk.sync(path, (code, p, ctx) -> rc.complete(code), null);
        return KeeperException.Code.get(rc.get(Events.WAIT_MS, TimeUnit.MILLISECONDS)).name();
    }

    /** Runs a multi and formats its outcome: the code, then each op's result. */
    static String multi(ZooKeeper zk, Op... ops) throws Exception {
        List<OpResult> results;
        String outcome;
        try {
            results = zk.multi(Arrays.asList(ops));
            outcome = "OK";
        } catch (KeeperException e) {
            results = e.getResults();
            outcome = e.code().name();
        }
        StringBuilder out = new StringBuilder(outcome).append(" [");
        for (OpResult r : results == null ? Collections.<OpResult>emptyList() : results) {
            out.append(out.charAt(out.length() - 1) == '[' ? "" : ", ");
            if (r instanceof OpResult.ErrorResult) {
                out.append(KeeperException.Code.get(((OpResult.ErrorResult) r).getErr()).name());
            } else {
                out.append(r.getClass().getSimpleName());
            }
        }
        return out.append(']').toString();
    }

    /** A one-op multi's outcome: success with {@code result} when {@code have} is {@code need}. */
    private static String one(String have, String need, String result) {
        return have.equals(need) ? "OK [" + result + "]" : "NOAUTH [NOAUTH]";
    }

    /** "OK" when the node's only permission is the one the operation needs, else NOAUTH. */
    private static String expect(String have, String need) {
        return have.equals(need) ? "OK" : "NOAUTH";
    }

    /** Which error wins when a request is both refused by the ACL and wrong otherwise. */
    private static void precedence(ZooKeeper u) throws Exception {
        Check.section("ACL before other errors");
        code("setData bad version, WRITE", "BADVERSION", () -> u.setData("/am/WRITE", null, 99));
        code("setData bad version, READ only", "NOAUTH", () -> u.setData("/am/READ", null, 99));
        code("setACL bad version, ADMIN", "BADVERSION",
                () -> u.setACL("/am/ADMIN", Collections.singletonList(new ACL(Perms.ADMIN, digest(USER))), 99));
        code("setACL bad version, READ only", "NOAUTH",
                () -> u.setACL("/am/READ", Ids.OPEN_ACL_UNSAFE, 99));
        code("delete bad version, DELETE", "BADVERSION", () -> u.delete("/am/DELETE/c", 99));
        code("delete bad version, READ only", "NOAUTH", () -> u.delete("/am/READ/c", 99));
        code("create existing, CREATE", "NODEEXISTS",
                () -> u.create("/am/CREATE/c", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        code("create existing, READ only", "NOAUTH",
                () -> u.create("/am/READ/c", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        code("getData missing child of WRITE node", "NONODE", () -> u.getData("/am/WRITE/none", false, null));
        code("delete any version, DELETE on parent", "OK", () -> u.delete("/am/DELETE/c", -1));
        code("multi check bad version, READ", "BADVERSION", () -> u.multi(Arrays.asList(Op.check("/am/READ", 99))));
        code("multi check bad version, no READ", "NOAUTH", () -> u.multi(Arrays.asList(Op.check("/am/WRITE", 99))));
    }

    /** A session without credentials: only exists passes on a digest-only node. */
    private static void anonymous(ZooKeeper root) throws Exception {
        Check.section("anonymous");
        ZooKeeper n = Zk.open("N", Check.connectString(), TIMEOUT_MS).zk;
        code("anonymous getData READ node", "NOAUTH", () -> n.getData("/am/READ", false, null));
        code("anonymous exists READ node", "OK", () -> n.exists("/am/READ", false));
        code("anonymous setData WRITE node", "NOAUTH", () -> n.setData("/am/WRITE", null, -1));
        code("anonymous create under CREATE node", "NOAUTH",
                () -> n.create("/am/CREATE/x", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        code("anonymous create under missing parent", "NONODE",
                () -> n.create("/am/none/x", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
        code("anonymous getACL ADMIN node", "NOAUTH", () -> n.getACL("/am/ADMIN", new Stat()));
        n.close();
    }
}
