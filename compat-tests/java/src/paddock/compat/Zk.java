package paddock.compat;

import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;

/** Opening plain ZooKeeper clients and waiting for them to connect. */
public final class Zk {
    private Zk() {}

    /** A connected client and the queue of every event its default watcher saw. */
    public static final class Client {
        /** The client handle. */
        public final ZooKeeper zk;
        /** Events delivered to the default watcher (state changes and watch(true) events). */
        public final Events events;

        Client(ZooKeeper zk, Events events) {
            this.zk = zk;
            this.events = events;
        }
    }

    /** Opens a new session to {@code connect} and waits (bounded) until it is SyncConnected. */
    public static Client open(String name, String connect, int timeoutMs) throws Exception {
        Events events = new Events(name);
        ZooKeeper zk = new ZooKeeper(connect, timeoutMs, events);
        events.expectState(Watcher.Event.KeeperState.SyncConnected);
        Check.nameSession(zk.getSessionId(), name);
        return new Client(zk, events);
    }

    /** Reattaches to an existing session; returns without waiting for the outcome. */
    public static Client attach(String name, String connect, int timeoutMs, long sessionId, byte[] password)
            throws Exception {
        Events events = new Events(name);
        ZooKeeper zk = new ZooKeeper(connect, timeoutMs, events, sessionId, password);
        return new Client(zk, events);
    }
}
