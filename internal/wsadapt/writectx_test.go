package wsadapt

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestWriteCtx(t *testing.T) {
	t.Parallel()
	msgs := [][]byte{[]byte("m")}
	t.Run("the write gets ctx's deadline", func(t *testing.T) {
		t.Parallel()
		want := time.Now().Add(time.Minute)
		ctx, cancel := context.WithDeadline(t.Context(), want)
		defer cancel()
		var got time.Time
		err := WriteCtx(ctx, msgs, func(_ [][]byte, d time.Time) error { got = d; return nil }, func() { t.Error("aborted") })
		if err != nil || !got.Equal(want) {
			t.Errorf("WriteCtx = %v with deadline %v; want nil, %v", err, got, want)
		}
	})
	t.Run("an ended ctx writes nothing", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := WriteCtx(ctx, msgs, func([][]byte, time.Time) error { t.Error("wrote"); return nil }, func() { t.Error("aborted") })
		if !errors.Is(err, context.Canceled) {
			t.Errorf("WriteCtx = %v, want context.Canceled", err)
		}
	})
	t.Run("a ctx that ends mid-write aborts it", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		aborted := make(chan struct{})
		err := WriteCtx(ctx, msgs, func([][]byte, time.Time) error {
			cancel()
			<-aborted
			return ErrAborted
		}, func() { close(aborted) })
		if !errors.Is(err, context.Canceled) {
			t.Errorf("WriteCtx = %v, want context.Canceled", err)
		}
	})
}
