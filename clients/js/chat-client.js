// The Chat client for JavaScript: browsers and Node, no runtime dependencies. One WebSocket to a replica's /ws
// (or nginx's), one JSON frame per text message (DESIGN.md, "WebSocket"). It matches answers to requests by cid,
// keeps the link alive with PING/PONG, reconnects with exponential backoff and jitter, logs in again by token with
// `resume` from the last seq it saw in each conversation, drops repeats by seq, and resends the chat messages whose
// ACK never came with their original cid (the server stores them once).
//
// Node 20 has no WebSocket of its own: pass one (e.g. the `ws` package's) as `WebSocket` in the options.

export const MsgId = Object.freeze({
  LOGIN: 1, LOGIN_ACK: 2, LOGINOUT: 3, REG: 4, REG_ACK: 5, ONE_CHAT: 6, ADD_FRIEND: 7, CREATE_GROUP: 8,
  ADD_GROUP: 9, GROUP_CHAT: 10, ACK: 11, ERROR: 12, PING: 13, PONG: 14, HISTORY: 15, HISTORY_ACK: 16,
  READ: 17, READ_NOTICE: 18, TYPING: 19, PRESENCE: 20, LEAVE_GROUP: 21, REMOVE_MEMBER: 22, REMOVE_FRIEND: 23,
  EDIT: 24, RECALL: 25, REACT: 26, PROFILE: 27, FIND: 28, BLOCK: 29,
});

/** A request the server answered with an errno other than 0. */
export class RequestError extends Error {
  constructor(reply) {
    super(reply.errmsg || `error ${reply.errno}`);
    this.name = "RequestError";
    this.errno = reply.errno;
    this.reply = reply;
  }
}

const OPEN = 1; // WebSocket.OPEN, the same in every implementation

const DEFAULTS = Object.freeze({
  requestTimeoutMs: 20000,
  pingEveryMs: 25000,   // well under the server's idle timeout (5 min) and nginx's read timeout
  pongWithinMs: 10000,  // no PONG by then: the link is dead even if the socket does not know yet
  backoffFirstMs: 250,
  backoffMaxMs: 30000,
});

/** The key of a conversation: "p<peer>" one-to-one, "g<groupid>" a group. */
export function conversationKey({ peer, groupid }) {
  return groupid !== undefined && groupid !== null ? `g${groupid}` : `p${peer}`;
}

/** The conversation a chat frame (6/10) or an event (24–26) belongs to, seen by user `me`. */
export function conversationOf(frame, me) {
  if (frame.groupid !== undefined) return { groupid: frame.groupid };
  return { peer: frame.id === me ? (frame.toid ?? frame.peer) : frame.id };
}

/**
 * The link to the server: opens, keeps alive and reopens one WebSocket; answers by cid. What to do once open
 * (LOGIN) is the owner's business (`onopen`). The web client and ChatClient both use it.
 */
export class Connection {
  #url;
  #WebSocket;
  #options;
  #socket = null;
  #pending = new Map();   // cid -> { resolve, reject, timer }
  #nextCid = 1;
  #attempt = 0;
  #retryTimer = undefined;
  #pingTimer = undefined;
  #pongTimer = undefined;
  #stopped = true;

  /** Called with each frame that answers no pending request. */
  onframe = () => {};
  /** Called once the socket is open (log in here). */
  onopen = () => {};
  /** Called with the state: "connecting" | "open" | "waiting" (with the delay in ms) | "stopped". */
  onstate = () => {};

  constructor(url, { WebSocket: impl = globalThis.WebSocket, ...options } = {}) {
    if (typeof impl !== "function") throw new TypeError("no WebSocket: pass one as the WebSocket option (Node: the ws package)");
    this.#url = url;
    this.#WebSocket = impl;
    this.#options = { ...DEFAULTS, ...options };
  }

  get isOpen() {
    return this.#socket?.readyState === OPEN;
  }

