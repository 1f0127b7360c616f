package nbiows

import (
	"context"
	"sync"
)

// pool runs tasks on at most max goroutines, which exist only while there
// are tasks: a worker starts when a task is submitted and fewer than max
// run, and ends when it finds no task left. Tasks run in the order they
// were submitted, several at once. It is safe for concurrent use.
type pool struct {
	max int

	mu      sync.Mutex
	queue   []func()
	running int
	idle    chan struct{} // closed when running reaches zero; nil while no one waits
	closed  bool          // close began: no worker starts after it
	wg      sync.WaitGroup
}

func newPool(max int) *pool { return &pool{max: max} }

// submit queues f and starts a worker if fewer than max run; once close
// began, it runs f on the caller's goroutine instead.
func (p *pool) submit(f func()) {
	p.mu.Lock()
	if p.closed {
		// No worker starts once close began (it waits for them): the
		// work runs on the caller's goroutine.
		p.mu.Unlock()
		f()
		return
	}
	defer p.mu.Unlock()
	p.queue = append(p.queue, f)
	if p.running < p.max {
		p.running++
		p.wg.Add(1)
		go p.work()
	}
}

func (p *pool) work() {
	defer p.wg.Done()
	for {
		p.mu.Lock()
		if len(p.queue) == 0 {
			p.running--
			if p.running == 0 && p.idle != nil {
				close(p.idle)
				p.idle = nil
			}
			p.mu.Unlock()
			return
		}
		f := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		if len(p.queue) == 0 {
			p.queue = nil // let a burst's array go
		}
		p.mu.Unlock()
		f()
	}
}

// close waits until no task is queued and no worker runs, or ctx ends.
func (p *pool) close(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	if p.running == 0 {
		p.mu.Unlock()
		p.wg.Wait() // the last worker may still be returning
		return nil
	}
	if p.idle == nil {
		p.idle = make(chan struct{})
	}
	idle := p.idle
	p.mu.Unlock()
	select {
	case <-idle:
		p.wg.Wait()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
