package wsmanager

// ConnOf exposes a Connection's transport to the tests, which find
// connections by the in-memory Conn they served.
func ConnOf(c *Connection) Conn { return c.conn }

// Envelope helpers, for the broker tests.
func EncodeEnvelope(node [16]byte, msg []byte) []byte  { return encodeEnvelope(node, msg) }
func DecodeEnvelope(b []byte) ([16]byte, []byte, bool) { return decodeEnvelope(b) }