  start() {
    this.#stopped = false;
    this.#attempt = 0;
    this.#open();
  }

  /** Closes the link for good (until start()): sign-out, or a session replaced elsewhere. */
  stop() {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#socket?.close(1000);
    this.onstate("stopped");
  }

  /** The link works again (a login succeeded): the next loss starts the backoff from the beginning. */
  resetBackoff() {
    this.#attempt = 0;
  }

  /** Drops the link and reopens it after the usual backoff (e.g. a login the server was too busy for). */
  retry() {
    this.#socket?.close(4000, "retry");
  }

  /** Sends a frame that expects no answer. Returns false when there is no link. */
  send(frame) {
    if (!this.isOpen) return false;
    this.#socket.send(JSON.stringify(frame));
    return true;
  }

  /** A fresh cid. */
  cid() {
    return `c${Date.now().toString(36)}-${this.#nextCid++}`;
  }

  /**
   * Sends a frame with a fresh cid (or the one it has: a resend keeps its cid, so the server stores it once) and
   * resolves with the answer carrying that cid; rejects with RequestError when errno is not 0, or when the link
   * drops first.
   */
  request(frame) {
    const cid = frame.cid ?? this.cid();
    const sent = { ...frame, cid };
    return new Promise((resolve, reject) => {
      if (!this.send(sent)) {
        reject(new Error("not connected"));
        return;
      }
      const timer = setTimeout(() => {
        this.#pending.delete(cid);
        reject(new Error("the server did not answer"));
      }, this.#options.requestTimeoutMs);
      this.#pending.set(cid, { resolve, reject, timer });
    });
  }

  #open() {
    clearTimeout(this.#retryTimer);
    this.onstate("connecting");
    const socket = new this.#WebSocket(this.#url);
    this.#socket = socket;
    socket.onopen = () => {
      this.onstate("open");
      this.#schedulePing();
      this.onopen();
    };
    socket.onmessage = event => this.#receive(typeof event.data === "string" ? event.data : String(event.data));
    socket.onerror = () => {}; // a close follows; that is where it is handled
    socket.onclose = () => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      clearTimeout(this.#pingTimer);
      clearTimeout(this.#pongTimer);
      for (const [cid, waiter] of this.#pending) {
        clearTimeout(waiter.timer);
        waiter.reject(new Error("connection lost"));
        this.#pending.delete(cid);
      }
      if (!this.#stopped) this.#scheduleRetry();
    };
  }

  #scheduleRetry() {
    const ceiling = Math.min(this.#options.backoffMaxMs, this.#options.backoffFirstMs * 2 ** this.#attempt++);
    const delay = Math.round(ceiling / 2 + Math.random() * ceiling / 2);
    this.onstate("waiting", delay);
    this.#retryTimer = setTimeout(() => this.#open(), delay);
  }

  #schedulePing() {
    clearTimeout(this.#pingTimer);
    this.#pingTimer = setTimeout(() => {
      if (!this.send({ msgid: MsgId.PING })) return;
      this.#pongTimer = setTimeout(() => this.#socket?.close(4001, "no pong"), this.#options.pongWithinMs);
    }, this.#options.pingEveryMs);
  }

  #receive(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return; // the server sends only JSON; anything else is not ours to act on
    }
    if (frame.msgid === MsgId.PONG && frame.cid === undefined) {
      clearTimeout(this.#pongTimer);
      this.#schedulePing();
      return;
    }
    const waiter = frame.cid !== undefined ? this.#pending.get(frame.cid) : undefined;
    if (waiter) {
      this.#pending.delete(frame.cid);
      clearTimeout(waiter.timer);
      if (frame.errno) waiter.reject(new RequestError(frame));
      else waiter.resolve(frame);
      return;
    }
    this.onframe(frame);
  }
}

// The events ChatClient emits, by the msgid of the push that causes them.
const EVENTS = new Map([
  [MsgId.ONE_CHAT, "message"], [MsgId.GROUP_CHAT, "message"], [MsgId.READ_NOTICE, "read"], [MsgId.TYPING, "typing"],
  [MsgId.PRESENCE, "presence"], [MsgId.ADD_GROUP, "joined"], [MsgId.LEAVE_GROUP, "left"], [MsgId.REMOVE_MEMBER, "removed"],
  [MsgId.EDIT, "edit"], [MsgId.RECALL, "recall"], [MsgId.REACT, "react"], [MsgId.PROFILE, "profile"], [MsgId.ERROR, "error"],
]);

/**
 * A user's session: logs in (password or token), stays logged in across lost links (token, resume by seq), and
 * turns the server's pushes into events: "message" (chat frames, each seq once, in order), "edit", "recall", "react",
 * "read", "typing", "presence", "joined", "left", "removed", "profile", "error" (an ERROR push, e.g. errno 12:
 * replaced), "login" (each LOGIN_ACK, the first and every one after a reconnect), "state" (the link's), and "frame"
 * (anything else).
 */
export class ChatClient {
  #connection;
  #listeners = new Map();
  #credentials = null;     // { id, password?, token? }
  #seen = new Map();       // conversation key -> highest seq seen
  #unacked = new Map();    // cid -> chat frame whose ACK never came
  #loggedIn = false;
  #loginWaiters = [];
  #opened = null;

