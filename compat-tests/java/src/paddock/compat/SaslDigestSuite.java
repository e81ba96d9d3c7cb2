package paddock.compat;

import static paddock.compat.Check.code;
import static paddock.compat.Check.eq;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooDefs.Perms;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.ClientInfo;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;

/**
 * The sasl-digest suite: Java clients log in with DIGEST-MD5 from the sections
 * of suites/sasl-digest.client.jaas against a server whose JAAS Server section
 * lists bob and admin (zookeeper.superUser), with SASLAuthenticationProvider
 * registered. Checks whoAmI, sasl ACLs, super, and refused logins.
 */
public final class SaslDigestSuite {
    private SaslDigestSuite() {}

    static final int TIMEOUT_MS = 10_000;

    /** Runs the suite against ZK_CONNECT. */
    public static void main(String[] args) {
        System.setProperty("java.security.auth.login.config",
                System.getenv("COMPAT_TESTS") + "/suites/sasl-digest.client.jaas");
        Check.main("sasl-digest", () -> {
            ZooKeeper anon = open("ANON", null, KeeperState.SyncConnected);
            eq("whoAmI anonymous", "ip=127.0.0.1", who(anon));
            ZooKeeper bob = open("BOB", "Client", KeeperState.SaslAuthenticated);
            eq("whoAmI bob", "sasl=bob ip=127.0.0.1", who(bob));
            acls(anon, bob);
            ZooKeeper admin = open("ADMIN", "Admin", KeeperState.SaslAuthenticated);
            eq("whoAmI admin", "sasl=admin super= ip=127.0.0.1", who(admin));
            eq("admin reads bob's node", "'b'", Check.data(admin.getData("/sasl", false, null)));
            refused("WRONG", "WrongPassword");
            refused("UNKNOWN", "UnknownUser");
            eq("bob still served", "'b'", Check.data(bob.getData("/sasl", false, null)));
            admin.close();
            bob.close();
            anon.close();
        });
    }

    private static void acls(ZooKeeper anon, ZooKeeper bob) throws Exception {
        Check.section("sasl ACLs");
        List<ACL> bobOnly = Collections.singletonList(new ACL(Perms.ALL, new Id("sasl", "bob")));
        bob.create("/sasl", "b".getBytes(StandardCharsets.UTF_8), bobOnly, CreateMode.PERSISTENT);
        eq("getACL", "[31:sasl:bob]", Check.acl(bob.getACL("/sasl", new Stat())));
        eq("bob reads", "'b'", Check.data(bob.getData("/sasl", false, null)));
        code("anonymous reads", "NOAUTH", () -> anon.getData("/sasl", false, null));
        code("anonymous sets", "NOAUTH", () -> anon.setData("/sasl", null, -1));
        bob.create("/sasl-auth", null, Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
        eq("CREATOR_ALL_ACL of bob", "[31:sasl:bob]", Check.acl(bob.getACL("/sasl-auth", new Stat())));
        code("malformed kerberos name", "INVALIDACL", () -> bob.create("/bad", null,
                Collections.singletonList(new ACL(Perms.ALL, new Id("sasl", "a@b@c"))), CreateMode.PERSISTENT));
        code("principal with host and realm", "OK", () -> bob.create("/principal", null,
                Collections.singletonList(new ACL(Perms.ALL, new Id("sasl", "zk/host@EXAMPLE.COM"))),
                CreateMode.PERSISTENT));
    }

    /** A client whose login fails: the first state events it sees, then it is closed. */
    private static void refused(String name, String section) throws Exception {
        Check.section("refused " + section);
        Events events = new Events(name);
        ZooKeeper zk = new ZooKeeper(Check.connectString(), TIMEOUT_MS, events, config(section));
        events.expectState(KeeperState.SyncConnected);
        events.expectState(KeeperState.AuthFailed);
        eq(name + " state", "AUTH_FAILED", zk.getState().toString());
        code(name + " getData", "AUTHFAILED", () -> zk.getData("/", false, null));
        zk.close();
    }

    /** Opens a client logging in with JAAS section {@code section} (none when null) and waits for {@code state}. */
    private static ZooKeeper open(String name, String section, KeeperState state) throws Exception {
        Events events = new Events(name);
        ZooKeeper zk = new ZooKeeper(Check.connectString(), TIMEOUT_MS, events, config(section));
        events.expectState(KeeperState.SyncConnected);
        if (state != KeeperState.SyncConnected) {
            events.expectState(state);
        }
        return zk;
    }

    private static ZKClientConfig config(String section) {
        ZKClientConfig config = new ZKClientConfig();
        if (section == null) {
            config.setProperty(ZKClientConfig.ENABLE_CLIENT_SASL_KEY, "false");
        } else {
            config.setProperty(ZKClientConfig.LOGIN_CONTEXT_NAME_KEY, section);
        }
        return config;
    }

    private static String who(ZooKeeper zk) throws Exception {
        StringBuilder out = new StringBuilder();
        for (ClientInfo c : zk.whoAmI()) {
            out.append(out.length() == 0 ? "" : " ").append(c.getAuthScheme()).append('=').append(c.getUser());
        }
        return out.toString();
    }
}
