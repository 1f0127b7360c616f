package bench

// walk is the connection lifecycle every state machine benchmark follows:
// the setup states, some work, a degradation, a failure and a reconnect back
// to the start. It is a cycle so a benchmark can walk it forever without
// building a new machine, and every step is allowed by the ssot ConnTable.
var walk = []string{
	"connecting",
	"accepted",
	"authenticated",
	"services_ready",
	"processing_ready",
	"processing",
	"idle",
	"degraded",
	"failed",
}
