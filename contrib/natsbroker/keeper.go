package natsbroker

import (
	"context"
	"errors"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// keeper creates the stream again, as a new epoch, when an append finds
// it gone (someone deleted it), from one goroutine that Log.Close stops
// and waits for, so that appends work again without a SubscribeLog
// consumer to notice.
type keeper struct {
	l      *Log
	check  chan struct{}   // capacity 1: an append found no stream
	ctx    context.Context // ended by close
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns
}

func newKeeper(l *Log) *keeper {
	ctx, cancel := context.WithCancel(context.Background())
	k := &keeper{l: l, check: make(chan struct{}, 1), ctx: ctx, cancel: cancel, done: make(chan struct{})}
	go k.run()
	return k
}

// ackFailed is told why an append was not stored.
func (l *Log) ackFailed(err error) {
	if errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) {
		select {
		case l.keeper.check <- struct{}{}:
		default:
		}
	}
}

func (k *keeper) run() {
	defer close(k.done)
	for {
		select {
		case <-k.ctx.Done():
			return
		case <-k.check:
		}
		ctx, cancel := context.WithTimeout(k.ctx, setupTimeout)
		_, err := k.l.stream.Info(ctx)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			if _, err := k.l.ensureStream(ctx); err == nil {
				k.l.log.Warn("natsbroker: the stream was created again: its history is lost and positions start a new epoch", "stream", k.l.name)
			}
		}
		cancel()
	}
}

// close stops run and waits for it. It is idempotent.
func (k *keeper) close() {
	k.cancel()
	<-k.done
}
