package gobwasws

import (
	"cmp"
	"fmt"
	"net/http"
	"time"

	"github.com/gobwas/ws"
	"github.com/ssotkit/ssot/internal/wsadapt"
	"github.com/ssotkit/ssot/wsmanager"
)

var _ wsmanager.Upgrader = (*Upgrader)(nil)

// Default values of Options.
const (
	// DefaultReadLimit is the largest message a connection accepts when
	// Options.ReadLimit is zero: 32 KiB, as the other contrib adapters.
	DefaultReadLimit = 32 << 10
	// DefaultPingInterval is how often a connection pings its peer when
	// Options.PingInterval is zero.
	DefaultPingInterval = 30 * time.Second
	// NoPing, as Options.PingInterval, sends no pings.
	NoPing = -1
)

// DefaultHandshakeTimeout is Options.HandshakeTimeout's default.
const DefaultHandshakeTimeout = 10 * time.Second

// Options configures an Upgrader. The zero value is ready to use.
type Options struct {
	// ReadLimit is the largest message, in bytes, a connection accepts; a
	// larger one closes the connection with 1009. Negative is an error.
	// Defaults to DefaultReadLimit.
	ReadLimit int64
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
	// has not answered (or sent anything) one interval after a ping, while
	// a Read waited for it all along, is dropped: Read returns an error
	// wrapping ErrNoPong, which wsmanager records as an abnormal end. A
	// connection nobody reads meanwhile (its handler is busy) is not judged.
	// NoPing sends none; other negative values are an error. Defaults to
	// DefaultPingInterval.
	PingInterval time.Duration
	// HandshakeTimeout bounds the handshake: with Upgrade, writing the 101
	// response; with UpgradeConn, reading the request, and then writing the
	// response once accept has returned. Negative is an error. Defaults to
	// DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
}

// Upgrader performs the WebSocket handshake with gobwas/ws. It is immutable
// after NewUpgrader and safe for concurrent use; the zero value is not
// usable, build one with NewUpgrader.
type Upgrader struct {
	origins   []string
	readLimit int64
	op        ws.OpCode
	ping      time.Duration // 0: none
	handshake time.Duration
}

// NewUpgrader returns an Upgrader configured by opts. It returns an error
// wrapping ErrInvalidOptions for a negative ReadLimit, a negative
// PingInterval other than NoPing, a negative HandshakeTimeout, or an origin
// pattern that path.Match cannot parse.
func NewUpgrader(opts Options) (*Upgrader, error) {
	switch {
	case opts.ReadLimit < 0:
		return nil, fmt.Errorf("%w: ReadLimit %d is negative", ErrInvalidOptions, opts.ReadLimit)
	case opts.PingInterval < 0 && opts.PingInterval != NoPing:
		return nil, fmt.Errorf("%w: PingInterval %v is negative (NoPing turns pings off)", ErrInvalidOptions, opts.PingInterval)
	case opts.HandshakeTimeout < 0:
		return nil, fmt.Errorf("%w: HandshakeTimeout %v is negative", ErrInvalidOptions, opts.HandshakeTimeout)
	}
	if err := wsadapt.Validate(opts.OriginPatterns); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOptions, err)
	}
	u := &Upgrader{
		origins:   append([]string(nil), opts.OriginPatterns...),
		readLimit: opts.ReadLimit,
		op:        ws.OpText,
		ping:      opts.PingInterval,
		handshake: cmp.Or(opts.HandshakeTimeout, DefaultHandshakeTimeout),
	}
	if u.readLimit == 0 {
		u.readLimit = DefaultReadLimit
	}
	if opts.Binary {
		u.op = ws.OpBinary
	}
	switch u.ping {
	case 0:
		u.ping = DefaultPingInterval
	case NoPing:
		u.ping = 0
	}
	return u, nil
}

// Upgrade completes the handshake on w and r and returns the connection, a
// *Conn. When subprotocol is not empty and the client offered it, it is
// echoed in the Sec-WebSocket-Protocol response header; no other offered
// subprotocol (such as one carrying a token) is ever echoed. A request
// whose Origin is not allowed gets 403. On failure the HTTP error response
// has been written and the error wraps ErrUpgrade.
//
// The handshake is gobwas/ws's: it hijacks the connection and writes the
// 101 response straight to the socket, without building an http.Response.
// Anything the client sent after its request is kept, and the connection is
// then read from the socket directly, so the buffers net/http allocated
// for the request are not held for the connection's lifetime.
func (u *Upgrader) Upgrade(w http.ResponseWriter, r *http.Request, subprotocol string) (wsmanager.Conn, error) {
	if !wsadapt.CheckOrigin(w, r, u.origins) {
		return nil, fmt.Errorf("%w: origin not allowed", ErrUpgrade)
	}
	sel := wsadapt.Subprotocol(r, subprotocol)
	hu := ws.HTTPUpgrader{Timeout: u.handshake}
	if sel != "" {
		hu.Protocol = func(p string) bool { return p == sel }
	}
	nc, rw, _, err := hu.Upgrade(r, w)
	if err != nil {
		if nc != nil {
			_ = nc.Close()
		}
		return nil, fmt.Errorf("%w: %w", ErrUpgrade, err)
	}
	var early []byte
	if n := rw.Reader.Buffered(); n > 0 {
		b, _ := rw.Reader.Peek(n)
		early = append([]byte(nil), b...)
	}
	return newConn(nc, early, u.op, u.readLimit, u.ping, sel), nil
}
