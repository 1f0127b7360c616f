package wsadapt

import (
	"errors"
	"fmt"
	"io"

	"github.com/ssotkit/ssot/wsmanager"
)

// PeerClosed is the error a Conn's Read returns when the peer sent a close
// frame with code (CodeNoStatus when the frame carried none) and reason.
func PeerClosed(code int, reason string) error {
	return &wsmanager.CloseError{Code: code, Reason: reason}
}

// Abnormal returns err as the error of a connection that ended without a
// close frame: a reset, a dropped connection, a protocol error. A socket's
// io.EOF becomes io.ErrUnexpectedEOF, so that nothing downstream takes a
// dropped WebSocket for a clean end; prefix names the adapter. A nil err
// stays nil.
func Abnormal(prefix string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF):
		return fmt.Errorf("%s: connection ended without a close frame: %w", prefix, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("%s: %w", prefix, err)
}
