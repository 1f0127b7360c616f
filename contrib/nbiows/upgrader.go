package nbiows

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/lesismal/nbio"
	"github.com/ssotkit/ssot/internal/wsadapt"
	"github.com/ssotkit/ssot/wsmanager"
)

var _ wsmanager.Upgrader = (*Upgrader)(nil)

// Default values of Options.
const (
	// DefaultReadLimit is the largest message a connection accepts when
	// Options.ReadLimit is zero: 32 KiB, as the other contrib adapters.
	DefaultReadLimit = 32 << 10
	// DefaultBacklog is Options.Backlog's default: 1 MiB.
	DefaultBacklog = 1 << 20
	// DefaultPingInterval is how often a connection pings its peer when
	// Options.PingInterval is zero.
	DefaultPingInterval = 30 * time.Second
	// NoPing, as Options.PingInterval, sends no pings.
	NoPing = -1
	// DefaultHandshakeTimeout is Options.HandshakeTimeout's default.
	DefaultHandshakeTimeout = 10 * time.Second
	// DefaultWorkers is Options.Workers' default: room for Handlers that
	// wait on a broker or a database now and then, while the stacks of
	// the workers stay small next to the connections' they replace.
	DefaultWorkers = 256
	// DefaultPollers is Options.Pollers' default.
	DefaultPollers = 1
)

// Options configures an Upgrader. The zero value is ready to use.
type Options struct {
	// ReadLimit is the largest message, in bytes, a connection accepts; a
	// larger one closes the connection with 1009. Negative is an error.
	// Defaults to DefaultReadLimit.
	ReadLimit int64
	// Backlog bounds, in bytes, the messages a connection holds read but
	// not yet handled: those waiting for Receive, for the Receiver to
	// return from the message before them, or for Read. A message that would take the
	// held bytes past Backlog closes the connection with 1008 and
	// ErrBacklog, unless nothing else is held, so that one message within
	// ReadLimit always fits. The poller reads every connection as its
	// bytes arrive and cannot leave them in the socket, so this is what
	// bounds the memory of a peer that sends faster than its handler
	// handles. Negative is an error. Defaults to DefaultBacklog.
	Backlog int64
	// OriginPatterns lists the origin hosts, besides the request's own host,
	// that may open a connection; each is matched case-insensitively with
	// path.Match, against "scheme://host" when it contains "://". Defaults
	// to none: same-origin only, which stops other sites from opening a
	// connection with the user's cookies.
	OriginPatterns []string
	// Binary sends messages as binary frames instead of text frames.
	// Defaults to false: text, which browsers hand to onmessage as a string.
	Binary bool
	// PingInterval is how often a connection pings its peer. A peer that
	// has sent nothing, not even a pong, one interval after a ping is
	// dropped: reading ends with an error wrapping ErrNoPong, which
	// wsmanager records as an abnormal end. NoPing sends none; other
	// negative values are an error. Defaults to DefaultPingInterval.
	PingInterval time.Duration
	// HandshakeTimeout bounds writing the 101 response. Negative is an
	// error. Defaults to DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// Workers is the most goroutines the Upgrader runs at once to deliver
	// messages and answer pings and closes, across all its connections.
	// A worker runs only while a connection has something to deliver, and
	// a Handler that blocks holds its worker. Negative is an error.
	// Defaults to DefaultWorkers.
	Workers int
	// Pollers is how many goroutines wait for the connections' sockets to
	// become readable and read them; each runs for the Upgrader's whole
	// life. Negative is an error. Defaults to DefaultPollers.
	Pollers int
}

