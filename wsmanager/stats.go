package wsmanager

import "sync/atomic"

// Stats is a snapshot of a Factory's counters, a plain value safe to copy
// and share; the zero value means nothing happened. Its JSON form, for a
// health endpoint, has snake_case names. Counters only grow; the
// Active fields are current values. Fields are read one by one, so a
// snapshot taken under load is not atomic across fields.
//
// Every message given to a connection is counted once in MessagesQueued and,
// once nothing is pending, once in exactly one of MessagesWritten,
// MessagesDropped and MessagesDiscarded:
//
//	MessagesQueued == MessagesWritten + MessagesDropped + MessagesDiscarded
type Stats struct {
	ManagersActive  uint64 `json:"managers_active"` // managers currently held
	ManagersCreated uint64 `json:"managers_created"`
	ManagersRemoved uint64 `json:"managers_removed"` // by Manager.Close, the idle janitor or Factory.Close

	ConnsActive  uint64 `json:"conns_active"` // connections currently registered, or ended and still in Options.OnDisconnect
	ConnsCreated uint64 `json:"conns_created"`
	ConnsRemoved uint64 `json:"conns_removed"`

	MessagesQueued    uint64 `json:"messages_queued"`    // given to a connection's queue by Send, SendToUser, Broadcast or a broker delivery, once per connection; not those refused with ErrClosed
	MessagesWritten   uint64 `json:"messages_written"`   // handed to the transport in a Write or WriteBatch that succeeded
	MessagesDropped   uint64 `json:"messages_dropped"`   // refused by DropNewest, or discarded by DropOldest to make room
	MessagesDiscarded uint64 `json:"messages_discarded"` // queued, never written: the connection closed first, or the write carrying it failed

	SlowCloses       uint64 `json:"slow_closes"`        // connections closed by CloseSlow or WriteTimeout
	ExpiredCloses    uint64 `json:"expired_closes"`     // connections closed because their identity expired
	TokenRefreshes   uint64 `json:"token_refreshes"`    // Connection.Refresh calls that moved a connection's expiry
	RefreshFailures  uint64 `json:"refresh_failures"`   // connections closed because a Connection.Refresh was refused
	UserLimitHits    uint64 `json:"user_limit_hits"`    // managers refused with ErrUserLimit
	ConnLimitHits    uint64 `json:"conn_limit_hits"`    // connections refused with ErrConnLimit
	FactoryLimitHits uint64 `json:"factory_limit_hits"` // managers or connections refused with ErrFactoryLimit
	DrainRefused     uint64 `json:"drain_refused"`      // connections refused with ErrDraining
	DrainCloses      uint64 `json:"drain_closes"`       // connections Factory.Drain closed

	HandlerErrors   uint64 `json:"handler_errors"`        // connections closed by a handler error
	RateLimited     uint64 `json:"messages_rate_limited"` // messages a client sent past Options.ReadRate, dropped or closed on
	RateLimitCloses uint64 `json:"rate_limit_closes"`     // connections closed for sending past Options.ReadRate
	HandlerPanics   uint64 `json:"handler_panics"`        // connections closed by a handler panic
	ObserverPanics  uint64 `json:"observer_panics"`       // panics of a connection machine's observers, contained (Options.OnPanic)

	BrokerPublished uint64 `json:"broker_published"` // SendToUser messages handed to the Broker, or Log appends
	BrokerErrors    uint64 `json:"broker_errors"`    // Broker.Publish or Log.Append failures
	BrokerReceived  uint64 `json:"broker_received"`  // messages and DisconnectUser requests the broker handed this node from other nodes, or the Log from any node
	BrokerEchoes    uint64 `json:"broker_echoes"`    // this node's own messages coming back, ignored
	BrokerMalformed uint64 `json:"broker_malformed"` // broker messages that were not from a Factory, ignored
	BrokerRejected  uint64 `json:"broker_rejected"`  // broker messages without a valid signature under Options.BrokerKey, ignored

	Resumes          uint64 `json:"resumes"`           // connections that resumed from a position their history held
	ResumeResets     uint64 `json:"resume_resets"`     // connections whose position was lost or from another epoch: sent a reset
	MessagesReplayed uint64 `json:"messages_replayed"` // messages queued from the history to resuming connections
	HistoryBytes     uint64 `json:"history_bytes"`     // framed bytes kept by this node's streams now (HistoryOptions.TotalBytes bounds it)

	// Served connections that ended, by Outcome, and by the class of the
	// close code they ended with (Ending.Code).
	EndedByPeer   uint64     `json:"ended_by_peer"`
	EndedByServer uint64     `json:"ended_by_server"`
	EndedFailed   uint64     `json:"ended_failed"`
	EndedByCode   CodeCounts `json:"ended_by_code"`
}

