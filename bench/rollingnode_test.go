package bench

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildClusterNode builds cmd/clusternode into a temporary directory and
// returns the binary's path.
func buildClusterNode(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("SKIPPED: no go command on PATH to build cmd/clusternode")
	}
	bin := filepath.Join(t.TempDir(), "clusternode")
	cmd := exec.Command(goBin, "build", "-o", bin, "./cmd/clusternode")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building cmd/clusternode: %v\n%s", err, out)
	}
	return bin
}

// nodeProcess is one clusternode process, started and stopped by the test.
// Its methods are called from the test's goroutine only.
type nodeProcess struct {
	t    *testing.T
	bin  string
	args []string
	name string

	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd.Wait has returned
	err    error         // cmd.Wait's, set before exited is closed
	stderr *tailBuffer
	addr   string
}

// startNode starts a clusternode process with args and waits until it
// listens; the test kills it at its end if it is still running.
func startNode(t *testing.T, bin, name string, args ...string) *nodeProcess {
	t.Helper()
	p := &nodeProcess{t: t, bin: bin, args: args, name: name}
	t.Cleanup(p.kill)
	p.start()
	return p
}

// start starts the process again and waits until it prints its address.
func (p *nodeProcess) start() {
	p.t.Helper()
	ready := make(chan string, 1)
	p.stderr = &tailBuffer{max: 16 << 10}
	p.cmd = exec.Command(p.bin, p.args...)
	p.cmd.Stdout = &firstLine{found: ready}
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
	p.exited = make(chan struct{})
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	select {
	case line := <-ready:
		addr, ok := strings.CutPrefix(line, "listening ")
		if !ok {
			p.t.Fatalf("%s printed %q, want listening <address>", p.name, line)
		}
		p.addr = addr
	case <-p.exited:
		p.t.Fatalf("%s exited before listening: %v\n%s", p.name, p.err, p.stderr)
	case <-timeout.C:
		p.t.Fatalf("%s did not listen within 30s\n%s", p.name, p.stderr)
	}
}

// stop sends SIGTERM and waits for the process to exit, failing the test
// unless it exits 0 within limit.
func (p *nodeProcess) stop(limit time.Duration) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatalf("%s: SIGTERM: %v", p.name, err)
	}
	timeout := time.NewTimer(limit)
	defer timeout.Stop()
	select {
	case <-p.exited:
	case <-timeout.C:
		p.t.Fatalf("%s did not exit within %v of SIGTERM\n%s", p.name, limit, p.stderr)
	}
	if p.err != nil {
		p.t.Fatalf("%s exited with %v after SIGTERM, want 0\n%s", p.name, p.err, p.stderr)
	}
}

// kill ends the process if it is still running, and waits for it.
func (p *nodeProcess) kill() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	select {
	case <-p.exited:
	default:
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// firstLine is a process's standard output: it sends the first line on
// found and discards the rest.
type firstLine struct {
	found chan<- string
	buf   []byte
	done  bool
}

func (w *firstLine) Write(b []byte) (int, error) {
	if w.done {
		return len(b), nil
	}
	w.buf = append(w.buf, b...)
	if i := bytes.IndexByte(w.buf, '\n'); i >= 0 {
		w.found <- string(w.buf[:i])
		w.done, w.buf = true, nil
	}
	return len(b), nil
}

// tailBuffer keeps the last max bytes written to it: a process's standard
// error, for a failure's message. It is safe for concurrent use.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (w *tailBuffer) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b = append(w.b, b...)
	if over := len(w.b) - w.max; over > 0 {
		w.b = w.b[over:]
	}
	return len(b), nil
}

func (w *tailBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.b)
}
