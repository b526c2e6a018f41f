// The JavaScript client against a real replica: CHAT_WS_URL names its /ws (the .NET test suite starts one and runs
// these tests under Node's test runner; see tests/Chat.Tests/Client/JsClientTests.cs).
import { test } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { ChatClient, RequestError } from "../chat-client.js";

const url = process.env.CHAT_WS_URL;
if (!url) throw new Error("CHAT_WS_URL is not set: run these tests through the .NET suite, or point it at a replica's /ws");

const options = { WebSocket, backoffFirstMs: 50, backoffMaxMs: 400 };
const unique = prefix => `${prefix}-${Math.random().toString(36).slice(2, 10)}`;

/** Waits until `condition()` holds, or fails after `ms`. */
async function until(condition, what, ms = 15000) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(resolve => setTimeout(resolve, 10));
  }
}

/** A fresh user, logged in; `messages` collects its "message" events. */
async function user(prefix) {
  const client = new ChatClient(url, options);
  const name = unique(prefix);
  const id = await client.register(name, "pw-" + name);
  const ack = await client.login({ id, password: "pw-" + name });
  assert.equal(ack.id, id);
  assert.equal(typeof ack.token, "string");
  const messages = [];
  client.on("message", frame => messages.push(frame));
  return { client, id, name, messages };
}

test("a message reaches its peer as an event, and its ACK carries the seq", async () => {
  const alice = await user("alice");
  const bob = await user("bob");
  try {
    const ack = await alice.client.send(bob.id, "hello bob");
    assert.equal(ack.seq, 1);
    await until(() => bob.messages.length === 1, "bob's message");
    assert.deepEqual(
      [bob.messages[0].id, bob.messages[0].msg, bob.messages[0].seq],
      [alice.id, "hello bob", 1]);
    assert.equal(bob.client.seen({ peer: alice.id }), 1);
  } finally {
    alice.client.close();
    bob.client.close();
  }
});

test("a token logs the user in without the password", async () => {
  const bob = await user("bob");
  const again = new ChatClient(url, options);
  try {
    const token = bob.client.token;
    await bob.client.logout(); // one login per account (the server's default): this one ends, its token stays valid
    const ack = await again.login({ id: bob.id, token });
    assert.equal(ack.id, bob.id);
  } finally {
    bob.client.close();
    again.close();
  }
});

test("after a lost link the client logs in again by itself and gets what it missed, each once, in order", async () => {
  const alice = await user("alice");
  const bob = await user("bob");
  try {
    await alice.client.send(bob.id, "before");
    await until(() => bob.messages.length === 1, "the first message");
    const logins = [];
    bob.client.on("login", ack => logins.push(ack));

    bob.client.drop();
    for (let i = 0; i < 5; i++) await alice.client.send(bob.id, `while away ${i}`);

    await until(() => logins.length === 1 && bob.messages.length === 6, "bob back with the five he missed");
    assert.deepEqual(bob.messages.map(m => m.seq), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(bob.messages.slice(1).map(m => m.msg), [0, 1, 2, 3, 4].map(i => `while away ${i}`));

    await alice.client.send(bob.id, "live again");
    await until(() => bob.messages.length === 7, "a live message after the reconnect");
    assert.equal(bob.messages[6].seq, 7);
  } finally {
    alice.client.close();
    bob.client.close();
  }
});

test("a send whose link drops before its ACK is sent again with its cid after the reconnect: stored once", async () => {
  const alice = await user("alice");
  const bob = await user("bob");
  try {
    const sending = alice.client.send(bob.id, "once");
    alice.client.drop(); // the ACK cannot come on this link
    const ack = await sending;
    assert.equal(ack.seq, 1);

    await alice.client.send(bob.id, "after");
    await until(() => bob.messages.length === 2, "both messages");
    assert.deepEqual(bob.messages.map(m => [m.seq, m.msg]), [[1, "once"], [2, "after"]]);
  } finally {
    alice.client.close();
    bob.client.close();
  }
});

test("a group message reaches the other members", async () => {
  const alice = await user("alice");
  const bob = await user("bob");
  try {
    const { groupid } = await alice.client.createGroup(unique("js"), "a group");
    const joined = [];
    alice.client.on("joined", frame => joined.push(frame));
    await bob.client.joinGroup(groupid);
    await until(() => joined.length === 1, "alice sees bob join");
    assert.equal(joined[0].id, bob.id);

    const ack = await alice.client.sendGroup(groupid, "hello group");
    await until(() => bob.messages.length === 1, "bob's group message");
    assert.deepEqual([bob.messages[0].groupid, bob.messages[0].msg, bob.messages[0].seq], [groupid, "hello group", ack.seq]);
  } finally {
    alice.client.close();
    bob.client.close();
  }
});

test("a refused request rejects with the server's errno, and the session goes on", async () => {
  const alice = await user("alice");
  const bob = await user("bob");
  try {
    await assert.rejects(alice.client.send(2147483647, "nobody"), error => error instanceof RequestError && error.errno === 6);
    await assert.rejects(alice.client.sendGroup(2147483647, "no group"), error => error instanceof RequestError && error.errno === 7);
    await alice.client.send(bob.id, "still served");
    const page = await alice.client.history({ peer: bob.id });
    assert.deepEqual(page.messages.map(m => m.msg), ["still served"]);
  } finally {
    alice.client.close();
    bob.client.close();
  }
});

test("a wrong password is refused with errno 1", async () => {
  const client = new ChatClient(url, options);
  try {
    const name = unique("carol");
    const id = await client.register(name, "pw-" + name);
    await assert.rejects(client.login({ id, password: "wrong" }), error => error instanceof RequestError && error.errno === 1);
  } finally {
    client.close();
  }
});

test("people: a profile shows in FIND; a block refuses the blocked one's messages (errno 13), the next login lists it, and unblocking lets them in", async () => {
  const stem = `p${Math.random().toString(36).slice(2, 10)}`;
  const alice = await user(stem);
  const bob = await user("bob");
  let again;
  try {
    await alice.client.profile({ about: "likes tea" });
    const found = await bob.client.find(stem);
    assert.deepEqual(found.map(u => [u.id, u.name, u.about]), [[alice.id, alice.name, "likes tea"]]);

    await alice.client.block(bob.id);
    assert.deepEqual([...alice.client.blocked], [bob.id]);
    await assert.rejects(bob.client.send(alice.id, "let me in"), error => error instanceof RequestError && error.errno === 13);

    const token = alice.client.token;
    await alice.client.logout();
    again = new ChatClient(url, options);
    const messages = [];
    again.on("message", frame => messages.push(frame));
    const ack = await again.login({ id: alice.id, token });
    assert.deepEqual(ack.blocked, [bob.id]);
    assert.deepEqual([...again.blocked], [bob.id]);

    await again.block(bob.id, false);
    assert.equal(again.blocked.size, 0);
    await bob.client.send(alice.id, "hello again");
    await until(() => messages.some(m => m.msg === "hello again"), "bob's message after the unblock");
  } finally {
    alice.client.close();
    bob.client.close();
    again?.close();
  }
});
