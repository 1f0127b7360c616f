package brokertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssotkit/ssot/internal/testkit/memconn"
	"github.com/ssotkit/ssot/wsmanager"
)

// waitLimit bounds every wait of the Log checks, so that a broken Log fails
// a test instead of hanging it. It is generous: on a loaded 2-core machine,
// a Redis Cluster's six processes share the cores with every test of the
// module running in parallel.
const waitLimit = 30 * time.Second

// Client plays a browser tab that keeps its position, as wsmanager
// documents for PrefixFrame: it splits every message at its first space
// and takes a message without one for a reset.
type Client struct {
	Pos    wsmanager.Position
	Got    []string
	Resets int
}

// Take reads what a connection of the client was written.
func (cl *Client) Take(written [][]byte) error {
	for _, m := range written {
		posText, payload, ok := bytes.Cut(m, []byte(" "))
		pos, err := wsmanager.ParsePosition(string(posText))
		if err != nil {
			return fmt.Errorf("message %q: %w", m, err)
		}
		if ok {
			cl.Got = append(cl.Got, string(payload))
		} else {
			cl.Resets++
		}
		cl.Pos = pos
	}
	return nil
}

// Session is one connection of a Client, served in memory by a Factory.
type Session struct {
	Peer  *memconn.Conn
	ended chan struct{} // closed when Serve has returned
}

// Resume reserves a connection for uc on f that resumes after after, and
// serves it.
func Resume(f *wsmanager.Factory, uc wsmanager.UserContext, after wsmanager.Position) (*Session, error) {
	res, err := f.ReserveResume(context.Background(), uc, after)
	if err != nil {
		return nil, err
	}
	s := &Session{Peer: memconn.New(memconn.Options{}), ended: make(chan struct{})}
	go func() {
		defer close(s.ended)
		_ = res.Serve(s.Peer, wsmanager.HandlerFunc(func(context.Context, *wsmanager.Connection, []byte) error { return nil }))
	}()
	return s, nil
}

// Wait waits until n messages were written to the session, or it was
// closed, and reports whether either happened in time.
func (s *Session) Wait(n int) bool {
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	s.Peer.WaitWritten(ctx, n)
	_, _, closed := s.Peer.Closed()
	return closed || s.Peer.Count() >= n
}

// Leave closes the session as a tab that goes away would, unless the
// server closed it already, waits until Serve has returned, and returns
// what the session was written.
func (s *Session) Leave() ([][]byte, error) {
	s.Peer.PeerCloseCode(1001, "tab closed")
	select {
	case <-s.ended:
		return s.Peer.Written(), nil
	case <-time.After(waitLimit):
		return nil, errors.New("the connection was still served after the peer left")
	}
}

// LogCluster is three Factories, each with wsmanager.Options.History,
// sharing one wsmanager.Log through three connections to the broker
// server.
type LogCluster struct {
	Nodes [3]*wsmanager.Factory
	// Kill ends Nodes[0] abruptly: its connection to the broker server
	// first, so that whatever was on its way to the node is lost, then its
	// Factory, which closes its clients' connections.
	Kill func()
}

