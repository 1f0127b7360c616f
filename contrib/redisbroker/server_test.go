package redisbroker_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

// redisServer is a real redis-server on 127.0.0.1 that a test starts, stops
// and restarts on the same port.
type redisServer struct {
	t    *testing.T
	bin  string
	port int
	args []string

	mu  sync.Mutex
	cmd *exec.Cmd
}

// startRedis starts redis-server with extra configuration args. Without
// the binary the test fails when CI is set and is skipped otherwise.
func startRedis(t *testing.T, args ...string) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server is not on PATH; .ci/run installs Debian's redis-server package")
		}
		t.Skip("SKIPPED: redis-server is not on PATH (Debian: apt-get install redis-server)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &redisServer{t: t, bin: bin, port: port, args: args}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// URL returns the server's redis:// URL with the given user information
// ("" for none, "user:password@" otherwise).
func (s *redisServer) URL(userinfo string) string {
	return fmt.Sprintf("redis://%s127.0.0.1:%d", userinfo, s.port)
}

func (s *redisServer) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// Start starts the server and waits until it accepts connections.
func (s *redisServer) Start() {
	s.t.Helper()
	args := append([]string{
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--daemonize", "no", "--loglevel", "warning", "--logfile", "", "--dir", s.t.TempDir(),
	}, s.args...)
	cmd := exec.Command(s.bin, args...)
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.mu.Lock()
	s.cmd = cmd
	s.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", s.Addr())
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server did not start: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop stops the server and waits for it to exit; it does nothing if the
// server is not running.
func (s *redisServer) Stop() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(os.Interrupt)
	_ = cmd.Wait()
}
