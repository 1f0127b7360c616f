package wsmanager

import (
	"context"
	"sync/atomic"
)

// Reservation is a connection registered before its transport exists: the
// step NewEndpoint takes between authenticating a request and upgrading it,
// for services that upgrade on their own. From the moment Reserve returns,
// the connection is reachable (SendToUser, Broadcast and Manager.Send count
// it) and what is sent to it is queued; Serve gives it its transport and
// delivers the queue in order once the connection is ready. Upgrade only
// after Reserve, so that a client that sees the handshake complete can
// already be reached.
//
// A Reservation ends exactly once, with Serve or with Release; until then it
// holds a place under MaxConnsPerManager, and Factory.Close waits for it.
// Its methods may be called concurrently; the zero value is not usable.
type Reservation struct {
	c   *Connection
	ctx context.Context
	end atomic.Bool
}

// Reserve registers a connection for uc, retrying with a new Manager if the
// one it got was closed in between, and calls Options.OnConnect with it. ctx
// is the context Serve will use: its values reach handlers, and when it
// ends the connection closes with 1001. Reserve returns ErrInvalidUser,
// ErrUserLimit, ErrConnLimit or ErrClosed, and touches no transport.
func (f *Factory) Reserve(ctx context.Context, uc UserContext) (*Reservation, error) {
	c, err := f.reserve(ctx, uc, nil)
	if err != nil {
		return nil, err
	}
	return &Reservation{c: c, ctx: ctx}, nil
}

// Connection returns the reserved connection, for example to queue a first
// message with Send before the transport exists.
func (r *Reservation) Connection() *Connection { return r.c }

// Serve gives the reservation its transport and serves it with h as
// Manager.Serve does, returning the same errors. If the reservation has
// ended (Serve was called before, or Release), it closes c with 1001 and
// returns ErrClosed. Otherwise a nil c or h is ErrInvalidOptions and ends
// the reservation as Release does.
func (r *Reservation) Serve(c Conn, h Handler) error {
	if !r.end.CompareAndSwap(false, true) {
		if c != nil {
			_ = c.Close(codeGoingAway, reasonGoingAway)
		}
		return ErrClosed
	}
	if err := checkServe(c, h); err != nil {
		r.c.abort()
		return err
	}
	r.c.conn = c
	r.c.start(r.ctx)
	return r.c.run(h)
}

// Release ends a reservation that will not be served, for example because
// the upgrade failed: the connection is removed, what was queued for it is
// dropped and its machine ends in Failed. Release after Serve, or a second
// Release, does nothing.
func (r *Reservation) Release() {
	if r.end.CompareAndSwap(false, true) {
		r.c.abort()
	}
}
