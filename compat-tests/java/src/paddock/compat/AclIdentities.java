package paddock.compat;

import static paddock.compat.AclMatrixSuite.bytes;
import static paddock.compat.AclMatrixSuite.digest;
import static paddock.compat.Check.code;
import static paddock.compat.Check.eq;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooDefs.Perms;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.ClientInfo;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;

/**
 * The identity half of the acl-matrix suite: ip ids (an address, a CIDR block
 * that matches and one that does not), super, whoAmI, {@code auth} expansion,
 * InvalidACL, failed authentication, identities that stay with their session,
 * auth re-sent after a reconnect, and Curator's authorization and ACLProvider.
 */
final class AclIdentities {
    private AclIdentities() {}

    static void run(ZooKeeper root, ZooKeeper u) throws Exception {
        ip(root);
        superUser(root);
        whoAmI(root, u);
        authExpansion(root);
        invalidAcl(root, u);
        failedAuth();
        isolation(u);
        try (TcpProxy proxy = new TcpProxy(Check.connectString())) {
            reconnect(proxy);
        }
        curator();
    }

    private static List<ACL> only(int perms, String scheme, String id) {
        return Collections.singletonList(new ACL(perms, new Id(scheme, id)));
    }

    private static void ip(ZooKeeper root) throws Exception {
        Check.section("ip");
        String[] ids = {"127.0.0.1", "127.0.0.0/8", "10.0.0.0/8", "127.0.0.2", "0.0.0.0/0"};
        String[] want = {"OK", "OK", "NOAUTH", "NOAUTH", "OK"};
        ZooKeeper n = Zk.open("IP", Check.connectString(), AclMatrixSuite.TIMEOUT_MS).zk;
        for (int i = 0; i < ids.length; i++) {
            String p = "/am/ip" + i;
            root.create(p, bytes("v"), only(Perms.READ | Perms.CREATE, "ip", ids[i]), CreateMode.PERSISTENT);
            AclMatrixSuite.sync(n, p);
            code("ip " + ids[i] + " getData", want[i], () -> n.getData(p, false, null));
            code("ip " + ids[i] + " create child", want[i],
                    () -> n.create(p + "/c", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT));
            code("ip " + ids[i] + " setData", "NOAUTH", () -> n.setData(p, null, -1));
        }
        eq("ip getACL", "[5:ip:127.0.0.0/8]", Check.acl(n.getACL("/am/ip1", new Stat())));
        n.close();
    }

    private static void superUser(ZooKeeper root) throws Exception {
        Check.section("super");
        for (String p : Arrays.asList("/am/READ", "/am/WRITE", "/am/ADMIN", "/am/ip2")) {
            code("super getData " + p, "OK", () -> root.getData(p, false, null));
        }
        eq("super getACL unmasked", "[1:digest:" + digest(AclMatrixSuite.USER).getId() + "]",
                Check.acl(root.getACL("/am/READ", new Stat())));
        ZooKeeper w = AclMatrixSuite.authed("W", "super:wrong");
        code("wrong super password getData", "NOAUTH", () -> w.getData("/am/READ", false, null));
        w.close();
    }

    private static String who(ZooKeeper zk) throws Exception {
        StringBuilder out = new StringBuilder();
        for (ClientInfo c : zk.whoAmI()) {
            out.append(out.length() == 0 ? "" : " ").append(c.getAuthScheme()).append('=').append(c.getUser());
        }
        return out.toString();
    }

    private static void whoAmI(ZooKeeper root, ZooKeeper u) throws Exception {
        Check.section("whoAmI");
        eq("whoAmI super", "super= digest=super ip=127.0.0.1", who(root));
        eq("whoAmI u", "ip=127.0.0.1 digest=u", who(u));
        ZooKeeper n = Zk.open("WHO", Check.connectString(), AclMatrixSuite.TIMEOUT_MS).zk;
        eq("whoAmI anonymous", "ip=127.0.0.1", who(n));
        n.addAuthInfo("digest", bytes("nocolon"));
        n.addAuthInfo("digest", bytes("a:b:c"));
        eq("whoAmI after odd digests", "digest=nocolon digest=a ip=127.0.0.1", who(n));
        n.close();
    }

