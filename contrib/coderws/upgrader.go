package coderws

import (
	"fmt"
	"net"
	"net/http"

	"github.com/coder/websocket"
	"github.com/ssotkit/ssot/internal/wsadapt"
	"github.com/ssotkit/ssot/wsmanager"
)

var _ wsmanager.Upgrader = (*Upgrader)(nil)

// DefaultReadLimit is the read limit of an Upgrader whose Options leave
// ReadLimit zero: 32 KiB, the limit of coder/websocket itself.
const DefaultReadLimit = 32 << 10

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
	// Compression negotiates permessage-deflate without context takeover.
	// Defaults to false: compression costs CPU and memory per connection and
	// mostly helps large, repetitive messages.
	Compression bool
}

// Upgrader performs the WebSocket handshake with coder/websocket. It is
// immutable after NewUpgrader and safe for concurrent use; the zero value is
// not usable, build one with NewUpgrader.
type Upgrader struct {
	accept    websocket.AcceptOptions
	origins   []string
	readLimit int64
	typ       websocket.MessageType
}

// NewUpgrader returns an Upgrader configured by opts. It returns an error
// wrapping ErrInvalidOptions for a negative ReadLimit or an origin pattern
// that path.Match cannot parse.
func NewUpgrader(opts Options) (*Upgrader, error) {
	if opts.ReadLimit < 0 {
		return nil, fmt.Errorf("%w: ReadLimit %d is negative", ErrInvalidOptions, opts.ReadLimit)
	}
	if err := wsadapt.Validate(opts.OriginPatterns); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOptions, err)
	}
	u := &Upgrader{
		accept: websocket.AcceptOptions{
			// The origin is checked before Accept, by the rule every
			// adapter shares.
			InsecureSkipVerify: true,
			CompressionMode:    websocket.CompressionDisabled,
		},
		origins:   append([]string(nil), opts.OriginPatterns...),
		readLimit: opts.ReadLimit,
		typ:       websocket.MessageText,
	}
	if u.readLimit == 0 {
		u.readLimit = DefaultReadLimit
	}
	if opts.Binary {
		u.typ = websocket.MessageBinary
	}
	if opts.Compression {
		u.accept.CompressionMode = websocket.CompressionNoContextTakeover
	}
	return u, nil
}

// Upgrade completes the handshake on w and r and returns the connection. When
// subprotocol is not empty and the client offered it, it is echoed in the
// Sec-WebSocket-Protocol response header; no other offered subprotocol (such
// as one carrying a token) is ever echoed. On failure the HTTP error response
// has been written and the error wraps ErrUpgrade.
func (u *Upgrader) Upgrade(w http.ResponseWriter, r *http.Request, subprotocol string) (wsmanager.Conn, error) {
	if !wsadapt.CheckOrigin(w, r, u.origins) {
		return nil, fmt.Errorf("%w: origin not allowed", ErrUpgrade)
	}
	opts := u.accept
	if sel := wsadapt.Subprotocol(r, subprotocol); sel != "" {
		opts.Subprotocols = []string{sel}
	}
	// The socket is kept, so that CloseWithin can close it at its deadline.
	tap, tapped := wsadapt.TapHijack(w, nil)
	if tapped {
		w = tap
	}
	c, err := websocket.Accept(w, r, &opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUpgrade, err)
	}
	c.SetReadLimit(u.readLimit)
	var nc net.Conn
	if tapped {
		nc = tap.Conn
	}
	return newConn(c, u.typ, nc), nil
}
