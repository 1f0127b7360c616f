package wsmanager

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ssotkit/ssot/auth"
)

// DefaultSSEReadLimit is the largest message NewSSEEndpoint accepts in a
// POST when SSEOptions.ReadLimit is zero: 32 KiB, the contrib WebSocket
// adapters' default read limit.
const DefaultSSEReadLimit = 32 << 10

// DefaultSSEPingInterval is how often an SSE stream with nothing to send
// gets a comment line when SSEOptions.PingInterval is zero, so that proxies
// that end idle responses keep it, and a client that is gone is noticed.
const DefaultSSEPingInterval = 15 * time.Second

// sseMaxPending bounds the messages a client may post before its
// connection is operational (they are handed to the Handler once it is).
const sseMaxPending = 64

// SSEOptions configures NewSSEEndpoint. The zero value is ready to use.
// NewSSEEndpoint copies it; Thread, RequestID and Resume are called
// concurrently, once per stream.
type SSEOptions struct {
	// Thread returns the ThreadID of a stream's request, as
	// EndpointOptions.Thread does. Defaults to nil: the ThreadID "".
	Thread func(*http.Request) string
	// RequestID returns the RequestID recorded in the UserContext.
	// Defaults to nil: none.
	RequestID func(*http.Request) string
	// Resume returns the position a client that opens a new stream
	// presents, when the request has no Last-Event-ID header (which a
	// browser's EventSource sends when it reconnects by itself, and which
	// is preferred). Defaults to the query parameter "resume", as
	// EndpointOptions.Resume.
	Resume func(*http.Request) string
	// ReadLimit is the largest message, in bytes, a POST may carry; a
	// larger one is refused with 413 and its connection closed with 1009.
	// Defaults to DefaultSSEReadLimit; negative is invalid.
	ReadLimit int64
	// PingInterval is how often a stream is sent a comment line when it
	// has had nothing else for that long. Defaults to
	// DefaultSSEPingInterval; negative sends none.
	PingInterval time.Duration
	// Retry, when positive, is sent with the open event as the stream's
	// "retry" field: how long a browser's EventSource waits before it
	// reconnects by itself once the stream broke, in milliseconds on the
	// wire. Defaults to 0: none is sent, and browsers wait their own time
	// (about 3 seconds in Chromium).
	Retry time.Duration
}

// NewSSEEndpoint returns an http.Handler that serves connections of f over
// server-sent events, for clients and networks where a WebSocket cannot
// open: a stream of messages out, as text/event-stream, and messages in
// as POST requests. It is a transport of the same Factory as NewEndpoint's
// WebSockets: a user's SSE and WebSocket connections share one Manager,
// one stream, one history and the same limits, and h handles both.
//
// A GET opens a stream. It is authenticated by a, with the token taken
// where a's Extractor looks (the Authorization header first) and, last,
// from the "token" query parameter: a browser's EventSource can set no
// header, so the query string is accepted here, for streams alone,
// whatever a's Extractor says. Keep such
// tokens short-lived. A refused stream gets the HTTP status NewEndpoint
// answers with (401, 403, 429, 503) before any event. An accepted one is
// answered 200 with these events:
//
//   - first, "event: open" whose data is the connection's key, an opaque
//     string that its POSTs name (with SSEOptions.Retry, the stream's
//     retry field too);
//   - then every message sent to the connection as one event whose data is
//     the message as a WebSocket client gets it (with Options.History,
//     framed: "<position> <message>", or a reset frame), and, when it has
//     a position, "id: <position>": a browser's EventSource presents the
//     last one as Last-Event-ID when it reconnects by itself, and the new
//     stream resumes from it (ReserveResume), so that nothing is lost or
//     repeated;
//   - a comment line after every PingInterval without one;
//   - last, when the server closes it, "event: close" whose data is the
//     close code, a space and the reason; then the response ends.
//
// SSE carries text: a message's line breaks (CR, LF or CRLF) reach the
// client as LF, and bytes that are not UTF-8 are replaced by the browser.
//
// A POST to the endpoint with the query parameter "conn" set to a key
// hands its body over as one message of that connection, as a WebSocket's
// reading does (to h, unless the connection is closing or Options.ReadRate
// drops it), and is answered 204 once it is handed over; it is
// authenticated by a as AuthenticateRequest does (the Authorization
// header: fetch can set it), and must be the same user's as the stream,
// or it is answered 404, as for a key that names no open connection. A
// connection takes one POST at a time, so that its messages keep the
// order its client sent them in: a client sends its next message once
// the previous POST was answered, and one that arrives while another is
// being handed over is answered 429. A body over ReadLimit gets 413 and
// closes the connection with 1009.
//
// The stream's request holds net/http's goroutine while the connection is
// open (the response is written while its handler runs); the connection
// costs no other goroutine while idle. A stream is written through
// http.ResponseController, whose write deadline bounds each batch as
// Options.WriteTimeout says, so a client that stops reading is closed as
// a slow one. A client that goes away ends its connection as a peer's
// close (Stats.EndedByPeer).
//
// NewSSEEndpoint returns an error wrapping ErrInvalidOptions if f, a or h
// is nil, or ReadLimit is negative.
func NewSSEEndpoint(f *Factory, a *auth.Unified, h Handler, opts SSEOptions) (http.Handler, error) {
	switch {
	case f == nil:
		return nil, fmt.Errorf("%w: nil Factory", ErrInvalidOptions)
	case a == nil:
		return nil, fmt.Errorf("%w: nil Unified", ErrInvalidOptions)
	case h == nil:
		return nil, fmt.Errorf("%w: nil Handler", ErrInvalidOptions)
	case opts.ReadLimit < 0:
		return nil, fmt.Errorf("%w: ReadLimit %d is negative", ErrInvalidOptions, opts.ReadLimit)
	}
	if opts.ReadLimit == 0 {
		opts.ReadLimit = DefaultSSEReadLimit
	}
	if opts.PingInterval == 0 {
		opts.PingInterval = DefaultSSEPingInterval
	}
	return &sseEndpoint{f: f, a: a, h: h, opts: opts, conns: make(map[string]*sseConn)}, nil
}

