package redisbroker

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/ssotkit/ssot/wsmanager"
)

// pendingAppend is one append on its way to Redis.
type pendingAppend struct {
	userID, threadID string
	msg              []byte
	done             func(wsmanager.Position, error)
}

// appender sends a Log's appends to Redis in the order AppendAsync
// accepted them. One goroutine, which runs while appends wait, takes
// everything queued and sends it in pipelines of EVALSHA. After a pipeline
// that failed, the next is sent as EVAL, which loads the script wherever
// it lands (a master that has just taken over lacks it); an append that
// finds the script missing all the same (an operator flushed the scripts)
// is sent again as EVAL, with the others of its pipeline that found it
// missing, in order. Nothing else is sent twice. Every append queued gets
// its done called exactly once, from the goroutine.
type appender struct {
	l        *Log
	maxMsgs  int
	maxBytes int

	ctx    context.Context // the pipelines'; cancelled when Close gives up waiting
	cancel context.CancelFunc

	mu      sync.Mutex
	queue   []pendingAppend
	spare   []pendingAppend
	pending int // appends queued or being sent
	bytes   int
	running bool
	closing bool
	room    chan struct{}
	wg      sync.WaitGroup

	// The goroutine's: cmds is reused between pipelines, and eval is set
	// when the next pipeline is to be sent as EVAL.
	cmds []*redis.Cmd
	eval bool
}

func newAppender(l *Log, opts Options) *appender {
	ctx, cancel := context.WithCancel(context.Background())
	return &appender{l: l, maxMsgs: opts.PublishQueue, maxBytes: opts.PublishQueueBytes, ctx: ctx, cancel: cancel}
}

// put queues a, starting the goroutine if it is not running, waiting for
// room as the publisher's put does.
func (a *appender) put(ctx context.Context, p pendingAppend) error {
	a.mu.Lock()
	for {
		if a.closing {
			a.mu.Unlock()
			return ErrClosed
		}
		if a.pending == 0 || a.pending < a.maxMsgs && a.bytes+len(p.msg) <= a.maxBytes {
			break
		}
		if a.room == nil {
			a.room = make(chan struct{})
		}
		room := a.room
		a.mu.Unlock()
		select {
		case <-room:
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrQueueFull, ctx.Err())
		}
		a.mu.Lock()
	}
	a.queue = append(a.queue, p)
	a.pending++
	a.bytes += len(p.msg)
	if !a.running {
		a.running = true
		a.wg.Add(1)
		go a.run()
	}
	a.mu.Unlock()
	return nil
}

// take returns every append queued, or false, marking the goroutine
// stopped, when none is.
func (a *appender) take() ([]pendingAppend, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.spare)
	if len(a.queue) == 0 {
		a.running = false
		return nil, false
	}
	taken := a.queue
	a.queue, a.spare = a.spare[:0], taken
	return taken, true
}

// release forgets n appends of size bytes and wakes every put waiting.
func (a *appender) release(n, size int) {
	a.mu.Lock()
	a.pending -= n
	a.bytes -= size
	if a.room != nil {
		close(a.room)
		a.room = nil
	}
	a.mu.Unlock()
}

func (a *appender) run() {
	defer a.wg.Done()
	for {
		taken, ok := a.take()
		if !ok {
			return
		}
		for len(taken) > 0 {
			n, size := 0, 0
			for n < len(taken) && n < maxPipeline && (n == 0 || size+len(taken[n].msg) <= maxPipelineBytes) {
				size += len(taken[n].msg)
				n++
			}
			a.send(taken[:n])
			a.release(n, size)
			taken = taken[n:]
		}
	}
}

// send stores batch as one pipeline and calls each append's done.
func (a *appender) send(batch []pendingAppend) {
	l := a.l
	cmds := a.cmds[:0]
	defer func() {
		clear(cmds)
		a.cmds = cmds[:0]
	}()
	if a.ctx.Err() != nil {
		for _, p := range batch {
			a.settle(p, nil, abandonedError{})
		}
		return
	}
	sha := l.appendSHA
	if a.eval {
		sha = ""
	}
	pipe := l.b.client.Pipeline()
	for _, p := range batch {
		cmds = append(cmds, a.queueCmd(pipe, sha, p))
	}
	_, err := pipe.Exec(a.ctx)
	var missing []int
	for i, c := range cmds {
		if isNoScript(c.Err()) {
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 {
		pipe := l.b.client.Pipeline()
		for _, i := range missing {
			cmds[i] = a.queueCmd(pipe, "", batch[i])
		}
		_, err = pipe.Exec(a.ctx)
	}
	_, refused := errors.AsType[redis.Error](err)
	a.eval = err != nil && !refused
	if err == nil || refused {
		l.b.counters.Connected.Store(true)
	} else if l.b.cluster == nil || allFailedCmds(cmds) {
		l.b.counters.Connected.Store(false)
	}
	if l.b.cluster != nil && err != nil {
		l.b.cluster.ReloadState(a.ctx)
	}
	for i, p := range batch {
		a.settle(p, cmds[i], nil)
	}
}

// queueCmd queues p's script on pipe: EVALSHA of sha, or EVAL of the
// script when sha is "".
func (a *appender) queueCmd(pipe redis.Pipeliner, sha string, p pendingAppend) *redis.Cmd {
	l := a.l
	channel, keys := l.keys(p.userID)
	args := []any{channel, epochCandidate(), l.maxLen, l.maxAge, p.threadID, p.msg, l.pubCmd}
	if sha == "" {
		return pipe.Eval(a.ctx, appendLua, keys, args...)
	}
	return pipe.EvalSha(a.ctx, sha, keys, args...)
}

// settle calls p's done with the outcome of cmd, or with err if p was not
// sent, and counts it.
func (a *appender) settle(p pendingAppend, cmd *redis.Cmd, err error) {
	var pos wsmanager.Position
	if err == nil {
		err = cmd.Err()
		if err == nil {
			pos, _, err = scriptReply(cmd.Val())
		}
	}
	switch {
	case err == nil:
		a.l.b.counters.Published.Add(1)
	case errors.Is(err, ErrClosed), a.ctx.Err() != nil:
		a.l.b.counters.PublishErrors.Add(1)
		err = abandonedError{}
	default:
		a.l.b.counters.PublishErrors.Add(1)
		err = fmt.Errorf("redisbroker: append: %w", classify(err))
	}
	p.done(pos, err)
}

// allFailedCmds reports whether no command of a pipeline succeeded.
func allFailedCmds(cmds []*redis.Cmd) bool {
	for _, c := range cmds {
		if c.Err() == nil {
			return false
		}
	}
	return true
}

// close makes put refuse appends from now on; the goroutine goes on
// sending what was queued.
func (a *appender) close() {
	a.mu.Lock()
	a.closing = true
	if a.room != nil {
		close(a.room)
		a.room = nil
	}
	a.mu.Unlock()
}

// abandon ends the pipeline under way and settles what is left with
// ErrClosed.
func (a *appender) abandon() { a.cancel() }

func (a *appender) wait() { a.wg.Wait() }
