// The chat client: log in through the development login, then keep a
// connection to the chat with ssot.js (the repository's client/js/ssot.js,
// which the server serves from package ssotjs), which sends the token as a subprotocol,
// reconnects, resumes the direct messages it missed and refreshes the
// token before it expires; render what the server sends. Text is always
// set with textContent, never parsed as HTML.
import { Client } from "/static/ssot.js";

const $ = (id) => document.getElementById(id);
let me = "";
let token = "";
let issued = 0; // when token was issued and expires, in milliseconds
let expires = 0;
let room = "lobby";
let client = null;

// chat is for the browser's console (and the browser test): chat.client
// is the page's ssot.js Client.
window.chat = {
  get client() {
    return client;
  },
};

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

// parse is the chat's framing for ssot.js: every message is a JSON object;
// a direct message carries its position in its user's stream as "pos", and
// a reset is {"type":"reset","pos":…}.
function parse(text) {
  const msg = JSON.parse(text);
  return { reset: msg.type === "reset", position: msg.pos || null, data: msg };
}

function render(msg) {
  switch (msg.type) {
    case "welcome":
      // The server has registered this connection: messages reach it now.
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
    case "error":
      add("error", "", msg.error);
      break;
  }
}

// login asks the development login for a token for user.
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
  issued = Date.now();
  expires = new Date(body.expires_at).getTime();
}

// currentToken is ssot.js's token(), awaited before each connect and for
// each refresh. A refresh (the connection is open) gets a new token from
// the development login; a connect presents the token the user logged in
// with, or a new one once less than 40% of its life is left, so that a
// restarted server, whose tokens are signed with another secret, refuses
// it (1008) and the page asks to log in again.
async function currentToken() {
  if (client.state === "open" || expires - Date.now() < 0.4 * (expires - issued)) await login(me);
  return token;
}

// Close codes the server uses, and what the user can do about them.
function describe(d) {
  switch (d.code) {
    case 1000: return d.reconnectIn === null ? "Disconnected." : "The server closed the connection; reconnecting…";
    case 1001: return "The server is restarting; reconnecting…";
    case 1012: return "The server is restarting; reconnecting…";
    case 1013: return "The server cannot take the connection right now; retrying…";
    case 1008:
      if (d.reason === "too many rooms") return "The server has as many rooms as it takes; join one that has members.";
      return "Not authorized (" + (d.reason || "policy") + "). Log in again.";
    case 1011: return "The server hit an error; reconnecting…";
    default: return "Connection lost (" + d.code + "); reconnecting…";
  }
}

// join connects to room as the logged-in user. The position is kept per
// user and room in sessionStorage, so a tab that logs in again after a
// 1008, or reloads, gets the direct messages it missed.
function join() {
  client?.close();
  client = new Client("/ws?room=" + encodeURIComponent(room), {
    protocol: "chat.v1",
    sseURL: "/sse?room=" + encodeURIComponent(room), // when a WebSocket cannot open
    token: currentToken,
    parse,
    storageKey: "chat.position " + me + " " + room,
  });
  client.on("open", () => setStatus("Joining #" + room + "…", "joining"));
  client.on("message", ({ data }) => render(data));
  client.on("reset", () => {
    // A fresh connection learns where its stream stands; one that resumed
    // from a position the server no longer keeps missed direct messages.
    if (client.position) add("system", "", "Direct messages sent while you were away are no longer kept.");
  });
  client.on("close", (d) => {
    // An attempt that never opened leaves the explanation of the close
    // that started the reconnects in place.
    if (d.opened || d.reconnectIn === null) setStatus(describe(d), "closed");
  });
  client.on("policy", () => {
    $("chat").hidden = true;
    $("login-form").hidden = false;
  });
  client.connect();
}

$("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  room = $("room").value.trim() || "lobby";
  try {
    await login($("user").value.trim());
  } catch (err) {
    setStatus(err.message, "closed");
    return;
  }
  $("login-form").hidden = true;
  $("chat").hidden = false;
  join();
});

$("send-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("text").value;
  const to = $("to").value.trim();
  if (!text || !client) return;
  if (!client.send(JSON.stringify(to ? { type: "dm", to, text } : { type: "say", text }))) {
    add("error", "", "Not sent: too many messages are waiting for the connection.");
    return;
  }
  $("text").value = "";
  $("text").focus();
});
