package ssot

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/wsmanager"
)

// Shutdown stops a service built on the golden path, in the one order in
// which nothing arrives at a closed part and nothing is left running:
//
//  1. srv.Shutdown closes the listeners, so no request or WebSocket
//     arrives any more, and waits for the plain HTTP requests in flight.
//     It does not wait for WebSockets: net/http forgets a connection once
//     it is hijacked.
//  2. f.Close closes every WebSocket with 1001 (going away), after what was
//     queued for it, and waits for their goroutines and the factory's.
//     Before step 1 it would refuse upgrades still arriving.
//  3. a.Close cancels the backend calls in flight and waits for them. Last,
//     because requests and connection handlers may authenticate until the
//     steps before have waited for them.
//
// ctx bounds all three: each step is given it, and one that runs out of
// time still starts the next, so that everything is closed even when not
// everything was waited for. Shutdown returns every step's error, joined
// and each naming its step. A nil srv, f or a is skipped, for a service
// that has no such part.
func Shutdown(ctx context.Context, srv *http.Server, f *wsmanager.Factory, a *auth.Unified) error {
	var errs []error
	if srv != nil {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("ssot: shutting down the HTTP server: %w", err))
		}
	}
	if f != nil {
		if err := f.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("ssot: closing the WebSocket factory: %w", err))
		}
	}
	if a != nil {
		if err := a.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("ssot: closing the authenticator: %w", err))
		}
	}
	return errors.Join(errs...)
}
