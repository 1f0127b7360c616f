// Package brokerkit holds what the wsmanager.Broker adapters in contrib/
// share: how a user ID becomes a topic (a NATS subject, a Redis channel)
// and back, and the error a connect URL that does not parse becomes. It is
// internal to this repository; the adapters' own docs state the contract.
package brokerkit
