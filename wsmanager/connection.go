package wsmanager

// Connection is one registered Conn with its queue and writer.
type Connection struct {
	id string
}

// ID returns the connection's random, unguessable identifier.
func (c *Connection) ID() string { return c.id }
