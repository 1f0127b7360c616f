package wsmanager

import "sync/atomic"

// Stats is a snapshot of a Factory's counters, a plain value safe to copy
// and share; the zero value means nothing happened. Counters only grow; the
// Active fields are current values. Fields are read one by one, so a
// snapshot taken under load is not atomic across fields.
type Stats struct {
	ManagersActive  uint64 // managers currently held
	ManagersCreated uint64
	ManagersRemoved uint64 // by Manager.Close, the idle janitor or Factory.Close

	ConnsActive  uint64 // connections currently registered
	ConnsCreated uint64
	ConnsRemoved uint64

	MessagesQueued  uint64 // accepted by Send, SendToUser, Broadcast and broker deliveries, once per connection
	MessagesWritten uint64 // written to a Conn without error
	MessagesDropped uint64 // refused by DropNewest or discarded by DropOldest

	SlowCloses    uint64 // connections closed by CloseSlow or WriteTimeout
	UserLimitHits uint64 // Factory.Manager calls refused with ErrUserLimit
	ConnLimitHits uint64 // Serve calls refused with ErrConnLimit

	HandlerErrors uint64 // connections closed by a handler error
	HandlerPanics uint64 // connections closed by a handler panic

	BrokerPublished uint64 // SendToUser messages handed to the Broker
	BrokerErrors    uint64 // Broker.Publish failures
	BrokerReceived  uint64 // messages from other nodes delivered locally
	BrokerEchoes    uint64 // this node's own messages coming back, ignored
	BrokerMalformed uint64 // broker messages that were not from a Factory, ignored
}

// counters are the Factory's live counters. The two written on every
// message sit on their own cache lines so that writers on different cores do
// not contend with senders.
type counters struct {
	queued  atomic.Uint64
	_       [56]byte
	written atomic.Uint64
	_       [56]byte

	dropped, slowCloses, userLimitHits, connLimitHits                            atomic.Uint64
	managersCreated, managersRemoved, connsCreated, connsRemoved                 atomic.Uint64
	handlerErrors, handlerPanics                                                 atomic.Uint64
	brokerPublished, brokerErrors, brokerReceived, brokerEchoes, brokerMalformed atomic.Uint64
}

func (c *counters) snapshot() Stats {
	s := Stats{
		ManagersCreated: c.managersCreated.Load(),
		ManagersRemoved: c.managersRemoved.Load(),
		ConnsCreated:    c.connsCreated.Load(),
		ConnsRemoved:    c.connsRemoved.Load(),
		MessagesQueued:  c.queued.Load(),
		MessagesWritten: c.written.Load(),
		MessagesDropped: c.dropped.Load(),
		SlowCloses:      c.slowCloses.Load(),
		UserLimitHits:   c.userLimitHits.Load(),
		ConnLimitHits:   c.connLimitHits.Load(),
		HandlerErrors:   c.handlerErrors.Load(),
		HandlerPanics:   c.handlerPanics.Load(),
		BrokerPublished: c.brokerPublished.Load(),
		BrokerErrors:    c.brokerErrors.Load(),
		BrokerReceived:  c.brokerReceived.Load(),
		BrokerEchoes:    c.brokerEchoes.Load(),
		BrokerMalformed: c.brokerMalformed.Load(),
	}
	s.ManagersActive = s.ManagersCreated - min(s.ManagersRemoved, s.ManagersCreated)
	s.ConnsActive = s.ConnsCreated - min(s.ConnsRemoved, s.ConnsCreated)
	return s
}
