package wsmanager_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ssotkit/ssot/internal/testkit/memconn"
	"github.com/ssotkit/ssot/wsmanager"
)

// fakeRouter is an in-memory wsmanager.Router: Publish reaches only the
// nodes whose Interest holds the user, as a subject or channel per user
// does at a real broker, and it counts what each node received.
type fakeRouter struct {
	mu    sync.Mutex
	nodes []*fakeInterest
	// addGate, if not nil, is received from before an Add takes effect;
	// addErr, if set, is what Add returns instead.
	addGate chan struct{}
	addErr  error
}

type fakeInterest struct {
	r        *fakeRouter
	deliver  func(string, []byte)
	users    map[string]bool
	received atomic.Int64
	adds     atomic.Int64
	closed   bool
}

func (r *fakeRouter) Publish(_ context.Context, userID string, msg []byte) error {
	r.mu.Lock()
	var to []*fakeInterest
	for _, in := range r.nodes {
		if in.users[userID] && !in.closed {
			to = append(to, in)
		}
	}
	r.mu.Unlock()
	for _, in := range to {
		in.received.Add(1)
		in.deliver(userID, bytes.Clone(msg))
	}
	return nil
}

func (r *fakeRouter) Subscribe(func(string, []byte)) (func() error, error) {
	return nil, errors.New("a Router's Factory must not call Subscribe")
}

func (r *fakeRouter) SubscribeUsers(deliver func(string, []byte)) (wsmanager.Interest, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	in := &fakeInterest{r: r, deliver: deliver, users: map[string]bool{}}
	r.nodes = append(r.nodes, in)
	return in, nil
}

func (in *fakeInterest) Add(ctx context.Context, userID string) error {
	in.r.mu.Lock()
	gate, err := in.r.addGate, in.r.addErr
	in.r.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err != nil {
		return err
	}
	in.r.mu.Lock()
	defer in.r.mu.Unlock()
	if in.users[userID] {
		return fmt.Errorf("%q added twice", userID)
	}
	in.users[userID] = true
	in.adds.Add(1)
	return nil
}

func (in *fakeInterest) Remove(userID string) error {
	in.r.mu.Lock()
	defer in.r.mu.Unlock()
	if !in.users[userID] {
		return fmt.Errorf("%q removed while not added", userID)
	}
	delete(in.users, userID)
	return nil
}

func (in *fakeInterest) Close() error {
	in.r.mu.Lock()
	defer in.r.mu.Unlock()
	in.closed = true
	clear(in.users)
	return nil
}

// held returns the users the node is subscribed to, sorted.
func (in *fakeInterest) held() []string {
	in.r.mu.Lock()
	defer in.r.mu.Unlock()
	var users []string
	for u := range in.users {
		users = append(users, u)
	}
	slices.Sort(users)
	return users
}

var _ wsmanager.Router = (*fakeRouter)(nil)