type sseEndpoint struct {
	f    *Factory
	a    *auth.Unified
	h    Handler
	opts SSEOptions

	mu    sync.Mutex
	conns map[string]*sseConn // open streams by key
}

func (e *sseEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		e.stream(w, r)
	case http.MethodPost:
		e.post(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
	}
}

// stream serves a GET: it authenticates, registers the connection,
// answers with the stream and serves it until it ends.
func (e *sseEndpoint) stream(w http.ResponseWriter, r *http.Request) {
	x := e.a.Extractor()
	x.AllowQuery = true
	id, err := e.a.AuthenticateRequestWith(r, x)
	if err != nil {
		refuseAuthHTTP(w, err)
		return
	}
	uc := requestUser(r, id, e.opts.Thread, e.opts.RequestID)
	after, err := e.resumeFrom(r)
	if err != nil {
		http.Error(w, "invalid resume position", http.StatusBadRequest)
		return
	}
	// The stream ends when its client goes away, which the connection
	// learns as a peer's close, not as its context ending.
	ctx := context.WithoutCancel(auth.WithIdentity(r.Context(), id))
	res, err := e.f.ReserveResume(ctx, uc, after)
	if err != nil {
		refuseReserveHTTP(w, err)
		return
	}
	sc := newSSEConn(w, uc.UserID, e.f.opts.History.Messages > 0)
	key := rand.Text()
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no") // proxies that buffer responses must not buffer this one
	// Known by its key before the client can learn it: its first POST
	// may follow the open event at once, and is held until the
	// connection is served.
	e.mu.Lock()
	e.conns[key] = sc
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.conns, key)
		e.mu.Unlock()
	}()
	w.WriteHeader(http.StatusOK)
	open := "event: open\ndata: " + key + "\n\n"
	if e.opts.Retry > 0 {
		open = "retry: " + strconv.FormatInt(e.opts.Retry.Milliseconds(), 10) + "\n" + open
	}
	if err := sc.writeRaw(open, time.Now().Add(e.f.opts.WriteTimeout)); err != nil {
		sc.end(err)
		res.Release()
		return
	}
	if err := res.Go(sc, e.h); err != nil {
		e.f.log.Debug("wsmanager: connection refused", "user", uc.UserID, "thread", uc.ThreadID, "request", uc.RequestID, "err", err)
	}
	sc.run(r.Context(), e.opts.PingInterval, e.f.opts.WriteTimeout)
}

// resumeFrom returns the position a stream resumes from: Last-Event-ID,
// or Resume's.
func (e *sseEndpoint) resumeFrom(r *http.Request) (Position, error) {
	if s := r.Header.Get("Last-Event-ID"); s != "" {
		return ParsePosition(s)
	}
	return requestResume(r, e.opts.Resume)
}

