package wsadapt

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"testing"

	"github.com/ssotkit/ssot/wsmanager"
)

func TestReadErrors(t *testing.T) {
	t.Parallel()
	var ce *wsmanager.CloseError
	if err := PeerClosed(4000, "bye"); !errors.As(err, &ce) || ce.Code != 4000 || ce.Reason != "bye" {
		t.Errorf("PeerClosed = %v", err)
	}
	for _, cause := range []error{io.EOF, fmt.Errorf("read: %w", io.EOF), net.ErrClosed, io.ErrUnexpectedEOF} {
		err := Abnormal("x", cause)
		if errors.Is(err, io.EOF) || errors.As(err, &ce) {
			t.Errorf("Abnormal(%v) = %v: a clean end or a close frame", cause, err)
		}
		if !errors.Is(cause, io.EOF) && !errors.Is(err, cause) {
			t.Errorf("Abnormal(%v) lost its cause", cause)
		}
	}
	if Abnormal("x", nil) != nil {
		t.Error("Abnormal(nil) != nil")
	}
}

func TestSubprotocol(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		offered []string
		want    string
		echo    string
	}{
		{"offered", []string{"bearer.abc, chat.v1"}, "chat.v1", "chat.v1"},
		{"offered in a second header", []string{"bearer.abc", "chat.v1"}, "chat.v1", "chat.v1"},
		{"not offered", []string{"bearer.abc"}, "chat.v1", ""},
		{"none wanted", []string{"chat.v1"}, "", ""},
		{"no substring match", []string{"chat.v10"}, "chat.v1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "http://chat.test/ws", nil)
			for _, v := range tt.offered {
				r.Header.Add("Sec-WebSocket-Protocol", v)
			}
			if got := Subprotocol(r, tt.want); got != tt.echo {
				t.Errorf("Subprotocol = %q, want %q", got, tt.echo)
			}
		})
	}
}
