package paddock.compat;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A queue of formatted notifications (recipe events, listener calls) that a
 * suite asserts one by one, in order, with a bounded wait.
 */
public final class Feed {
    private final String name;
    private final LinkedBlockingQueue<String> queue = new LinkedBlockingQueue<>();

    /** Creates a feed whose transcript lines are prefixed with {@code name}. */
    public Feed(String name) {
        this.name = name;
    }

    /** Adds one notification; safe from any thread. */
    public void add(String item) {
        queue.add(item);
    }

    /** Asserts the next notification (waiting up to {@link Events#WAIT_MS}) is {@code expected}. */
    public void expect(String expected) throws InterruptedException {
        String got = queue.poll(Events.WAIT_MS, TimeUnit.MILLISECONDS);
        Check.eq(name, expected, got == null ? "<none>" : got);
    }

    /** Asserts no notification arrives within {@code ms}. */
    public void expectNone(long ms) throws InterruptedException {
        String got = queue.poll(ms, TimeUnit.MILLISECONDS);
        Check.eq(name + " no further", "<none>", got == null ? "<none>" : got);
    }
}