// post serves a POST: one message in, for the connection its "conn"
// parameter names.
func (e *sseEndpoint) post(w http.ResponseWriter, r *http.Request) {
	id, err := e.a.AuthenticateRequest(r)
	if err != nil {
		refuseAuthHTTP(w, err)
		return
	}
	key := r.URL.Query().Get("conn")
	e.mu.Lock()
	sc := e.conns[key]
	e.mu.Unlock()
	if sc == nil || sc.user != id.UserID {
		// Another user's key is answered as one that names nothing.
		http.Error(w, "no such connection", http.StatusNotFound)
		return
	}
	if !sc.beginPost() {
		http.Error(w, "one message at a time", http.StatusTooManyRequests)
		return
	}
	defer sc.endPost()
	msg, err := io.ReadAll(http.MaxBytesReader(w, r.Body, e.opts.ReadLimit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			sc.tooBig()
			http.Error(w, "message too big", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "reading the message failed", http.StatusBadRequest)
		return
	}
	switch sc.deliver(msg) {
	case nil:
		w.WriteHeader(http.StatusNoContent)
	case errSSEEnded:
		http.Error(w, "the connection has ended", http.StatusGone)
	default:
		http.Error(w, "too many messages before the connection opened", http.StatusTooManyRequests)
	}
}

// refuseAuthHTTP answers a request whose authentication failed, with the
// status auth.HTTPStatus gives and nothing about why.
func refuseAuthHTTP(w http.ResponseWriter, err error) {
	status := auth.HTTPStatus(err)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	http.Error(w, http.StatusText(status), status)
}

const (
	errSSEEnded   = sentinel("wsmanager: the SSE connection has ended")
	errSSEPending = sentinel("wsmanager: too many messages before the SSE connection opened")
	errSSEAborted = closedError("wsmanager: SSE stream aborted")
	errSSEPull    = sentinel("wsmanager: an SSE connection is read through Receive")
	errSSETooBig  = sentinel("wsmanager: SSE message over ReadLimit")
)

// closedError is an error that wraps net.ErrClosed: a stream that can no
// longer be written.
type closedError string

func (e closedError) Error() string { return string(e) + ": " + net.ErrClosed.Error() }

func (closedError) Unwrap() error { return net.ErrClosed }

// sseConn is one stream: a PushConn whose writes are events on the GET's
// response and whose reads are its POSTs.
type sseConn struct {
	w         http.ResponseWriter
	rc        *http.ResponseController
	user      string
	positions bool // messages are framed with positions: give them ids

	wmu     sync.Mutex // serialises writes: the writer's, pings and the close
	buf     []byte
	broken  bool          // a write failed: the peer may have part of an event
	werr    error         // the error of the write that failed
	closed  bool          // CloseWithin ran: nothing more is written
	aborted atomic.Bool   // Abort was called
	done    bool          // the handler returned: w is not to be touched (under wmu or dmu)
	dmu     sync.Mutex    // guards done for Abort, which must not wait for wmu
	closing chan struct{} // closed by CloseWithin
	once    sync.Once

	posting   atomic.Bool // a POST's body is being read or handed over
	rmu       sync.Mutex  // serialises deliveries: POSTs, Receive and End
	r         Receiver
	pending   [][]byte
	ended     bool  // reading ended: no Message after this
	endErr    error // what ended it
	endCalled bool  // the receiver's End was called
}

var _ PushConn = (*sseConn)(nil)

func newSSEConn(w http.ResponseWriter, user string, positions bool) *sseConn {
	return &sseConn{
		w:         w,
		rc:        http.NewResponseController(w),
		user:      user,
		positions: positions,
		closing:   make(chan struct{}),
	}
}

// run holds the stream's request open until the connection closed it,
// pinging while it is idle, and ends reading when the client goes away.
func (s *sseConn) run(ctx context.Context, ping, writeTimeout time.Duration) {
	var tick <-chan time.Time
	if ping > 0 {
		t := time.NewTicker(ping)
		defer t.Stop()
		tick = t.C
	}
	defer s.finish()
	for {
		select {
		case <-s.closing:
			s.end(errSSEAborted)
			return
		case <-ctx.Done():
			// The client went away, or a write failed (net/http cancels
			// the request's context then too).
			s.end(s.readEnd())
			s.awaitClosing(writeTimeout)
			return
		case <-tick:
			if err := s.writeRaw(":\n\n", time.Now().Add(writeTimeout)); err != nil {
				s.end(err)
				s.awaitClosing(writeTimeout)
				return
			}
		}
	}
}

// awaitClosing waits, once reading ended (which asks the connection to
// close), for the writer's close of the stream: within writeTimeout and a
// few seconds, so that the request's handler returns whatever happens;
// finish then refuses every later write to the response.
func (s *sseConn) awaitClosing(writeTimeout time.Duration) {
	t := time.NewTimer(writeTimeout + 5*time.Second)
	defer t.Stop()
	select {
	case <-s.closing:
	case <-t.C:
	}
}

// readEnd is what ended the stream once its request's context ended: the
// error of the write that failed, taken after any write under way
// returned, so that a write timeout ends the connection as one; otherwise
// the client went away, a peer's end with no close frame.
func (s *sseConn) readEnd() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.werr != nil {
		return s.werr
	}
	return io.EOF
}

