package nbiows_test

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ssotkit/ssot/contrib/nbiows"
)

// writeCalls returns how many write system calls (write, writev and the
// like) the process has made, from Linux's /proc/self/io.
func writeCalls(t *testing.T) int {
	t.Helper()
	f, err := os.Open("/proc/self/io")
	if err != nil {
		t.Skipf("no /proc/self/io to count system calls: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "syscw: "); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Skip("/proc/self/io has no syscw")
	return 0
}

// TestWriteMessagesOneSystemCall checks doc.go's claim that a batch is one
// writev: over a loopback TCP socket, batches of 16 messages make about
// one write system call each, where a write per message would make 16.
// It runs alone, so that no other test's writes are counted.
func TestWriteMessagesOneSystemCall(t *testing.T) {
	conn, client := pushPair(t, nbiows.Options{PingInterval: nbiows.NoPing})
	const batches, size = 200, 200
	batch := make([][]byte, 16)
	for i := range batch {
		batch[i] = make([]byte, size)
	}
	drained := make(chan error, 1)
	go func() {
		for range batches * len(batch) {
			if _, _, err := client.ReadMessage(); err != nil {
				drained <- err
				return
			}
		}
		drained <- nil
	}()
	before := writeCalls(t)
	for range batches {
		if err := conn.WriteMessages(batch, time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	calls := writeCalls(t) - before
	if err := <-drained; err != nil {
		t.Fatal(err)
	}
	t.Logf("%d batches of %d messages: %d write system calls", batches, len(batch), calls)
	if calls > batches*3/2 {
		t.Errorf("%d batches of %d messages made %d write system calls, want about one per batch", batches, len(batch), calls)
	}
}
