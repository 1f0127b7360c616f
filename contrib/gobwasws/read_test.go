package gobwasws

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/ssotkit/ssot/wsmanager"
	"github.com/ssotkit/ssot/wsmanager/wsmanagertest"
)

// rawPair returns a server connection and the client's socket, dialled with
// gobwas/ws, so that the test can write any bytes at all.
func rawPair(t *testing.T, opts Options) (*Conn, net.Conn) {
	t.Helper()
	opts.PingInterval = NoPing
	up, err := NewUpgrader(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := wsmanagertest.NewServer(t, up, "")
	nc, br, _, err := ws.Dial(wsmanagertest.Context(t), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	if br != nil {
		t.Fatal("the server sent bytes before the client's first frame")
	}
	return srv.Accept(t).(*Conn), nc
}

// header64 is a masked binary frame's header with a 64-bit length field.
func header64(length uint64) []byte {
	h := binary.BigEndian.AppendUint64([]byte{0x82, 0x80 | 127}, length)
	return append(h, 1, 2, 3, 4)
}

// readClose reads frames from the client's socket until the server's close
// frame and returns its code.
func readClose(t *testing.T, nc net.Conn) ws.StatusCode {
	t.Helper()
	_ = nc.SetReadDeadline(time.Now().Add(wsmanagertest.Timeout))
	for {
		h, err := ws.ReadHeader(nc)
		if err != nil {
			t.Fatalf("the connection ended without a close frame: %v", err)
		}
		if h.OpCode != ws.OpClose {
			if _, err := io.CopyN(io.Discard, nc, h.Length); err != nil {
				t.Fatal(err)
			}
			continue
		}
		payload := make([]byte, min(h.Length, ws.MaxControlFramePayloadSize))
		if _, err := io.ReadFull(nc, payload); err != nil {
			t.Fatal(err)
		}
		code, _ := ws.ParseCloseFrameData(payload)
		return code
	}
}

// TestReadAllocatesAsBytesArrive: a frame's header alone does not make the
// server allocate the payload it declares; the payload grows as its bytes
// arrive. Sixteen clients that declare a payload at the read limit and
// send one byte of it leave the server holding far less than the sum of
// the declared lengths.
func TestReadAllocatesAsBytesArrive(t *testing.T) {
	const (
		clients = 16
		limit   = 4 << 20
	)
	conns := make([]*Conn, clients)
	socks := make([]net.Conn, clients)
	for i := range clients {
		conns[i], socks[i] = rawPair(t, Options{ReadLimit: limit})
	}
	errs := make(chan error, clients)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i, c := range conns {
		go func() {
			_, err := c.Read(context.Background())
			errs <- err
		}()
		if _, err := socks[i].Write(append(header64(limit), 'x')); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(wsmanagertest.Timeout)
	for _, c := range conns {
		for !c.heard.Load() {
			if time.Now().After(deadline) {
				t.Fatal("the server did not read the headers")
			}
			time.Sleep(time.Millisecond)
		}
	}
	time.Sleep(100 * time.Millisecond) // for the Reads to reach the payloads
	runtime.ReadMemStats(&after)
	for _, nc := range socks {
		_ = nc.Close()
	}
	for range clients {
		if err := <-errs; err == nil {
			t.Error("Read of a cut-off frame returned no error")
		}
	}
	grew := after.TotalAlloc - before.TotalAlloc
	if grew > clients*limit/8 {
		t.Errorf("%d headers declaring %d bytes each, with one byte sent, made the server allocate %d bytes, want at most %d",
			clients, limit, grew, clients*limit/8)
	}
}

// TestReadLengthTopBit: a 64-bit length with its most significant bit set
// breaks RFC 6455 section 5.2; the peer is sent 1002 and Read's error says
// so.
func TestReadLengthTopBit(t *testing.T) {
	t.Parallel()
	c, nc := rawPair(t, Options{})
	if _, err := nc.Write(header64(1 << 63)); err != nil {
		t.Fatal(err)
	}
	_, err := c.Read(wsmanagertest.Context(t))
	var sent *wsmanager.SentCloseError
	if !errors.Is(err, ErrProtocol) || !errors.As(err, &sent) || sent.Code != 1002 {
		t.Errorf("Read = %v, want a *wsmanager.SentCloseError with 1002 wrapping ErrProtocol", err)
	}
	if code := readClose(t, nc); code != ws.StatusProtocolError {
		t.Errorf("client saw close %d, want 1002", code)
	}
}

// TestOversizeCloseReachesSender: a client that sends a 10 MB message, far
// over the read limit, and then reads sees the 1009 close frame, not a
// reset: the server discards what it still sends before closing the socket.
// It runs alone: moving 10 MB under the race detector keeps the cores busy.
func TestOversizeCloseReachesSender(t *testing.T) {
	c, nc := rawPair(t, Options{})
	closed := make(chan error, 1)
	go func() {
		_, err := c.Read(wsmanagertest.Context(t))
		var sent *wsmanager.SentCloseError
		if !errors.As(err, &sent) || sent.Code != 1009 {
			t.Errorf("Read = %v, want a *wsmanager.SentCloseError with 1009", err)
		}
		closed <- c.Close(1009, "")
	}()
	const size = 10_000_000
	payload := make([]byte, size)
	if err := ws.WriteFrame(nc, ws.MaskFrame(ws.NewBinaryFrame(payload))); err != nil {
		t.Fatalf("writing the message: %v", err)
	}
	if code := readClose(t, nc); code != ws.StatusMessageTooBig {
		t.Errorf("client saw close %d, want 1009", code)
	}
	if err := ws.WriteFrame(nc, ws.MaskFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusMessageTooBig, "")))); err != nil {
		t.Fatal(err)
	}
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
}

// TestOversizeCloseBounded: after a message over the read limit, Close
// discards what the peer still sends for a second at most, however long
// its own deadline: a peer that keeps sending and never answers the close
// frame does not hold the connection for the whole deadline.
func TestOversizeCloseBounded(t *testing.T) {
	t.Parallel()
	c, nc := rawPair(t, Options{ReadLimit: 16})
	sending := make(chan struct{})
	go func() {
		defer close(sending)
		msg := ws.MaskFrame(ws.NewBinaryFrame(make([]byte, 64)))
		for ws.WriteFrame(nc, msg) == nil {
			time.Sleep(10 * time.Millisecond)
		}
	}()
	if _, err := c.Read(wsmanagertest.Context(t)); !errors.Is(err, ErrProtocol) {
		t.Fatalf("Read = %v, want an error wrapping ErrProtocol", err)
	}
	start := time.Now()
	if err := c.CloseWithin(1000, "", start.Add(wsmanagertest.Timeout)); err != nil {
		t.Errorf("CloseWithin: %v", err)
	}
	if took := time.Since(start); took > drainTime+time.Second {
		t.Errorf("CloseWithin took %v with a peer that never stops sending, want at most about %v", took, drainTime)
	}
	_ = nc.Close()
	<-sending
}