  /** The user's id once logged in. */
  id = null;
  /** The session token of the last LOGIN_ACK (keep it instead of the password). */
  token = null;
  /** The ids of the users this user blocked: from each LOGIN_ACK (v2 `blocked`), then block(). */
  blocked = new Set();

  /**
   * @param {string} url ws://host:port/ws
   * @param {object} [options] WebSocket (Node: the ws package's class), and timing: requestTimeoutMs, pingEveryMs,
   *   pongWithinMs, backoffFirstMs, backoffMaxMs.
   */
  constructor(url, options = {}) {
    this.#connection = new Connection(url, options);
    this.#connection.onframe = frame => this.#onFrame(frame);
    this.#connection.onstate = (state, delay) => {
      if (state !== "open") this.#loggedIn = false;
      this.#emit("state", { state, delay });
    };
    this.#connection.onopen = () => {
      this.#opened?.();
      this.#opened = null;
      if (this.#credentials) this.#relogin();
    };
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on(type, listener) {
    if (!this.#listeners.has(type)) this.#listeners.set(type, new Set());
    this.#listeners.get(type).add(listener);
    return () => this.#listeners.get(type)?.delete(listener);
  }

  /** Opens the link (resolves once it is open). */
  connect() {
    if (this.#connection.isOpen) return Promise.resolve();
    const opened = new Promise(resolve => { this.#opened = resolve; });
    this.#connection.start();
    return opened;
  }

  /** Closes the link for good. */
  close() {
    this.#credentials = null;
    this.#connection.stop();
  }

  /** Drops the link as a network failure would: the client reconnects, logs in again and resumes by itself. */
  drop() {
    this.#connection.retry();
  }

  /** Registers a user; resolves with the new id. */
  async register(name, password) {
    await this.connect();
    const ack = await this.#connection.request({ msgid: MsgId.REG, name, password });
    return ack.id;
  }

  /**
   * Logs in with `{ id, password }` or `{ id, token }`; resolves with the LOGIN_ACK (v2: objects, a token, convs).
   * From then on a lost link is reopened and the login repeated by token, resuming from the last seqs seen.
   */
  async login({ id, password, token, resume }) {
    await this.connect();
    for (const point of resume ?? []) this.#note(point, point.seq);
    const ack = await this.#login({ id, password, token });
    this.#credentials = { id, password, token: this.token };
    return ack;
  }

  /** Logs out (with `all`, every session token of the user is revoked); the link stays open. */
  async logout({ all = false } = {}) {
    const credentials = this.#credentials;
    this.#credentials = null;
    this.#loggedIn = false;
    if (credentials) await this.#connection.request(all ? { msgid: MsgId.LOGINOUT, all: true } : { msgid: MsgId.LOGINOUT });
  }

  /** Sends a one-to-one message; resolves with its ACK ({ seq, ts }) once stored. Options: reply (a seq), file (an id), time. */
  send(peer, msg, options = {}) {
    return this.#chat({ msgid: MsgId.ONE_CHAT, toid: peer, msg, ...options });
  }

  /** Sends a group message; resolves with its ACK once stored. */
  sendGroup(groupid, msg, options = {}) {
    return this.#chat({ msgid: MsgId.GROUP_CHAT, groupid, msg, ...options });
  }

  /** Edits one of the user's messages (`to`: { peer } or { groupid }). */
  edit(to, seq, msg) {
    return this.request({ msgid: MsgId.EDIT, ...to, seq, msg });
  }

  /** Recalls a message. */
  recall(to, seq) {
    return this.request({ msgid: MsgId.RECALL, ...to, seq });
  }

  /** Adds (or with on = false removes) a reaction. */
  react(to, seq, emoji, on = true) {
    return this.request({ msgid: MsgId.REACT, ...to, seq, emoji, on });
  }

  /** A page of a conversation's history: { messages, more }. */
  history(to, { before, limit } = {}) {
    return this.request({ msgid: MsgId.HISTORY, ...to, ...(before ? { before } : {}), ...(limit ? { limit } : {}) });
  }

  /** Marks a conversation read up to seq. */
  read(to, seq) {
    return this.request({ msgid: MsgId.READ, ...to, seq });
  }

  /** Tells a peer or a group that the user is typing. */
  typing(to) {
    return this.request({ msgid: MsgId.TYPING, ...to });
  }

  addFriend(friendid) {
    return this.request({ msgid: MsgId.ADD_FRIEND, friendid });
  }

  removeFriend(friendid) {
    return this.request({ msgid: MsgId.REMOVE_FRIEND, friendid });
  }

  createGroup(groupname, groupdesc = "") {
    return this.request({ msgid: MsgId.CREATE_GROUP, groupname, groupdesc });
  }

  joinGroup(groupid) {
    return this.request({ msgid: MsgId.ADD_GROUP, groupid });
  }

  leaveGroup(groupid) {
    return this.request({ msgid: MsgId.LEAVE_GROUP, groupid });
  }

  /** Sets what the user says about themselves and/or their avatar (an uploaded image's file id; "" clears it). */
  profile({ about, avatar } = {}) {
    return this.request({ msgid: MsgId.PROFILE, ...(about !== undefined ? { about } : {}), ...(avatar !== undefined ? { avatar } : {}) });
  }

  /** Up to 20 users whose name starts with `q` (2–32 characters, ignoring case): resolves with [{ id, name, about, avatar }]. */
  async find(q) {
    const answer = await this.request({ msgid: MsgId.FIND, q });
    return answer.users ?? [];
  }

  /** Blocks a user (with on = false unblocks them); `blocked` follows. */
  async block(userid, on = true) {
    const ack = await this.request({ msgid: MsgId.BLOCK, userid, on });
    if (on) this.blocked.add(userid);
    else this.blocked.delete(userid);
    return ack;
  }

  /** Any request: resolves with the answer that carries its cid, rejects with RequestError on errno ≠ 0. */
  request(frame) {
    return this.#connection.request(frame);
  }

  /** The highest seq seen in a conversation ({ peer } or { groupid }); 0 when none. */
  seen(to) {
    return this.#seen.get(conversationKey(to)) ?? 0;
  }

  async #chat(frame) {
    const sent = { ...frame, cid: frame.cid ?? this.#connection.cid() };
    try {
      await this.#awaitLogin();
      return this.#acked(sent, await this.#connection.request(sent));
    } catch (error) {
      if (error instanceof RequestError || !this.#credentials) throw error;
      this.#unacked.set(sent.cid, sent); // the link dropped: sent again, same cid, after the next login
      return this.#resent(sent.cid);
    }
  }

  #acked(frame, ack) {
    this.#unacked.delete(frame.cid);
    this.#note(frame.groupid !== undefined ? { groupid: frame.groupid } : { peer: frame.toid }, ack.seq);
    return ack;
  }

  #resent(cid) {
    return new Promise((resolve, reject) => {
      const off = this.on("resent", ({ cid: done, ack, error }) => {
        if (done !== cid) return;
        off();
        if (error) reject(error);
        else resolve(ack);
      });
    });
  }

  #awaitLogin() {
    if (this.#loggedIn) return Promise.resolve();
    return new Promise((resolve, reject) => {
      if (!this.#credentials) {
        reject(new Error("not logged in"));
        return;
      }
      this.#loginWaiters.push(resolve);
    });
  }

  async #login({ id, password, token }) {
    const resume = [...this.#seen].map(([key, seq]) =>
      key[0] === "g" ? { groupid: Number(key.slice(1)), seq } : { peer: Number(key.slice(1)), seq });
    const frame = { msgid: MsgId.LOGIN, id, v: 2, ...(token ? { token } : { password }), ...(resume.length ? { resume } : {}) };
    const ack = await this.#connection.request(frame);
    this.id = ack.id;
    this.token = ack.token ?? this.token;
    this.blocked = new Set(ack.blocked ?? []);
    this.#loggedIn = true;
    this.#connection.resetBackoff();
    for (const message of ack.offlinemsg ?? []) this.#onFrame(message);
    this.#emit("login", ack);
    for (const resolve of this.#loginWaiters.splice(0)) resolve();
    return ack;
  }

  async #relogin() {
    const { id, password, token } = this.#credentials;
    try {
      await this.#login({ id, token: token ?? undefined, password: token ? undefined : password });
    } catch (error) {
      if (error instanceof RequestError && error.errno === 1 && token && password) {
        this.#credentials.token = null; // the token was refused (revoked, expired): the password then
        this.#connection.retry();
        return;
      }
      // 10: the server is busy; 2 ("already online") on a token login: the server has not yet noticed that the
      // lost link is gone. Both pass: try again after the backoff. Any other refusal ends the session.
      const passing = error instanceof RequestError && (error.errno === 10 || (error.errno === 2 && token));
      if (error instanceof RequestError && !passing) {
        this.#emit("error", error.reply);
        this.close();
        return;
      }
      this.#connection.retry();
      return;
    }
    if (!this.#credentials) return; // closed while logging in
    this.#credentials.token = this.token;
    for (const [cid, frame] of this.#unacked) {
      this.#connection.request(frame).then(
        ack => this.#emit("resent", { cid, ack: this.#acked(frame, ack) }),
        error => {
          if (!(error instanceof RequestError)) return; // lost again: the next login sends it again
          this.#unacked.delete(cid);
          this.#emit("resent", { cid, error });
        });
    }
  }

  /** Remembers the highest seq of a conversation; false when it was seen before (a repeat). */
  #note(to, seq) {
    const key = conversationKey(to);
    if ((this.#seen.get(key) ?? 0) >= seq) return false;
    this.#seen.set(key, seq);
    return true;
  }

  #onFrame(frame) {
    const type = EVENTS.get(frame.msgid) ?? "frame";
    if (frame.seq !== undefined && frame.msgid !== MsgId.READ_NOTICE && this.id !== null) {
      // A log entry (a message, or an event that changes one): each seq once per conversation.
      if (!this.#note(conversationOf(frame, this.id), frame.seq)) return;
    }
    if (frame.msgid === MsgId.ERROR && frame.errno === 12) this.close(); // replaced: reconnecting would take the session back
    this.#emit(type, frame);
  }

  #emit(type, value) {
    for (const listener of [...(this.#listeners.get(type) ?? [])]) {
      try {
        listener(value);
      } catch (error) {
        queueMicrotask(() => { throw error; });
      }
    }
  }
}
