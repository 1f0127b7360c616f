package wsmanager

// threads is one user's Managers on this node, by ThreadID, as a plain
// value kept in Factory.users. A user with one thread, the common case, has
// its Manager inline: a map of its own would cost a few hundred bytes per
// user. Either more is nil and one is the only Manager (nil: none), or more
// holds them all and one is nil.
//
// A threads is not safe for concurrent use; the Factory guards its users
// with its mutex. The zero value holds no Manager.
type threads struct {
	one  *Manager
	more map[string]*Manager
}

// get returns the Manager of threadID, or nil.
func (t threads) get(threadID string) *Manager {
	if t.more != nil {
		return t.more[threadID]
	}
	if t.one != nil && t.one.uc.ThreadID == threadID {
		return t.one
	}
	return nil
}

// len returns the number of Managers.
func (t threads) len() int {
	if t.more != nil {
		return len(t.more)
	}
	if t.one != nil {
		return 1
	}
	return 0
}

// all yields every Manager, in no particular order.
func (t threads) all(yield func(*Manager) bool) {
	if t.more == nil {
		if t.one != nil {
			yield(t.one)
		}
		return
	}
	for _, m := range t.more {
		if !yield(m) {
			return
		}
	}
}

// with returns t with m added; m's thread must not be in t.
func (t threads) with(m *Manager) threads {
	switch {
	case t.more != nil:
		t.more[m.uc.ThreadID] = m
		return t
	case t.one == nil:
		return threads{one: m}
	}
	return threads{more: map[string]*Manager{t.one.uc.ThreadID: t.one, m.uc.ThreadID: m}}
}

// without returns t with the Manager of threadID removed; a user left with
// one thread has it inline again.
func (t threads) without(threadID string) threads {
	if t.more == nil {
		if t.one != nil && t.one.uc.ThreadID == threadID {
			return threads{}
		}
		return t
	}
	delete(t.more, threadID)
	if len(t.more) == 1 {
		for _, m := range t.more {
			return threads{one: m}
		}
	}
	return t
}
