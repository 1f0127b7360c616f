package bench

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// redisNetOutput returns what the redis-server at addr reports it has
// sent to all of its clients since it started, in bytes (INFO stats'
// total_net_output_bytes): Redis 7.0 counts no messages per client, so
// this is the server's own figure beside the adapters' counts.
func redisNetOutput(t *testing.T, addr string) int64 {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, "*2\r\n$4\r\nINFO\r\n$5\r\nstats\r\n"); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	header, err := r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(header, "$")))
	if !strings.HasPrefix(header, "$") || err != nil || n < 0 {
		t.Fatalf("INFO stats: unexpected reply %q", header)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "total_net_output_bytes:"); ok {
			out, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatal(fmt.Errorf("total_net_output_bytes: %w", err))
			}
			return out
		}
	}
	t.Fatal("INFO stats has no total_net_output_bytes")
	return 0
}
