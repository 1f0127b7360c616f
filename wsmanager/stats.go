package wsmanager

import "sync/atomic"

// Stats is a snapshot of a Factory's counters, a plain value safe to copy
// and share; the zero value means nothing happened. Counters only grow; the
// Active fields are current values. Fields are read one by one, so a
// snapshot taken under load is not atomic across fields.
//
// Every message given to a connection is counted once in MessagesQueued and,
// once nothing is pending, once in exactly one of MessagesWritten,
// MessagesDropped and MessagesDiscarded:
//
//	MessagesQueued == MessagesWritten + MessagesDropped + MessagesDiscarded
type Stats struct {
	ManagersActive  uint64 // managers currently held
	ManagersCreated uint64
	ManagersRemoved uint64 // by Manager.Close, the idle janitor or Factory.Close

	ConnsActive  uint64 // connections currently registered
	ConnsCreated uint64
	ConnsRemoved uint64

	MessagesQueued    uint64 // given to a connection's queue by Send, SendToUser, Broadcast or a broker delivery, once per connection; not those refused with ErrClosed
	MessagesWritten   uint64 // handed to the transport in a Write or WriteBatch that succeeded
	MessagesDropped   uint64 // refused by DropNewest, or discarded by DropOldest to make room
	MessagesDiscarded uint64 // queued, never written: the connection closed first, or the write carrying it failed

	SlowCloses       uint64 // connections closed by CloseSlow or WriteTimeout
	ExpiredCloses    uint64 // connections closed because their identity expired
	UserLimitHits    uint64 // managers refused with ErrUserLimit
	ConnLimitHits    uint64 // connections refused with ErrConnLimit
	FactoryLimitHits uint64 // managers or connections refused with ErrFactoryLimit

	HandlerErrors uint64 // connections closed by a handler error
	HandlerPanics uint64 // connections closed by a handler panic

	BrokerPublished uint64 // SendToUser messages handed to the Broker
	BrokerErrors    uint64 // Broker.Publish failures
	BrokerReceived  uint64 // messages from other nodes delivered locally
	BrokerEchoes    uint64 // this node's own messages coming back, ignored
	BrokerMalformed uint64 // broker messages that were not from a Factory, ignored
	BrokerRejected  uint64 // broker messages without a valid signature under Options.BrokerKey, ignored

	Resumes          uint64 // connections that resumed from a position their history held
	ResumeResets     uint64 // connections whose position was lost or from another epoch: sent a reset
	MessagesReplayed uint64 // messages queued from the history to resuming connections
}

// counters are the Factory's live counters. The two written on every
// message sit on their own cache lines so that writers on different cores do
// not contend with senders.
type counters struct {
	queued  atomic.Uint64
	_       [56]byte
	written atomic.Uint64
	_       [56]byte

	dropped, discarded, slowCloses, expiredCloses                                atomic.Uint64
	userLimitHits, connLimitHits, factoryLimitHits                               atomic.Uint64
	managersCreated, managersRemoved, connsCreated, connsRemoved                 atomic.Uint64
	handlerErrors, handlerPanics                                                 atomic.Uint64
	brokerPublished, brokerErrors, brokerReceived, brokerEchoes, brokerMalformed atomic.Uint64
	brokerRejected, resumes, resumeResets, replayed                              atomic.Uint64
}

func (c *counters) snapshot() Stats {
	s := Stats{
		MessagesDiscarded: c.discarded.Load(),
		ExpiredCloses:     c.expiredCloses.Load(),
		FactoryLimitHits:  c.factoryLimitHits.Load(),
		ManagersCreated:   c.managersCreated.Load(),
		ManagersRemoved:   c.managersRemoved.Load(),
		ConnsCreated:      c.connsCreated.Load(),
		ConnsRemoved:      c.connsRemoved.Load(),
		MessagesQueued:    c.queued.Load(),
		MessagesWritten:   c.written.Load(),
		MessagesDropped:   c.dropped.Load(),
		SlowCloses:        c.slowCloses.Load(),
		UserLimitHits:     c.userLimitHits.Load(),
		ConnLimitHits:     c.connLimitHits.Load(),
		BrokerRejected:    c.brokerRejected.Load(),
		Resumes:           c.resumes.Load(),
		ResumeResets:      c.resumeResets.Load(),
		MessagesReplayed:  c.replayed.Load(),
		HandlerErrors:     c.handlerErrors.Load(),
		HandlerPanics:     c.handlerPanics.Load(),
		BrokerPublished:   c.brokerPublished.Load(),
		BrokerErrors:      c.brokerErrors.Load(),
		BrokerReceived:    c.brokerReceived.Load(),
		BrokerEchoes:      c.brokerEchoes.Load(),
		BrokerMalformed:   c.brokerMalformed.Load(),
	}
	s.ManagersActive = s.ManagersCreated - min(s.ManagersRemoved, s.ManagersCreated)
	s.ConnsActive = s.ConnsCreated - min(s.ConnsRemoved, s.ConnsCreated)
	return s
}
