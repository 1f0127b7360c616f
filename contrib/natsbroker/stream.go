package natsbroker

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultMessagesPerUser is LogOptions.MessagesPerUser's default.
const DefaultMessagesPerUser = 1000

// DefaultLogBytes is LogOptions.MaxBytes' default: 1 GiB.
const DefaultLogBytes = 1 << 30

// threadHeader carries a message's thread ID, base64url-encoded so that no
// thread ID is changed by the header's encoding (which trims white space);
// a message for all of the user's connections has none.
const threadHeader = "Ssot-Thread"

// setupTimeout bounds the JetStream requests a Log makes outside any
// caller's context: creating the stream and the node's consumer.
const setupTimeout = 10 * time.Second

// logToken is the subject token, after the prefix, under which the stream's
// subjects lie: "<prefix>.log.<base64url(userID)>", apart from the
// "<prefix>.<base64url(userID)>" subjects of Publish.
const logToken = "log"

// liveToken is the subject token, after the prefix, under which JetStream
// republishes each message it stores: "<prefix>.live.<base64url(userID)>",
// outside the stream's subjects.
const liveToken = "live"

// streamName returns LogOptions.Stream, or the prefix with every character
// a stream name cannot hold replaced by '_'.
func streamName(opts LogOptions) string {
	if opts.Stream != "" {
		return opts.Stream
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, prefixOrDefault(opts.Prefix))
}

// validStreamName reports whether name is a JetStream stream name: printable,
// with no white space, '.', '*', '>', '/' or '\', and not too long to be a
// token of the API subjects and a file name on the servers.
func validStreamName(name string) bool {
	if name == "" || len(name) > 255 {
		return false
	}
	for _, r := range name {
		if r <= ' ' || r == 0x7f || strings.ContainsRune(".*>/\\", r) {
			return false
		}
	}
	return true
}

// streamConfig maps the options onto the configuration of the stream for
// the subject prefix.
func streamConfig(opts LogOptions, name, prefix string) jetstream.StreamConfig {
	cfg := jetstream.StreamConfig{
		Name:        name,
		Description: "wsmanager history: one subject per user",
		Subjects:    []string{prefix + "." + logToken + ".*"},
		// Each message, once stored, on its user's live subject.
		RePublish: &jetstream.RePublish{
			Source:      prefix + "." + logToken + ".*",
			Destination: prefix + "." + liveToken + ".{{wildcard(1)}}",
		},
		Retention:         jetstream.LimitsPolicy,
		Discard:           jetstream.DiscardOld,
		MaxMsgsPerSubject: int64(opts.MessagesPerUser),
		MaxBytes:          opts.MaxBytes,
		MaxAge:            opts.MaxAge,
		Replicas:          max(opts.Replicas, 1),
		Storage:           jetstream.FileStorage,
	}
	if cfg.MaxMsgsPerSubject == 0 {
		cfg.MaxMsgsPerSubject = DefaultMessagesPerUser
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultLogBytes
	}
	if opts.Memory {
		cfg.Storage = jetstream.MemoryStorage
	}
	return cfg
}

// epochOf names the history of the stream info describes: its creation
// time, which the servers keep with the stream (across restarts, and the
// same on every replica), and which a stream deleted and created again
// does not share.
func epochOf(info *jetstream.StreamInfo) (uint64, error) {
	ns := info.Created.UnixNano()
	if info.Created.IsZero() || ns <= 0 {
		return 0, fmt.Errorf("natsbroker: stream %q reports no creation time", info.Config.Name)
	}
	return uint64(ns), nil
}

// setThread records threadID on m.
func setThread(m *nats.Msg, threadID string) {
	if threadID != "" {
		m.Header = nats.Header{threadHeader: []string{base64.RawURLEncoding.EncodeToString([]byte(threadID))}}
	}
}

// threadOf returns the thread ID setThread recorded on a message with
// headers h; it reports false for a header setThread did not write.
func threadOf(h nats.Header) (string, bool) {
	v, ok := h[threadHeader]
	switch {
	case !ok:
		return "", true
	case len(v) != 1 || v[0] == "":
		return "", false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(v[0])
	if err != nil || len(b) > MaxUserIDLen {
		return "", false
	}
	return string(b), true
}
