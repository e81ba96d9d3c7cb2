package paddock.compat;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;

/**
 * Assertions and transcript printing shared by every Java suite.
 *
 * <p>Every check compares an exact expected value written in the suite with
 * the actual one, throws {@link AssertionError} on a mismatch, and on success
 * prints one transcript line to stdout. Values that legitimately differ
 * between servers or runs are masked before printing: session ids become
 * names the suite registered, zxids are printed relative to a baseline.
 */
public final class Check {
    /** An operation that may fail with a ZooKeeper error. */
    @FunctionalInterface
    public interface Op {
        /** Runs the operation. */
        void run() throws Exception;
    }

    /** An operation returning a value that may fail with a ZooKeeper error. */
    @FunctionalInterface
    public interface Call<T> {
        /** Runs the operation and returns its result. */
        T call() throws Exception;
    }

    /**
     * Authoring aid: with COMPAT_RECORD=1 a mismatch is reported on stderr and
     * the suite goes on, so one run against ZooKeeper shows every difference.
     */
    private static final boolean RECORD = System.getenv("COMPAT_RECORD") != null;

    private static long zxidBase;
    private static final Map<Long, String> SESSION_NAMES = new HashMap<>();

    private Check() {}

    /** Prints one transcript line and flushes, so ordering with stderr stays readable. */
    public static void line(String text) {
        System.out.println(text);
        System.out.flush();
    }

    /** Prints a section header to the transcript. */
    public static void section(String name) {
        line("== " + name);
    }

    /** Asserts {@code actual} equals {@code expected}; prints {@code what: actual}. */
    public static void eq(String what, Object expected, Object actual) {
        if (!Objects.equals(expected, actual)) {
            String message = what + ": expected <" + expected + "> but got <" + actual + ">";
            if (!RECORD) {
                throw new AssertionError(message);
            }
            System.err.println("MISMATCH " + message);
        }
        line(what + ": " + actual);
    }

    /** Asserts a condition the suite cannot express as an equality; prints {@code what: true}. */
    public static void truth(String what, boolean condition) {
        eq(what, true, condition);
    }

    /** Sets the zxid every later zxid is printed relative to. */
    public static void setZxidBase(long zxid) {
        zxidBase = zxid;
    }

    /** Formats a zxid relative to the baseline, as {@code +N}; zxid 0 (never a txn) stays {@code 0}. */
    public static String rel(long zxid) {
        return zxid == 0 ? "0" : "+" + (zxid - zxidBase);
    }

    /** Registers a printable name for a session id (used in ephemeralOwner). */
    public static void nameSession(long sessionId, String name) {
        SESSION_NAMES.put(sessionId, name);
    }

    /** Formats an ephemeralOwner: 0, a registered session name, or hex for other values (TTL). */
    public static String owner(long owner) {
        if (owner == 0) {
            return "0";
        }
        String name = SESSION_NAMES.get(owner);
        return name != null ? "<sid:" + name + ">" : String.format("0x%016x", owner);
    }

    /** Formats every Stat field except the times, with zxids relative to the baseline. */
    public static String stat(Stat s) {
        return "czxid=" + rel(s.getCzxid())
                + " mzxid=" + rel(s.getMzxid())
                + " pzxid=" + rel(s.getPzxid())
                + " version=" + s.getVersion()
                + " cversion=" + s.getCversion()
                + " aversion=" + s.getAversion()
                + " ephemeralOwner=" + owner(s.getEphemeralOwner())
                + " dataLength=" + s.getDataLength()
                + " numChildren=" + s.getNumChildren();
    }

    /** Asserts the formatted Stat equals {@code expected}. */
    public static void stat(String what, String expected, Stat actual) {
        eq(what + " stat", expected, stat(actual));
    }

    /** Asserts the node was just created: ctime equals mtime. */
    public static void fresh(String what, Stat s) {
        eq(what + " ctime==mtime", true, s.getCtime() == s.getMtime());
    }

    /** Runs {@code op} and returns "OK" or the KeeperException code name. */
    public static String code(Op op) throws Exception {
        try {
            op.run();
            return "OK";
        } catch (KeeperException e) {
            return e.code().name();
        }
    }

    /** Asserts {@code op} ends with the given code name ("OK" or e.g. "NONODE"). */
    public static void code(String what, String expected, Op op) throws Exception {
        eq(what, expected, code(op));
    }

    /** Formats data bytes: {@code null}, or the UTF-8 text in quotes. */
    public static String data(byte[] bytes) {
        return bytes == null ? "null" : "'" + new String(bytes, StandardCharsets.UTF_8) + "'";
    }

    /** Formats an ACL list as {@code perms:scheme:id} items. */
    public static String acl(List<ACL> acls) {
        StringBuilder out = new StringBuilder("[");
        for (ACL a : acls) {
            if (out.length() > 1) {
                out.append(", ");
            }
            out.append(a.getPerms()).append(':').append(a.getId().getScheme()).append(':').append(a.getId().getId());
        }
        return out.append(']').toString();
    }

    /** Waits up to {@code timeoutMs} for {@code condition}; asserts it became true. */
    public static void eventually(String what, long timeoutMs, Call<Boolean> condition) throws Exception {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        while (!condition.call()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + ": not true within " + timeoutMs + " ms");
            }
            Thread.sleep(50);
        }
        line(what + ": true");
    }

    /** Runs a suite body: exit 0 when it returns, 1 (with the failure on stderr) when it throws. */
    public static void main(String suite, Op body) {
        try {
            body.run();
            line("PASS " + suite);
            System.exit(0);
        } catch (Throwable t) {
            System.out.flush();
            System.err.println("FAIL " + suite + ": " + t);
            t.printStackTrace();
            System.exit(1);
        }
    }

    /**
     * The first server of ZK_CONNECT (all of it for a standalone server).
     * Suites whose clients must see one server's order of events, such as a
     * watch set right after another client's write, connect every client
     * there; on an ensemble members apply commits at their own pace.
     */
    public static String firstServer() {
        return connectString().split(",", 2)[0];
    }

    /**
     * Waits (bounded) until the server {@code c} talks to has caught up with the leader
     * for {@code path}: on an ensemble, a write made through another member is then
     * visible to {@code c}'s next read (ZooKeeper promises nothing across members before).
     */
    public static void sync(org.apache.curator.framework.CuratorFramework c, String path) throws Exception {
        java.util.concurrent.CompletableFuture<Integer> rc = new java.util.concurrent.CompletableFuture<>();
        c.getZookeeperClient().getZooKeeper().sync(path, (code, p, ctx) -> rc.complete(code), null);
        rc.get(15, java.util.concurrent.TimeUnit.SECONDS);
    }

    /** The number of ensemble members the harness started (ZK_ENSEMBLE), 0 for a standalone server. */
    public static int ensembleSize() {
        String size = System.getenv("ZK_ENSEMBLE");
        return size == null || size.isEmpty() ? 0 : Integer.parseInt(size);
    }

    /** The server address the harness gives in ZK_CONNECT. */
    public static String connectString() {
        String connect = System.getenv("ZK_CONNECT");
        if (connect == null || connect.isEmpty()) {
            throw new IllegalStateException("ZK_CONNECT is not set");
        }
        return connect;
    }
}