// finish marks the response as no longer writable: the handler returns.
func (s *sseConn) finish() {
	s.dmu.Lock()
	s.wmu.Lock()
	s.done = true
	s.wmu.Unlock()
	s.dmu.Unlock()
}

// writeRaw writes text as it is, by deadline, and flushes it.
func (s *sseConn) writeRaw(text string, deadline time.Time) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.buf = append(s.buf[:0], text...)
	return s.flushLocked(deadline)
}

// flushLocked writes s.buf by deadline and flushes it. s.wmu is held.
func (s *sseConn) flushLocked(deadline time.Time) error {
	if s.closed || s.broken || s.done || s.aborted.Load() {
		return errSSEAborted
	}
	_ = s.rc.SetWriteDeadline(deadline)
	if s.aborted.Load() {
		return errSSEAborted
	}
	_, err := s.w.Write(s.buf)
	if err == nil {
		err = s.rc.Flush()
	}
	if cap(s.buf) > 64<<10 {
		s.buf = nil
	}
	if err != nil {
		s.broken = true
		switch {
		case s.aborted.Load():
			err = errSSEAborted
		case !time.Now().Before(deadline) || errors.Is(err, os.ErrDeadlineExceeded):
			err = fmt.Errorf("wsmanager: SSE write: %w", os.ErrDeadlineExceeded)
		default:
			err = fmt.Errorf("wsmanager: SSE write: %w", err)
		}
		s.werr = err
		return err
	}
	return nil
}

// WriteMessages writes msgs as events, in one write and one flush.
func (s *sseConn) WriteMessages(msgs [][]byte, deadline time.Time) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.buf = s.buf[:0]
	for _, m := range msgs {
		s.buf = appendEvent(s.buf, m, s.positions)
	}
	return s.flushLocked(deadline)
}

// appendEvent appends msg to dst as one event: its position as the id,
// when it has one, and its lines as data lines.
func appendEvent(dst, msg []byte, positions bool) []byte {
	if positions {
		p := msg
		if i := bytes.IndexByte(msg, ' '); i >= 0 {
			p = msg[:i]
		}
		if isPositionText(p) {
			dst = append(dst, "id: "...)
			dst = append(dst, p...)
			dst = append(dst, '\n')
		}
	}
	for {
		i := bytes.IndexAny(msg, "\r\n")
		line := msg
		if i >= 0 {
			line = msg[:i]
		}
		dst = append(dst, "data: "...)
		dst = append(dst, line...)
		dst = append(dst, '\n')
		if i < 0 {
			break
		}
		if msg[i] == '\r' && i+1 < len(msg) && msg[i+1] == '\n' {
			i++
		}
		msg = msg[i+1:]
	}
	return append(dst, '\n')
}

// isPositionText reports whether p is a Position in String's form.
func isPositionText(p []byte) bool {
	if len(p) < 3 || len(p) > 40 {
		return false
	}
	dot := bytes.IndexByte(p, '.')
	if dot <= 0 || dot == len(p)-1 {
		return false
	}
	for i, b := range p {
		switch {
		case i == dot:
		case i < dot && (b >= '0' && b <= '9' || b >= 'a' && b <= 'f'):
		case i > dot && b >= '0' && b <= '9':
		default:
			return false
		}
	}
	return true
}

