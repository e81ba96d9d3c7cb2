package paddock.compat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * An in-process TCP relay between a client and the server that a suite can
 * cut: {@link #cut()} closes every relayed connection and, until
 * {@link #restore()}, closes new ones as soon as they are accepted, so the
 * client sees a dead server while its session lives on (or expires) there.
 */
public final class TcpProxy implements AutoCloseable {
    private final ServerSocket listener;
    private final String targetHost;
    private final int targetPort;
    /** Every socket currently relayed, so cut() can close them all. */
    private final List<Socket> open = new ArrayList<>();
    private boolean cut;

    /**
     * Starts relaying from a free local port to {@code connect} ("host:port"),
     * or to its first server when it lists several ("h1:p1,h2:p2", an ensemble).
     */
    public TcpProxy(String connect) throws IOException {
        String hostPort = connect.split(",", 2)[0];
        int colon = hostPort.lastIndexOf(':');
        targetHost = hostPort.substring(0, colon);
        targetPort = Integer.parseInt(hostPort.substring(colon + 1));
        listener = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        Thread acceptor = new Thread(this::acceptLoop, "proxy-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** The connect string clients use to go through this relay. */
    public String connectString() {
        return "127.0.0.1:" + listener.getLocalPort();
    }

    /** Closes every relayed connection and refuses new ones until restore(). */
    public synchronized void cut() {
        cut = true;
        for (Socket s : open) {
            closeQuietly(s);
        }
        open.clear();
    }

    /** Lets new connections through again. */
    public synchronized void restore() {
        cut = false;
    }

    @Override
    public void close() {
        cut();
        closeQuietly(listener);
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                relay(client);
            } catch (IOException e) {
                return;
            }
        }
    }

    private void relay(Socket client) {
        synchronized (this) {
            if (cut) {
                closeQuietly(client);
                return;
            }
        }
        try {
            Socket server = new Socket(targetHost, targetPort);
            synchronized (this) {
                open.add(client);
                open.add(server);
            }
            pump(client, server);
            pump(server, client);
        } catch (IOException e) {
            closeQuietly(client);
        }
    }

    private static void pump(Socket from, Socket to) throws IOException {
        InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream();
        Thread t = new Thread(() -> {
            byte[] buf = new byte[64 * 1024];
            try {
                for (int n; (n = in.read(buf)) >= 0; ) {
                    out.write(buf, 0, n);
                }
            } catch (IOException e) {
                // the other direction or cut() closed the pair
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            // already closed
        }
    }
}