// Upgrader performs the WebSocket handshake and hands each connection to
// an nbio engine of its own: Options.Pollers goroutines wait for the
// sockets to become readable and read them, and at most Options.Workers
// goroutines deliver what was read. It is safe for concurrent use; the
// zero value is not usable, build one with NewUpgrader, and Close it once
// its connections are served.
type Upgrader struct {
	origins   []string
	readLimit int64
	backlog   int64
	op        byte
	ping      time.Duration // 0: none
	handshake time.Duration

	engine *nbio.Engine
	pool   *pool
	// byEngine maps the engine's connections to this package's: the
	// engine's callbacks find their connection there, and its
	// synchronisation orders the connection's set-up before them.
	byEngine sync.Map // *nbio.Conn → *Conn

	// direct, when set (by the package's tests), is written to instead
	// of the engine, and what it takes counts as written at once.
	direct io.Writer

	// buffers holds the connections' batch buffers between writes
	// (wsadapt.FrameConfig.Buffers): an idle connection keeps none.
	buffers sync.Pool // *[]byte

	mu     sync.Mutex
	closed bool
	conns  map[*Conn]struct{} // open, for Close
	adding *Conn              // the connection AddConn registers, for OnOpen
	rounds sync.WaitGroup     // keepalive rounds running; added to under mu while not closed
}

// NewUpgrader returns an Upgrader configured by opts, with its engine
// started. It returns an error wrapping ErrInvalidOptions for a negative
// ReadLimit, Backlog, HandshakeTimeout, Workers or Pollers, a negative
// PingInterval other than NoPing, or an origin pattern that path.Match
// cannot parse, and the engine's error if it cannot start.
func NewUpgrader(opts Options) (*Upgrader, error) {
	switch {
	case opts.ReadLimit < 0:
		return nil, fmt.Errorf("%w: ReadLimit %d is negative", ErrInvalidOptions, opts.ReadLimit)
	case opts.Backlog < 0:
		return nil, fmt.Errorf("%w: Backlog %d is negative", ErrInvalidOptions, opts.Backlog)
	case opts.PingInterval < 0 && opts.PingInterval != NoPing:
		return nil, fmt.Errorf("%w: PingInterval %v is negative (NoPing turns pings off)", ErrInvalidOptions, opts.PingInterval)
	case opts.HandshakeTimeout < 0:
		return nil, fmt.Errorf("%w: HandshakeTimeout %v is negative", ErrInvalidOptions, opts.HandshakeTimeout)
	case opts.Workers < 0:
		return nil, fmt.Errorf("%w: Workers %d is negative", ErrInvalidOptions, opts.Workers)
	case opts.Pollers < 0:
		return nil, fmt.Errorf("%w: Pollers %d is negative", ErrInvalidOptions, opts.Pollers)
	}
	if err := wsadapt.Validate(opts.OriginPatterns); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOptions, err)
	}
	u := &Upgrader{
		origins:   append([]string(nil), opts.OriginPatterns...),
		readLimit: orDefault(opts.ReadLimit, DefaultReadLimit),
		backlog:   orDefault(opts.Backlog, DefaultBacklog),
		op:        opText,
		ping:      opts.PingInterval,
		handshake: orDefault(opts.HandshakeTimeout, DefaultHandshakeTimeout),
		pool:      newPool(orDefault(opts.Workers, DefaultWorkers)),
		conns:     make(map[*Conn]struct{}),
	}
	if opts.Binary {
		u.op = opBinary
	}
	switch u.ping {
	case 0:
		u.ping = DefaultPingInterval
	case NoPing:
		u.ping = 0
	}
	u.engine = nbio.NewEngine(nbio.Config{
		Name:    "nbiows",
		NPoller: orDefault(opts.Pollers, DefaultPollers),
	})
	u.engine.OnOpen(u.opened)
	u.engine.OnData(func(nc *nbio.Conn, data []byte) {
		if c, ok := u.byEngine.Load(nc); ok {
			c.(*Conn).received(data)
		}
	})
	u.engine.OnClose(func(nc *nbio.Conn, err error) {
		if c, ok := u.byEngine.LoadAndDelete(nc); ok {
			c.(*Conn).engineClosed()
			c.(*Conn).readClosed(err)
		}
	})
	u.engine.OnWrittenSize(func(nc *nbio.Conn, _ []byte, n int) {
		if c, ok := u.byEngine.Load(nc); ok {
			c.(*Conn).wrote(n)
		}
	})
	if err := u.engine.Start(); err != nil {
		return nil, fmt.Errorf("nbiows: starting the engine: %w", err)
	}
	return u, nil
}

