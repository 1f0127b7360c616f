package wsmanager

// ConnOf exposes a Connection's transport to the tests, which find
// connections by the in-memory Conn they served.
func ConnOf(c *Connection) Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tr
}

// Seal and Open expose a Factory's envelope for the broker tests.
func (f *Factory) Seal(userID string, msg []byte) []byte { return f.seal(userID, msg) }
func (f *Factory) Open(userID string, b []byte) (node [16]byte, msg []byte, ok, rejected bool) {
	return f.open(userID, b)
}

// SealLog and OpenLog expose the envelope a Factory appends to a Log for
// one thread; SealLogUser the one for all of a user's threads.
func (f *Factory) SealLog(userID, threadID string, msg []byte) []byte {
	return f.sealLog(userID, threadID, false, msg)
}
func (f *Factory) SealLogUser(userID string, msg []byte) []byte {
	return f.sealLog(userID, "", true, msg)
}
func (f *Factory) OpenLog(userID, threadID string, env []byte) ([]byte, bool) {
	msg, _, ok := f.openLog(userID, threadID, env)
	return msg, ok
}
func (f *Factory) OpenLogScope(userID, threadID string, env []byte) (msg []byte, whole, ok bool) {
	return f.openLog(userID, threadID, env)
}

// QueueCap returns the capacity of c's queue ring and of its spare batch
// buffer.
func (c *Connection) QueueCap() (ring, spare int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.q.buf), cap(c.spare)
}
