package wsmanagertest

import (
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ssotkit/ssot/wsmanager"
)

// promptly bounds what the DeadlineConn contract says happens at once (an
// Abort, a close that writes nothing), and how late past its deadline a
// write may give up: a loopback socket answers in microseconds, the rest is
// room for a loaded machine and the race detector.
const promptly = 100 * time.Millisecond

// deadlinePair returns a server-side DeadlineConn and its Client; it skips
// the test for a transport whose Conn implements only wsmanager.Conn.
func deadlinePair(t *testing.T, tr Transport) (wsmanager.DeadlineConn, *Client) {
	t.Helper()
	conn, client := pair(t, tr, Options{}, nil)
	dc, ok := conn.(wsmanager.DeadlineConn)
	if !ok {
		t.Skip("the transport's Conn does not implement wsmanager.DeadlineConn")
	}
	return dc, client
}

// bigBatch is two 64 KiB messages: a few fill a peer's small socket buffer.
func bigBatch() [][]byte {
	msg := make([]byte, 64<<10)
	return [][]byte{msg, msg}
}

// fillUntilTimeout writes to a peer that does not read, every batch due
// by one deadline, until a write gives up, and returns its error and when
// it returned.
func fillUntilTimeout(t *testing.T, conn wsmanager.DeadlineConn, client *Client, deadline time.Time) (time.Time, error) {
	t.Helper()
	_ = client.SetReadBuffer(4096)
	batch := bigBatch()
	done := make(chan error, 1)
	go func() {
		for {
			if err := conn.WriteMessages(batch, deadline); err != nil {
				done <- err
				return
			}
		}
	}()
	err := wait(t, "the stuck WriteMessages", done)
	return time.Now(), err
}

// peerSeesEnd checks that the client sees the connection end, after any
// data still in flight, without a close frame.
func peerSeesEnd(t *testing.T, client *Client) {
	t.Helper()
	// A receive buffer smaller than a loopback segment drains a few KiB
	// per TCP persist timeout, too slowly to read all that is in flight.
	// Data sent to a closed socket is answered with a reset instead, which
	// ends the client's reads at once.
	_ = client.WriteMessage(OpPing, nil)
	done := make(chan *wsmanager.CloseError, 1)
	go func() {
		ce, _ := client.ReadClose()
		done <- ce
	}()
	select {
	case ce := <-done:
		if ce != nil {
			t.Errorf("the peer saw a close frame (%v), want the connection dropped without one", ce)
		}
	case <-time.After(Timeout):
		t.Fatal("the peer did not see the connection end")
	}
}

// testWriteDeadline: WriteMessages to a peer that does not read gives up
// at its deadline with an error wrapping os.ErrDeadlineExceeded, which is
// how wsmanager's WriteTimeout sheds a stuck client.
func testWriteDeadline(t *testing.T, tr Transport) {
	conn, client := deadlinePair(t, tr)
	deadline := time.Now().Add(300 * time.Millisecond)
	at, err := fillUntilTimeout(t, conn, client, deadline)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("WriteMessages past its deadline = %v, want an error wrapping os.ErrDeadlineExceeded", err)
	}
	if late := at.Sub(deadline); late > promptly {
		t.Errorf("WriteMessages gave up %v after its deadline", late)
	}
	if at.Before(deadline) {
		t.Errorf("WriteMessages gave up %v before its deadline", deadline.Sub(at))
	}
}

// testAbortUnblocks: Abort makes a WriteMessages stuck on a peer that does
// not read return at once, every later write fail at once, and the close
// after it skip the handshake.
func testAbortUnblocks(t *testing.T, tr Transport) {
	conn, client := deadlinePair(t, tr)
	_ = client.SetReadBuffer(4096)
	batch := bigBatch()
	done := make(chan error, 1)
	go func() {
		for {
			if err := conn.WriteMessages(batch, time.Now().Add(Timeout)); err != nil {
				done <- err
				return
			}
		}
	}()
	time.Sleep(200 * time.Millisecond) // the socket buffers fill in well under this
	select {
	case err := <-done:
		t.Fatalf("WriteMessages to a peer that does not read failed before its deadline: %v", err)
	default:
	}
	start := time.Now()
	conn.Abort()
	if err := wait(t, "the aborted WriteMessages", done); err == nil {
		t.Error("the aborted WriteMessages returned no error")
	}
	if d := time.Since(start); d > promptly {
		t.Errorf("the aborted WriteMessages returned %v after Abort", d)
	}
	conn.Abort() // idempotent
	start = time.Now()
	if err := conn.WriteMessages([][]byte{[]byte("late")}, time.Now().Add(Timeout)); err == nil {
		t.Error("WriteMessages after Abort succeeded")
	}
	if d := time.Since(start); d > promptly {
		t.Errorf("WriteMessages after Abort took %v to fail", d)
	}
	start = time.Now()
	_ = conn.CloseWithin(wsmanager.CodePolicyViolation, "slow", time.Now().Add(Timeout))
	if d := time.Since(start); d > promptly {
		t.Errorf("CloseWithin after Abort took %v, want no wait on the stuck peer", d)
	}
	peerSeesEnd(t, client)
}

