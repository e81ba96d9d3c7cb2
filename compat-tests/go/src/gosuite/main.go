// The samuel/go-zookeeper client (Debian's golang-github-samuel-go-zookeeper-dev)
// against a fresh server: core operations, watches, ACLs and AddAuth (whose
// reply must carry the request's own xid, or this client waits forever),
// multi, a reconnect of the same session and a session expiry. Prints one
// deterministic transcript line per step; exits 1 when a check failed.
//
// Every call runs under a deadline, so a reply the client never matches
// becomes a "timeout" line instead of a hung suite.
package main

import (
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/samuel/go-zookeeper/zk"
)

var failures = 0

// check prints "label -> actual" and counts a failure unless it is expected.
func check(label, actual, expected string) {
	fmt.Printf("%s -> %s\n", label, actual)
	if actual != expected {
		failures++
		fmt.Printf("ASSERTION FAILED: %s: expected %q, got %q\n", label, expected, actual)
		fmt.Fprintf(os.Stderr, "ASSERTION FAILED: %s: expected %q, got %q\n", label, expected, actual)
	}
}

// within runs f, or reports "timeout" when it has not returned in 10 s.
func within(f func() string) string {
	done := make(chan string, 1)
	go func() { done <- f() }()
	select {
	case s := <-done:
		return s
	case <-time.After(10 * time.Second):
		return "timeout"
	}
}

func errText(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

func stat(s *zk.Stat) string {
	if s == nil {
		return "nil"
	}
	return fmt.Sprintf("version=%d cversion=%d aversion=%d dataLength=%d numChildren=%d ephemeral=%t",
		s.Version, s.Cversion, s.Aversion, s.DataLength, s.NumChildren, s.EphemeralOwner != 0)
}

// event waits for one watch event.
func event(ch <-chan zk.Event) string {
	select {
	case e := <-ch:
		return fmt.Sprintf("%s %s", e.Type, e.Path)
	case <-time.After(10 * time.Second):
		return "timeout"
	}
}

// cuttable dials through connections the suite can cut, and can refuse to
// dial for a while (so a session outlives or misses its timeout).
type cuttable struct {
	mu      sync.Mutex
	conns   []net.Conn
	refuse  bool
	dialled int
}

func (c *cuttable) dial(network, address string, timeout time.Duration) (net.Conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refuse {
		return nil, fmt.Errorf("refused by the suite")
	}
	conn, err := net.DialTimeout(network, address, timeout)
	if err == nil {
		c.conns = append(c.conns, conn)
		c.dialled++
	}
	return conn, err
}

func (c *cuttable) cut(refuse bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refuse = refuse
	for _, conn := range c.conns {
		conn.Close()
	}
	c.conns = nil
}

func (c *cuttable) allow() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refuse = false
}

type quiet struct{}

func (quiet) Printf(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "zk: "+format+"\n", a...)
}

// connect opens a session and waits until it is established.
func connect(server string, timeout time.Duration, dialer zk.Dialer) (*zk.Conn, <-chan zk.Event) {
	var conn *zk.Conn
	var events <-chan zk.Event
	var err error
	if dialer != nil {
		conn, events, err = zk.ConnectWithDialer([]string{server}, timeout, dialer)
	} else {
		conn, events, err = zk.Connect([]string{server}, timeout)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "connect: %v\n", err)
		os.Exit(1)
	}
	conn.SetLogger(quiet{})
	waitState(events, zk.StateHasSession)
	return conn, events
}

// waitState waits for the session state `want`; "timeout" if it never comes.
func waitState(events <-chan zk.Event, want zk.State) string {
	deadline := time.After(20 * time.Second)
	for {
		select {
		case e := <-events:
			if e.Type == zk.EventSession && e.State == want {
				return want.String()
			}
		case <-deadline:
			return "timeout"
		}
	}
}

