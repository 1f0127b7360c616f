package wsmanager

import (
	"context"
	"fmt"
	"time"

	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/statemachine"
)

// reasonRefreshRefused is the close reason of a connection whose token
// refresh failed.
const reasonRefreshRefused = "token refresh refused"

// Identity returns the identity the connection was served with, as the
// latest Refresh left it: the one auth.WithIdentity put in the context
// given to Reserve or Serve (NewEndpoint puts the authenticated one there).
// It reports false for a connection served without one.
func (c *Connection) Identity() (auth.Identity, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ident == nil {
		return auth.Identity{}, false
	}
	return *c.ident, true
}

// setIdentity records id and arms the expiry its ExpiresAt calls for: at
// that time the connection closes with 1008 "token expired" (at once if it
// has passed). A zero ExpiresAt never expires.
func (c *Connection) setIdentity(id auth.Identity) {
	c.mu.Lock()
	c.ident = &id
	old := c.expiry
	c.expiry = nil
	if !id.ExpiresAt.IsZero() {
		c.expiry = time.AfterFunc(time.Until(id.ExpiresAt), c.expire)
	}
	c.mu.Unlock()
	if old != nil {
		old.Stop()
	}
}

// stopExpiry stops the expiry timer, if there is one.
func (c *Connection) stopExpiry() {
	c.mu.Lock()
	timer := c.expiry
	c.mu.Unlock()
	if timer != nil {
		timer.Stop()
	}
}

// expire closes a connection whose identity expired.
func (c *Connection) expire() {
	if c.requestClose(causeExpired, CodePolicyViolation, reasonExpired, nil) {
		c.m.f.stats.expiredCloses.Add(1)
	}
}

// Refresh re-authenticates the connection with a new token its client
// sent in band, through a (the same auth.Unified that authenticated the
// connection, typically), and moves its expiry to the new identity's:
// a client refreshes its token before it expires and keeps its
// connection, with nothing lost or reordered. Identity then returns the
// new identity; the handlers' context keeps the one the connection was
// served with.
//
// The new identity must be the same user's. An invalid token, an expired
// one, another user's, or an authenticator that cannot answer closes the
// connection at once with 1008 ("token refresh refused"), discarding what
// was queued, and Refresh returns why: the authenticator's error, or an
// error wrapping ErrInvalidUser for another user's token. It returns
// ErrClosed, and changes nothing, once the connection is closing. The
// token is never logged or kept.
func (c *Connection) Refresh(ctx context.Context, a *auth.Unified, token string) error {
	if c.State() >= statemachine.Closing {
		return ErrClosed
	}
	if a == nil {
		return fmt.Errorf("%w: Refresh: nil authenticator", ErrInvalidOptions)
	}
	id, err := a.Authenticate(ctx, token)
	if err == nil && id.UserID != c.m.uc.UserID {
		err = fmt.Errorf("%w: the refreshed token is another user's", ErrInvalidUser)
	}
	if err != nil {
		if c.requestClose(causeRefresh, CodePolicyViolation, reasonRefreshRefused, err) {
			c.m.f.stats.refreshFailures.Add(1)
		}
		return err
	}
	if c.State() >= statemachine.Closing {
		return ErrClosed
	}
	c.setIdentity(id)
	c.m.f.stats.refreshes.Add(1)
	return nil
}
