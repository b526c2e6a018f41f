// The link to the server: one WebSocket to /ws, one JSON frame per text message (DESIGN.md, "WebSocket").
// It matches answers to requests by cid, keeps the connection alive with PING (13) / PONG (14), notices a dead
// link, and reopens it with exponential backoff and jitter. What to do once open (LOGIN) is the app's business.

export const MsgId = Object.freeze({
  LOGIN: 1, LOGIN_ACK: 2, LOGINOUT: 3, REG: 4, REG_ACK: 5, ONE_CHAT: 6, ADD_FRIEND: 7, CREATE_GROUP: 8,
  ADD_GROUP: 9, GROUP_CHAT: 10, ACK: 11, ERROR: 12, PING: 13, PONG: 14, HISTORY: 15, HISTORY_ACK: 16,
  READ: 17, READ_NOTICE: 18, TYPING: 19, PRESENCE: 20, LEAVE_GROUP: 21, REMOVE_MEMBER: 22, REMOVE_FRIEND: 23,
  EDIT: 24, RECALL: 25, REACT: 26,
  PROFILE: 27, FIND: 28, BLOCK: 29,
});

const REQUEST_TIMEOUT_MS = 20000;
const PING_EVERY_MS = 25000;     // well under the server's idle timeout (5 min) and nginx's read timeout
const PONG_WITHIN_MS = 10000;    // no PONG by then: the link is dead even if the socket does not know yet
const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 30000;

export class RequestError extends Error {
  constructor(reply) {
    super(reply.errmsg || `error ${reply.errno}`);
    this.errno = reply.errno;
    this.reply = reply;
  }
}

export class Connection {
  #url;
  #socket = null;
  #pending = new Map();   // cid -> { resolve, reject, timer }
  #nextCid = 1;
  #attempt = 0;
  #retryTimer = 0;
  #pingTimer = 0;
  #pongTimer = 0;
  #stopped = true;

  /** Called with each frame that answers no pending request. */
  onframe = () => {};
  /** Called once the socket is open (log in here). */
  onopen = () => {};
  /** Called with the state: "connecting" | "open" | "waiting" (with the delay in ms) | "stopped". */
  onstate = () => {};

  constructor(url) {
    this.#url = url;
  }

  get isOpen() {
    return this.#socket?.readyState === WebSocket.OPEN;
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

  /**
   * Sends a frame with a fresh cid (or the one it has: a resend keeps its cid, so the server stores it once) and
   * resolves with the answer carrying that cid; rejects with RequestError when errno is not 0, or when the link
   * drops first.
   */
  request(frame) {
    const cid = frame.cid ?? `c${Date.now().toString(36)}-${this.#nextCid++}`;
    const sent = { ...frame, cid };
    return new Promise((resolve, reject) => {
      if (!this.send(sent)) {
        reject(new Error("not connected"));
        return;
      }
      const timer = setTimeout(() => {
        this.#pending.delete(cid);
        reject(new Error("the server did not answer"));
      }, REQUEST_TIMEOUT_MS);
      this.#pending.set(cid, { resolve, reject, timer });
    });
  }

  #open() {
    clearTimeout(this.#retryTimer);
    this.onstate("connecting");
    const socket = new WebSocket(this.#url);
    this.#socket = socket;
    socket.onopen = () => {
      this.onstate("open");
      this.#schedulePing();
      this.onopen();
    };
    socket.onmessage = event => this.#receive(event.data);
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
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.#attempt++);
    const delay = Math.round(ceiling / 2 + Math.random() * ceiling / 2);
    this.onstate("waiting", delay);
    this.#retryTimer = setTimeout(() => this.#open(), delay);
  }

  #schedulePing() {
    clearTimeout(this.#pingTimer);
    this.#pingTimer = setTimeout(() => {
      if (!this.send({ msgid: MsgId.PING })) return;
      this.#pongTimer = setTimeout(() => this.#socket?.close(4001, "no pong"), PONG_WITHIN_MS);
    }, PING_EVERY_MS);
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
