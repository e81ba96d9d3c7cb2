package paddock.compat;

import static paddock.compat.Check.eq;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;

/**
 * Curator InterProcessMutex under contention, shared by the curator and
 * ensemble-curator suites: each client takes the lock {@code rounds} times in
 * its own thread and bumps an unguarded counter while holding it.
 */
final class LockContention {
    private LockContention() {}

    /**
     * Runs the contention on {@code path} and checks no error, no two holders
     * at once and every increment counted; returns the counter values each
     * holder read, in the order the holders read them.
     */
    static List<Integer> run(List<CuratorFramework> clients, String path, int rounds, long joinMs)
            throws Exception {
        int[] counter = {0};
        AtomicInteger holders = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        List<Integer> seen = Collections.synchronizedList(new ArrayList<>());
        List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (CuratorFramework c : clients) {
            InterProcessMutex m = new InterProcessMutex(c, path);
            Thread t = new Thread(() -> {
                try {
                    for (int i = 0; i < rounds; i++) {
                        if (!m.acquire(15, TimeUnit.SECONDS)) {
                            throw new AssertionError("lock not acquired within 15 s");
                        }
                        try {
                            if (holders.incrementAndGet() != 1) {
                                overlaps.incrementAndGet();
                            }
                            int before = counter[0];
                            seen.add(before);
                            Thread.sleep(2);
                            counter[0] = before + 1;
                            holders.decrementAndGet();
                        } finally {
                            m.release();
                        }
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join(joinMs);
        }
        eq("contention errors", "[]", errors.toString());
        eq("overlapping holders", 0, overlaps.get());
        eq("counter", clients.size() * rounds, counter[0]);
        return new ArrayList<>(seen);
    }
}
