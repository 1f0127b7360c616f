// Package redistest runs a real redis-server on 127.0.0.1 for tests (the
// Redis broker's, the benchmarks' and the examples'), or a Redis Cluster of
// six of them. The binaries come from PATH (Debian's redis-server and
// redis-tools packages, which .ci/run installs); without them a test fails
// when the CI environment variable is set and is skipped, loudly,
// otherwise.
package redistest

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

// Server is a real redis-server on 127.0.0.1 that a test starts, stops
// and restarts on the same port. Its methods are safe for concurrent use.
type Server struct {
	t    testing.TB
	bin  string
	port int
	args []string

	mu  sync.Mutex
	cmd *exec.Cmd
}

// Start starts redis-server with extra configuration args, and stops it
// when the test ends. Without the binary the test fails when CI is set and
// is skipped otherwise.
func Start(t testing.TB, args ...string) *Server {
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
	s := &Server{t: t, bin: bin, port: port, args: args}
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

// URL returns the server's redis:// URL with the given user information
// ("" for none, "user:password@" otherwise).
func (s *Server) URL(userinfo string) string {
	return fmt.Sprintf("redis://%s127.0.0.1:%d", userinfo, s.port)
}

// Addr returns host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// Restart starts the stopped server again, on the same port, and waits
// until it accepts connections.
func (s *Server) Restart() {
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

// Kill ends the server abruptly (SIGKILL), as a crash would, and waits for
// it to exit; it does nothing if the server is not running.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

// Stop stops the server and waits for it to exit; it does nothing if the
// server is not running.
func (s *Server) Stop() {
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