func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// opened runs inside engine.AddConn, on the goroutine that called it,
// before the socket is watched: it ties the engine's connection to the
// one being added.
func (u *Upgrader) opened(nc *nbio.Conn) {
	c := u.adding
	c.nc.Store(nc)
	u.byEngine.Store(nc, c)
}

// Upgrade completes the handshake on w and r and returns the connection, a
// *Conn, whose socket the Upgrader's engine then watches. When subprotocol
// is not empty and the client offered it, it is echoed in the
// Sec-WebSocket-Protocol response header; no other offered subprotocol
// (such as one carrying a token) is ever echoed. A request whose Origin is
// not allowed gets 403, one over TLS 501, one that is not a WebSocket
// handshake 400 (426 for another protocol version), and, once the Upgrader
// is closed, one that would have been upgraded 503. On failure the error
// wraps ErrUpgrade, and whatever HTTP error response the connection could
// still take has been written.
//
// The connection must be a plain TCP socket: the engine reads the socket
// itself, so TLS is terminated in front of the server.
func (u *Upgrader) Upgrade(w http.ResponseWriter, r *http.Request, subprotocol string) (wsmanager.Conn, error) {
	if !wsadapt.CheckOrigin(w, r, u.origins) {
		return nil, fmt.Errorf("%w: origin not allowed", ErrUpgrade)
	}
	if r.TLS != nil {
		http.Error(w, "WebSocket over TLS is not served here", http.StatusNotImplemented)
		return nil, fmt.Errorf("%w: TLS connections are not supported", ErrUpgrade)
	}
	key, err := checkHandshake(w, r)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUpgrade, err)
	}
	if u.isClosed() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return nil, fmt.Errorf("%w: %w", ErrUpgrade, ErrUpgraderClosed)
	}
	sel := wsadapt.Subprotocol(r, subprotocol)
	h, err := hijack(w, key, sel, u.handshake)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUpgrade, err)
	}
	c := newConn(u, sel)
	// What the client sent with its request is parsed before anything the
	// engine reads: the engine's first delivery waits for pmu.
	c.pmu.Lock()
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		c.pmu.Unlock()
		_ = h.sock.Close()
		return nil, fmt.Errorf("%w: %w", ErrUpgrade, ErrUpgraderClosed)
	}
	u.adding = c
	_, err = u.engine.AddConn(h.sock) // the engine takes the descriptor over
	u.adding = nil
	if err == nil {
		u.conns[c] = struct{}{}
	}
	u.mu.Unlock()
	if err != nil {
		c.pmu.Unlock()
		_ = h.sock.Close() // when the engine failed before taking it
		return nil, fmt.Errorf("%w: handing the socket to the engine: %w", ErrUpgrade, err)
	}
	if len(h.early) > 0 {
		c.parseLocked(h.early)
	}
	c.pmu.Unlock()
	c.startKeepalive()
	return c, nil
}

func (u *Upgrader) isClosed() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.closed
}

// startRound reports whether a keepalive round may run, and counts it
// for Close to wait for; the round calls rounds.Done.
func (u *Upgrader) startRound() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return false
	}
	u.rounds.Add(1)
	return true
}

// forget drops a connection whose socket was closed.
func (u *Upgrader) forget(c *Conn) {
	u.mu.Lock()
	delete(u.conns, c)
	u.mu.Unlock()
}

// Close refuses further upgrades, closes the socket of every connection
// still open, without a close frame (reading ends with ErrUpgraderClosed),
// stops the engine's pollers and waits for them and for the keepalive
// rounds under way, and then waits for the workers to deliver what is
// left, each connection's End included. Close an Upgrader after the
// wsmanager.Factory serving its connections, which closes them with 1001
// first. If ctx ends while a Handler still holds a
// worker, Close returns ctx's error; the engine has stopped all the same,
// and a later Close waits again. Close is safe to call more than once.
func (u *Upgrader) Close(ctx context.Context) error {
	u.mu.Lock()
	first := !u.closed
	u.closed = true
	open := make([]*Conn, 0, len(u.conns))
	for c := range u.conns {
		open = append(open, c)
	}
	u.mu.Unlock()
	if first {
		for _, c := range open {
			c.shutdown()
		}
		u.engine.Stop()
		u.rounds.Wait()
	}
	return u.pool.close(ctx)
}
