// ssot.js: the browser client of an ssot (wsmanager) endpoint. A
// dependency-free ES module, served as is:
//
//   import { Client } from "/ssot.js";
//   const client = new Client("/ws", { protocol: "chat.v1", token: getToken });
//   client.on("message", ({ data }) => show(data));
//   client.on("reset", () => reload());
//   client.connect();
//
// See README.md beside this file for every option and event.

/**
 * What the client does when a connection closes, by close code. The
 * client's own close() stops it and never reconnects; every other close
 * is the server's or the network's:
 *
 * | code      | meaning                                  | the client            |
 * | --------- | ---------------------------------------- | --------------------- |
 * | 1000      | normal closure, by the server            | reconnects soon       |
 * | 1001      | going away: the server shuts down        | reconnects soon       |
 * | 1012      | service restart: a drain                 | reconnects soon       |
 * | 1008      | policy: token expired or refused, token  | stops, keeps its      |
 * |           | refresh refused, rate limited, too slow  | position; "policy"    |
 * | 1011      | internal error                           | backs off             |
 * | 1013      | try again later: a limit, a draining     | backs off             |
 * |           | node, the broker unavailable             |                       |
 * | 1006      | abnormal: no close frame, no handshake   | backs off             |
 * | any other |                                          | backs off             |
 *
 * "Soon" is a random delay between 0 and restartDelay, so that the clients
 * of a node do not come back at once; "backs off" is exponential backoff
 * with full jitter (backoffDelay). The position is kept in every case,
 * 1008 included, so the next connection resumes where this one stopped.
 *
 * @param {number} code a close code
 * @returns {"soon"|"backoff"|"policy"} what the client does after a close
 *   it did not ask for
 */
export function closeAction(code) {
  switch (code) {
    case 1000:
    case 1001:
    case 1012:
      return "soon";
    case 1008:
      return "policy";
    default:
      return "backoff";
  }
}

/**
 * Parses one message of wsmanager's default framing (PrefixFrame and
 * ResetFrame): "<position> <payload>", "- <payload>" for a message with no
 * position, or "<position>" alone, with no space, for a reset: the stream's
 * head, after messages the server no longer holds.
 *
 * @param {string} text a message as the server sent it
 * @returns {{reset: boolean, position: (string|null), data: (string|null)}}
 */
export function parseFrame(text) {
  const i = text.indexOf(" ");
  if (i < 0) return { reset: true, position: text, data: null };
  const p = text.slice(0, i);
  return { reset: false, position: p === "-" ? null : p, data: text.slice(i + 1) };
}

/**
 * Exponential backoff with full jitter: a random delay between 0 and
 * min(cap, base × 2^attempt) milliseconds.
 *
 * @param {number} attempt how many attempts failed before this one, from 0
 * @param {number} base milliseconds
 * @param {number} cap milliseconds
 * @param {() => number} [random] a number in [0, 1); Math.random by default
 * @returns {number} milliseconds
 */
export function backoffDelay(attempt, base, cap, random = Math.random) {
  return Math.floor(random() * Math.min(cap, base * 2 ** Math.min(attempt, 30)));
}

/**
 * The subprotocol that carries a token: "bearer." and the token's UTF-8
 * bytes in base64url without padding, which keeps it within the
 * characters a subprotocol may hold (browsers cannot set headers on a
 * WebSocket).
 *
 * @param {string} token
 * @returns {string}
 */
export function bearerProtocol(token) {
  let bin = "";
  for (const b of new TextEncoder().encode(token)) bin += String.fromCharCode(b);
  return "bearer." + btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * When a JSON Web Token expires: its "exp" claim, in milliseconds since
 * the epoch, read without checking the signature (the server checks it).
 * Null when token is not a JWT or has no numeric "exp".
 *
 * @param {string} token
 * @returns {number|null}
 */
export function jwtExpiry(token) {
  const parts = typeof token === "string" ? token.split(".") : [];
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const exp = JSON.parse(atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, "="))).exp;
    return typeof exp === "number" && Number.isFinite(exp) ? exp * 1000 : null;
  } catch {
    return null;
  }
}

/**
 * How long to wait before refreshing a token that expires at expiresAt:
 * until refreshBefore milliseconds before its expiry, or, for a token
 * whose remaining life is shorter than three times refreshBefore, until
 * two thirds of that life have passed; never less than a second.
 *
 * @param {number} now milliseconds since the epoch
 * @param {number} expiresAt milliseconds since the epoch
 * @param {number} refreshBefore milliseconds
 * @returns {number} milliseconds
 */