// ResumeAcrossNodes checks what a wsmanager.Log promises a cluster. Six
// users have a client each; Nodes[2] sends total messages to every user
// all along. The clients of three users stay on Nodes[0] until it is
// killed, halfway through the sending, and then resume on the other nodes
// with their positions; the clients of the other three drop and resume
// over and over, on every node still up. Every client gets every message
// of its user exactly once, in order, and no reset but the one a first
// connection gets.
func ResumeAcrossNodes(t *testing.T, c LogCluster, total int) {
	t.Helper()
	const users = 6
	var killed atomic.Bool
	killDone := make(chan struct{})
	sent := make(chan struct{})
	errs := make(chan error, users+1)
	// The clients' first connections start at the stream's head: the
	// sending starts once they all have one.
	var joined sync.WaitGroup
	joined.Add(users)
	go func() {
		defer close(sent)
		joined.Wait()
		for i := range total {
			if i == total/2 {
				killed.Store(true)
				go func() {
					defer close(killDone)
					c.Kill()
				}()
			}
			for u := range users {
				if _, err := c.Nodes[2].SendToUser(context.Background(), "user-"+strconv.Itoa(u), []byte(strconv.Itoa(i))); err != nil {
					errs <- fmt.Errorf("SendToUser %d to user-%d: %w", i, u, err)
					return
				}
			}
		}
	}()
	clients := make([]*Client, users)
	var wg sync.WaitGroup
	for u := range users {
		clients[u] = &Client{}
		wg.Go(func() {
			if err := runClient(c, clients[u], u, total, &killed, joined.Done); err != nil {
				errs <- fmt.Errorf("user-%d: %w", u, err)
			}
		})
	}
	wg.Wait()
	<-sent
	<-killDone
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	for u, cl := range clients {
		for i, got := range cl.Got {
			if got != strconv.Itoa(i) {
				t.Fatalf("user-%d: message %d is %q: a gap, a duplicate or a reorder (%d messages)", u, i, got, len(cl.Got))
			}
		}
		if len(cl.Got) != total || cl.Resets != 1 {
			t.Errorf("user-%d: %d messages and %d resets, want %d and 1", u, len(cl.Got), cl.Resets, total)
		}
	}
	var replayed uint64
	for i, n := range c.Nodes[1:] {
		st := n.Stats()
		if st.ResumeResets != 0 || st.BrokerErrors != 0 || st.BrokerRejected != 0 || st.BrokerMalformed != 0 {
			t.Errorf("node %d: %d resets, %d broker errors, %d rejected, %d malformed; want none", i+1, st.ResumeResets, st.BrokerErrors, st.BrokerRejected, st.BrokerMalformed)
		}
		replayed += st.MessagesReplayed
	}
	// The clients of the killed node resumed on the others, from positions
	// behind what the sender had sent by then.
	if replayed == 0 {
		t.Error("no message was replayed: the resumes were not put to the test")
	}
}

// runClient plays the client of user-u until it has total messages,
// calling joined once its first connection is registered.
func runClient(c LogCluster, cl *Client, u, total int, killed *atomic.Bool, joined func()) error {
	uc := wsmanager.UserContext{UserID: "user-" + strconv.Itoa(u)}
	home := u % 2
	for round := 0; len(cl.Got) < total; round++ {
		live := []int{1, 2}
		if !killed.Load() {
			live = []int{0, 1, 2}
		}
		node := live[(home+round)%len(live)]
		if round == 0 {
			node = home
		}
		s, err := Resume(c.Nodes[node], uc, cl.Pos)
		if round == 0 {
			joined()
		}
		if errors.Is(err, wsmanager.ErrClosed) && node == 0 && round > 0 {
			continue // killed meanwhile: another node
		}
		if err != nil {
			return fmt.Errorf("round %d on node %d: %w", round, node, err)
		}
		switch {
		case home == 0 && round == 0:
			// Until the kill closes it: these clients reconnect only then.
			select {
			case <-s.Peer.Done():
			case <-time.After(6 * waitLimit):
				return errors.New("the first node was never killed")
			}
		default:
			want := min(1+(round*7)%40, total-len(cl.Got))
			if round == 0 {
				want++ // the reset frame
			}
			if !s.Wait(want) {
				gap := len(cl.Got)
				for i, g := range cl.Got {
					if g != strconv.Itoa(i) {
						gap = i
						break
					}
				}
				return fmt.Errorf("round %d on node %d after %v: %d of %d messages (at %d of %d, from %v, first gap at %d: %q): %q", round, node, waitLimit, s.Peer.Count(), want, len(cl.Got), total, cl.Pos, gap, cl.Got[max(gap-2, 0):min(gap+2, len(cl.Got))], s.Peer.Written())
			}
		}
		written, err := s.Leave()
		if err != nil {
			return err
		}
		if err := cl.Take(written); err != nil {
			return err
		}
	}
	return nil
}
