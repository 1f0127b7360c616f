package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/ssotkit/ssot/auth"
	"github.com/ssotkit/ssot/wsmanager"
)

// maxText is the longest chat message, in characters.
const maxText = 2000

// validRoom restricts room names to something safe to show and log: 1 to
// 32 lower-case letters, digits and dashes, not starting with a dash.
func validRoom(s string) bool {
	if len(s) == 0 || len(s) > 32 || s[0] == '-' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// defaultRoom is the room of a connection that names none.
const defaultRoom = "lobby"

// inbound is a message a client sends.
type inbound struct {
	Type  string `json:"type"` // "say", "dm" or "refresh"
	To    string `json:"to,omitempty"`
	Text  string `json:"text"`
	Token string `json:"token,omitempty"` // a refresh's new token
}

// outbound is a message the server sends.
type outbound struct {
	Type  string    `json:"type"`          // "welcome", "message", "dm", "refreshed", "reset" or "error"
	Pos   string    `json:"pos,omitempty"` // a direct message's position in its user's stream; see framePosition
	Room  string    `json:"room,omitempty"`
	From  string    `json:"from,omitempty"`
	To    string    `json:"to,omitempty"`
	Text  string    `json:"text,omitempty"`
	Error string    `json:"error,omitempty"`
	At    time.Time `json:"at,omitzero"`
}

// chat routes messages between users through the factory: a room message
// goes to every connection in that room on every node, a direct message to
// the recipient's and the sender's connections and nobody else's.
type chat struct {
	f         *wsmanager.Factory
	auth      *auth.Unified // checks the tokens of in-band refreshes
	rooms     *rooms
	idle      *idleThreads
	history   bool // direct messages are kept for tabs that reconnect (CHAT_HISTORY)
	clustered bool // other nodes may hold connections this one does not see
	logger    *slog.Logger
	now       func() time.Time
}

// HandleMessage implements wsmanager.Handler. A malformed message is
// answered with an error message on that connection only; it does not close
// the connection, so one typo costs the user nothing.
func (ch *chat) HandleMessage(ctx context.Context, c *wsmanager.Connection, msg []byte) error {
	var in inbound
	if err := json.Unmarshal(msg, &in); err != nil {
		return ch.reply(ctx, c, "messages are JSON objects with a type")
	}
	if in.Type == "refresh" {
		// A refused refresh closes the connection with 1008; an accepted
		// one moves its expiry, and the page keeps its connection.
		if err := c.Refresh(ctx, ch.auth, in.Token); err != nil {
			ch.logger.Info("chat: token refresh refused", "user", c.User().UserID, "kind", auth.Kind(err))
			return nil
		}
		out, err := json.Marshal(outbound{Type: "refreshed"})
		if err != nil {
			return err
		}
		return c.Send(ctx, out)
	}
	if in.Text == "" || !utf8.ValidString(in.Text) || utf8.RuneCountInString(in.Text) > maxText {
		return ch.reply(ctx, c, "text must be 1 to 2000 characters of UTF-8")
	}
	from := c.User()
	switch in.Type {
	case "say":
		out, err := json.Marshal(outbound{Type: "message", Room: from.ThreadID, From: from.UserID, Text: in.Text, At: ch.now()})
		if err != nil {
			return err
		}
		// This node's members get it even while the broker is down; the
		// error says the other nodes' did not.
		if err := ch.rooms.say(ctx, from.ThreadID, out); err != nil {
			ch.logger.Debug("chat: room message", "err", err)
		}
		return nil
	case "dm":
		if in.To == "" {
			return ch.reply(ctx, c, "a direct message needs a recipient")
		}
		if err := (wsmanager.UserContext{UserID: in.To}).Validate(); err != nil {
			return ch.reply(ctx, c, "a direct message's recipient must be a user name")
		}
		out, err := json.Marshal(outbound{Type: "dm", From: from.UserID, To: in.To, Text: in.Text, At: ch.now()})
		if err != nil {
			return err
		}
		// A full queue elsewhere is that connection's problem (OnFull
		// handles it), and after shutdown began nothing is worth sending:
		// neither is a reason to close this sender's connection. A user
		// with no Manager here gets nothing kept, so a sender cannot grow
		// the history by writing to made-up names.
		n, err := ch.f.SendToUser(ctx, in.To, out)
		if err != nil {
			ch.logger.Debug("chat: direct message", "err", err)
		}
		if n == 0 && !ch.clustered {
			if ch.history && ch.idle.holds(in.To) {
				// Kept: a tab of theirs that reconnects with its
				// position gets it; one that opens afresh starts after it.
				return ch.reply(ctx, c, "the recipient is not online; a tab of theirs that reconnects will get the message")
			}
			return ch.reply(ctx, c, "the recipient is not online; the message was not delivered")
		}
		if in.To != from.UserID {
			// The sender's other tabs show the conversation too.
			if _, err := ch.f.SendToUser(ctx, from.UserID, out); err != nil {
				ch.logger.Debug("chat: direct message echo", "err", err)
			}
		}
		return nil
	}
	return ch.reply(ctx, c, `type must be "say", "dm" or "refresh"`)
}

// onConnect returns the factory's OnConnect hook. It queues every
// connection's first message,
// {"type":"welcome"}, as soon as the connection is registered.
// wsmanager.NewEndpoint registers it before the upgrade, so messages sent
// to the user once the handshake completes already reach it; the welcome
// tells the client which user and room the server put it in, and that the
// connection is serving. The writer delivers it first, once the connection
// is ready.
func onConnect(logger *slog.Logger) func(*wsmanager.Connection) {
	return func(c *wsmanager.Connection) {
		uc := c.User()
		out, err := json.Marshal(outbound{Type: "welcome", Room: uc.ThreadID, To: uc.UserID})
		if err == nil {
			err = c.Send(context.Background(), out)
		}
		if err != nil {
			logger.Debug("chat: welcome", "err", err)
		}
	}
}

// framePosition is the history's Frame: it adds the message's position to
// the JSON object msg, as "pos", so the page keeps the position of the last
// direct message it showed and presents it when it reconnects (the resume
// query parameter); it then gets every direct message it missed, once.
//
// A message without a position (a room broadcast, a reply to one
// connection) stays as it is.
func framePosition(dst []byte, pos wsmanager.Position, msg []byte) []byte {
	if pos.IsZero() {
		return append(dst, msg...)
	}
	dst = append(dst, `{"pos":"`...)
	dst = pos.AppendText(dst)
	dst = append(dst, '"')
	if rest := bytes.TrimSpace(msg[1:]); len(rest) > 0 && rest[0] != '}' {
		dst = append(dst, ',')
	}
	return append(dst, msg[1:]...)
}

// frameReset is the history's ResetFrame: {"type":"reset","pos":…}, the
// position the page keeps from then on. A page gets it first on every
// connection that does not resume, and instead of the missed messages when
// its position is no longer kept (after a restart, say).
func frameReset(dst []byte, head wsmanager.Position) []byte {
	dst = append(dst, `{"type":"reset","pos":"`...)
	dst = head.AppendText(dst)
	return append(dst, `"}`...)
}

// reply sends an error message to c alone.
func (ch *chat) reply(ctx context.Context, c *wsmanager.Connection, text string) error {
	out, err := json.Marshal(outbound{Type: "error", Error: text})
	if err != nil {
		return err
	}
	if err := c.Send(ctx, out); err != nil && !errors.Is(err, wsmanager.ErrQueueFull) && !errors.Is(err, wsmanager.ErrClosed) {
		return err
	}
	return nil
}
