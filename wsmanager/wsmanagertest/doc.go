// Package wsmanagertest tests WebSocket transport adapters for wsmanager,
// in the spirit of net/http/httptest: Server upgrades requests on a
// loopback socket with the Upgrader under test, Client is a small RFC 6455
// client written from the standard library alone (so it is never the
// library under test, and it can do what real clients do badly on purpose:
// reset a connection, close without a code, stop answering pings), and Run
// is the conformance suite every adapter in github.com/ssotkit/ssot/contrib
// passes.
//
// The suite checks what wsmanager relies on: messages in both directions,
// text and binary; the read limit (close 1009); Write, WriteBatch and Close
// from concurrent goroutines; a peer's close frame with any code, or none,
// as a *wsmanager.CloseError from Read; a reset or a dropped connection as
// an abnormal error (neither io.EOF nor a CloseError); the server's close
// code and reason as the peer sees them; the subprotocol rule and origin
// refusal; and, through a real wsmanager.Factory, that each way a peer ends
// a connection leaves its machine in Closed or Failed as documented.
//
// Everything runs on 127.0.0.1 and is bounded by a timeout, so a broken
// adapter fails the test instead of hanging it.
package wsmanagertest
