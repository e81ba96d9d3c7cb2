package paddock.compat;

import static paddock.compat.Check.code;
import static paddock.compat.Check.eq;
import static paddock.compat.JavaClientSuite.bytes;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

/**
 * The java-client suite's session checks, with clients connected through a
 * {@link TcpProxy} that the suite cuts: watches re-registered after a
 * reconnect (setWatches), ephemerals kept across a reconnect, a wrong
 * password, expiry, closeSession, and an oversized request.
 */
final class JavaClientSessions {
    /** Short session timeout for the expiry check (the server clamps to [1000, 10000]). */
    static final int SHORT_TIMEOUT_MS = 2000;

    private JavaClientSessions() {}

    static void run(Zk.Client a) throws Exception {
        try (TcpProxy proxy = new TcpProxy(Check.firstServer())) {
            reconnect(a.zk, proxy);
        }
        try (TcpProxy proxy = new TcpProxy(Check.firstServer())) {
            expiry(a.zk, proxy);
        }
        closeSession(a.zk);
        try (TcpProxy proxy = new TcpProxy(Check.firstServer())) {
            reconnectPersistent(a.zk, proxy);
        }
        oversized(a);
        digestAuth(a.zk);
    }

    private static void reconnect(ZooKeeper a, TcpProxy proxy) throws Exception {
        Check.section("reconnect and setWatches");
        a.create("/jc/sw", bytes("0"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        Zk.Client p = Zk.open("P", proxy.connectString(), JavaClientSuite.TIMEOUT_MS);
        p.zk.create("/jc/sw-eph", null, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        Events data = new Events("P-data");
        Events exists = new Events("P-exists");
        Events child = new Events("P-child");
        Events quiet = new Events("P-unchanged");
        p.zk.getData("/jc/sw", data, null);
        p.zk.exists("/jc/sw2", exists);
        p.zk.getChildren("/jc/sw", child);
        p.zk.getData("/jc", quiet, null);
        proxy.cut();
        p.events.expectState(KeeperState.Disconnected);
        a.setData("/jc/sw", bytes("1"), -1);
        a.create("/jc/sw2", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        a.create("/jc/sw/c", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        proxy.restore();
        p.events.expectState(KeeperState.SyncConnected);
        data.expect("NodeDataChanged /jc/sw");
        exists.expect("NodeCreated /jc/sw2");
        child.expect("NodeChildrenChanged /jc/sw");
        quiet.expectNone(JavaClientWatches.QUIET_MS);
        Stat s = a.exists("/jc/sw-eph", false);
        eq("ephemeral kept across reconnect", "<sid:P>", Check.owner(s.getEphemeralOwner()));
        // Through the server P is on: another ensemble member would not touch P's connection.
        Zk.Client w = Zk.attach("W", Check.firstServer(), JavaClientSuite.TIMEOUT_MS,
                p.zk.getSessionId(), new byte[16]);
        w.events.expectState(KeeperState.Expired);
        w.zk.close();
        // ZooKeeper drops the session's live connection before it checks the password.
        p.events.expectState(KeeperState.Disconnected);
        p.events.expectState(KeeperState.SyncConnected);
        eq("wrong password leaves session", "<sid:P>", Check.owner(a.exists("/jc/sw-eph", false).getEphemeralOwner()));
        eq("P still works", "'1'", Check.data(p.zk.getData("/jc/sw", false, null)));
        p.zk.close();
    }

    private static void expiry(ZooKeeper a, TcpProxy proxy) throws Exception {
        Check.section("expiry");
        Zk.Client x = Zk.open("X", proxy.connectString(), SHORT_TIMEOUT_MS);
        eq("negotiated timeout", SHORT_TIMEOUT_MS, x.zk.getSessionTimeout());
        x.zk.create("/jc/x-eph", bytes("x"), Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        Events gone = new Events("A-x-eph");
        a.getData("/jc/x-eph", gone, null);
        proxy.cut();
        x.events.expectState(KeeperState.Disconnected);
        gone.expect("NodeDeleted /jc/x-eph");
        eq("ephemeral gone after expiry", null, a.exists("/jc/x-eph", false));
        proxy.restore();
        x.events.expectState(KeeperState.Expired);
        code("expired handle", "SESSIONEXPIRED", () -> x.zk.getData("/jc", false, null));
        x.zk.close();
    }

    private static void closeSession(ZooKeeper a) throws Exception {
        Check.section("closeSession");
        Zk.Client y = Zk.open("Y", Check.firstServer(), JavaClientSuite.TIMEOUT_MS);
        y.zk.create("/jc/y-eph", null, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
        y.zk.create("/jc/y-eph2", null, Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL);
        Events gone = new Events("A-y-eph");
        a.exists("/jc/y-eph", gone);
        eq("Y ephemerals", "[/jc/y-eph, /jc/y-eph20000000022]", sorted(y.zk.getEphemerals()));
        y.zk.close();
        gone.expect("NodeDeleted /jc/y-eph");
        eq("after close", null, a.exists("/jc/y-eph20000000022", false));
        Stat s = a.exists("/jc", false);
        Check.stat("/jc after closeSession", "czxid=+0 mzxid=+0 pzxid=+102 version=0 cversion=32 aversion=0 "
                + "ephemeralOwner=0 dataLength=4 numChildren=14", s);
    }

    /**
     * With a persistent watch registered the client re-arms its watches with
     * SetWatches2 on reconnect: one-shot watches fire for what was missed,
     * persistent ones do not replay missed changes but keep working.
     */
    private static void reconnectPersistent(ZooKeeper a, TcpProxy proxy) throws Exception {
        Check.section("reconnect with a persistent watch (SetWatches2)");
        a.create("/jc/sw/p", bytes("0"), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        Zk.Client q = Zk.open("Q", proxy.connectString(), JavaClientSuite.TIMEOUT_MS);
        Events recursive = new Events("Q-recursive");
        Events data = new Events("Q-data");
        q.zk.addWatch("/jc/sw/p", recursive, AddWatchMode.PERSISTENT_RECURSIVE);
        q.zk.getData("/jc/sw/p", data, null);
        proxy.cut();
        q.events.expectState(KeeperState.Disconnected);
        a.setData("/jc/sw/p", bytes("1"), -1);
        a.create("/jc/sw/p/c", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        proxy.restore();
        q.events.expectState(KeeperState.SyncConnected);
        data.expect("NodeDataChanged /jc/sw/p");
        // The server sends that one event once; the client hands it to every watcher of the
        // path, the recursive one included. The missed create of /jc/sw/p/c is not replayed.
        recursive.expect("NodeDataChanged /jc/sw/p");
        recursive.expectNone(JavaClientWatches.QUIET_MS);
        a.setData("/jc/sw/p/c", bytes("x"), -1);
        recursive.expect("NodeDataChanged /jc/sw/p/c");
        a.delete("/jc/sw/p/c", -1);
        recursive.expect("NodeDeleted /jc/sw/p/c");
        data.expectNone(JavaClientWatches.QUIET_MS);
        q.zk.close();
    }

    /** Digest authentication: creator ACLs, NOAUTH for others, whoAmI. Uses /jcauth so /jc's counters stay put. */
    private static void digestAuth(ZooKeeper a) throws Exception {
        Check.section("digest auth");
        Zk.Client d = Zk.open("D", Check.firstServer(), JavaClientSuite.TIMEOUT_MS);
        code("create with creator ACL unauthenticated", "INVALIDACL",
                () -> d.zk.create("/jcauth", null, Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT));
        d.zk.addAuthInfo("digest", bytes("bob:secret"));
        eq("whoAmI after addAuthInfo", "[digest:bob, ip:127.0.0.1]", JavaClientSuite.whoAmI(d.zk));
        d.zk.create("/jcauth", bytes("s"), Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT);
        eq("creator ACL stored as digest", "[31:digest:bob:fyVmFCwVbTJYrznoSu1koqYEYF0=]",
                Check.acl(d.zk.getACL("/jcauth", new Stat())));
        code("getACL without auth", "NOAUTH", () -> a.getACL("/jcauth", new Stat()));
        code("getData without auth", "NOAUTH", () -> a.getData("/jcauth", false, null));
        code("exists needs no permission", "OK", () -> a.exists("/jcauth", false));
        Zk.Client e = Zk.open("E", Check.firstServer(), JavaClientSuite.TIMEOUT_MS);
        e.zk.addAuthInfo("digest", bytes("bob:wrong"));
        code("getData with wrong password", "NOAUTH", () -> e.zk.getData("/jcauth", false, null));
        e.zk.addAuthInfo("digest", bytes("bob:secret"));
        eq("getData after adding the right identity", "'s'", Check.data(e.zk.getData("/jcauth", false, null)));
        // Both identities stay (bob:wrong and bob:secret hash differently); whoAmI shows only the user.
        eq("whoAmI with two digests", "[digest:bob, digest:bob, ip:127.0.0.1]", JavaClientSuite.whoAmI(e.zk));
        e.zk.close();
        d.zk.setACL("/jcauth", Ids.OPEN_ACL_UNSAFE, -1);
        eq("getData after opening the ACL", "'s'", Check.data(a.getData("/jcauth", false, null)));
        d.zk.close();
    }

    private static String sorted(List<String> in) {
        List<String> out = new ArrayList<>(in);
        Collections.sort(out);
        return out.toString();
    }

    private static void oversized(Zk.Client a) throws Exception {
        Check.section("oversized request");
        a.zk.create("/jc/big", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        Stat s = a.zk.setData("/jc/big", new byte[1_000_000], -1);
        eq("1000000 bytes accepted, dataLength", 1_000_000, s.getDataLength());
        code("setData 1 MiB", "CONNECTIONLOSS", () -> a.zk.setData("/jc/big", new byte[1024 * 1024], -1));
        a.events.expectState(KeeperState.Disconnected);
        a.events.expectState(KeeperState.SyncConnected);
        eq("data unchanged", 1_000_000, a.zk.exists("/jc/big", false).getDataLength());
        a.zk.delete("/jc/big", -1);
    }
}
