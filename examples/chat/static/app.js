"use strict";
// The chat client: log in through the development login, open a WebSocket
// with the token as a subprotocol (browsers cannot set headers on one), and
// render what the server sends. Text is always set with textContent, never
// parsed as HTML.

const $ = (id) => document.getElementById(id);
let me = "";
let token = "";
let room = "lobby";
let ws = null;
let retries = 0;
// position is where this page stands in its user's stream of direct
// messages: the server sends it with each one ("pos") and in a reset, and
// the page presents it when it reconnects, so it gets every direct message
// it missed, once, in order.
let position = "";
// refreshTimer refreshes the token before it expires, in band, so that the
// connection outlives it.
let refreshTimer = 0;

function setStatus(text, state) {
  $("status").textContent = text;
  if (state) document.body.dataset.state = state;
}

function add(kind, who, text) {
  const li = document.createElement("li");
  li.className = kind;
  if (who) {
    const span = document.createElement("span");
    span.className = "who";
    span.textContent = who;
    li.append(span);
  }
  li.append(document.createTextNode(text));
  $("messages").append(li);
  li.scrollIntoView({ block: "nearest" });
  return li;
}

// The token travels as "bearer.<base64url(token)>": subprotocols allow only
// token characters, and base64url keeps it within them.
function bearer(t) {
  return "bearer." + btoa(t).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function render(msg) {
  if (msg.pos) position = msg.pos;
  switch (msg.type) {
    case "reset":
      // A position the server no longer has, or none yet: from here on.
      break;
    case "welcome":
      // The server has registered this connection: messages reach it now.
      retries = 0;
      setStatus("Connected as " + me + " in #" + room + ".", "connected");
      add("system", "", "You joined #" + room + ".");
      break;
    case "message": {
      const li = add("message", msg.from + ":", msg.text);
      li.dataset.from = msg.from;
      break;
    }
    case "dm": {
      const outgoing = msg.from === me && msg.to !== me;
      const li = add(outgoing ? "dm outgoing" : "dm incoming",
        outgoing ? "you → " + msg.to + ":" : msg.from + " → you:", msg.text);
      li.dataset.from = msg.from;
      break;
    }
    case "refreshed":
      break;
    case "error":
      add("error", "", msg.error);
      break;
  }
}

// login asks the development login for a token for user and schedules its
// refresh at 80% of its life, or a minute before it expires if that is
// sooner, and never within a second.
async function login(user) {
  const res = await fetch("/dev/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error || "Login failed.");
  me = body.user;
  token = body.token;
  clearTimeout(refreshTimer);
  const life = new Date(body.expires_at).getTime() - Date.now();
  refreshTimer = setTimeout(refresh, Math.max(Math.min(life - 60000, life * 0.8), 1000));
}

// refresh gets a new token and hands it to the server over the open
// connection: the server checks it, for the same user, and moves the
// connection's expiry. A later reconnect uses it too.
async function refresh() {
  try {
    await login(me);
  } catch (e) {
    return; // the connection closes at expiry, and the page asks to log in
  }
  if (ws && ws.readyState === WebSocket.OPEN) {
    ws.send(JSON.stringify({ type: "refresh", token }));
  }
}

// Close codes the server uses, and what the user can do about them.
function describe(ev) {
  switch (ev.code) {
    case 1000: return "Disconnected.";
    case 1001: return "The server is restarting; reconnecting…";
    case 1012: return "The server is restarting; reconnecting…";
    case 1013: return "The server cannot take the connection right now; retrying…";
    case 1008:
      if (ev.reason === "too many rooms") return "The server has as many rooms as it takes; join one that has members.";
      return "Not authorized (" + (ev.reason || "policy") + "). Log in again.";
    case 1011: return "The server hit an error; reconnecting…";
    default: return "Connection lost (" + ev.code + "); reconnecting…";
  }
}

function connect() {
  const url = new URL("/ws?room=" + encodeURIComponent(room), location.href);
  if (position) url.searchParams.set("resume", position);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  ws = new WebSocket(url, ["chat.v1", bearer(token)]);
  ws.onopen = () => setStatus("Joining #" + room + "…", "joining");
  ws.onmessage = (ev) => render(JSON.parse(ev.data));
  ws.onclose = (ev) => {
    setStatus(describe(ev), "closed");
    if (ev.code === 1008) {
      $("chat").hidden = true;
      $("login-form").hidden = false;
      return;
    }
    if (ev.code !== 1000 && retries < 6) {
      setTimeout(connect, 500 * 2 ** retries++);
    }
  };
}

$("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  room = $("room").value.trim() || "lobby";
  position = "";
  try {
    await login($("user").value.trim());
  } catch (err) {
    setStatus(err.message, "closed");
    return;
  }
  $("login-form").hidden = true;
  $("chat").hidden = false;
  connect();
});

$("send-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("text").value;
  const to = $("to").value.trim();
  if (!text || !ws || ws.readyState !== WebSocket.OPEN) return;
  ws.send(JSON.stringify(to ? { type: "dm", to, text } : { type: "say", text }));
  $("text").value = "";
  $("text").focus();
});