// TestRouterNodeReceivesOnlyItsUsers: with a Router, each node is
// subscribed to exactly the users it holds a Manager for, so a message to a
// user reaches the nodes of that user's connections and no other.
func TestRouterNodeReceivesOnlyItsUsers(t *testing.T) {
	t.Parallel()
	r := &fakeRouter{}
	a := newHarness(t, wsmanager.Options{Broker: r})
	b := newHarness(t, wsmanager.Options{Broker: r})
	c := newHarness(t, wsmanager.Options{Broker: r})
	ctx := context.Background()
	alice := a.serve(t, ctx, wsmanager.UserContext{UserID: "alice"}, echo())
	bob := b.serve(t, ctx, wsmanager.UserContext{UserID: "bob"}, echo())
	alice.ready(t)
	bob.ready(t)
	const sent = 100
	for i := range sent {
		if _, err := c.f.SendToUser(ctx, "alice", fmt.Appendf(nil, "%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := alice.peer.WaitWritten(ctxTimeout(t), sent); got != sent {
		t.Fatalf("alice got %d of %d", got, sent)
	}
	nodes := r.nodes
	if got := []int64{nodes[0].received.Load(), nodes[1].received.Load(), nodes[2].received.Load()}; !slices.Equal(got, []int64{sent, 0, 0}) {
		t.Errorf("received per node %v, want [%d 0 0]: only alice's node receives her messages", got, sent)
	}
	if got := nodes[0].held(); !slices.Equal(got, []string{"alice"}) {
		t.Errorf("node a subscribed to %v, want [alice]", got)
	}
	if got := nodes[2].held(); len(got) != 0 {
		t.Errorf("node c, which holds nobody, subscribed to %v", got)
	}

	// The last Manager of a user gone, the node unsubscribes.
	m, _ := a.f.Lookup(wsmanager.UserContext{UserID: "alice"})
	if err := m.Close(wsmanager.CodeNormal, "bye"); err != nil {
		t.Fatal(err)
	}
	if got := nodes[0].held(); len(got) != 0 {
		t.Errorf("node a still subscribed to %v after alice's last Manager closed", got)
	}
}

// TestRouterSubscribesBeforeRegistering: Reserve returns only once the
// broker has the user's subscription, so no message published after a
// connection is registered can miss it.
func TestRouterSubscribesBeforeRegistering(t *testing.T) {
	t.Parallel()
	r := &fakeRouter{addGate: make(chan struct{})}
	a := newHarness(t, wsmanager.Options{Broker: r})
	sender := newHarness(t, wsmanager.Options{Broker: r})
	ctx := context.Background()
	reserved := make(chan *wsmanager.Reservation, 1)
	go func() {
		res, err := a.f.Reserve(ctx, wsmanager.UserContext{UserID: "u"})
		if err != nil {
			t.Error(err)
		}
		reserved <- res
	}()
	select {
	case <-reserved:
		t.Fatal("Reserve returned before the broker had the subscription")
	case <-time.After(50 * time.Millisecond):
	}
	close(r.addGate)
	res := <-reserved
	if res == nil {
		t.FailNow()
	}
	defer res.Release()
	if _, err := sender.f.SendToUser(ctx, "u", []byte("right after")); err != nil {
		t.Fatal(err)
	}
	if got := res.Connection().Pending(); got != 1 {
		t.Errorf("pending %d, want 1: the message published right after Reserve", got)
	}
}

// TestRouterFailedAddRefusesAndRetries: a subscription the broker refuses
// refuses the connection with ErrBroker, and the user's next connection
// asks again.
func TestRouterFailedAddRefusesAndRetries(t *testing.T) {
	t.Parallel()
	r := &fakeRouter{addErr: errors.New("broker down")}
	a := newHarness(t, wsmanager.Options{Broker: r})
	ctx := context.Background()
	uc := wsmanager.UserContext{UserID: "u"}
	if _, err := a.f.Reserve(ctx, uc); !errors.Is(err, wsmanager.ErrBroker) {
		t.Fatalf("Reserve with the subscription refused = %v, want ErrBroker", err)
	}
	peer := memconn.New(memconn.Options{})
	if err := a.f.Serve(ctx, uc, peer, echo()); !errors.Is(err, wsmanager.ErrBroker) {
		t.Fatalf("Serve with the subscription refused = %v, want ErrBroker", err)
	}
	if code, _, _ := peer.Closed(); code != wsmanager.CodeTryAgainLater {
		t.Errorf("refused transport closed with %d, want 1013: try again later", code)
	}
	if got := a.f.Stats().BrokerErrors; got != 2 {
		t.Errorf("BrokerErrors %d, want 2", got)
	}
	r.mu.Lock()
	r.addErr = nil
	r.mu.Unlock()
	res, err := a.f.Reserve(ctx, uc)
	if err != nil {
		t.Fatalf("Reserve once the broker is back: %v", err)
	}
	defer res.Release()
	if got := r.nodes[0].held(); !slices.Equal(got, []string{"u"}) {
		t.Errorf("subscribed to %v, want [u]", got)
	}
}

// TestRouterRacingRegistrationsAndRemovals: registrations racing the
// removal of the user's Managers never leave a connection registered
// without the subscription, nor a subscription without a Manager.
func TestRouterRacingRegistrationsAndRemovals(t *testing.T) {
	t.Parallel()
	r := &fakeRouter{}
	a := newHarness(t, wsmanager.Options{Broker: r})
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			uc := wsmanager.UserContext{UserID: "u", ThreadID: fmt.Sprint(g % 2)}
			for range 200 {
				res, err := a.f.Reserve(ctx, uc)
				if err != nil {
					continue // ErrClosed: a racing Manager.Close won
				}
				res.Release()
				if m, ok := a.f.Lookup(uc); ok {
					_ = m.Close(wsmanager.CodeNormal, "")
				}
			}
		})
	}
	wg.Wait()
	in := r.nodes[0]
	if _, held := a.f.Lookup(wsmanager.UserContext{UserID: "u", ThreadID: "0"}); held {
		t.Fatal("a Manager is left: the test closes every one")
	}
	if _, held := a.f.Lookup(wsmanager.UserContext{UserID: "u", ThreadID: "1"}); held {
		t.Fatal("a Manager is left: the test closes every one")
	}
	if got := in.held(); len(got) != 0 {
		t.Errorf("subscribed to %v with no Manager left", got)
	}
	res, err := a.f.Reserve(ctx, wsmanager.UserContext{UserID: "u"})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Release()
	if got := in.held(); !slices.Equal(got, []string{"u"}) {
		t.Errorf("subscribed to %v with a connection registered, want [u]", got)
	}
}

// TestRouterJanitorUnsubscribesIdleUsers: the Manager the janitor removes
// after IdleTimeout takes the user's subscription with it.
func TestRouterJanitorUnsubscribesIdleUsers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &fakeRouter{}
		f, err := wsmanager.NewFactory(wsmanager.Options{Broker: r, IdleTimeout: time.Minute, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close(context.Background())
		res, err := f.Reserve(context.Background(), wsmanager.UserContext{UserID: "u"})
		if err != nil {
			t.Fatal(err)
		}
		res.Release()
		time.Sleep(30 * time.Second)
		if got := r.nodes[0].held(); !slices.Equal(got, []string{"u"}) {
			t.Errorf("subscribed to %v half an IdleTimeout after the last connection, want [u]", got)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := r.nodes[0].held(); len(got) != 0 {
			t.Errorf("subscribed to %v after the janitor removed the idle Manager", got)
		}
	})
}

// ctxTimeout is a context that ends with the test's wait bound.
func ctxTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}
