package wsmanager_test

import (
	"context"
	"errors"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ssotkit/ssot/internal/testkit/memconn"
	"github.com/ssotkit/ssot/statemachine"
	"github.com/ssotkit/ssot/wsmanager"
)

// TestReservationIsReachableBeforeItsTransport: from Reserve on, the
// connection counts for every kind of send, and what was queued is written
// first, in order, once Serve gives it a transport.
func TestReservationIsReachableBeforeItsTransport(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wsmanager.Options{})
	ctx := context.Background()
	uc := wsmanager.UserContext{UserID: "alice", ThreadID: "t"}
	r, err := h.f.Reserve(ctx, uc)
	if err != nil {
		t.Fatal(err)
	}
	if st := r.Connection().Machine().State(); st != statemachine.Connecting {
		t.Fatalf("reserved connection in %v, want connecting", st)
	}
	if err := r.Connection().Send(ctx, []byte("1 welcome")); err != nil {
		t.Fatal(err)
	}
	if n, err := h.f.SendToUser(ctx, "alice", []byte("2 direct")); n != 1 || err != nil {
		t.Fatalf("SendToUser = %d, %v", n, err)
	}
	if n := h.f.Broadcast(ctx, []byte("3 everyone"), nil); n != 1 {
		t.Fatalf("Broadcast reached %d", n)
	}

	peer := memconn.New(memconn.Options{})
	errc := make(chan error, 1)
	go func() { errc <- r.Serve(peer, echo()) }()
	wctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	if n := peer.WaitWritten(wctx, 3); n != 3 {
		t.Fatalf("%d messages written, want 3", n)
	}
	var got []string
	for _, m := range peer.Written() {
		got = append(got, string(m))
	}
	if diff := cmp.Diff([]string{"1 welcome", "2 direct", "3 everyone"}, got); diff != "" {
		t.Errorf("written (-want +got):\n%s", diff)
	}
	peer.PeerClose()
	if err := <-errc; err != nil {
		t.Errorf("Serve = %v, want nil after the peer closed", err)
	}
	if err := r.Serve(memconn.New(memconn.Options{}), echo()); !errors.Is(err, wsmanager.ErrClosed) {
		t.Errorf("second Serve = %v, want ErrClosed", err)
	}
}

// TestReservationRelease: a released reservation leaves nothing registered,
// ends in Failed, and cannot be served afterwards.
func TestReservationRelease(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wsmanager.Options{MaxConnsPerManager: 1})
	ctx := context.Background()
	uc := wsmanager.UserContext{UserID: "alice"}
	r, err := h.f.Reserve(ctx, uc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.f.Reserve(ctx, uc); !errors.Is(err, wsmanager.ErrConnLimit) {
		t.Fatalf("second reservation = %v, want ErrConnLimit: a reservation holds its place", err)
	}
	if err := r.Connection().Send(ctx, []byte("never written")); err != nil {
		t.Fatal(err)
	}
	r.Release()
	r.Release()
	if st := r.Connection().Machine().State(); st != statemachine.Failed {
		t.Errorf("released connection in %v, want failed", st)
	}
	if st := h.f.Stats(); st.ConnsActive != 0 || st.ConnsRemoved != 1 {
		t.Errorf("stats %+v, want the reservation removed", st)
	}
	if n, _ := h.f.SendToUser(ctx, "alice", []byte("x")); n != 0 {
		t.Errorf("SendToUser reached %d connections after Release", n)
	}
	peer := memconn.New(memconn.Options{})
	if err := r.Serve(peer, echo()); !errors.Is(err, wsmanager.ErrClosed) {
		t.Errorf("Serve after Release = %v, want ErrClosed", err)
	}
	if code, _, ok := peer.Closed(); !ok || code != 1001 {
		t.Errorf("transport closed with %d (%v), want 1001", code, ok)
	}
	if w := peer.Count(); w != 0 {
		t.Errorf("%d messages written after Release", w)
	}
	// The place is free again.
	r2, err := h.f.Reserve(ctx, uc)
	if err != nil {
		t.Fatalf("reserving after Release: %v", err)
	}
	r2.Release()
}

// TestReserveRefusals: Reserve reports every refusal with its sentinel and
// leaves nothing registered.
func TestReserveRefusals(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wsmanager.Options{MaxManagersPerUser: 1})
	ctx := context.Background()
	if _, err := h.f.Reserve(ctx, wsmanager.UserContext{}); !errors.Is(err, wsmanager.ErrInvalidUser) {
		t.Errorf("empty user = %v, want ErrInvalidUser", err)
	}
	r, err := h.f.Reserve(ctx, wsmanager.UserContext{UserID: "bob", ThreadID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	if _, err := h.f.Reserve(ctx, wsmanager.UserContext{UserID: "bob", ThreadID: "b"}); !errors.Is(err, wsmanager.ErrUserLimit) {
		t.Errorf("second thread = %v, want ErrUserLimit", err)
	}
	if st := h.f.Stats(); st.ConnsActive != 1 {
		t.Errorf("%d connections registered, want only the one reservation", st.ConnsActive)
	}
}

// TestReservationServeWithoutTransport: Serve with a nil Conn is an
// options error that also releases the reservation.
func TestReservationServeWithoutTransport(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wsmanager.Options{})
	r, err := h.f.Reserve(context.Background(), wsmanager.UserContext{UserID: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Serve(nil, echo()); !errors.Is(err, wsmanager.ErrInvalidOptions) {
		t.Errorf("Serve(nil) = %v, want ErrInvalidOptions", err)
	}
	if st := h.f.Stats(); st.ConnsActive != 0 {
		t.Errorf("%d connections left registered", st.ConnsActive)
	}
	// The reservation has ended: a later Serve, even with a nil handler,
	// is refused as such and closes its transport with 1001.
	peer := memconn.New(memconn.Options{})
	if err := r.Serve(peer, nil); !errors.Is(err, wsmanager.ErrClosed) {
		t.Errorf("Serve on an ended reservation = %v, want ErrClosed", err)
	}
	if code, _, ok := peer.Closed(); !ok || code != 1001 {
		t.Errorf("transport closed with %d (%v), want 1001", code, ok)
	}
}

// TestFactoryCloseEndsReservations: Factory.Close waits for an outstanding
// reservation, and serving it then closes the transport with 1001 at once.
func TestFactoryCloseEndsReservations(t *testing.T) {
	t.Parallel()
	h := newHarness(t, wsmanager.Options{})
	r, err := h.f.Reserve(context.Background(), wsmanager.UserContext{UserID: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- h.f.Close(context.Background()) }()
	// Close has begun once the Factory refuses new Managers; it then waits
	// for the reservation.
	for {
		if _, err := h.f.Manager(wsmanager.UserContext{UserID: "bob"}); errors.Is(err, wsmanager.ErrClosed) {
			break
		}
		runtime.Gosched()
	}
	select {
	case err := <-closed:
		t.Fatalf("Factory.Close returned %v before the reservation ended", err)
	default:
	}
	peer := memconn.New(memconn.Options{})
	if err := r.Serve(peer, echo()); !errors.Is(err, wsmanager.ErrClosed) {
		t.Errorf("Serve during Close = %v, want ErrClosed", err)
	}
	if code, _, ok := peer.Closed(); !ok || code != 1001 {
		t.Errorf("transport closed with %d (%v), want 1001", code, ok)
	}
	if err := <-closed; err != nil {
		t.Errorf("Factory.Close = %v", err)
	}
}
