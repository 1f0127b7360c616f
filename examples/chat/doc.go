// Command chat is a small multi-user chat service on the whole ssot golden
// path: configuration from env, an ordered middleware chain, one
// auth.Unified in front of a JWT backend (a key, or an OpenID provider), and
// wsmanager serving WebSockets over gobwas/ws (contrib/gobwasws), one
// isolated manager per user and room.
//
// Run it with no configuration at all:
//
//	cd examples && go run ./chat
//
// and open http://127.0.0.1:8080 in two browser windows. In Development the
// page offers a login that mints short-lived tokens for any user name; it is
// refused in every other environment.
//
// # Configuration
//
// Settings come from the process environment layered over a dotenv file
// (the environment wins): .env in the working directory, the directory the
// command runs in (examples/ for the command above), read if it exists; or
// the file named with -env-file, which must exist. A malformed file, or a
// .env that is a symbolic link to a missing file, stops the service.
//
//	ENVIRONMENT              development (default), test, staging or production
//	CHAT_ADDR                listen address; defaults to 127.0.0.1:8080
//	JWT_SECRET               HS256 secret, at least 32 bytes (secret)
//	JWT_PUBLIC_KEY_FILE      PEM public key (RSA, ECDSA or Ed25519) instead of a secret
//	JWT_ISSUER               required "iss"; required in production
//	JWT_AUDIENCE             required "aud"; defaults to ssot-chat
//	JWT_LEEWAY               clock skew tolerated; defaults to 30s
//	OIDC_ISSUER              an OpenID provider's issuer URL, instead of a JWT key
//	OIDC_AUDIENCE            this service's identifier at that provider; required with it
//	CHAT_ALLOWED_ORIGINS     extra origins allowed to open WebSockets (comma-separated hosts)
//	CHAT_READ_LIMIT          largest client message in bytes; defaults to 16384
//	CHAT_QUEUE_SIZE          messages queued per connection; defaults to 65536 (the 1 MiB byte bound binds first)
//	CHAT_READ_RATE           messages a second a client may send; defaults to 20 (0: no limit)
//	CHAT_READ_BURST          messages a client may send at once; defaults to 40; past the limit it is closed with 1008 "rate limited"
//	CHAT_HISTORY             direct messages kept per user for tabs that reconnect; defaults to 1000, 0 keeps none
//	CHAT_MAX_ROOMS           rooms with members on this node at once; defaults to 1000; a connection to a
//	                         new room past it is closed with 1008 "too many rooms"
//	CHAT_WRITE_TIMEOUT       a stuck write closes that connection; defaults to 10s
//	CHAT_SHUTDOWN_TIMEOUT    grace period on SIGINT/SIGTERM; defaults to 10s
//	CHAT_DRAIN               on SIGINT/SIGTERM, the time over which clients are sent 1012 before the rest of the shutdown, within the grace period; defaults to 5s, 0 skips it
//	CHAT_CLOSE_AFTER_UPGRADE refuse bad tokens with a close code browsers can read; defaults to true
//	CHAT_DEV_TOKEN_TTL       lifetime of development tokens; defaults to 15m
//	LOG_LEVEL                debug, info (default), warn or error
//	CHAT_BROKER              nats://, tls://, redis:// or rediss:// URL: join a cluster (secret)
//	CHAT_BROKER_KEY          key the nodes sign their messages with, at least 32 bytes;
//	                         required with CHAT_BROKER outside development (secret)
//
// Outside Development a token source is required: a JWT key, or an OpenID
// provider (OIDC_ISSUER and OIDC_AUDIENCE), whose keys the service fetches
// and rotates with it; in Production a JWT key needs JWT_ISSUER too. A
// misconfigured service refuses to start with one message that lists every
// missing or invalid setting by name, never by value; an ENVIRONMENT that
// names no environment is reported as such, and the other settings are
// checked as for production.
//
// In Development, without JWT_SECRET or a provider, tokens are signed with
// a random secret that lives as long as the process: after a restart the
// old tokens are refused and users log in again.
//
// # Logs
//
// Logs go to standard error, as text. At Info: the listening address, every
// refused token (with the request ID and the kind of refusal, never the
// token), every WebSocket that ended (user, room, request ID, the close code
// and reason the server sent and, when the peer closed first, the peer's
// code) or was refused (after its upgrade, or with 400 for an invalid resume
// position when CHAT_CLOSE_AFTER_UPGRADE is false), and the shutdown. At
// Debug, one access line per HTTP request, with the status of the response:
// 101 for a WebSocket upgrade, a refusal after it included.
//
// # Endpoints
//
//	GET  /             the single-page UI (embedded, no build step)
//	GET  /ws?room=R    the WebSocket; token in the Authorization header or as
//	                   the subprotocol "bearer.<base64url(token)>" next to "chat.v1";
//	                   &resume=P to get the direct messages after position P
//	GET  /sse?room=R   the same connection over server-sent events, for networks
//	                   where a WebSocket cannot open (the page falls back to it);
//	                   token as ?token=, since EventSource sets no headers
//	POST /sse?conn=K   a message in, for the stream whose open event named K
//	                   (Authorization: Bearer …)
//	GET  /api/me       the caller's identity (Authorization: Bearer …)
//	POST /dev/login    {"user":"alice"} → {"token":…}; Development only
//	GET  /healthz      configuration summary and connection statistics, no secrets
//	GET  /metrics      the same statistics for Prometheus
//
// # Cluster
//
// With CHAT_BROKER, nodes that share the broker (and JWT_SECRET, and
// CHAT_BROKER_KEY) form one chat: direct messages travel through
// wsmanager's SendToUser, room messages through a second Factory in which
// each room has one relay connection per node, so both reach every node's
// users exactly once while the broker is up. Behind a load balancer a
// user's tabs may land on different nodes and still see every message.
//
// # Protocol
//
// A connection first gets its stream's position: for a fresh one a
// {"type":"reset"} carrying where the user's stream stands, for one that
// resumed the direct messages it missed (or a reset, if they are no longer
// kept). Then comes {"type":"welcome","room":…,"to":<user>}: the user and
// room the server put it in. The page shows "Connected" when it arrives.
// Clients send {"type":"say","text":…} to their room or
// {"type":"dm","to":"bob","text":…} to one user, and
// {"type":"refresh","token":…} with a new token before theirs expires,
// which keeps the connection open past the old token's expiry; the server
// sends {"type":"message",…}, {"type":"dm",…}, {"type":"refreshed"} or
// {"type":"error",…}. The sender is
// always the authenticated user: a client cannot speak for someone else.
// A direct message's "to" follows the rule of user IDs
// (wsmanager.UserContext.Validate), or the sender gets an error. On a
// single node, a direct message that reaches no connection gets an error:
// that a tab of the recipient's that reconnects will get it, when
// CHAT_HISTORY keeps messages and the recipient left a room on the node
// within wsmanager's IdleTimeout; otherwise that it was not delivered.
//
// Direct messages carry "pos", their position in the recipient's stream. A
// page that reconnects with resume set to the last position it showed gets
// what it missed, once, or {"type":"reset","pos":…} when that position is
// no longer kept; a resume that is not a position is refused with 1008
// "invalid resume position" (400 when CHAT_CLOSE_AFTER_UPGRADE is false).
// A user keeps on a node the rooms they have a connection in and the room
// they left last, for a tab that reconnects; that one is released after
// wsmanager's IdleTimeout, or when they leave another room (its last tab of
// theirs closes), so rooms visited in turn do not use up wsmanager's
// MaxManagersPerUser. A
// user's direct messages are kept while they have a room on the node.
// Each room with members on a node has one relay there, released with its
// last member.
//
// On SIGINT or SIGTERM the service first drains (wsmanager.Factory.Drain):
// new connections are refused with 503, and the clients it has are closed
// with 1012 (service restart) in paced batches over CHAT_DRAIN, so that
// they reconnect to the other nodes of a cluster a few at a time. Then it
// stops with ssot.Shutdown: no new requests, every client still there
// closed with 1001 (going away), then the authenticator, all within
// CHAT_SHUTDOWN_TIMEOUT.
package main
