package wsadapt

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

type tagged struct{ net.Conn }

func TestHijackTap(t *testing.T) {
	t.Parallel()
	if _, ok := TapHijack(httptest.NewRecorder(), nil); ok {
		t.Error("a ResponseWriter that cannot hijack was tapped")
	}
	got := make(chan bool, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		tap, ok := TapHijack(w, func(nc net.Conn) net.Conn { return tagged{nc} })
		if !ok {
			got <- false
			return
		}
		nc, _, err := tap.Hijack()
		if err != nil {
			got <- false
			return
		}
		_, isTagged := nc.(tagged)
		got <- isTagged && tap.Conn == nc
		_ = nc.Close()
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err == nil {
		_ = resp.Body.Close()
	}
	if !<-got {
		t.Error("Hijack did not return the wrapped connection and keep it in Conn")
	}
}
