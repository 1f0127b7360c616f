package wsadapt

import (
	"bufio"
	"net"
	"net/http"
)

// HijackTap is an http.ResponseWriter whose Hijack hands the WebSocket
// library the hijacked socket through wrap, and keeps what it handed over
// in Conn: an adapter whose library hijacks the connection itself
// (coder/websocket, gorilla/websocket) keeps a hold on the socket that
// way, to close it at a deadline or to own its write deadline. It is used
// by one Upgrade call at a time.
type HijackTap struct {
	http.ResponseWriter
	wrap func(net.Conn) net.Conn
	// Conn is the connection Hijack returned, or nil before it was called.
	Conn net.Conn
}

// TapHijack returns w as a HijackTap, and false, with w unchanged, when
// nothing in w's Unwrap chain can hijack: the library then refuses the
// upgrade as it would have.
func TapHijack(w http.ResponseWriter, wrap func(net.Conn) net.Conn) (*HijackTap, bool) {
	for rw := w; ; {
		switch t := rw.(type) {
		case http.Hijacker:
			return &HijackTap{ResponseWriter: w, wrap: wrap}, true
		case interface{ Unwrap() http.ResponseWriter }:
			rw = t.Unwrap()
		default:
			return nil, false
		}
	}
}

// Hijack hijacks the underlying connection, passes it through wrap, keeps
// it in Conn and returns it.
func (h *HijackTap) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if h.wrap != nil {
		nc = h.wrap(nc)
	}
	h.Conn = nc
	return nc, brw, nil
}

// Unwrap returns the ResponseWriter h wraps, for http.ResponseController.
func (h *HijackTap) Unwrap() http.ResponseWriter { return h.ResponseWriter }