// testCloseAfterTimeout: after a write gave up at its deadline, CloseWithin
// does not wait for the stuck peer, even with a deadline far away.
func testCloseAfterTimeout(t *testing.T, tr Transport) {
	conn, client := deadlinePair(t, tr)
	if _, err := fillUntilTimeout(t, conn, client, time.Now().Add(200*time.Millisecond)); err == nil {
		t.Fatal("no error")
	}
	start := time.Now()
	_ = conn.CloseWithin(wsmanager.CodePolicyViolation, "slow", time.Now().Add(Timeout))
	if d := time.Since(start); d > promptly {
		t.Errorf("CloseWithin after a timed-out write took %v, want no wait on the stuck peer", d)
	}
	peerSeesEnd(t, client)
}

// testClosePassedDeadline: CloseWithin with a deadline already passed
// closes the socket at once, without a close frame, whether the peer's
// socket is full or not, and makes a Read under way return.
func testClosePassedDeadline(t *testing.T, tr Transport) {
	for _, full := range []bool{false, true} {
		name := "idle"
		if full {
			name = "peer's socket full"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			conn, client := deadlinePair(t, tr)
			readDone := make(chan error, 1)
			go func() {
				_, err := conn.Read(t.Context())
				readDone <- err
			}()
			if full {
				_, _ = fillUntilTimeout(t, conn, client, time.Now().Add(200*time.Millisecond))
			}
			start := time.Now()
			_ = conn.CloseWithin(wsmanager.CodeGoingAway, "out of time", time.Now().Add(-time.Millisecond))
			if d := time.Since(start); d > promptly {
				t.Errorf("CloseWithin with a passed deadline took %v", d)
			}
			if err := wait(t, "Read", readDone); err == nil {
				t.Error("Read returned no error after CloseWithin")
			}
			peerSeesEnd(t, client)
		})
	}
}

// testCloseWithinDelivers: CloseWithin with a deadline ahead delivers the
// close frame, code and reason to a peer that reads, waits for its answer,
// and makes a Read under way return.
func testCloseWithinDelivers(t *testing.T, tr Transport) {
	conn, client := deadlinePair(t, tr)
	readDone := make(chan error, 1)
	go func() {
		_, err := conn.Read(t.Context())
		readDone <- err
	}()
	done := make(chan error, 1)
	go func() { done <- conn.CloseWithin(4001, "kicked", time.Now().Add(Timeout)) }()
	ce, err := client.ReadClose()
	if err != nil || ce.Code != 4001 || ce.Reason != "kicked" {
		t.Fatalf("peer saw close %v, %v; want 4001 \"kicked\"", ce, err)
	}
	if err := client.WriteClose(4001, ""); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, "CloseWithin", done); err != nil {
		t.Errorf("CloseWithin: %v", err)
	}
	if err := wait(t, "Read", readDone); err == nil {
		t.Error("Read returned no error after CloseWithin")
	}
}

// testWriteMessagesWhileReading: WriteMessages runs while a Read waits and
// reads, with pings from the peer answered on the way: everything arrives
// whole and in order in both directions.
func testWriteMessagesWhileReading(t *testing.T, tr Transport) {
	const batches, perBatch, inbound = 50, 8, 200
	conn, client := deadlinePair(t, tr)
	ctx := Context(t)
	var wg sync.WaitGroup
	readErr := make(chan error, 1)
	wg.Go(func() {
		for i := range inbound {
			msg, err := conn.Read(ctx)
			if err == nil && string(msg) != numbered(1, i) {
				err = errors.New("message " + string(msg[:min(len(msg), 20)]) + " out of order")
			}
			if err != nil {
				readErr <- err
				return
			}
		}
	})
	writeErr := make(chan error, 1)
	wg.Go(func() {
		i := 0
		for range batches {
			batch := make([][]byte, perBatch)
			for k := range batch {
				batch[k] = []byte(numbered(0, i))
				i++
			}
			if err := conn.WriteMessages(batch, time.Now().Add(Timeout)); err != nil {
				writeErr <- err
				return
			}
		}
	})
	wg.Go(func() {
		for i := range inbound {
			if i%10 == 0 {
				_ = client.WriteMessage(OpPing, []byte("p"))
			}
			if err := client.WriteMessage(OpText, []byte(numbered(1, i))); err != nil {
				return
			}
		}
	})
	checkOrder(t, client, 1, batches*perBatch)
	wg.Wait()
	close(readErr)
	close(writeErr)
	for err := range readErr {
		t.Errorf("Read: %v", err)
	}
	for err := range writeErr {
		t.Errorf("WriteMessages: %v", err)
	}
}

// testCloseWithinBounded: CloseWithin gives up waiting for the answer of a
// peer that never answers once its deadline passes, and the peer then
// sees the close frame and the connection end.
func testCloseWithinBounded(t *testing.T, tr Transport) {
	conn, client := deadlinePair(t, tr)
	deadline := time.Now().Add(300 * time.Millisecond)
	_ = conn.CloseWithin(wsmanager.CodeGoingAway, "bye", deadline)
	if late := time.Since(deadline); late > promptly {
		t.Errorf("CloseWithin returned %v after its deadline", late)
	}
	ce, err := client.ReadClose()
	if err != nil || ce.Code != wsmanager.CodeGoingAway {
		t.Errorf("peer saw close %v, %v; want 1001", ce, err)
	}
	if _, _, _, err := client.ReadFrame(); err == nil {
		t.Error("the connection is still open after CloseWithin returned")
	}
}
