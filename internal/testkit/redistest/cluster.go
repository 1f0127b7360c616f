package redistest

import (
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Cluster is a real Redis Cluster on 127.0.0.1 that a test starts: three
// masters, each with one replica that takes over when its master fails.
// Its methods are safe for concurrent use.
type Cluster struct {
	t testing.TB
	// Nodes are the six redis-server processes, masters first as created.
	Nodes []*Server
}

// clusterNodeTimeout is how long, in milliseconds, the nodes wait for a
// silent master before its replica takes over: short, so that a test
// sees a failover within a few seconds.
const clusterNodeTimeout = "1000"

// StartCluster starts six redis-server processes in cluster mode, joins
// them with redis-cli --cluster create into three masters with a replica
// each, waits until every node reports the cluster ok and every replica is
// in sync, and stops them when the test ends. Without redis-server or
// redis-cli (Debian: redis-server, redis-tools) the test fails when CI is
// set and is skipped otherwise.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	cli := lookCLI(t)
	c := &Cluster{t: t}
	for range 6 {
		c.Nodes = append(c.Nodes, Start(t,
			"--cluster-enabled", "yes",
			"--cluster-port", strconv.Itoa(freePort(t)),
			"--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", clusterNodeTimeout,
			"--cluster-require-full-coverage", "no",
			"--cluster-replica-validity-factor", "0",
		))
	}
	args := []string{"--cluster", "create"}
	args = append(args, c.Addrs()...)
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v: %s", err, out)
	}
	c.waitReady(cli)
	return c
}

// lookCLI returns redis-cli's path, or ends the test as Start does
// without redis-server.
func lookCLI(t testing.TB) string {
	t.Helper()
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-cli is not on PATH; .ci/run installs Debian's redis-tools package")
		}
		t.Skip("SKIPPED: redis-cli is not on PATH (Debian: apt-get install redis-tools)")
	}
	return cli
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitReady waits until every node sees the cluster ok with six nodes, and
// every replica's link to its master is up.
func (c *Cluster) waitReady(cli string) {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range c.Nodes {
		for {
			info := c.info(cli, n, "cluster", "info")
			repl := c.info(cli, n, "info", "replication")
			ok := strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_known_nodes:6") &&
				(strings.Contains(repl, "role:master") || strings.Contains(repl, "master_link_status:up"))
			if ok {
				break
			}
			if time.Now().After(deadline) {
				c.t.Fatalf("the cluster did not become ready: %s: %s %s", n.Addr(), info, repl)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func (c *Cluster) info(cli string, n *Server, args ...string) string {
	out, _ := exec.Command(cli, append([]string{"-p", strconv.Itoa(n.port)}, args...)...).Output()
	return string(out)
}

// Addrs returns every node's host:port.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		addrs[i] = n.Addr()
	}
	return addrs
}

// Kill ends the node at addr abruptly (SIGKILL), as a crash would.
func (c *Cluster) Kill(addr string) {
	c.t.Helper()
	for _, n := range c.Nodes {
		if n.Addr() == addr {
			n.Kill()
			return
		}
	}
	c.t.Fatalf("no node at %s", addr)
}