export function refreshDelay(now, expiresAt, refreshBefore) {
  const life = expiresAt - now;
  return Math.max(life - refreshBefore, (life * 2) / 3, 1000);
}

const defaults = {
  protocol: [],
  token: null,
  expiresAt: jwtExpiry,
  refreshBefore: 30000,
  refreshInterval: 0,
  refreshMessage: (token) => JSON.stringify({ type: "refresh", token }),
  parse: parseFrame,
  resumeParam: "resume",
  storageKey: undefined,
  backoffBase: 500,
  backoffCap: 30000,
  stableAfter: 10000,
  restartDelay: 1000,
  queueMessages: 1000,
  queueBytes: 1 << 20,
  sseURL: "",
  sseAfter: 3,
};

/**
 * A connection to one ssot endpoint that outlives its transports: it
 * reconnects, resumes from the position of the last message it handled,
 * refreshes its token before it expires and queues what is sent while it
 * is not open. See README.md beside this file for the options.
 *
 * Events (client.on(type, fn) calls fn with the event's detail, and
 * returns a function that removes it; addEventListener works too, with the
 * detail in event.detail):
 *
 * - "state" {state}: "connecting" (connect() was called), "open",
 *   "reconnecting" (waiting to try again, or trying, after a close) or
 *   "closed" (stopped: close(), or a 1008).
 * - "open" {transport}: a connection opened, "websocket" or "sse"; what
 *   was queued has just been sent on it.
 * - "message" {data, position}: a message; position is null for one that
 *   has none (a broadcast, a reply to this connection alone).
 * - "reset" {position}: the server no longer holds the messages after this
 *   client's position (or it had none): reload the state, the client
 *   continues from position.
 * - "close" {code, reason, opened, transport, reconnectIn}: a connection
 *   closed (opened says whether it had opened); reconnectIn is the delay
 *   before the next attempt, in milliseconds, or null when the client
 *   stopped.
 * - "policy" {code, reason}: the server closed with 1008 (a token expired
 *   or refused, a rate limit). The client has stopped, with its position;
 *   call connect() to try again, after arranging for token() to return a
 *   valid token.
 * - "error" {error, data}: token() failed, a message sent over the
 *   server-sent events transport was refused (data is that message), or
 *   the URL or a protocol is invalid (the client has stopped).
 *
 * Not safe to share between pages; one Client per endpoint and page.
 */
export class Client extends EventTarget {
  #url;
  #opts;
  #state = "closed";
  #position = "";
  #queue = [];
  #queueBytes = 0;
  #gen = 0; // the current attempt: callbacks of earlier ones do nothing
  #ws = null;
  #sse = null;
  #sseConn = "";
  #posting = Promise.resolve();
  #transport = "websocket";
  #everOpened = false;
  #wsFailures = 0; // WebSocket attempts that never opened, before any did
  #attempt = 0;
  #openedAt = 0;
  #token = "";
  #timer = 0;
  #refreshTimer = 0;