    private static void authExpansion(ZooKeeper root) throws Exception {
        Check.section("auth expansion");
        ZooKeeper d = AclMatrixSuite.authed("D", "a:1");
        d.addAuthInfo("digest", bytes("b:2"));
        d.addAuthInfo("digest", bytes("a:1"));
        d.create("/am/auth", null, Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
        eq("CREATOR_ALL_ACL of two digests", "[31:digest:" + digest("a:1").getId() + ", 31:digest:"
                + digest("b:2").getId() + "]", Check.acl(d.getACL("/am/auth", new Stat())));
        d.create("/am/auth-mixed", null, Arrays.asList(new ACL(Perms.READ, new Id("auth", "ignored")),
                new ACL(Perms.ALL, Ids.ANYONE_ID_UNSAFE), new ACL(Perms.READ, new Id("auth", ""))),
                CreateMode.PERSISTENT);
        eq("auth ids with world", "[1:digest:a:3om/rwYkUJGnhzKQp5NgRhIwIkc=, 1:digest:b:zdbHuLwinQKXeWY2Cch1CZ4zJUE=, 31:world:anyone, 1:digest:a:3om/rwYkUJGnhzKQp5NgRhIwIkc=, 1:digest:b:zdbHuLwinQKXeWY2Cch1CZ4zJUE=]", Check.acl(d.getACL("/am/auth-mixed", new Stat())));
        d.close();
        code("super CREATOR_ALL_ACL", "OK",
                () -> root.create("/am/auth-super", null, Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT));
        eq("super's auth expansion", "[31:digest:super:lK75jTNcA+U9vtVEw5vB51mj/w4=]", Check.acl(root.getACL("/am/auth-super", new Stat())));
        ZooKeeper n = Zk.open("AN", Check.connectString(), AclMatrixSuite.TIMEOUT_MS).zk;
        code("ip-only CREATOR_ALL_ACL", "INVALIDACL",
                () -> n.create("/am/auth-ip", null, Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT));
        code("ip-only setACL auth", "INVALIDACL", () -> n.setACL("/am", Ids.CREATOR_ALL_ACL, -1));
        n.close();
    }

    private static void invalidAcl(ZooKeeper root, ZooKeeper u) throws Exception {
        Check.section("InvalidACL");
        String[][] bad = {{"world", "someone"}, {"digest", "nohash"}, {"digest", "u:"}, {"digest", "a:b:c"},
            {"ip", "1.2.3.4/33"}, {"ip", "300.1.1.1"}, {"ip", "1.2.3"}, {"ip", "10.0.0.0/x"}, {"foo", "x"},
            {"sasl", "u"}, {"super", ""}, {"x509", "CN=a"}, {"ip", "::1"}, {"ip", "fe80::/16"}};
        for (String[] b : bad) {
            code("create " + b[0] + ":" + b[1], "INVALIDACL",
                    () -> root.create("/am/bad", null, only(Perms.ALL, b[0], b[1]), CreateMode.PERSISTENT));
        }
        String[][] good = {{"digest", ":h"}, {"ip", "010.1.1.1"}, {"ip", "1.2.3.4/0"}};
        for (String[] g : good) {
            code("create " + g[0] + ":" + g[1], "OK",
                    () -> root.create("/am/good", null, only(Perms.ALL, g[0], g[1]), CreateMode.PERSISTENT));
            root.delete("/am/good", -1);
        }
        List<ACL> worldX = only(Perms.ALL, "world", "x");
        code("setACL invalid", "INVALIDACL", () -> root.setACL("/am", worldX, -1));
        code("setACL invalid on missing node", "INVALIDACL", () -> root.setACL("/am/none", worldX, -1));
        code("create invalid under missing parent", "INVALIDACL",
                () -> root.create("/am/none/x", null, worldX, CreateMode.PERSISTENT));
        code("create invalid under READ-only parent", "INVALIDACL",
                () -> u.create("/am/READ/x", null, worldX, CreateMode.PERSISTENT));
        code("create invalid existing", "INVALIDACL", () -> root.create("/am", null, worldX, CreateMode.PERSISTENT));
        eq("multi with invalid create", "INVALIDACL [OK, INVALIDACL]", AclMatrixSuite.multi(root,
                Op.create("/am/mok", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
                Op.create("/am/mbad", null, worldX, CreateMode.PERSISTENT)));
        eq("duplicates dropped", "[31:world:anyone]", create(root, "/am/dup",
                Arrays.asList(new ACL(31, Ids.ANYONE_ID_UNSAFE), new ACL(31, Ids.ANYONE_ID_UNSAFE))));
    }

    private static String create(ZooKeeper zk, String path, List<ACL> acl) throws Exception {
        zk.create(path, null, acl, CreateMode.PERSISTENT);
        return Check.acl(zk.getACL(path, new Stat()));
    }

    private static void failedAuth() throws Exception {
        Check.section("failed authentication");
        Zk.Client f = Zk.open("F", Check.connectString(), AclMatrixSuite.TIMEOUT_MS);
        f.zk.addAuthInfo("foo", bytes("x"));
        f.events.expectState(KeeperState.AuthFailed);
        code("getData after AuthFailed", "AUTHFAILED", () -> f.zk.getData("/am", false, null));
        f.zk.close();
    }

    private static void isolation(ZooKeeper u) throws Exception {
        Check.section("identities stay with their session");
        ZooKeeper v = Zk.open("V", Check.connectString(), AclMatrixSuite.TIMEOUT_MS).zk;
        code("U getData READ node", "OK", () -> u.getData("/am/READ", false, null));
        code("V getData READ node", "NOAUTH", () -> v.getData("/am/READ", false, null));
        v.addAuthInfo("digest", bytes("u:wrong"));
        code("V with a wrong password", "NOAUTH", () -> v.getData("/am/READ", false, null));
        v.addAuthInfo("digest", bytes(AclMatrixSuite.USER));
        code("V after the right one", "OK", () -> v.getData("/am/READ", false, null));
        v.close();
        ZooKeeper x = Zk.open("X", Check.connectString(), AclMatrixSuite.TIMEOUT_MS).zk;
        code("a new session after V closed", "NOAUTH", () -> x.getData("/am/READ", false, null));
        x.close();
    }

    private static void reconnect(TcpProxy proxy) throws Exception {
        Check.section("auth re-sent after reconnect");
        Zk.Client p = Zk.open("P", proxy.connectString(), AclMatrixSuite.TIMEOUT_MS);
        p.zk.addAuthInfo("digest", bytes(AclMatrixSuite.USER));
        code("P getData before", "OK", () -> p.zk.getData("/am/READ", false, null));
        proxy.cut();
        p.events.expectState(KeeperState.Disconnected);
        proxy.restore();
        p.events.expectState(KeeperState.SyncConnected);
        code("P getData after reconnect", "OK", () -> p.zk.getData("/am/READ", false, null));
        eq("P whoAmI after reconnect", "ip=127.0.0.1 digest=u", who(p.zk));
        p.zk.close();
    }

    private static void curator() throws Exception {
        Check.section("curator");
        Id u = digest(AclMatrixSuite.USER);
        ACLProvider provider = new ACLProvider() {
            @Override
            public List<ACL> getDefaultAcl() {
                return Collections.singletonList(new ACL(Perms.ALL, u));
            }

            @Override
            public List<ACL> getAclForPath(String path) {
                return path.endsWith("/leaf")
                        ? Arrays.asList(new ACL(Perms.READ, Ids.ANYONE_ID_UNSAFE), new ACL(Perms.ALL, u))
                        : getDefaultAcl();
            }
        };
        CuratorFramework c = CuratorFrameworkFactory.builder()
                .connectString(Check.connectString())
                .sessionTimeoutMs(Curators.SESSION_TIMEOUT_MS)
                .connectionTimeoutMs(5000)
                .retryPolicy(new ExponentialBackoffRetry(100, 3, 1000))
                .authorization("digest", bytes(AclMatrixSuite.USER))
                .aclProvider(provider)
                .build();
        c.start();
        c.blockUntilConnected();
        c.create().creatingParentsIfNeeded().forPath("/am/cur/mid/leaf", bytes("x"));
        eq("curator parent ACL", "[31:digest:" + u.getId() + "]", Check.acl(c.getACL().forPath("/am/cur/mid")));
        eq("curator leaf ACL", "[1:world:anyone, 31:digest:" + u.getId() + "]",
                Check.acl(c.getACL().forPath("/am/cur/mid/leaf")));
        eq("curator reads its node", "'x'", Check.data(c.getData().forPath("/am/cur/mid/leaf")));
        c.close();
        CuratorFramework anon = Curators.open("CA", Check.connectString(), Curators.SESSION_TIMEOUT_MS);
        code("anonymous curator getData", "NOAUTH", () -> anon.getData().forPath("/am/cur/mid"));
        eq("anonymous curator reads world-readable leaf", "'x'", Check.data(anon.getData().forPath("/am/cur/mid/leaf")));
        code("anonymous curator getACL masked", "OK", () -> anon.getACL().forPath("/am/cur/mid/leaf"));
        eq("anonymous curator sees", "[1:world:anyone, 31:digest:u:x]",
                Check.acl(anon.getACL().forPath("/am/cur/mid/leaf")));
        anon.close();
    }
}