func main() {
	// One server even in an ensemble: watch and read checks need one order.
	server := strings.Split(os.Getenv("ZK_CONNECT"), ",")[0]
	open := zk.WorldACL(zk.PermAll)
	a, _ := connect(server, 10*time.Second, nil)
	b, _ := connect(server, 10*time.Second, nil)

	// Core operations.
	check("create /go", within(func() string {
		p, err := a.Create("/go", []byte("root"), 0, open)
		return p + " " + errText(err)
	}), "/go ok")
	check("create /go again", within(func() string {
		_, err := a.Create("/go", nil, 0, open)
		return errText(err)
	}), "zk: node already exists")
	check("get /go", within(func() string {
		d, s, err := a.Get("/go")
		return fmt.Sprintf("%q %s %s", d, stat(s), errText(err))
	}), `"root" version=0 cversion=0 aversion=0 dataLength=4 numChildren=0 ephemeral=false ok`)
	check("set /go version 0", within(func() string {
		s, err := a.Set("/go", []byte("v1"), 0)
		return stat(s) + " " + errText(err)
	}), "version=1 cversion=0 aversion=0 dataLength=2 numChildren=0 ephemeral=false ok")
	check("set /go version 0 again", within(func() string {
		_, err := a.Set("/go", []byte("v2"), 0)
		return errText(err)
	}), "zk: version conflict")
	check("get /missing", within(func() string {
		_, _, err := a.Get("/missing")
		return errText(err)
	}), "zk: node does not exist")
	check("exists /go/none", within(func() string {
		ok, s, err := a.Exists("/go/none")
		return fmt.Sprintf("%t %s %s", ok, stat(s), errText(err))
	}), "false version=0 cversion=0 aversion=0 dataLength=0 numChildren=0 ephemeral=false ok")
	check("create sequential x3", within(func() string {
		var names []string
		for i := 0; i < 3; i++ {
			p, err := a.Create("/go/seq-", nil, zk.FlagSequence, open)
			if err != nil {
				return errText(err)
			}
			names = append(names, p)
		}
		return strings.Join(names, " ")
	}), "/go/seq-0000000000 /go/seq-0000000001 /go/seq-0000000002")
	check("create ephemeral", within(func() string {
		p, err := a.Create("/go/eph", []byte("e"), zk.FlagEphemeral, open)
		return p + " " + errText(err)
	}), "/go/eph ok")
	check("child of ephemeral", within(func() string {
		_, err := a.Create("/go/eph/child", nil, 0, open)
		return errText(err)
	}), "zk: ephemeral nodes may not have children")
	check("children /go", within(func() string {
		c, s, err := a.Children("/go")
		sort.Strings(c)
		return fmt.Sprintf("%v numChildren=%d %s", c, s.NumChildren, errText(err))
	}), "[eph seq-0000000000 seq-0000000001 seq-0000000002] numChildren=4 ok")
	check("delete non-empty /go", within(func() string {
		return errText(a.Delete("/go", -1))
	}), "zk: node has children")
	check("delete /go/seq-0000000000 bad version", within(func() string {
		return errText(a.Delete("/go/seq-0000000000", 5))
	}), "zk: version conflict")
	check("delete /go/seq-0000000000", within(func() string {
		return errText(a.Delete("/go/seq-0000000000", 0))
	}), "ok")
	check("sync /go", within(func() string {
		p, err := a.Sync("/go")
		return p + " " + errText(err)
	}), "/go ok")

	// Watches: set by a, fired by b's writes.
	check("data watch", within(func() string {
		_, _, ch, err := a.GetW("/go")
		if err != nil {
			return errText(err)
		}
		b.Set("/go", []byte("from b"), -1)
		return event(ch)
	}), "EventNodeDataChanged /go")
	check("child watch", within(func() string {
		_, _, ch, err := a.ChildrenW("/go")
		if err != nil {
			return errText(err)
		}
		b.Create("/go/by-b", nil, 0, open)
		return event(ch)
	}), "EventNodeChildrenChanged /go")
	check("exists watch on create", within(func() string {
		_, _, ch, err := a.ExistsW("/go/later")
		if err != nil {
			return errText(err)
		}
		b.Create("/go/later", nil, 0, open)
		return event(ch)
	}), "EventNodeCreated /go/later")
	check("delete watch", within(func() string {
		_, _, ch, err := a.GetW("/go/later")
		if err != nil {
			return errText(err)
		}
		b.Delete("/go/later", -1)
		return event(ch)
	}), "EventNodeDeleted /go/later")

	// ACLs and AddAuth: the reply to AddAuth must carry the request's xid.
	check("addauth digest", within(func() string {
		return errText(a.AddAuth("digest", []byte("gouser:gopass")))
	}), "ok")
	check("create with auth ACL", within(func() string {
		p, err := a.Create("/go/private", []byte("secret"), 0, zk.AuthACL(zk.PermAll))
		return p + " " + errText(err)
	}), "/go/private ok")
	check("getacl as owner", within(func() string {
		acl, s, err := a.GetACL("/go/private")
		return fmt.Sprintf("%v aversion=%d %s", acl, s.Aversion, errText(err))
	}), "[{31 digest gouser:x9UJWmKs8lD+HpLiMNR+J3Qiuzc=}] aversion=0 ok")
	check("get as stranger", within(func() string {
		_, _, err := b.Get("/go/private")
		return errText(err)
	}), "zk: not authenticated")
	check("digest ACL for b after addauth", within(func() string {
		if err := b.AddAuth("digest", []byte("gouser:gopass")); err != nil {
			return errText(err)
		}
		d, _, err := b.Get("/go/private")
		return fmt.Sprintf("%q %s", d, errText(err))
	}), `"secret" ok`)
	check("create with DigestACL helper", within(func() string {
		_, err := a.Create("/go/digest", nil, 0, zk.DigestACL(zk.PermRead, "other", "pw"))
		return errText(err)
	}), "ok")
	check("setacl wrong version", within(func() string {
		_, err := a.SetACL("/go/private", open, 3)
		return errText(err)
	}), "zk: version conflict")
	check("invalid ACL", within(func() string {
		_, err := a.Create("/go/bad-acl", nil, 0, []zk.ACL{{Perms: zk.PermAll, Scheme: "auth", ID: ""}})
		return errText(err)
	}), "ok")
	check("addauth unknown scheme", within(func() string {
		c, _ := connect(server, 10*time.Second, nil)
		defer c.Close()
		return errText(c.AddAuth("nosuchscheme", []byte("x")))
	}), "zk: client authentication failed")

	// Multi.
	check("multi committed", within(func() string {
		res, err := a.Multi(
			&zk.CreateRequest{Path: "/go/m", Data: []byte("1"), Acl: open},
			&zk.SetDataRequest{Path: "/go/m", Data: []byte("2"), Version: 0},
			&zk.CheckVersionRequest{Path: "/go/m", Version: 1},
			&zk.DeleteRequest{Path: "/go/seq-0000000001", Version: -1},
		)
		var parts []string
		for _, r := range res {
			parts = append(parts, fmt.Sprintf("%q/%s", r.String, errText(r.Error)))
		}
		return strings.Join(parts, " ") + " " + errText(err)
	}), `"/go/m"/ok ""/ok ""/ok ""/ok ok`)
	check("multi refused", within(func() string {
		res, err := a.Multi(
			&zk.SetDataRequest{Path: "/go/m", Data: []byte("3"), Version: -1},
			&zk.CheckVersionRequest{Path: "/go/m", Version: 99},
			&zk.CreateRequest{Path: "/go/m2", Acl: open},
		)
		var parts []string
		for _, r := range res {
			parts = append(parts, errText(r.Error))
		}
		return strings.Join(parts, " | ") + " => " + errText(err)
	}), "ok | zk: version conflict | zk: unknown error => zk: version conflict")
	check("multi left nothing", within(func() string {
		d, s, _ := a.Get("/go/m")
		ok, _, _ := a.Exists("/go/m2")
		return fmt.Sprintf("%q version=%d m2=%t", d, s.Version, ok)
	}), `"2" version=1 m2=false`)

	// Reconnect: the same session on a new connection keeps its ephemeral,
	// its auth and its watch (re-sent with setWatches).
	cut := &cuttable{}
	r, rEvents := connect(server, 10*time.Second, cut.dial)
	r.AddAuth("digest", []byte("gouser:gopass"))
	r.Create("/go/r-eph", nil, zk.FlagEphemeral, open)
	sid := r.SessionID()
	_, _, rWatch, _ := r.GetW("/go/m")
	cut.cut(false)
	check("reconnected", waitState(rEvents, zk.StateHasSession), "StateHasSession")
	check("same session", fmt.Sprint(r.SessionID() == sid), "true")
	check("auth kept after reconnect", within(func() string {
		_, _, err := r.Get("/go/private")
		return errText(err)
	}), "ok")
	check("watch kept after reconnect", within(func() string {
		b.Set("/go/m", []byte("after"), -1)
		return event(rWatch)
	}), "EventNodeDataChanged /go/m")
	check("ephemeral kept after reconnect", within(func() string {
		ok, _, err := b.Exists("/go/r-eph")
		return fmt.Sprintf("%t %s", ok, errText(err))
	}), "true ok")

	// Expiry: cut off longer than the session timeout (negotiated 2 s).
	xCut := &cuttable{}
	x, xEvents := connect(server, 2*time.Second, xCut.dial)
	x.Create("/go/x-eph", nil, zk.FlagEphemeral, open)
	xCut.cut(true)
	check("ephemeral gone after expiry", within(func() string {
		for i := 0; i < 80; i++ {
			ok, _, _ := b.Exists("/go/x-eph")
			if !ok {
				return "gone"
			}
			time.Sleep(100 * time.Millisecond)
		}
		return "still there"
	}), "gone")
	xCut.allow()
	check("expired session told", waitState(xEvents, zk.StateExpired), "StateExpired")
	x.Close()

	r.Close()
	b.Close()
	a.Close()
	if failures > 0 {
		os.Exit(1)
	}
}