  /**
   * @param {string} url the endpoint's URL, absolute or relative to the
   *   page; http(s) is turned into ws(s)
   * @param {object} [options] see README.md
   */
  constructor(url, options = {}) {
    super();
    this.#url = url;
    this.#opts = { ...defaults, ...options };
    if (this.#opts.storageKey === undefined) this.#opts.storageKey = "ssot.position " + url;
    this.#position = this.#load();
  }

  /** The state: "connecting", "open", "reconnecting" or "closed". */
  get state() {
    return this.#state;
  }

  /** The position of the last message handled, or "" for none. */
  get position() {
    return this.#position;
  }

  /** The transport in use or to be tried next: "websocket" or "sse". */
  get transport() {
    return this.#transport;
  }

  /** How many messages wait in the send queue. */
  get queued() {
    return this.#queue.length;
  }

  /**
   * Calls fn with the detail of every event of type, until the function
   * it returns is called.
   *
   * @param {string} type
   * @param {(detail: object) => void} fn
   * @returns {() => void}
   */
  on(type, fn) {
    const listener = (ev) => fn(ev.detail);
    this.addEventListener(type, listener);
    return () => this.removeEventListener(type, listener);
  }

  /**
   * Connects, unless the client is already connected or trying to. It
   * presents the position kept, so that it resumes after a close(), a
   * 1008 or a page reload.
   */
  connect() {
    if (this.#state !== "closed") return;
    this.#attempt = 0;
    this.#start("connecting");
  }

  /**
   * Closes the connection with code (1000 by default) and stops: no
   * reconnect. The position and the send queue are kept for the next
   * connect().
   *
   * @param {number} [code] 1000, or 3000 to 4999: the codes the WebSocket
   *   API lets a page send; any other throws a RangeError
   * @param {string} [reason]
   */
  close(code = 1000, reason = "") {
    if (code !== 1000 && !(code >= 3000 && code <= 4999)) {
      throw new RangeError("ssot: a page may close with 1000 or 3000 to 4999, not " + code);
    }
    if (this.#state === "closed") return;
    this.#gen++;
    clearTimeout(this.#timer);
    clearTimeout(this.#refreshTimer);
    const opened = this.#state === "open";
    this.#ws?.close(code, reason);
    this.#sse?.close();
    this.#ws = this.#sse = null;
    this.#setState("closed");
    this.#emit("close", { code, reason, opened, transport: this.#transport, reconnectIn: null });
  }

  /**
   * Sends data (a string) on the open connection, or queues it while
   * there is none; the queue is sent, in order, as soon as a connection
   * opens. Returns false, and queues nothing, when the queue already holds
   * queueMessages messages or data would take it past queueBytes bytes.
   * A message sent on a connection that then drops may be lost, as on any
   * WebSocket: the queue holds only what was sent while none was open.
   *
   * @param {string} data
   * @returns {boolean}
   */
  send(data) {
    if (this.#ready()) {
      this.#write(data);
      return true;
    }
    const size = new TextEncoder().encode(data).length;
    if (this.#queue.length >= this.#opts.queueMessages || this.#queueBytes + size > this.#opts.queueBytes) {
      return false;
    }
    this.#queue.push(data);
    this.#queueBytes += size;
    return true;
  }

  /**
   * Forgets the position (and its stored copy): the next connection starts
   * afresh, with a reset.
   */
  forgetPosition() {
    this.#setPosition("");
  }

  #ready() {
    if (this.#state !== "open") return false;
    return this.#ws ? this.#ws.readyState === WebSocket.OPEN : this.#sse !== null;
  }

  #write(data) {
    if (this.#ws) {
      this.#ws.send(data);
      return;
    }
    const url = new URL(this.#opts.sseURL, location.href);
    url.searchParams.set("conn", this.#sseConn);
    const headers = this.#token ? { Authorization: "Bearer " + this.#token } : {};
    // One POST at a time, so that the server gets them in order.
    this.#posting = this.#posting.then(async () => {
      try {
        const res = await fetch(url, { method: "POST", headers, body: data });
        if (res.status !== 204) throw new Error("ssot: message refused with HTTP " + res.status);
      } catch (error) {
        this.#emit("error", { error, data });
      }
    });
  }

  async #start(state) {
    const gen = ++this.#gen;
    this.#setState(state);
    let token = "";
    try {
      if (this.#opts.token) token = (await this.#opts.token()) || "";
    } catch (error) {
      if (gen !== this.#gen) return;
      this.#emit("error", { error, data: null });
      this.#closed(1006, "token() failed");
      return;
    }
    if (gen !== this.#gen) return;
    this.#token = token;
    try {
      if (this.#transport === "sse") this.#openSSE(gen, token);
      else this.#openWebSocket(gen, token);
    } catch (error) {
      // An invalid URL or protocol: no attempt can succeed.
      this.#gen++;
      this.#setState("closed");
      this.#emit("error", { error, data: null });
    }
  }

  #openWebSocket(gen, token) {
    const url = new URL(this.#url, location.href);
    if (url.protocol === "http:") url.protocol = "ws:";
    if (url.protocol === "https:") url.protocol = "wss:";
    if (this.#position) url.searchParams.set(this.#opts.resumeParam, this.#position);
    const protocols = [].concat(this.#opts.protocol);
    if (token) protocols.push(bearerProtocol(token));
    const ws = new WebSocket(url, protocols);
    this.#ws = ws;
    ws.onopen = () => gen === this.#gen && this.#open(gen);
    ws.onmessage = (ev) => gen === this.#gen && this.#receive(ev.data);
    ws.onclose = (ev) => {
      if (gen !== this.#gen) return;
      // Only failures in a row count: a close with a code means the
      // WebSocket got through.
      if (!this.#everOpened) this.#wsFailures = ev.code === 1006 ? this.#wsFailures + 1 : 0;
      this.#closed(ev.code, ev.reason);
    };
  }

  #openSSE(gen, token) {
    const url = new URL(this.#opts.sseURL, location.href);
    if (token) url.searchParams.set("token", token);
    if (this.#position) url.searchParams.set(this.#opts.resumeParam, this.#position);
    const es = new EventSource(url);
    this.#sse = es;
    // The server's "open" event carries the connection's id; the browser's
    // own open event, of the same type, carries no data.
    es.addEventListener("open", (ev) => {
      if (gen !== this.#gen || typeof ev.data !== "string") return;
      this.#sseConn = ev.data;
      this.#open(gen);
    });
    es.onmessage = (ev) => gen === this.#gen && this.#receive(ev.data);
    es.addEventListener("close", (ev) => {
      if (gen !== this.#gen) return;
      const text = String(ev.data);
      const i = text.indexOf(" ");
      const code = Number(i < 0 ? text : text.slice(0, i));
      this.#closed(Number.isInteger(code) ? code : 1006, i < 0 ? "" : text.slice(i + 1));
    });
    // The client reconnects itself, with its position, rather than let the
    // browser retry with a token that may have expired.
    es.onerror = () => gen === this.#gen && this.#closed(1006, "");
  }

  #open(gen) {
    this.#everOpened = true;
    this.#openedAt = Date.now();
    // The queue goes first, before a listener of the state can send.
    const queue = this.#queue;
    this.#queue = [];
    this.#queueBytes = 0;
    for (const data of queue) this.#write(data);
    this.#setState("open");
    this.#emit("open", { transport: this.#transport });
    this.#scheduleRefresh(gen);
  }

  #receive(text) {
    if (typeof text !== "string") {
      this.#emit("message", { data: text, position: null });
      return;
    }
    const f = this.#opts.parse(text);
    if (f.reset) {
      this.#emit("reset", { position: f.position });
      this.#setPosition(f.position || "");
      return;
    }
    this.#emit("message", { data: f.data, position: f.position });
    if (f.position) this.#setPosition(f.position);
  }

  #closed(code, reason) {
    this.#gen++;
    clearTimeout(this.#refreshTimer);
    const opened = this.#state === "open";
    const transport = this.#transport;
    this.#ws?.close();
    this.#sse?.close();
    this.#ws = this.#sse = null;
    if (opened && Date.now() - this.#openedAt >= this.#opts.stableAfter) this.#attempt = 0;
    const action = closeAction(code);
    let delay = null;
    if (action === "soon") {
      delay = Math.floor(Math.random() * this.#opts.restartDelay);
    } else if (action === "backoff") {
      delay = backoffDelay(this.#attempt++, this.#opts.backoffBase, this.#opts.backoffCap);
    }
    if (delay !== null && this.#opts.sseURL && transport === "websocket" && this.#wsFailures >= this.#opts.sseAfter) {
      this.#transport = "sse";
      this.#attempt = 0;
      delay = 0;
    }
    const gen = this.#gen;
    this.#setState(action === "policy" ? "closed" : "reconnecting");
    this.#emit("close", { code, reason, opened, transport, reconnectIn: delay });
    if (gen !== this.#gen) return; // a listener called close() or connect()
    if (action === "policy") {
      this.#emit("policy", { code, reason });
      return;
    }
    this.#timer = setTimeout(() => gen === this.#gen && this.#start("reconnecting"), delay);
  }

  #scheduleRefresh(gen) {
    clearTimeout(this.#refreshTimer);
    if (!this.#opts.token) return;
    const exp = this.#opts.expiresAt(this.#token);
    let delay = this.#opts.refreshInterval;
    if (exp != null) delay = refreshDelay(Date.now(), exp, this.#opts.refreshBefore);
    if (!delay) return;
    this.#refreshTimer = setTimeout(() => this.#refresh(gen), delay);
  }

  async #refresh(gen) {
    let token;
    try {
      token = await this.#opts.token();
    } catch (error) {
      if (gen !== this.#gen) return;
      this.#emit("error", { error, data: null });
      // The server closes the connection with 1008 at expiry if no later
      // attempt succeeds.
      this.#refreshTimer = setTimeout(() => this.#refresh(gen), 1000);
      return;
    }
    if (gen !== this.#gen || !this.#ready()) return;
    this.#token = token;
    this.#write(this.#opts.refreshMessage(token));
    this.#scheduleRefresh(gen);
  }

  #setState(state) {
    if (state === this.#state) return;
    this.#state = state;
    this.#emit("state", { state });
  }

  #setPosition(position) {
    this.#position = position;
    if (!this.#opts.storageKey) return;
    try {
      if (position) sessionStorage.setItem(this.#opts.storageKey, position);
      else sessionStorage.removeItem(this.#opts.storageKey);
    } catch {
      // Storage full or denied: the position lives as long as the page.
    }
  }

  #load() {
    if (!this.#opts.storageKey) return "";
    try {
      return sessionStorage.getItem(this.#opts.storageKey) || "";
    } catch {
      return "";
    }
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
