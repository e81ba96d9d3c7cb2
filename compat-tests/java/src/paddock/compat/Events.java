package paddock.compat;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;

/**
 * A watcher that queues every event it receives so a suite can assert them
 * one by one, in order, with a bounded wait.
 */
public final class Events implements Watcher {
    /** How long {@link #expect} waits for an event before failing. */
    public static final long WAIT_MS = 15_000;

    private final String name;
    private final LinkedBlockingQueue<WatchedEvent> queue = new LinkedBlockingQueue<>();

    /** Creates a queue whose transcript lines are prefixed with {@code name}. */
    public Events(String name) {
        this.name = name;
    }

    @Override
    public void process(WatchedEvent event) {
        queue.add(event);
    }

    /** Formats an event as {@code Type path} or, for state changes, {@code None State}. */
    public static String format(WatchedEvent e) {
        if (e.getType() == Event.EventType.None) {
            return "None " + e.getState();
        }
        return e.getType() + " " + e.getPath();
    }

    /**
     * Asserts the next event (waiting up to {@link #WAIT_MS}) is {@code expected}.
     * Connection-state events are skipped unless {@code expected} is one: the
     * Java client hands them to every registered watcher, on its own timing.
     */
    public void expect(String expected) throws InterruptedException {
        WatchedEvent e = next(WAIT_MS, !expected.startsWith("None "));
        Check.eq(name + " event", expected, e == null ? "<none>" : format(e));
    }

    private WatchedEvent next(long waitMs, boolean skipStates) throws InterruptedException {
        long deadline = System.nanoTime() + waitMs * 1_000_000L;
        while (true) {
            long left = Math.max((deadline - System.nanoTime()) / 1_000_000L, 0);
            WatchedEvent e = queue.poll(left, TimeUnit.MILLISECONDS);
            if (e == null || !skipStates || e.getType() != Event.EventType.None) {
                return e;
            }
        }
    }

    /** Skips state events until the given state arrives; asserts no node event comes first. */
    public void expectState(Event.KeeperState state) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT_MS * 1_000_000L;
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000L;
            WatchedEvent e = queue.poll(Math.max(left, 0), TimeUnit.MILLISECONDS);
            if (e == null) {
                throw new AssertionError(name + ": no " + state + " within " + WAIT_MS + " ms");
            }
            if (e.getType() != Event.EventType.None) {
                throw new AssertionError(name + ": node event " + format(e) + " before state " + state);
            }
            if (e.getState() == state) {
                Check.line(name + " state: " + state);
                return;
            }
        }
    }

    /** Asserts no node event arrives within {@code ms} (connection-state events are skipped). */
    public void expectNone(long ms) throws InterruptedException {
        WatchedEvent e = next(ms, true);
        Check.eq(name + " no further event", "<none>", e == null ? "<none>" : format(e));
    }
}
