//go:build unix

package main

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestSignalShutsDownGracefully runs the real command (main, in a child
// process) with no configuration but a free port, connects a client and
// sends the signal an operator or orchestrator would: the client sees 1012
// (the drain sends it elsewhere), and the process exits 0 after saying it
// shut down.
func TestSignalShutsDownGracefully(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			child := startMain(t)
			s := &service{base: child.base, client: &http.Client{Timeout: testTimeout}}
			t.Cleanup(s.client.CloseIdleConnections)
			alice := s.connect(t, "alice", "")
			send(t, alice, inbound{Type: "say", Text: "before the signal"})
			next(t, alice)

			if err := child.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code, _ := closeStatus(t, alice); code != websocket.StatusServiceRestart {
				t.Errorf("client closed with %d, want 1012", code)
			}
			if err := child.wait(t); err != nil {
				t.Errorf("after %v the command exited with %v, want status 0\n%s", sig, err, child.log())
			}
			if !strings.Contains(child.log(), "chat: shutting down") {
				t.Errorf("the command did not log its shutdown:\n%s", child.log())
			}
		})
	}
}

// mainProcess is the chat command running in a child process.
type mainProcess struct {
	cmd  *exec.Cmd
	base string // http://127.0.0.1:port

	mu     sync.Mutex
	stderr strings.Builder
	read   chan struct{} // closed when stderr reached EOF

	once    sync.Once
	waitErr error
}

var listeningURL = regexp.MustCompile(`msg="chat: listening" url=(http://127\.0\.0\.1:\d+)`)

// startMain starts the test binary as the chat command, in an empty working
// directory (no .env) and an environment holding only CHAT_ADDR among the
// settings, and waits until it listens. The process is killed if the test
// ends first.
func startMain(t *testing.T) *mainProcess {
	t.Helper()
	p := &mainProcess{read: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0])
	p.cmd.Dir = t.TempDir()
	p.cmd.Env = []string{runMainEnv + "=1", "CHAT_ADDR=127.0.0.1:0", "PATH=" + os.Getenv("PATH")}
	if d, ok := os.LookupEnv("GOCOVERDIR"); ok {
		p.cmd.Env = append(p.cmd.Env, "GOCOVERDIR="+d)
	}
	pipe, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		_ = p.wait(t)
	})
	urls := make(chan string, 1)
	go func() {
		defer close(p.read)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.stderr.WriteString(line + "\n")
			p.mu.Unlock()
			if m := listeningURL.FindStringSubmatch(line); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case p.base = <-urls:
	case <-p.read:
		t.Fatalf("the command exited before listening:\n%s", p.log())
	case <-time.After(testTimeout):
		t.Fatalf("the command did not listen in time:\n%s", p.log())
	}
	return p
}

// log returns what the command wrote to its standard error so far.
func (p *mainProcess) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// wait waits for the command to exit and returns its exit error; later calls
// return the same. A command that does not exit in time is killed.
func (p *mainProcess) wait(t *testing.T) error {
	t.Helper()
	p.once.Do(func() {
		select {
		case <-p.read:
		case <-time.After(testTimeout):
			_ = p.cmd.Process.Kill()
			<-p.read
		}
		p.waitErr = p.cmd.Wait()
	})
	return p.waitErr
}
