package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/contrib/gobwasws"
	"github.com/ssotkit/ssot/wsmanager"
)

// shutdownGrace bounds each step of the shutdown after the drain: the HTTP
// server's, the Factory's and the Log's.
const shutdownGrace = 10 * time.Second

// run serves the node until ctx ends, then drains it and shuts it down.
func run(ctx context.Context, cfg config, stdout io.Writer, logger *slog.Logger) error {
	l, err := openLog(cfg, logger)
	if err != nil {
		return err
	}
	f, err := wsmanager.NewFactory(wsmanager.Options{Broker: l, History: wsmanager.HistoryOptions{Messages: 1}, Logger: logger})
	if err != nil {
		return errors.Join(err, closeLog(l))
	}
	srv, ln, err := listen(cfg, f, logger)
	if err != nil {
		return errors.Join(err, closeFactory(f), closeLog(l))
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "listening %s\n", ln.Addr())

	select {
	case <-ctx.Done():
	case err := <-served:
		// The server stopped by itself: shut down all the same.
		return errors.Join(fmt.Errorf("serving: %w", err), closeFactory(f), closeLog(l))
	}
	// The connections leave paced, for the other nodes; the drain is
	// bounded by its duration and a grace for the last batch's closes.
	drainCtx, cancel := context.WithTimeout(context.Background(), cfg.drain+shutdownGrace)
	defer cancel()
	drainErr := f.Drain(drainCtx, wsmanager.DrainOptions{Duration: cfg.drain, Interval: cfg.drainInterval})
	if drainErr != nil {
		drainErr = fmt.Errorf("drain: %w", drainErr)
	}
	shutCtx, cancelShut := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancelShut()
	shutErr := srv.Shutdown(shutCtx)
	if shutErr != nil {
		shutErr = fmt.Errorf("http shutdown: %w", shutErr)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		shutErr = errors.Join(shutErr, fmt.Errorf("serving: %w", err))
	}
	return errors.Join(drainErr, shutErr, closeFactory(f), closeLog(l))
}

// listen builds the node's HTTP server: the WebSocket endpoint on /ws.
func listen(cfg config, f *wsmanager.Factory, logger *slog.Logger) (*http.Server, net.Listener, error) {
	a, err := auth.New(auth.Func(func(_ context.Context, token string) (auth.Identity, error) {
		return auth.Identity{UserID: token}, nil
	}), auth.Options{Logger: logger})
	if err != nil {
		return nil, nil, err
	}
	up, err := gobwasws.NewUpgrader(gobwasws.Options{})
	if err != nil {
		return nil, nil, err
	}
	// The clients only read; what they send is dropped.
	ignore := wsmanager.HandlerFunc(func(context.Context, *wsmanager.Connection, []byte) error { return nil })
	ws, err := wsmanager.NewEndpoint(f, a, up, ignore, wsmanager.EndpointOptions{Detach: true})
	if err != nil {
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", ws)
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return nil, nil, err
	}
	return &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}, ln, nil
}

func closeFactory(f *wsmanager.Factory) error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := f.Close(ctx); err != nil {
		return fmt.Errorf("factory close: %w", err)
	}
	return nil
}
