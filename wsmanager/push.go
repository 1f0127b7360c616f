package wsmanager

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/ssotkit/ssot/statemachine"
)

// PushConn is a transport that delivers what it reads by calling back
// instead of being read: a readiness-driven transport, such as
// github.com/ssotkit/ssot/contrib/nbiows, whose pollers read each
// connection as its bytes arrive and hand its messages to a bounded pool
// of workers. Served
// through one (Reservation.Go, or EndpointOptions.Detach), an idle
// connection holds no goroutine at all: not a reading one, and its writer
// runs only while messages wait, as for every transport.
//
// The package never calls Read on a PushConn it serves this way; it calls
// Receive once, after the connection is operational, and writes and closes
// it through DeadlineConn as it does any other. Every Serve and Go method
// takes this path for a PushConn with nothing else to change: code written
// for a pull transport switches by changing its Upgrader.
type PushConn interface {
	DeadlineConn
	// Receive starts delivering to r: the transport calls r.Message with
	// each whole message it reads, in order, one call at a time for the
	// connection, each after the previous one returned, and then r.End
	// exactly once, after the last Message returned, with what ended
	// reading: the errors Read would return (a *CloseError or io.EOF when
	// the peer ended the connection, an error wrapping
	// os.ErrDeadlineExceeded when the transport ended it because a write
	// ran out of time, any other error for an abnormal end). Messages read
	// before Receive are held and delivered first, possibly before
	// Receive returns. CloseWithin must lead to End (the package calls it
	// after Abort too). Message and End may be called on any goroutine.
	Receive(r Receiver)
}

// Receiver is what a PushConn delivers to; the package gives one to
// PushConn.Receive. Its methods must be called as Receive says.
type Receiver interface {
	// Message hands the connection's next message to its Handler, on the
	// calling goroutine. msg belongs to the package once Message is
	// called: the transport must not modify or reuse it. A Handler that
	// blocks holds the calling goroutine, and the connection's later
	// messages wait for it, as they do for a pull transport.
	Message(msg []byte)
	// End reports that reading ended with err. It never waits for the
	// transport: the connection finishes (Options.OnDisconnect, the
	// machine's last transition and its observers, all user code) on
	// whichever goroutine completes it, this one or the connection's
	// writer once the transport is closed.
	End(err error)
}

// pushReader is a served PushConn's Receiver: the body of readLoop, called
// back, and the end of serve, run by whichever of reading and the writer's
// close finishes last.
type pushReader struct {
	c    *Connection
	h    Handler
	rate *bucket     // made by the first Message under Options.ReadRate
	stop func() bool // the AfterFunc closing the connection when its context ends
	// left counts what must end before the connection finishes: reading
	// (End) and the writer's close of the transport.
	left atomic.Int32
	// done, for Serve, receives what Serve returns once the connection
	// finished; nil for Go, which waits for nothing.
	done chan error
}

// servePush serves tr, whose PushConn p is, as serve serves a pull transport, without a
// goroutine: set-up on the caller's, then reads on the transport's, and the
// end on whichever goroutine finishes last. With wait, the caller is given
// a channel that receives what Serve returns once the connection finished.
func (c *Connection) servePush(ctx context.Context, tr Conn, p PushConn, h Handler, wait bool) *pushReader {
	r := &pushReader{c: c, h: h}
	r.left.Store(2)
	if wait {
		r.done = make(chan error, 1) // settle never waits
	}
	c.mu.Lock()
	c.pushed = r
	// A close requested before Serve (by OnConnect, an identity already
	// expired, Factory.Close) may have had the writer close the transport
	// before it could know r: the close is counted here, then.
	closed := c.ended != nil
	c.mu.Unlock()
	if closed {
		r.transportClosed()
	}
	var operational bool
	r.stop, operational = c.start(ctx, tr)
	if operational {
		p.Receive(r)
		return r
	}
	// Set-up failed and a close was requested: nothing will be read.
	r.settle()
	return r
}

func (r *pushReader) Message(msg []byte) {
	c := r.c
	if c.mach.State() >= statemachine.Closing {
		return
	}
	if limit := &c.m.f.opts.ReadRate; limit.Rate > 0 {
		if r.rate == nil {
			// Messages come one at a time: no lock is needed.
			r.rate = new(bucket)
		}
		if !r.rate.allow(limit, time.Now()) {
			c.rateLimited(limit)
			return
		}
	}
	if err := c.handle(r.h, msg); err != nil {
		c.handlerFailed(err)
	}
}

func (r *pushReader) End(err error) {
	r.c.readFailed(err)
	r.settle()
}

// settle counts one of reading and the transport's close as ended, and
// finishes the connection after the second.
func (r *pushReader) settle() {
	if r.left.Add(-1) != 0 {
		return
	}
	r.stop()
	err := r.c.finish()
	if r.done != nil {
		r.done <- err
	}
}

// transportClosed is called by the writer once it closed the transport.
func (r *pushReader) transportClosed() { r.settle() }
