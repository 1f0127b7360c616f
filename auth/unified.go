package auth

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Stats are a Unified's counters, a snapshot taken by Unified.Stats. They
// count tokens but never hold one. The zero value is an unused Unified's.
//
// Their JSON form, for a health endpoint, has snake_case names and the
// breaker's state as text ("closed", "open", "half_open").
type Stats struct {
	Hits         uint64       `json:"hits"`          // answered from the cache
	Misses       uint64       `json:"misses"`        // not in the cache
	Shared       uint64       `json:"shared"`        // misses that joined another caller's backend call
	BackendCalls uint64       `json:"backend_calls"` // calls made to the backend
	Opens        uint64       `json:"opens"`         // times the breaker opened
	Refused      uint64       `json:"refused"`       // misses refused by the open breaker
	Breaker      BreakerState `json:"breaker"`
	Entries      int          `json:"entries"`    // tokens in the cache: identities and rejections
	Rejections   int          `json:"rejections"` // of Entries, rejected tokens (bounded by NegativeCacheSize)
	// Failures counts the authentications refused, by Kind, cached or
	// not.
	Failures FailureCounts `json:"failures"`
}

// FailureCounts counts refused authentications by why (see Kind). It is a
// plain value, safe to copy; the zero value counts none.
type FailureCounts struct {
	NoToken       uint64 `json:"no_token"`
	Expired       uint64 `json:"expired"`
	Malformed     uint64 `json:"malformed"`
	BadSignature  uint64 `json:"bad_signature"`
	WrongAudience uint64 `json:"wrong_audience"`
	NotYetValid   uint64 `json:"not_yet_valid"`
	Revoked       uint64 `json:"revoked"`
	Invalid       uint64 `json:"invalid"` // another ErrInvalidToken
	Unavailable   uint64 `json:"unavailable"`
}

// The kinds, in FailureCounts' field order.
const (
	kindNoToken = iota
	kindExpired
	kindMalformed
	kindBadSignature
	kindWrongAudience
	kindNotYetValid
	kindRevoked
	kindInvalid
	kindUnavailable
	numKinds
)

// kindIndex is Kind as an index of Unified.refusals; -1 for no kind.
func kindIndex(err error) int {
	switch Kind(err) {
	case "no_token":
		return kindNoToken
	case "expired":
		return kindExpired
	case "malformed":
		return kindMalformed
	case "bad_signature":
		return kindBadSignature
	case "wrong_audience":
		return kindWrongAudience
	case "not_yet_valid":
		return kindNotYetValid
	case "revoked":
		return kindRevoked
	case "invalid":
		return kindInvalid
	case "unavailable":
		return kindUnavailable
	}
	return -1
}

// Unified is the one authentication path: extract, cache, deduplicate,
// break. Create it with New.
//
// For each token, Authenticate first looks in a bounded LRU cache keyed by a
// keyed hash of the token (random keys per Unified; the token itself is
// never stored; the package documentation says why tokens cannot be made to
// collide). Identities and rejected tokens have separate budgets
// (CacheSize and NegativeCacheSize), so a flood of made-up tokens never
// evicts an identity. On a miss, concurrent callers with the same token share a
// single backend call, which runs detached from every caller under
// Options.Timeout: a caller whose context ends gets ctx.Err() at once, and
// the others still get the result. In front of the backend, a circuit breaker
// fails closed: while it is open, a token that is neither cached nor already
// being checked gets ErrUnavailable without a backend call, never an
// identity. The breaker guards the backend, not the cache: identities the
// backend confirmed before it opened are served until their TTL ends.
//
// A Unified is safe for concurrent use; its zero value is not usable. It owns
// the goroutines of in-flight backend calls; Close cancels and waits for them.
type Unified struct {
	backend Authenticator
	opts    Options
	keys    *keyer

	calls sync.WaitGroup // one per backend call under way

	closed atomic.Bool
	cache  *cache // has its own locks

	mu      sync.Mutex // guards flights and the breaker
	flights map[cacheKey]*flight
	brk     breaker
	// Counted under mu and read without it, so that Stats never waits for
	// an authentication nor makes one wait.
	misses  atomic.Uint64
	shared  atomic.Uint64
	started atomic.Uint64
	// refusals counts the errors returned, by Kind, in FailureCounts'
	// field order.
	refusals [numKinds]atomic.Uint64
}

// flight is one backend call shared by every concurrent caller of a token.
type flight struct {
	ctx    context.Context // the backend call's: Timeout, or Close
	cancel context.CancelFunc
	done   chan struct{} // closed when id and err are set
	ended  bool          // guarded by Unified.mu: id and err are set
	gen    uint64        // the breaker generation the call started in
	id     Identity
	err    error
}

