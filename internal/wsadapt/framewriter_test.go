package wsadapt

import (
	"bytes"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// wire is the socket a FrameWriter writes to in these tests: it keeps what
// was written, or fails every write with err.
type wire struct {
	net.Conn // nil: only Write and SetWriteDeadline are called
	buf      bytes.Buffer
	err      error
	deadline time.Time
}

func (w *wire) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	return w.buf.Write(p)
}

func (w *wire) SetWriteDeadline(t time.Time) error {
	w.deadline = t
	return nil
}

const (
	errTestClosed  = sentinel("test: connection closed")
	errTestAborted = sentinel("test: write aborted")
)

func newTestWriter(nc net.Conn, shut *atomic.Bool) *FrameWriter {
	return NewFrameWriter(nc, FrameConfig{Op: 0x1, Name: "test", Closed: errTestClosed, Aborted: errTestAborted, Shut: shut})
}

func TestFrameWriterFrames(t *testing.T) {
	t.Parallel()
	long := bytes.Repeat([]byte("x"), 126)
	huge := bytes.Repeat([]byte("y"), 1<<16)
	tests := []struct {
		name  string
		write func(w *FrameWriter) error
		want  []byte
	}{
		{"a batch is one frame per message", func(w *FrameWriter) error {
			return w.WriteMessages([][]byte{[]byte("one"), []byte("two")}, time.Time{})
		}, []byte("\x81\x03one\x81\x03two")},
		{"a 16-bit length", func(w *FrameWriter) error {
			return w.WriteMessages([][]byte{long}, time.Time{})
		}, append([]byte{0x81, 126, 0, 126}, long...)},
		{"a 64-bit length", func(w *FrameWriter) error {
			return w.WriteMessages([][]byte{huge}, time.Time{})
		}, append([]byte{0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}, huge...)},
		{"a control frame", func(w *FrameWriter) error {
			return w.WriteControl(0xA, []byte("hi"), time.Time{})
		}, []byte("\x8a\x02hi")},
		{"a close frame carries its code and reason", func(w *FrameWriter) error {
			_, err := w.WriteClose(4001, "kicked", time.Now().Add(time.Minute))
			return err
		}, []byte("\x88\x08\x0f\xa1kicked")},
		{"nothing goes out after the close frame", func(w *FrameWriter) error {
			if _, err := w.WriteClose(1000, "", time.Now().Add(time.Minute)); err != nil {
				return err
			}
			if err := w.WriteControl(0xA, nil, time.Time{}); !errors.Is(err, ErrCloseSent) {
				t.Errorf("WriteControl after the close frame = %v, want ErrCloseSent", err)
			}
			if wait, err := w.WriteClose(1000, "", time.Now().Add(time.Minute)); !wait || err != nil {
				t.Errorf("a second WriteClose = %v, %v; want a wait for the peer, nil", wait, err)
			}
			return nil
		}, []byte("\x88\x02\x03\xe8")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var nc wire
			if err := tt.write(newTestWriter(&nc, new(atomic.Bool))); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, nc.buf.Bytes()); diff != "" {
				t.Errorf("wire (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFrameWriterFailures(t *testing.T) {
	t.Parallel()
	soon := time.Now().Add(time.Minute)
	msg := [][]byte{[]byte("m")}
	t.Run("a failed write fails every later one with its error", func(t *testing.T) {
		t.Parallel()
		nc := wire{err: os.ErrDeadlineExceeded}
		w := newTestWriter(&nc, new(atomic.Bool))
		if err := w.WriteMessages(msg, soon); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("WriteMessages = %v, want it to wrap os.ErrDeadlineExceeded", err)
		}
		nc.err = nil
		if err := w.WriteControl(0x9, nil, soon); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("WriteControl after a failed write = %v, want it to wrap os.ErrDeadlineExceeded", err)
		}
		if w.TryPing(soon) {
			t.Error("TryPing wrote after a failed write")
		}
		if wait, err := w.WriteClose(1000, "", soon); wait || err != nil {
			t.Errorf("WriteClose after a failed write = %v, %v; want no wait, nil", wait, err)
		}
		if nc.buf.Len() != 0 {
			t.Errorf("wrote %q after a failed write", nc.buf.Bytes())
		}
	})
	t.Run("after Abort every write fails at once", func(t *testing.T) {
		t.Parallel()
		var nc wire
		w := newTestWriter(&nc, new(atomic.Bool))
		w.Abort()
		if !nc.deadline.Equal(LongAgo()) {
			t.Errorf("socket deadline %v after Abort, want LongAgo", nc.deadline)
		}
		if err := w.WriteMessages(msg, soon); err != errTestAborted {
			t.Errorf("WriteMessages = %v, want the adapter's ErrAborted", err)
		}
		if err := w.WriteControl(0x9, nil, soon); err != errTestAborted {
			t.Errorf("WriteControl = %v, want the adapter's ErrAborted", err)
		}
		if wait, err := w.WriteClose(1000, "", soon); wait || err != nil {
			t.Errorf("WriteClose = %v, %v; want no wait, nil", wait, err)
		}
		if nc.buf.Len() != 0 {
			t.Errorf("wrote %q after Abort", nc.buf.Bytes())
		}
	})
	t.Run("a batch after the close began fails", func(t *testing.T) {
		t.Parallel()
		var nc wire
		var shut atomic.Bool
		w := newTestWriter(&nc, &shut)
		shut.Store(true)
		if err := w.WriteMessages(msg, soon); err != errTestClosed {
			t.Errorf("WriteMessages = %v, want the adapter's ErrClosed", err)
		}
		if w.TryPing(soon) {
			t.Error("TryPing wrote after the close began")
		}
	})
	t.Run("a close past its deadline writes nothing", func(t *testing.T) {
		t.Parallel()
		var nc wire
		w := newTestWriter(&nc, new(atomic.Bool))
		if wait, err := w.WriteClose(1000, "", time.Now().Add(-time.Second)); wait || err != nil || nc.buf.Len() != 0 {
			t.Errorf("WriteClose = %v, %v, wrote %q; want no wait, nil, nothing", wait, err, nc.buf.Bytes())
		}
	})
}

func TestFrameWriterBatchAllocates(t *testing.T) {
	var nc wire
	w := newTestWriter(&nc, new(atomic.Bool))
	batch := [][]byte{[]byte("one"), []byte("two"), []byte("three")}
	allocs := testing.AllocsPerRun(100, func() {
		nc.buf.Reset()
		if err := w.WriteMessages(batch, time.Time{}); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("a batch allocates %v times, want none", allocs)
	}
}

// writes counts the Write calls a Socket gets.
type writes struct {
	wire
	calls int
}

func (w *writes) Write(p []byte) (int, error) {
	w.calls++
	return w.wire.Write(p)
}

// With FrameConfig.Buffers, a batch's frames reach the socket joined, in
// one Write, byte for byte what the writev path sends.
func TestFrameWriterJoined(t *testing.T) {
	t.Parallel()
	var nc writes
	var pool sync.Pool
	w := NewFrameWriter(&nc, FrameConfig{Op: 0x1, Name: "test", Closed: errTestClosed, Aborted: errTestAborted, Shut: new(atomic.Bool), Buffers: &pool})
	batch := [][]byte{[]byte("one"), bytes.Repeat([]byte("x"), 126), []byte("three")}
	for range 2 {
		if err := w.WriteMessages(batch, time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	once := append(append(append([]byte("\x81\x03one\x81\x7e\x00\x7e"), batch[1]...), "\x81\x05"...), "three"...)
	if diff := cmp.Diff(append(append([]byte(nil), once...), once...), nc.buf.Bytes()); diff != "" {
		t.Errorf("wire (-want +got):\n%s", diff)
	}
	if nc.calls != 2 {
		t.Errorf("%d Write calls for two batches, want one each", nc.calls)
	}
}