// Abort makes the write under way, and every later one, fail at once.
func (s *sseConn) Abort() {
	s.aborted.Store(true)
	s.dmu.Lock()
	defer s.dmu.Unlock()
	if !s.done {
		_ = s.rc.SetWriteDeadline(time.Now())
	}
}

// CloseWithin writes the close event, unless aborted, broken or already
// closed, and ends the stream: its request's handler returns.
func (s *sseConn) CloseWithin(code int, reason string, deadline time.Time) error {
	s.wmu.Lock()
	var err error
	if !s.closed && time.Now().Before(deadline) {
		err = s.writeCloseLocked(code, reason, deadline)
	}
	s.closed = true
	s.wmu.Unlock()
	s.once.Do(func() { close(s.closing) })
	if errors.Is(err, errSSEAborted) {
		return nil
	}
	return err
}

// writeCloseLocked writes the close event: the code, a space and the
// reason on one line. s.wmu is held.
func (s *sseConn) writeCloseLocked(code int, reason string, deadline time.Time) error {
	s.buf = append(s.buf[:0], "event: close\ndata: "...)
	s.buf = strconv.AppendInt(s.buf, int64(code), 10)
	s.buf = append(s.buf, ' ')
	for i := 0; i < len(reason); i++ {
		b := reason[i]
		if b == '\r' || b == '\n' {
			b = ' '
		}
		s.buf = append(s.buf, b)
	}
	s.buf = append(s.buf, "\n\n"...)
	return s.flushLocked(deadline)
}

// Close is CloseWithin with five seconds.
func (s *sseConn) Close(code int, reason string) error {
	return s.CloseWithin(code, reason, time.Now().Add(5*time.Second))
}

// Write writes msg by ctx's deadline, or within five seconds.
func (s *sseConn) Write(ctx context.Context, msg []byte) error {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(5 * time.Second)
	}
	return s.WriteMessages([][]byte{msg}, deadline)
}

// Read is not used: the package reads an SSE connection through Receive.
func (s *sseConn) Read(context.Context) ([]byte, error) { return nil, errSSEPull }

// Receive starts delivering to r, first what was posted before; if
// reading already ended, it ends r's reading too.
func (s *sseConn) Receive(r Receiver) {
	s.rmu.Lock()
	s.r = r
	for _, m := range s.pending {
		r.Message(m)
	}
	s.pending = nil
	s.rmu.Unlock()
	s.deliverEnd()
}

// beginPost claims the connection's one POST in flight, and reports
// whether it could: a client posts its messages one at a time, so that
// they are handed over in the order it sent them.
func (s *sseConn) beginPost() bool { return s.posting.CompareAndSwap(false, true) }

// endPost releases what beginPost claimed.
func (s *sseConn) endPost() { s.posting.Store(false) }

// deliver hands a posted message to the receiver, or holds it until there
// is one.
func (s *sseConn) deliver(msg []byte) error {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	switch {
	case s.ended:
		return errSSEEnded
	case s.r == nil:
		if len(s.pending) >= sseMaxPending {
			return errSSEPending
		}
		s.pending = append(s.pending, msg)
		return nil
	}
	s.r.Message(msg)
	return nil
}

// end ends reading, once, with err: no Message after it, and End as soon
// as there is a receiver.
func (s *sseConn) end(err error) {
	s.rmu.Lock()
	if !s.ended {
		s.ended, s.endErr = true, err
		s.pending = nil
	}
	s.rmu.Unlock()
	s.deliverEnd()
}

// deliverEnd calls the receiver's End once reading ended and there is a
// receiver, exactly once, with no lock held: End may run OnDisconnect.
// rmu orders it after the last Message, which runs under rmu and never
// once ended is set.
func (s *sseConn) deliverEnd() {
	s.rmu.Lock()
	r, err := s.r, s.endErr
	call := s.ended && r != nil && !s.endCalled
	if call {
		s.endCalled = true
	}
	s.rmu.Unlock()
	if call {
		r.End(err)
	}
}

// tooBig closes the connection as a WebSocket adapter closes one that
// sent a message over its limit: with 1009, sent at once, reported as a
// close the transport sent.
func (s *sseConn) tooBig() {
	s.wmu.Lock()
	if !s.closed {
		_ = s.writeCloseLocked(CodeTooBig, "message too big", time.Now().Add(time.Second))
		s.closed = true
	}
	s.wmu.Unlock()
	s.end(&SentCloseError{Code: CodeTooBig, Err: errSSETooBig})
}
