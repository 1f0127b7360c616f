package gorillaws

import (
	"fmt"
	"net"
	"net/http"

	"github.com/gorilla/websocket"
	"github.com/ssotkit/ssot/internal/wsadapt"
	"github.com/ssotkit/ssot/wsmanager"
)

var _ wsmanager.Upgrader = (*Upgrader)(nil)

// DefaultReadLimit is the read limit of an Upgrader whose Options leave
// ReadLimit zero: 32 KiB, the same as the coder/websocket adapter.
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
	// Defaults to false.
	Compression bool
	// BufferSize is the size, in bytes, of each connection's read and write
	// buffer. Negative is an error. Defaults to 4096.
	BufferSize int
}

// Upgrader performs the WebSocket handshake with gorilla/websocket. It is
// immutable after NewUpgrader and safe for concurrent use; the zero value is
// not usable, build one with NewUpgrader.
type Upgrader struct {
	up        websocket.Upgrader
	readLimit int64
	typ       int
}

// NewUpgrader returns an Upgrader configured by opts. It returns an error
// wrapping ErrInvalidOptions for a negative ReadLimit or BufferSize or an
// origin pattern that path.Match cannot parse.
func NewUpgrader(opts Options) (*Upgrader, error) {
	if opts.ReadLimit < 0 {
		return nil, fmt.Errorf("%w: ReadLimit %d is negative", ErrInvalidOptions, opts.ReadLimit)
	}
	if opts.BufferSize < 0 {
		return nil, fmt.Errorf("%w: BufferSize %d is negative", ErrInvalidOptions, opts.BufferSize)
	}
	if err := wsadapt.Validate(opts.OriginPatterns); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOptions, err)
	}
	patterns := append([]string(nil), opts.OriginPatterns...)
	u := &Upgrader{
		up: websocket.Upgrader{
			// No Subprotocols: gorilla then takes the subprotocol from the
			// response header Upgrade passes, which holds the one
			// wsadapt selected, or none.
			ReadBufferSize:    opts.BufferSize,
			WriteBufferSize:   opts.BufferSize,
			EnableCompression: opts.Compression,
			CheckOrigin:       func(r *http.Request) bool { return wsadapt.Allowed(r, patterns) },
		},
		readLimit: opts.ReadLimit,
		typ:       websocket.TextMessage,
	}
	if u.readLimit == 0 {
		u.readLimit = DefaultReadLimit
	}
	if opts.Binary {
		u.typ = websocket.BinaryMessage
	}
	return u, nil
}

// Upgrade completes the handshake on w and r and returns the connection. When
// subprotocol is not empty and the client offered it, it is echoed in the
// Sec-WebSocket-Protocol response header; no other offered subprotocol (such
// as one carrying a token) is ever echoed. On failure the HTTP error response
// has been written and the error wraps ErrUpgrade.
func (u *Upgrader) Upgrade(w http.ResponseWriter, r *http.Request, subprotocol string) (wsmanager.Conn, error) {
	var header http.Header
	if sel := wsadapt.Subprotocol(r, subprotocol); sel != "" {
		header = http.Header{"Sec-Websocket-Protocol": {sel}}
	}
	// gorilla reaches the socket through a socket of the adapter's, so
	// that the write deadline gorilla sets for each frame goes through the
	// Conn's WriteDeadline.
	var sock *socket
	if tap, ok := wsadapt.TapHijack(w, func(nc net.Conn) net.Conn {
		sock = newSocket(nc)
		return sock
	}); ok {
		w = tap
	}
	c, err := u.up.Upgrade(w, r, header)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUpgrade, err)
	}
	if sock == nil {
		return Wrap(c, u.typ, u.readLimit), nil
	}
	return newConn(c, u.typ, u.readLimit, sock.deadline), nil
}
