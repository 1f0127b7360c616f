package redisbroker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/ssotkit/ssot/internal/brokerkit"
)

// maxPipeline and maxPipelineBytes bound one pipeline: at most this many
// messages, and this many bytes of them (but at least one message), share
// a round trip to Redis.
const (
	maxPipeline      = 1024
	maxPipelineBytes = 1 << 20
)

// abandonedError settles the messages that Close left unsent when its
// context ended. It is an ErrClosed.
type abandonedError struct{}

func (abandonedError) Error() string {
	return string(ErrClosed) + ": Close stopped waiting before the message was sent"
}

func (abandonedError) Unwrap() error { return ErrClosed }

// publisher sends a Broker's messages to Redis in the order Publish queued
// them. One goroutine, which runs while messages wait, takes everything
// queued and sends it in pipelines, so that the PUBLISHes waiting share a
// round trip. A pipeline is never retried: a PUBLISH that may have reached
// Redis is not sent again. Every message queued is settled exactly once:
// counted in Counters.Published once Redis confirms it, in
// Counters.PublishErrors otherwise.
type publisher struct {
	client   redis.UniversalClient
	sharded  bool // a Redis Cluster's: SPUBLISH, and every message has its own outcome
	counters *brokerkit.Counters
	log      *slog.Logger
	prefix   string
	maxMsgs  int
	maxBytes int

	ctx     context.Context // the pipelines'; cancelled when Close gives up waiting
	abandon context.CancelFunc

	mu      sync.Mutex
	queue   []outgoing // waiting for the goroutine to take them
	spare   []outgoing // the goroutine's slice while it sends, swapped with queue
	pending int        // messages queued or being sent, not yet settled
	bytes   int        // the bytes of those messages
	running bool       // the goroutine runs
	closing bool       // put refuses messages
	room    chan struct{}
	wg      sync.WaitGroup // the goroutine

	// Owned by the goroutine; a goroutine that ends hands them to the next
	// under mu.
	failing bool            // messages whose Publish had returned were lost, and no pipeline has succeeded since
	cmds    []*redis.IntCmd // reused between pipelines
}

// outgoing is one message to publish.
type outgoing struct {
	channel string
	msg     []byte
	// result, if not nil, receives the message's outcome: Publish waits
	// for it.
	result chan error
}

func newPublisher(client redis.UniversalClient, sharded bool, counters *brokerkit.Counters, opts Options) *publisher {
	ctx, abandon := context.WithCancel(context.Background())
	return &publisher{
		client:   client,
		sharded:  sharded,
		counters: counters,
		log:      opts.Logger,
		prefix:   opts.Prefix,
		maxMsgs:  opts.PublishQueue,
		maxBytes: opts.PublishQueueBytes,
		ctx:      ctx,
		abandon:  abandon,
	}
}

// put queues m, starting the goroutine if it is not running. While the
// queue is full it waits for room, or returns ErrQueueFull wrapping
// ctx.Err() once ctx ends. It returns ErrClosed once close has been called.
// A message that put accepts is settled by the goroutine; one it refuses
// is not queued.
func (p *publisher) put(ctx context.Context, m outgoing) error {
	p.mu.Lock()
	for {
		if p.closing {
			p.mu.Unlock()
			return ErrClosed
		}
		if p.pending == 0 || p.pending < p.maxMsgs && p.bytes+len(m.msg) <= p.maxBytes {
			break
		}
		if p.room == nil {
			p.room = make(chan struct{})
		}
		room := p.room
		p.mu.Unlock()
		select {
		case <-room:
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrQueueFull, ctx.Err())
		}
		p.mu.Lock()
	}
	p.queue = append(p.queue, m)
	p.pending++
	p.bytes += len(m.msg)
	if !p.running {
		p.running = true
		p.wg.Add(1)
		go p.run()
	}
	p.mu.Unlock()
	return nil
}

// take returns every message queued, in order, or false, marking the
// goroutine stopped, when none is. The slice is the goroutine's until its
// next take.
func (p *publisher) take() ([]outgoing, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.spare)
	if len(p.queue) == 0 {
		p.running = false
		return nil, false
	}
	taken := p.queue
	p.queue, p.spare = p.spare[:0], taken
	return taken, true
}

// takeQueued returns every message queued, like take, but leaves the
// goroutine running.
func (p *publisher) takeQueued() []outgoing {
	p.mu.Lock()
	defer p.mu.Unlock()
	queued := p.queue
	p.queue = nil
	return queued
}

// release forgets n settled messages of size bytes and wakes every put
// waiting for room.
func (p *publisher) release(n, size int) {
	p.mu.Lock()
	p.pending -= n
	p.bytes -= size
	if p.room != nil {
		close(p.room)
		p.room = nil
	}
	p.mu.Unlock()
}

// run sends what is queued until nothing is.
func (p *publisher) run() {
	defer p.wg.Done()
	for {
		taken, ok := p.take()
		if !ok {
			return
		}
		for len(taken) > 0 {
			n, size := 0, 0
			for n < len(taken) && n < maxPipeline && (n == 0 || size+len(taken[n].msg) <= maxPipelineBytes) {
				size += len(taken[n].msg)
				n++
			}
			if !p.send(taken[:n], size, taken[n:]) {
				break
			}
			taken = taken[n:]
		}
	}
}

