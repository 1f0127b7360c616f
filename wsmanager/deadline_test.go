package wsmanager

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

func isDone(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return true
	default:
		return false
	}
}

func TestWriteDeadline(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const timeout = time.Second
		w := new(writeDeadline)
		*w = newWriteDeadline(timeout)
		defer w.stop()
		if _, ok := w.Deadline(); ok {
			t.Error("a deadline before any write")
		}
		// Writes that return in time, each given the full timeout.
		for range 3 {
			w.arm()
			if d, ok := w.Deadline(); !ok || !d.Equal(time.Now().Add(timeout)) {
				t.Errorf("Deadline = %v, %v; want now+%v", d, ok, timeout)
			}
			time.Sleep(timeout - time.Nanosecond)
			w.disarm()
			synctest.Wait()
			if isDone(w) || w.Err() != nil {
				t.Fatal("a write that returned in time was cut short")
			}
		}
		// A write that does not return.
		w.arm()
		time.Sleep(timeout)
		synctest.Wait()
		if !isDone(w) || w.Err() != context.DeadlineExceeded || !w.timedOut() {
			t.Fatalf("after the deadline: done %v, Err %v", isDone(w), w.Err())
		}
		if w.Value("anything") != nil {
			t.Error("a write's context carries values")
		}
	})
}

func TestWriteDeadlineAbort(t *testing.T) {
	t.Parallel()
	w := new(writeDeadline)
	*w = newWriteDeadline(time.Hour)
	defer w.stop()
	done := w.Done()
	w.arm()
	w.abort()
	select {
	case <-done:
	default:
		t.Fatal("abort did not end the write under way")
	}
	if w.Err() != context.Canceled || w.timedOut() {
		t.Errorf("Err %v, timedOut %v; want Canceled, false", w.Err(), w.timedOut())
	}
	w.arm() // a later write fails at once
	if !isDone(w) {
		t.Error("a write after abort is not done")
	}
}

// TestWriteDeadlineAfterFunc: context.AfterFunc on a write's context runs
// its function when the write is cut short, with no goroutine waiting for
// it meanwhile, and not after stop.
func TestWriteDeadlineAfterFunc(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := new(writeDeadline)
		*w = newWriteDeadline(time.Second)
		defer w.stop()
		ran := make(chan string, 2)
		context.AfterFunc(w, func() { ran <- "kept" })
		stop := context.AfterFunc(w, func() { ran <- "stopped" })
		if !stop() {
			t.Fatal("stop reported the function as already run")
		}
		w.arm()
		time.Sleep(time.Second)
		synctest.Wait()
		if got := <-ran; got != "kept" {
			t.Errorf("ran %q", got)
		}
		select {
		case got := <-ran:
			t.Errorf("a stopped function ran: %q", got)
		default:
		}
		late := make(chan struct{})
		context.AfterFunc(w, func() { close(late) })
		synctest.Wait()
		select {
		case <-late:
		default:
			t.Error("a function registered after the end did not run")
		}
	})
}
