// Package testlog captures log output for tests that check what a package
// logs, and what it never logs (tokens, secrets).
package testlog

import (
	"bytes"
	"log/slog"
	"sync"
)

// Buffer holds everything written to it. It is safe for concurrent use, so
// a logger writing from background goroutines can share it with the test.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// New returns a text logger at Debug level, so that every record is kept,
// and the Buffer it writes to.
func New() (*slog.Logger, *Buffer) {
	b := &Buffer{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}