// send runs batch, of size payload bytes, as one pipeline and settles
// each message. If the
// pipeline fails as a whole (Redis could not be reached, or Close gave up
// waiting), rather than Redis refusing single commands, it also settles
// rest, the messages taken behind batch, and everything queued, as not
// sent, and reports false: they would reach the other nodes late, after
// an outage of unknown length.
func (p *publisher) send(batch []outgoing, size int, rest []outgoing) bool {
	defer p.release(len(batch), size)
	if p.ctx.Err() != nil {
		p.fail(batch, abandonedError{})
		p.drop(rest, abandonedError{})
		p.drop(p.takeQueued(), abandonedError{})
		return false
	}
	pipe := p.client.Pipeline()
	cmds := p.cmds[:0]
	for _, m := range batch {
		if p.sharded {
			cmds = append(cmds, pipe.SPublish(p.ctx, m.channel, m.msg))
		} else {
			cmds = append(cmds, pipe.Publish(p.ctx, m.channel, m.msg))
		}
	}
	defer func() {
		clear(cmds)
		p.cmds = cmds[:0]
	}()
	_, err := pipe.Exec(p.ctx)
	var whole error // the pipeline's failure, if it failed as a whole
	var behind []outgoing
	if cc, ok := p.client.(*redis.ClusterClient); ok && err != nil {
		// A master failed over or slots moved: the client learns the
		// cluster's layout again, in the background.
		cc.ReloadState(p.ctx)
	}
	if _, refused := errors.AsType[redis.Error](err); err != nil && !refused && (!p.sharded || allFailed(cmds)) {
		whole = err
		if p.ctx.Err() != nil {
			whole = abandonedError{}
		}
		// Before any outcome is known outside: a message queued once a
		// Publish has learned of the failure is sent.
		behind = p.takeQueued()
	}
	outcome := func(i int) error {
		if err := cmds[i].Err(); err == nil || whole == nil {
			return err
		}
		return whole
	}
	// The broker's state and log come first, so that a Publish waiting for
	// its message's outcome sees them once it has it.
	lost := 0
	for i, m := range batch {
		if m.result == nil && outcome(i) != nil {
			lost++
		}
	}
	switch {
	case err == nil:
		p.counters.Connected.Store(true)
		if p.failing {
			p.failing = false
			p.log.Info("redisbroker: Redis confirms published messages again", "prefix", p.prefix)
		}
	case whole == nil: // Redis answered, refusing commands: the connection works
		p.counters.Connected.Store(true)
		p.lost(lost, err)
	case errors.Is(whole, ErrClosed):
		p.lost(lost, whole)
	default:
		p.counters.Connected.Store(false)
		whole = classify(whole)
		p.lost(lost, whole)
	}
	for i, m := range batch {
		p.settle(m, outcome(i))
	}
	if whole == nil {
		return true
	}
	p.drop(rest, whole)
	p.drop(behind, whole)
	return false
}

// allFailed reports whether no command of a pipeline succeeded: the
// pipeline of a Redis Cluster fails as a whole only then, since each of
// its masters answers for its own commands.
func allFailed(cmds []*redis.IntCmd) bool {
	for _, c := range cmds {
		if c.Err() == nil {
			return false
		}
	}
	return true
}

// lost logs, once until a pipeline succeeds again, that n messages whose
// Publish had returned nil were not confirmed. A Publish still waiting
// for its outcome returns the error itself.
func (p *publisher) lost(n int, err error) {
	if n == 0 || p.failing {
		return
	}
	p.failing = true
	p.log.Warn("redisbroker: Redis did not confirm published messages; they are lost, and counted in PublishErrors", "prefix", p.prefix, "lost", n, "err", err)
}

// drop settles rest, messages waiting behind a pipeline that failed with
// err, as not sent.
func (p *publisher) drop(rest []outgoing, err error) {
	p.fail(rest, err)
	size := 0
	for _, m := range rest {
		size += len(m.msg)
	}
	p.release(len(rest), size)
}

// fail settles batch, which was not sent, with err.
func (p *publisher) fail(batch []outgoing, err error) {
	lost := 0
	for _, m := range batch {
		if m.result == nil {
			lost++
		}
	}
	p.lost(lost, err)
	for _, m := range batch {
		p.settle(m, err)
	}
}

// settle counts m's outcome and hands it to a Publish waiting for it.
func (p *publisher) settle(m outgoing, err error) {
	if err == nil {
		p.counters.Published.Add(1)
	} else {
		p.counters.PublishErrors.Add(1)
	}
	if m.result == nil {
		return
	}
	if err != nil && !errors.Is(err, ErrClosed) {
		err = fmt.Errorf("redisbroker: publish: %w", err)
	}
	m.result <- err
}

// close makes put refuse messages from now on; the goroutine goes on
// sending what was queued. wait waits for it.
func (p *publisher) close() {
	p.mu.Lock()
	p.closing = true
	if p.room != nil {
		close(p.room)
		p.room = nil
	}
	p.mu.Unlock()
}

func (p *publisher) wait() { p.wg.Wait() }
