package gobwasws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/gobwas/ws"
	"github.com/ssotkit/ssot/internal/wsadapt"
)

// MaxRequestBytes is the most UpgradeConn reads of a client's opening
// handshake, request line and headers: 64 KiB, room for a JWT in a header
// and a subprotocol and cookies besides. A longer request is refused with
// 431.
const MaxRequestBytes = 64 << 10

// requestReader is what gobwas/ws reads a request from: at most
// MaxRequestBytes of nc, and never a byte past the blank line that ends the
// headers, since gobwas reads through a pooled buffer it keeps nothing of.
// What the last read brought past that line (a client that sent its first
// frame without waiting for the response) is kept in rest, for the Conn.
type requestReader struct {
	nc   io.Reader
	left int
	nl   int // line ends seen since the last other byte ('\r' aside)
	done bool
	over bool
	rest []byte
}

func (r *requestReader) Read(p []byte) (int, error) {
	if r.done {
		return 0, io.EOF
	}
	if r.left <= 0 {
		r.over = true
		return 0, errRequestTooLarge
	}
	if len(p) > r.left {
		p = p[:r.left]
	}
	n, err := r.nc.Read(p)
	for i, b := range p[:n] {
		switch b {
		case '\n':
			if r.nl++; r.nl == 2 {
				r.done = true
				r.rest = append([]byte(nil), p[i+1:n]...)
				r.left -= i + 1
				return i + 1, nil
			}
		case '\r':
		default:
			r.nl = 0
		}
	}
	r.left -= n
	return n, err
}

// errRequestTooLarge ends the reading of a request over MaxRequestBytes.
const errRequestTooLarge = sentinel("gobwasws: request over MaxRequestBytes")

// refuseTooLarge answers a request over MaxRequestBytes with 431. The
// client may still be sending: like net/http, it closes its side and
// reads a little of what is left, so the answer is not lost to a reset.
func refuseTooLarge(nc net.Conn, timeout time.Duration) {
	_ = nc.SetDeadline(time.Now().Add(min(timeout, time.Second)))
	if _, err := io.WriteString(nc, "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"); err != nil {
		return
	}
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		_, _ = io.CopyN(io.Discard, nc, 256<<10)
	}
}

// Request is a client's opening handshake as UpgradeConn read it: the
// request target, the host, the peer's address, and the only headers it
// keeps, those authentication and the origin check read: Authorization,
// Cookie, Origin and Sec-WebSocket-Protocol. Nothing else of the request is
// copied.
type Request struct {
	// URI is the request target as the client sent it: path and query.
	URI string
	// Host is the Host header.
	Host string
	// RemoteAddr is the peer's network address.
	RemoteAddr string
	// Header holds the headers kept, in their canonical form.
	Header http.Header
}

// keptHeader reports whether UpgradeConn copies the header key into a
// Request.
func keptHeader(key string) bool {
	switch key {
	case "Authorization", "Cookie", "Origin":
		return true
	}
	return false
}

// HTTP returns the request as a GET *http.Request that carries ctx, so
// that what reads an upgrade request (auth.Extractor's Token and
// TokenProtocol, a session's Load, wsmanager.ParsePosition of a query
// parameter) reads this one. It returns an error wrapping ErrUpgrade if
// URI is not a request target.
func (r *Request) HTTP(ctx context.Context) (*http.Request, error) {
	u, err := url.ParseRequestURI(r.URI)
	if err != nil {
		return nil, fmt.Errorf("%w: malformed request target", ErrUpgrade)
	}
	return (&http.Request{
		Method:     http.MethodGet,
		URL:        u,
		RequestURI: r.URI,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     r.Header,
		Host:       r.Host,
		RemoteAddr: r.RemoteAddr,
	}).WithContext(ctx), nil
}

// RejectError is an error an accept function of UpgradeConn returns to
// refuse the upgrade with its own status and headers; Reject makes one.
type RejectError struct {
	// Status is the HTTP status of the response, 400 to 599.
	Status int
	// Header is written with the response: WWW-Authenticate with a 401,
	// Retry-After with a 503, say. It may be nil.
	Header http.Header
}

// Reject returns a *RejectError: the upgrade is refused with status and
// header, and a body that is the status's text.
func Reject(status int, header http.Header) error {
	return &RejectError{Status: status, Header: header}
}

func (e *RejectError) Error() string {
	return fmt.Sprintf("gobwasws: upgrade refused with %d %s", e.Status, http.StatusText(e.Status))
}

