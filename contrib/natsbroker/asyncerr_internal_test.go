package natsbroker

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
)

// The connection's asynchronous errors reach the Broker's logger, saying
// what happened and never the subject, which names the user.
func TestAsyncErrorsAreLoggedWithoutSubjects(t *testing.T) {
	subject := subject("ssot.users", "alice@example.com")
	token := strings.TrimPrefix(subject, "ssot.users.")
	for _, tt := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("%w on connection [6] for subscription on %q", nats.ErrSlowConsumer, subject), "slow consumer"},
		{fmt.Errorf("%w for subscription to %q", nats.ErrPermissionViolation, subject), "permissions violation"},
		{errors.New("nats: something else about " + subject), "asynchronous NATS error"},
	} {
		var buf bytes.Buffer
		asyncErrorHandler(slog.New(slog.NewTextHandler(&buf, nil)))(nil, nil, tt.err)
		out := buf.String()
		if !strings.Contains(out, tt.want) {
			t.Errorf("%v logged %q, want it to say %q", tt.err, out, tt.want)
		}
		if strings.Contains(out, token) || strings.Contains(out, "alice") {
			t.Errorf("%v logged the subject: %q", tt.err, out)
		}
	}
}
