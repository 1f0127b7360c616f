package main

import "net/http"

// idleParam is the query parameter that marks a client idle: it connects,
// reads, and never sends anything, and every peer leaves it out of its
// broadcasts, in whatever way is cheapest for that peer (a ThreadID and
// Broadcast's filter, a session key, a set of its own, a channel it never
// subscribes to). A run with -idle measures what holding such clients
// costs a server beside the active ones.
const idleParam = "idle"

// isIdle reports whether the client of r is an idle one.
func isIdle(r *http.Request) bool { return r.URL.Query().Has(idleParam) }