// UpgradeConn performs the handshake on nc, a connection accepted from a
// net.Listener that no http.Server serves, with gobwas/ws's zero-copy
// upgrade: the request is parsed straight from the socket in pooled
// buffers, with no http.Request and no goroutine of net/http's, and only
// the headers a Request keeps are copied. It is the path for a service
// that serves WebSockets on a listener of their own; behind an http.Server,
// Upgrade does the handshake.
//
// Once the request's headers are read, a request whose Origin is not
// allowed (the rule Upgrade applies) is refused with 403. Then accept is
// called, before any response is written, to authenticate the request and
// reserve its connection (wsmanager.Factory.Reserve); it returns the
// subprotocol to echo, which is echoed only if the client offered it, as
// Upgrade does, or an error that refuses the upgrade: a *RejectError's
// status and headers, or 500 for any other error (whose text is not sent).
// Options.HandshakeTimeout bounds reading the request, and then, once
// accept has returned, writing the response, so a client that sends its
// request slowly, or does not read the answer, cannot hold nc. accept
// itself is not interrupted: bound what it calls (Authenticate, Reserve)
// with a context of its own. A request larger than MaxRequestBytes is
// refused with 431 before accept is called.
//
// On success the returned *Conn serves the connection (Reservation.Serve or
// Go). On failure nc is closed, the refusal has been written when there was
// one, and the error wraps ErrUpgrade, and the error accept returned, if
// any. A connection accept reserved before UpgradeConn failed (the
// response could not be written) is the caller's to release.
func (u *Upgrader) UpgradeConn(nc net.Conn, accept func(*Request) (subprotocol string, err error)) (*Conn, error) {
	req := &Request{RemoteAddr: nc.RemoteAddr().String(), Header: http.Header{}}
	var acceptErr error
	var sel string
	up := ws.Upgrader{
		OnRequest: func(uri []byte) error {
			req.URI = string(uri)
			return nil
		},
		OnHost: func(host []byte) error {
			req.Host = string(host)
			return nil
		},
		OnHeader: func(key, value []byte) error {
			if k := http.CanonicalHeaderKey(string(key)); keptHeader(k) {
				req.Header.Add(k, string(value))
			}
			return nil
		},
		// Every offered subprotocol is kept, none chosen here: accept
		// decides, once it has seen the whole request.
		ProtocolCustom: func(v []byte) (string, bool) {
			req.Header.Add("Sec-WebSocket-Protocol", string(v))
			return "", true
		},
		OnBeforeUpgrade: func() (ws.HandshakeHeader, error) {
			hr, err := req.HTTP(context.Background())
			if err != nil {
				return nil, ws.RejectConnectionError(ws.RejectionStatus(http.StatusBadRequest), ws.RejectionReason("malformed request target"))
			}
			if !wsadapt.Allowed(hr, u.origins) {
				return nil, ws.RejectConnectionError(ws.RejectionStatus(http.StatusForbidden), ws.RejectionReason("origin not allowed"))
			}
			want, err := accept(req)
			// The response has a deadline of its own, whatever accept took.
			_ = nc.SetWriteDeadline(time.Now().Add(u.handshake))
			if err != nil {
				acceptErr = err
				status, header := http.StatusInternalServerError, http.Header(nil)
				var rej *RejectError
				if errors.As(err, &rej) && rej.Status >= 400 && rej.Status <= 599 {
					status, header = rej.Status, rej.Header
				}
				opts := []ws.RejectOption{ws.RejectionStatus(status), ws.RejectionReason(http.StatusText(status))}
				if header != nil {
					opts = append(opts, ws.RejectionHeader(ws.HandshakeHeaderHTTP(header)))
				}
				return nil, ws.RejectConnectionError(opts...)
			}
			sel = wsadapt.Subprotocol(hr, want)
			if sel == "" {
				return ws.HandshakeHeaderHTTP(nil), nil
			}
			return ws.HandshakeHeaderHTTP(http.Header{"Sec-WebSocket-Protocol": {sel}}), nil
		},
	}
	_ = nc.SetDeadline(time.Now().Add(u.handshake))
	in := &requestReader{nc: nc, left: MaxRequestBytes}
	_, err := up.Upgrade(struct {
		io.Reader
		io.Writer
	}{in, nc})
	if err == nil {
		err = nc.SetDeadline(time.Time{})
	}
	if err != nil {
		if in.over {
			refuseTooLarge(nc, u.handshake)
		}
		_ = nc.Close()
		if acceptErr != nil {
			return nil, fmt.Errorf("%w: %w", ErrUpgrade, acceptErr)
		}
		return nil, fmt.Errorf("%w: %w", ErrUpgrade, err)
	}
	return newConn(nc, in.rest, u.op, u.readLimit, u.ping, sel), nil
}