// CodeCounts counts connection endings by the class of their close code.
// It is a plain value, safe to copy; the zero value counts none.
type CodeCounts struct {
	Normal      uint64 `json:"normal"`      // 1000
	GoingAway   uint64 `json:"going_away"`  // 1001
	NoStatus    uint64 `json:"no_status"`   // 1005: the peer's close frame carried no code
	Abnormal    uint64 `json:"abnormal"`    // 1006: no close frame was exchanged
	Protocol    uint64 `json:"protocol"`    // 1002, 1003, 1007: the peer sent what the protocol forbids
	Policy      uint64 `json:"policy"`      // 1008: slow consumer, write timeout, token, rate limit
	TooBig      uint64 `json:"too_big"`     // 1009
	Internal    uint64 `json:"internal"`    // 1011
	Restart     uint64 `json:"restart"`     // 1012
	TryAgain    uint64 `json:"try_again"`   // 1013
	Application uint64 `json:"application"` // 3000–4999
	Other       uint64 `json:"other"`       // any other code
}

// CodeClass returns the name of code's class, as the fields of CodeCounts
// (and their JSON names) give it: "normal", "going_away", …, "other".
func CodeClass(code int) string {
	switch codeClass(code) {
	case classNormal:
		return "normal"
	case classGoingAway:
		return "going_away"
	case classNoStatus:
		return "no_status"
	case classAbnormal:
		return "abnormal"
	case classProtocol:
		return "protocol"
	case classPolicy:
		return "policy"
	case classTooBig:
		return "too_big"
	case classInternal:
		return "internal"
	case classRestart:
		return "restart"
	case classTryAgain:
		return "try_again"
	case classApplication:
		return "application"
	}
	return "other"
}

// The classes of CodeCounts, in field order.
const (
	classNormal = iota
	classGoingAway
	classNoStatus
	classAbnormal
	classProtocol
	classPolicy
	classTooBig
	classInternal
	classRestart
	classTryAgain
	classApplication
	classOther
	numCodeClasses
)

func codeClass(code int) int {
	switch code {
	case 1000:
		return classNormal
	case 1001:
		return classGoingAway
	case 1005:
		return classNoStatus
	case 1006:
		return classAbnormal
	case 1002, 1003, 1007:
		return classProtocol
	case 1008:
		return classPolicy
	case 1009:
		return classTooBig
	case 1011:
		return classInternal
	case 1012:
		return classRestart
	case 1013:
		return classTryAgain
	}
	if code >= 3000 && code <= 4999 {
		return classApplication
	}
	return classOther
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
	handlerErrors, handlerPanics, observerPanics                                 atomic.Uint64
	brokerPublished, brokerErrors, brokerReceived, brokerEchoes, brokerMalformed atomic.Uint64
	brokerRejected, resumes, resumeResets, replayed                              atomic.Uint64
	drainRefused, drainCloses, refreshes, refreshFailures                        atomic.Uint64
	rateLimited, rateLimitCloses                                                 atomic.Uint64
	byOutcome                                                                    [3]atomic.Uint64
	byCode                                                                       [numCodeClasses]atomic.Uint64
}

// ended counts a connection's ending.
func (c *counters) ended(e Ending) {
	c.byOutcome[e.Outcome].Add(1)
	c.byCode[codeClass(e.Code)].Add(1)
}

func (c *counters) snapshot() Stats {
	s := Stats{
		MessagesDiscarded: c.discarded.Load(),
		ExpiredCloses:     c.expiredCloses.Load(),
		FactoryLimitHits:  c.factoryLimitHits.Load(),
		DrainRefused:      c.drainRefused.Load(),
		DrainCloses:       c.drainCloses.Load(),
		TokenRefreshes:    c.refreshes.Load(),
		RefreshFailures:   c.refreshFailures.Load(),
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
		RateLimited:       c.rateLimited.Load(),
		RateLimitCloses:   c.rateLimitCloses.Load(),
		HandlerPanics:     c.handlerPanics.Load(),
		ObserverPanics:    c.observerPanics.Load(),
		BrokerPublished:   c.brokerPublished.Load(),
		BrokerErrors:      c.brokerErrors.Load(),
		BrokerReceived:    c.brokerReceived.Load(),
		BrokerEchoes:      c.brokerEchoes.Load(),
		BrokerMalformed:   c.brokerMalformed.Load(),
	}
	s.EndedByPeer = c.byOutcome[OutcomePeer].Load()
	s.EndedByServer = c.byOutcome[OutcomeServer].Load()
	s.EndedFailed = c.byOutcome[OutcomeFailed].Load()
	b := &c.byCode
	s.EndedByCode = CodeCounts{
		Normal: b[classNormal].Load(), GoingAway: b[classGoingAway].Load(), NoStatus: b[classNoStatus].Load(),
		Abnormal: b[classAbnormal].Load(), Protocol: b[classProtocol].Load(), Policy: b[classPolicy].Load(),
		TooBig: b[classTooBig].Load(), Internal: b[classInternal].Load(), Restart: b[classRestart].Load(),
		TryAgain: b[classTryAgain].Load(), Application: b[classApplication].Load(), Other: b[classOther].Load(),
	}
	s.ManagersActive = s.ManagersCreated - min(s.ManagersRemoved, s.ManagersCreated)
	s.ConnsActive = s.ConnsCreated - min(s.ConnsRemoved, s.ConnsCreated)
	return s
}