// New returns a Unified over backend. It returns an error wrapping
// ErrInvalidOptions for a nil backend (a nil Func included) or invalid
// options.
func New(backend Authenticator, opts Options) (*Unified, error) {
	if f, ok := backend.(Func); backend == nil || ok && f == nil {
		return nil, fmt.Errorf("%w: nil backend", ErrInvalidOptions)
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	u := &Unified{
		backend: backend,
		opts:    opts,
		keys:    newKeyer(),
		cache:   newCache(opts.CacheSize, opts.NegativeCacheSize),
		flights: make(map[cacheKey]*flight),
		brk: breaker{
			failures: opts.Breaker.Failures,
			cooldown: opts.Breaker.Cooldown,
			now:      time.Now,
			logger:   opts.Logger,
		},
	}
	return u, nil
}

// Authenticate returns the identity of token.
//
// It returns an error wrapping ErrNoToken for an empty token,
// ErrInvalidToken for a malformed or rejected one, ErrExpired for an expired
// one, ErrUnavailable (with ErrClosed after Close) when the token could not be
// checked, and ctx.Err() when ctx ends first. No error contains the token or
// the backend's own error text; the backend's error stays reachable with
// errors.Is and errors.As.
func (u *Unified) Authenticate(ctx context.Context, token string) (Identity, error) {
	id, err := u.authenticate(ctx, token)
	if err != nil {
		u.failed(ctx, err)
	}
	return id, err
}

// failed counts a refusal by its Kind, names the kind in a Debug log line,
// and reports it to Options.OnFailure: every error of an authentication
// class, not the caller's own context ending.
func (u *Unified) failed(ctx context.Context, err error) {
	i := kindIndex(err)
	if i < 0 {
		return
	}
	u.refusals[i].Add(1)
	u.opts.Logger.Debug("auth: token refused", "kind", Kind(err))
	if u.opts.OnFailure != nil {
		u.opts.OnFailure(ctx, err)
	}
}

func (u *Unified) authenticate(ctx context.Context, token string) (Identity, error) {
	if token == "" {
		return Identity{}, ErrNoToken
	}
	if len(token) > u.opts.Extract.MaxLen {
		return Identity{}, &classError{class: ErrInvalidToken, detail: "token too long"}
	}
	k := u.keys.key(token)

	if u.closed.Load() {
		return Identity{}, closedError()
	}
	if id, err, ok := u.cache.get(k); ok {
		if err != nil {
			return Identity{}, err
		}
		return id.clone(), nil
	}
	u.mu.Lock()
	u.misses.Add(1)
	f, ok := u.flights[k]
	if ok {
		u.shared.Add(1)
	}
	u.mu.Unlock()

	if !ok {
		if err := checkToken(token, u.opts.Extract.MaxLen); err != nil {
			return Identity{}, err
		}
		if err := ctx.Err(); err != nil {
			return Identity{}, err
		}
		var err error
		if f, err = u.start(k, token); err != nil {
			return Identity{}, err
		}
	}

	select {
	case <-f.done:
	case <-ctx.Done():
		return Identity{}, ctx.Err()
	case <-f.ctx.Done():
		// Timeout or Close: end the flight now, even if the backend
		// ignores its context and has not returned.
		u.end(k, f, Identity{}, &classError{class: ErrUnavailable, detail: "backend timed out", cause: f.ctx.Err()})
		<-f.done
	}
	if f.err != nil {
		return Identity{}, f.err
	}
	return f.id.clone(), nil
}

// start joins the flight for k or starts one, unless the breaker refuses.
func (u *Unified) start(k cacheKey, token string) (*flight, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed.Load() {
		return nil, closedError()
	}
	if f, ok := u.flights[k]; ok { // started while this caller validated the token
		u.shared.Add(1)
		return f, nil
	}
	gen, ok := u.brk.allow()
	if !ok {
		return nil, &classError{class: ErrUnavailable, detail: "circuit breaker open"}
	}
	// The deadline does not derive from any caller's context, so that one
	// caller's cancellation fails no one else; Close cancels it.
	ctx, cancel := context.WithTimeout(context.Background(), u.opts.Timeout)
	f := &flight{ctx: ctx, cancel: cancel, done: make(chan struct{}), gen: gen}
	u.flights[k] = f
	u.started.Add(1)
	u.calls.Add(1)
	go u.run(k, token, f)
	return f, nil
}

// run performs the backend call of a flight.
func (u *Unified) run(k cacheKey, token string, f *flight) {
	defer u.calls.Done()
	defer f.cancel()
	id, err := u.call(f.ctx, token)
	u.end(k, f, id, err)
}

// call runs the backend, turning a panic into an error.
func (u *Unified) call(ctx context.Context, token string) (id Identity, err error) {
	defer func() {
		if p := recover(); p != nil {
			// The panic value may quote the token: log only the stack.
			u.opts.Logger.Error("auth: backend panicked", "stack", string(debug.Stack()))
			id, err = Identity{}, &classError{class: ErrUnavailable, detail: "backend panicked"}
		}
	}()
	return u.backend.Authenticate(ctx, token)
}

// end settles a flight once: by its backend call returning, or by a waiter
// seeing its deadline pass first. A result that comes after that is dropped.
func (u *Unified) end(k cacheKey, f *flight, id Identity, backendErr error) {
	now := time.Now()
	err := classify(backendErr)
	if err == nil {
		switch {
		case id.UserID == "":
			err = &classError{class: ErrInvalidToken, detail: "backend returned no user"}
		case !id.ExpiresAt.IsZero() && !now.Before(id.ExpiresAt):
			err = &classError{class: ErrExpired}
		}
	}
	unavailable := err != nil && HTTPStatus(err) == http.StatusServiceUnavailable

	u.mu.Lock()
	defer u.mu.Unlock()
	if f.ended {
		return
	}
	f.ended = true
	delete(u.flights, k) // f is k's flight until it ends: start adds none beside it
	switch {
	case err == nil:
		u.brk.success(f.gen)
		if u.opts.CacheTTL > 0 && !u.closed.Load() {
			ttl := u.opts.CacheTTL
			if !id.ExpiresAt.IsZero() {
				ttl = min(ttl, id.ExpiresAt.Sub(now))
			}
			u.cache.put(k, id.clone(), nil, ttl)
		}
	case unavailable:
		u.brk.failure(f.gen)
	default:
		u.brk.success(f.gen) // the backend answered: a rejection is not a failure
		if u.opts.NegativeTTL > 0 && !u.closed.Load() {
			// Cache the class alone: the backend's error may quote the token.
			u.cache.put(k, Identity{}, &classError{class: err.(*classError).class}, u.opts.NegativeTTL)
		}
	}
	if err != nil {
		id = Identity{}
	}
	f.id, f.err = id, err
	close(f.done)
}

// AuthenticateRequest extracts the request's token with Options.Extract and
// authenticates it under the request's context.
func (u *Unified) AuthenticateRequest(r *http.Request) (Identity, error) {
	token, _, err := u.opts.Extract.Token(r)
	if err != nil {
		u.failed(r.Context(), err)
		return Identity{}, err
	}
	return u.Authenticate(r.Context(), token)
}

// AuthenticateRequestWith is AuthenticateRequest with the Extractor x
// instead of Options.Extract: for an endpoint whose clients can send the
// token in only one way, such as a browser's EventSource, which sets no
// headers (wsmanager.NewSSEEndpoint allows the query string for its
// streams alone). Failures are counted as AuthenticateRequest counts them.
func (u *Unified) AuthenticateRequestWith(r *http.Request, x Extractor) (Identity, error) {
	token, _, err := x.Token(r)
	if err != nil {
		u.failed(r.Context(), err)
		return Identity{}, err
	}
	return u.Authenticate(r.Context(), token)
}

// Extractor returns the Extractor that AuthenticateRequest uses, with its
// defaults filled in.
func (u *Unified) Extractor() Extractor { return u.opts.Extract }

// Stats returns the counters. It reads atomics only, so a metrics scrape
// never waits for an authentication nor makes one wait; the fields are
// read one by one, not as one atomic snapshot.
func (u *Unified) Stats() Stats {
	hits, ids, rejected := u.cache.stats()
	return Stats{
		Hits:         hits,
		Misses:       u.misses.Load(),
		Shared:       u.shared.Load(),
		BackendCalls: u.started.Load(),
		Opens:        u.brk.opens.Load(),
		Refused:      u.brk.refused.Load(),
		Breaker:      u.brk.current(),
		Entries:      ids + rejected,
		Rejections:   rejected,
		Failures: FailureCounts{
			NoToken: u.refusals[kindNoToken].Load(), Expired: u.refusals[kindExpired].Load(),
			Malformed: u.refusals[kindMalformed].Load(), BadSignature: u.refusals[kindBadSignature].Load(),
			WrongAudience: u.refusals[kindWrongAudience].Load(), NotYetValid: u.refusals[kindNotYetValid].Load(),
			Revoked: u.refusals[kindRevoked].Load(), Invalid: u.refusals[kindInvalid].Load(),
			Unavailable: u.refusals[kindUnavailable].Load(),
		},
	}
}

// Close stops new authentications (they return ErrUnavailable and
// ErrClosed), cancels in-flight backend calls and waits for their goroutines,
// or returns ctx.Err() if ctx ends first. It is idempotent.
func (u *Unified) Close(ctx context.Context) error {
	u.mu.Lock() // after this, start sees closed and adds no backend call
	u.closed.Store(true)
	for _, f := range u.flights {
		f.cancel()
	}
	u.mu.Unlock()
	u.cache.clear()
	done := make(chan struct{})
	go func() { // ends when the last backend call returns
		u.calls.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func closedError() error {
	return &classError{class: ErrUnavailable, detail: "authenticator closed", cause: ErrClosed}
}

var _ Authenticator = (*Unified)(nil)
