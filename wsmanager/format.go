package wsmanager

import (
	"fmt"
	"log/slog"
	"strconv"

	"github.com/ssotkit/ssot/internal/safefmt"
)

// What the descriptions below show, and what they never show.
//
// UserID, ThreadID and RequestID are identifiers that logs need to say whose
// connection something happened to; they are shown. What a connection
// carries is not: message payloads (queued or written), the caller's
// identity beyond its UserID (the e-mail address and scopes that a
// connection's context holds), the transport, a peer's close reason, and
// whatever the Options hold beyond numbers and policies: the BrokerKey, and
// what the Broker, Logger and hooks hold. Each description names its fields
// one by one, so a field added later is never shown until someone decides
// it may be.

// String returns the limits and policies, and whether a Broker, a
// BrokerKey and the hooks are set; never the key or what the others hold.
func (o Options) String() string {
	return "wsmanager.Options{MaxManagersPerUser: " + strconv.Itoa(o.MaxManagersPerUser) +
		", MaxConnsPerManager: " + strconv.Itoa(o.MaxConnsPerManager) +
		", MaxManagers: " + strconv.Itoa(o.MaxManagers) +
		", MaxConns: " + strconv.Itoa(o.MaxConns) +
		", QueueSize: " + strconv.Itoa(o.QueueSize) +
		", QueueBytes: " + strconv.Itoa(o.QueueBytes) +
		", OnFull: " + o.OnFull.String() +
		", WriteTimeout: " + o.WriteTimeout.String() +
		", IdleTimeout: " + o.IdleTimeout.String() +
		", Broker: " + strconv.FormatBool(o.Broker != nil) +
		", BrokerKey: " + safefmt.Secret(o.BrokerKey != nil) +
		", OnConnect: " + strconv.FormatBool(o.OnConnect != nil) +
		", OnDisconnect: " + strconv.FormatBool(o.OnDisconnect != nil) + "}"
}

// GoString returns String.
func (o Options) GoString() string { return o.String() }

// Format prints String for every verb.
func (o Options) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, o.String()) }

// LogValue lets log/slog print what String prints.
func (o Options) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int("max_managers_per_user", o.MaxManagersPerUser),
		slog.Int("max_conns_per_manager", o.MaxConnsPerManager),
		slog.Int("max_managers", o.MaxManagers),
		slog.Int("max_conns", o.MaxConns),
		slog.Int("queue_size", o.QueueSize),
		slog.Int("queue_bytes", o.QueueBytes),
		slog.String("on_full", o.OnFull.String()),
		slog.Duration("write_timeout", o.WriteTimeout),
		slog.Duration("idle_timeout", o.IdleTimeout),
		slog.Bool("broker", o.Broker != nil),
		slog.String("broker_key", safefmt.Secret(o.BrokerKey != nil)),
		slog.Bool("on_connect", o.OnConnect != nil),
		slog.Bool("on_disconnect", o.OnDisconnect != nil))
}

// GoString returns Error: the code, never the peer's reason.
func (e CloseError) GoString() string { return e.Error() }

// Format prints Error for every verb, %#v and %+v included, so the peer's
// reason is never printed, from a CloseError or a pointer to one.
func (e CloseError) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, e.Error()) }

// LogValue lets log/slog print Error, never the peer's reason.
func (e CloseError) LogValue() slog.Value { return slog.StringValue(e.Error()) }

// String returns the connection's ID, user, thread and state; never a
// message or the caller's identity.
func (c *Connection) String() string {
	uc := c.User()
	return "wsmanager.Connection{ID: " + c.ID() + ", UserID: " + strconv.Quote(uc.UserID) +
		", ThreadID: " + strconv.Quote(uc.ThreadID) + ", State: " + c.State().String() + "}"
}

// GoString returns String.
func (c *Connection) GoString() string { return c.String() }

// Format prints String for every verb.
func (c *Connection) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, c.String()) }

// LogValue lets log/slog print what String prints.
func (c *Connection) LogValue() slog.Value {
	if c == nil {
		return slog.StringValue("<nil>")
	}
	uc := c.User()
	return slog.GroupValue(
		slog.String("id", c.ID()),
		slog.String("user_id", uc.UserID),
		slog.String("thread_id", uc.ThreadID),
		slog.String("state", c.State().String()))
}

// String returns the manager's user and thread and its number of
// connections.
func (m *Manager) String() string {
	uc := m.User()
	return "wsmanager.Manager{UserID: " + strconv.Quote(uc.UserID) + ", ThreadID: " + strconv.Quote(uc.ThreadID) +
		", Connections: " + strconv.Itoa(len(m.Connections())) + "}"
}

// GoString returns String.
func (m *Manager) GoString() string { return m.String() }

// Format prints String for every verb.
func (m *Manager) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, m.String()) }

// LogValue lets log/slog print what String prints.
func (m *Manager) LogValue() slog.Value {
	if m == nil {
		return slog.StringValue("<nil>")
	}
	uc := m.User()
	return slog.GroupValue(
		slog.String("user_id", uc.UserID),
		slog.String("thread_id", uc.ThreadID),
		slog.Int("connections", len(m.Connections())))
}

// String returns how many managers and connections the factory holds; never
// whose.
func (f *Factory) String() string {
	s := f.Stats()
	return "wsmanager.Factory{ManagersActive: " + strconv.FormatUint(s.ManagersActive, 10) +
		", ConnsActive: " + strconv.FormatUint(s.ConnsActive, 10) + "}"
}

// GoString returns String.
func (f *Factory) GoString() string { return f.String() }

// Format prints String for every verb.
func (f *Factory) Format(fs fmt.State, verb rune) { safefmt.Format(fs, verb, f.String()) }

// LogValue lets log/slog print what String prints.
func (f *Factory) LogValue() slog.Value {
	if f == nil {
		return slog.StringValue("<nil>")
	}
	s := f.Stats()
	return slog.GroupValue(
		slog.Uint64("managers_active", s.ManagersActive),
		slog.Uint64("conns_active", s.ConnsActive))
}

// String describes the reserved connection as Connection.String does; never
// the context it will be served with, which holds the caller's identity.
func (r *Reservation) String() string {
	return "wsmanager.Reservation{Connection: " + r.Connection().String() + "}"
}

// GoString returns String.
func (r *Reservation) GoString() string { return r.String() }

// Format prints String for every verb.
func (r *Reservation) Format(f fmt.State, verb rune) { safefmt.Format(f, verb, r.String()) }

// LogValue lets log/slog print the reserved connection as Connection does.
func (r *Reservation) LogValue() slog.Value {
	if r == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(slog.Any("connection", r.Connection().LogValue()))
}

var (
	_ fmt.Formatter  = Options{}
	_ slog.LogValuer = Options{}
	_ fmt.Formatter  = CloseError{}
	_ slog.LogValuer = CloseError{}
	_ fmt.Formatter  = (*Connection)(nil)
	_ slog.LogValuer = (*Connection)(nil)
	_ fmt.Formatter  = (*Manager)(nil)
	_ slog.LogValuer = (*Manager)(nil)
	_ fmt.Formatter  = (*Factory)(nil)
	_ slog.LogValuer = (*Factory)(nil)
	_ fmt.Formatter  = (*Reservation)(nil)
	_ slog.LogValuer = (*Reservation)(nil)
)
