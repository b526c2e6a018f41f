// The client's reconnect rules against a scripted stand-in for the server (no replica: the races a real server shows
// only now and then, played on cue). The stand-in is a WebSocket class, given to the client as its implementation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ChatClient, MsgId } from "../chat-client.js";

/**
 * A WebSocket class whose "server" is `answer(frame, socket)`: what it returns is sent back (after the current turn,
 * as a socket would). `sockets` are every socket opened, oldest first; `frames` every frame the client sent.
 */
function scriptedServer(answer) {
  const server = { sockets: [], frames: [] };
  server.WebSocket = class {
    readyState = 0;
    onopen = null;
    onclose = null;
    onerror = null;
    onmessage = null;

    constructor() {
      server.sockets.push(this);
      setTimeout(() => {
        this.readyState = 1;
        this.onopen?.({});
      }, 0);
    }

    send(text) {
      const frame = JSON.parse(text);
      server.frames.push(frame);
      const reply = answer(frame, this);
      if (reply) setTimeout(() => this.readyState === 1 && this.onmessage?.({ data: JSON.stringify(reply) }), 0);
    }

    close() {
      if (this.readyState === 3) return;
      this.readyState = 3;
      setTimeout(() => this.onclose?.({}), 0);
    }
  };
  return server;
}

async function until(condition, what, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(resolve => setTimeout(resolve, 5));
  }
}

test("a token login refused as 'already online' after a lost link is tried again, not given up", async () => {
  let logins = 0;
  const server = scriptedServer(frame => {
    if (frame.msgid !== MsgId.LOGIN) return null;
    logins++;
    // The second login is the reconnect: the server has not yet seen the old link go, so "already online".
    if (logins === 2) return { msgid: MsgId.LOGIN_ACK, cid: frame.cid, errno: 2, errmsg: "this account is online" };
    return { msgid: MsgId.LOGIN_ACK, cid: frame.cid, errno: 0, id: 7, name: "seven", token: "t1" };
  });
  const client = new ChatClient("ws://stand-in/ws", { WebSocket: server.WebSocket, backoffFirstMs: 5, backoffMaxMs: 20 });
  const acks = [];
  const errors = [];
  client.on("login", ack => acks.push(ack));
  client.on("error", frame => errors.push(frame));
  try {
    await client.login({ id: 7, password: "secret" });
    server.sockets[0].close(); // the link is lost

    await until(() => acks.length === 2, "the second successful login");
    const relogins = server.frames.filter(f => f.msgid === MsgId.LOGIN).slice(1);
    assert.deepEqual(relogins.map(f => [f.id, f.token, f.password]), [[7, "t1", undefined], [7, "t1", undefined]]);
    assert.equal(server.sockets.length, 3); // the refused login's link was dropped and a new one opened
    assert.deepEqual(errors, []);
  } finally {
    client.close();
  }
});

test("a token login refused for good (errno 1, no password to fall back on) ends the session with an error event", async () => {
  let logins = 0;
  const server = scriptedServer(frame => {
    if (frame.msgid !== MsgId.LOGIN) return null;
    logins++;
    if (logins === 1) return { msgid: MsgId.LOGIN_ACK, cid: frame.cid, errno: 0, id: 7, name: "seven", token: "t1" };
    return { msgid: MsgId.LOGIN_ACK, cid: frame.cid, errno: 1, errmsg: "invalid token" }; // revoked meanwhile
  });
  const client = new ChatClient("ws://stand-in/ws", { WebSocket: server.WebSocket, backoffFirstMs: 5, backoffMaxMs: 20 });
  const errors = [];
  const states = [];
  client.on("error", frame => errors.push(frame));
  client.on("state", ({ state }) => states.push(state));
  try {
    await client.login({ id: 7, token: "t0" });
    server.sockets[0].close();

    await until(() => errors.length === 1, "the error event");
    assert.equal(errors[0].errno, 1);
    await until(() => states.at(-1) === "stopped", "the link stopped");
    assert.equal(logins, 2);
  } finally {
    client.close();
  }
});
