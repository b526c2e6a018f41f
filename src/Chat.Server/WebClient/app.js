// The web client: state, protocol handling and rendering. Plain DOM, no framework, no build step.
// Protocol: DESIGN.md "Wire protocol" (v2 LOGIN with a session token, resume by seq, 15–23). User text only ever
// reaches the page through textContent.
import { Connection, MsgId, RequestError } from "./chat-client.js";

const TYPING_SEND_EVERY_MS = 1500;   // the server drops more than one TYPING a second per conversation: keep a margin over its clock
const TYPING_SHOWN_MS = 4000;
const HISTORY_PAGE = 50;
const SESSION_KEY = "chat.session";
const CHAT_FRAMES = new Set([MsgId.ONE_CHAT, MsgId.GROUP_CHAT]);
const EVENT_FRAMES = new Set([MsgId.EDIT, MsgId.RECALL, MsgId.REACT]);
const REACTIONS = ["👍", "❤️", "😂", "😮", "😢", "🙏"];

// ---------------------------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------------------------
const state = {
  me: null,                 // { id, name }
  loggedIn: false,
  users: new Map(),         // id -> { id, name, state: "online" | "offline" | undefined }
  friends: new Set(),       // user ids
  groups: new Map(),        // id -> { id, name, desc, members: Map(userId -> role) }
  convs: new Map(),         // key ("u7" or "g3") -> conversation
  openKey: null,
  unsupported: new Set(),   // msgids this server does not know (errno 5): their features stay quiet
  credentials: null,        // { id, password } while a password login is wanted
  compose: null,            // { key, mode: "reply" | "edit", seq }: what the composer's next send does
  blocked: new Set(),       // user ids this user blocked (v2 LOGIN_ACK, BLOCK)
};

const session = {
  load() {
    try { return JSON.parse(localStorage.getItem(SESSION_KEY)); } catch { return null; }
  },
  save(value) { localStorage.setItem(SESSION_KEY, JSON.stringify(value)); },
  clear() { localStorage.removeItem(SESSION_KEY); },
  // The last seq seen per conversation, for LOGIN's resume: a reload gets exactly what it missed.
  seenKey: id => `chat.seen.${id}`,
  loadSeen(id) {
    try { return JSON.parse(localStorage.getItem(session.seenKey(id))) ?? {}; } catch { return {}; }
  },
  saveSeen(id, seen) { localStorage.setItem(session.seenKey(id), JSON.stringify(seen)); },
};
let seen = {};

function convKey(target) {
  return target.groupid !== undefined ? `g${target.groupid}` : `u${target.peer}`;
}

function conversation(key) {
  let conv = state.convs.get(key);
  if (!conv) {
    const group = key[0] === "g";
    const id = Number(key.slice(1));
    conv = {
      key, group, target: group ? { groupid: id } : { peer: id },
      messages: new Map(),  // seq -> message
      events: new Set(),    // seqs of edits, recalls and reactions seen (entries of the log that are no message)
      held: new Map(),      // seq of a message not seen yet -> events naming it, applied when it comes
      pending: new Map(),   // cid -> message not yet acknowledged
      lastSeq: 0, read: 0, unread: 0, peerRead: 0,
      unreadFromServer: false,
      historyStarted: false, historyDone: false, loadingHistory: false,
      typing: new Map(),    // user id -> { name, timer }
      typingSentAt: 0,
      typingTimer: 0,
      lastActivity: 0,
    };
    state.convs.set(key, conv);
  }
  return conv;
}

function userName(id) {
  if (id === state.me?.id) return state.me.name;
  return state.users.get(id)?.name ?? `User ${id}`;
}

function rememberUser(id, name, presence) {
  const user = state.users.get(id) ?? { id };
  if (name) user.name = name;
  if (presence) user.state = presence;
  state.users.set(id, user);
}

/** A group entry as LOGIN_ACK and ADD_GROUP's ACK carry it: name, description, members with their state and role. */
function rememberGroup(g) {
  const group = { id: g.id, name: g.groupname, desc: g.groupdesc ?? "", members: new Map() };
  for (const u of g.users ?? []) rememberMember(group, u);
  state.groups.set(g.id, group);
}

/** A member entry ({id, name, state, role}, as groups list them and the ADD_GROUP push carries it). */
function rememberMember(group, u) {
  rememberUser(u.id, u.name, u.state);
  group.members.set(u.id, u.role ?? "normal");
}

function convTitle(conv) {
  return conv.group ? (state.groups.get(conv.target.groupid)?.name ?? `Group ${conv.target.groupid}`) : userName(conv.target.peer);
}

function noteSeen(conv, seq) {
  // Advance only over what is contiguous, so a gap is asked for again at the next resume.
  const last = seen[conv.key];
  if (last === undefined || seq === last + 1) {
    seen[conv.key] = seq;
    while (hasEntry(conv, seen[conv.key] + 1)) seen[conv.key]++;
    session.saveSeen(state.me.id, seen);
  }
}

function hasEntry(conv, seq) {
  return conv.messages.has(seq) || conv.events.has(seq);
}

function hasGap(conv, from, to) {
  for (let s = from + 1; s < to; s++) if (!hasEntry(conv, s)) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------------------------
// The link and the login
// ---------------------------------------------------------------------------------------------------------------
const scheme = location.protocol === "https:" ? "wss" : "ws";
const link = new Connection(`${scheme}://${location.host}/ws`);

link.onstate = (what, delay) => {
  $("link").dataset.state = what;
  $("link").title = { connecting: "Connecting", open: "Connected", waiting: "Offline", stopped: "Offline" }[what];
  if (what === "open" || what === "stopped") {
    if (what === "open") showStatus("");
    return;
  }
  if (what === "waiting") {
    const seconds = Math.max(1, Math.round(delay / 1000));
    showStatus(state.loggedIn || state.me ? `Connection lost. Reconnecting in ${seconds} s…` : `Can't reach the server. Trying again in ${seconds} s…`);
    state.loggedIn = false;
  }
};

link.onopen = () => {
  const saved = session.load();
  if (saved?.token) login({ id: saved.id, token: saved.token });
  else if (state.credentials) login(state.credentials);
};

link.onframe = frame => {
  if (CHAT_FRAMES.has(frame.msgid)) {
    receiveChat(frame, false);
    render();
    return;
  }
  if (EVENT_FRAMES.has(frame.msgid)) {
    receiveEvent(frame);
    render();
    return;
  }
  switch (frame.msgid) {
    case MsgId.READ_NOTICE: return onReadNotice(frame);
    case MsgId.TYPING: return onTyping(frame);
    case MsgId.PRESENCE: return onPresence(frame);
    case MsgId.ADD_GROUP: return onJoined(frame);
    case MsgId.LEAVE_GROUP:
    case MsgId.REMOVE_MEMBER: return onRemoved(frame);
    case MsgId.ERROR: return onError(frame);
    case MsgId.PROFILE: return onProfile(frame);
    default: return undefined; // a frame type this client does not use
  }
};

async function login(how) {
  const saved = session.load();
  const frame = { msgid: MsgId.LOGIN, id: how.id, v: 2 };
  if (how.token) frame.token = how.token;
  else frame.password = how.password;
  seen = session.loadSeen(how.id);
  const resume = Object.entries(seen).map(([key, seq]) => key[0] === "g" ? { groupid: Number(key.slice(1)), seq } : { peer: Number(key.slice(1)), seq });
  if (resume.length) frame.resume = resume;
  try {
    const ack = await link.request(frame);
    state.credentials = null;
    session.save({ id: ack.id, name: ack.name, token: ack.token ?? saved?.token });
    link.resetBackoff();
    applyLoginAck(ack);
    showApp();
    resendPending();
    const open = state.convs.get(state.openKey);
    if (open) openConversation(open.key);
  } catch (error) {
    loginFailed(error, how);
  }
}

function loginFailed(error, how) {
  if (!(error instanceof RequestError)) return; // the link dropped: the next open logs in again
  const retryable = error.errno === 10 || (how.token && error.errno === 2);
  if (retryable) {
    showStatus(error.errno === 2 ? "Your account is still signed in on a closing connection. Retrying…" : `${error.message}. Retrying…`);
    link.retry();
    return;
  }
  if (how.token) {
    session.clear();
    showAuth("Your session has ended. Sign in again.");
    return;
  }
  state.credentials = null;
  showAuth(error.message);
}

function applyLoginAck(ack) {
  state.me = { id: ack.id, name: ack.name };
  state.loggedIn = true;
  state.friends = new Set();
  state.blocked = new Set(ack.blocked ?? []);
  for (const f of ack.friends ?? []) {
    rememberUser(f.id, f.name, f.state);
    rememberProfile(f);
    state.friends.add(f.id);
  }
  state.groups = new Map();
  for (const g of ack.groups ?? []) rememberGroup(g);
  for (const [key, conv] of state.convs) {
    // Conversations of a group this user no longer belongs to go; one-to-one ones stay (their messages are theirs).
    if (conv.group && !state.groups.has(conv.target.groupid)) state.convs.delete(key);
  }
  for (const c of ack.convs ?? []) {
    const conv = conversation(convKey(c));
    conv.lastSeq = Math.max(conv.lastSeq, c.seq ?? 0);
    if (c.read !== undefined) conv.read = Math.max(conv.read, c.read);
    conv.unreadFromServer = c.unread !== undefined;
    if (conv.unreadFromServer) conv.unread = c.unread;
  }
  for (const frame of ack.offlinemsg ?? []) {
    if (EVENT_FRAMES.has(frame.msgid)) receiveEvent(frame);
    else receiveChat(frame, true);
  }
  for (const conv of state.convs.values()) conv.unreadFromServer = false;
  render();
}

function resendPending() {
  for (const conv of state.convs.values()) {
    for (const message of conv.pending.values()) if (!message.failed) deliver(conv, message);
  }
}

/** Refreshes friends, groups and members by logging in again on the same link (the protocol pushes no list changes). */
async function resync() {
  const saved = session.load();
  if (!saved?.token) return;
  try {
    await link.request({ msgid: MsgId.LOGINOUT });
  } catch (error) {
    toast(error.message);
    return;
  }
  state.loggedIn = false;
  await login({ id: saved.id, token: saved.token });
}

// ---------------------------------------------------------------------------------------------------------------
// Frames from the server
// ---------------------------------------------------------------------------------------------------------------
/** Adds a chat frame (6/10) to its conversation; returns false for one already there. */
function receiveChat(frame, offline) {
  const group = frame.groupid !== undefined;
  const mine = frame.id === state.me.id;
  const conv = conversation(group ? `g${frame.groupid}` : `u${mine ? frame.toid : frame.id}`);
  if (!mine) rememberUser(frame.id, frame.name);
  if (frame.seq === undefined || conv.messages.has(frame.seq)) return false;
  conv.messages.set(frame.seq, messageOf(frame));
  applyHeld(conv, frame.seq);
  conv.lastSeq = Math.max(conv.lastSeq, frame.seq);
  conv.lastActivity = Math.max(conv.lastActivity, frame.ts ?? 0);
  noteSeen(conv, frame.seq);
  stopTyping(conv, frame.id);
  if (!mine && frame.seq > conv.read) {
    if (isVisible(conv)) markRead(conv);
    else if (!(offline && conv.unreadFromServer)) conv.unread++;
  }
  return true;
}

/** A message as a chat frame or HISTORY carries it: its text as it stands, the quote it answers, its reactions. */
function messageOf(frame) {
  const reactions = new Map();
  for (const r of frame.reactions ?? []) reactions.set(r.emoji, new Set(r.ids));
  return {
    seq: frame.seq, from: frame.id, name: frame.name, msg: frame.msg, file: frame.file, ts: frame.ts ?? Date.now(),
    edited: frame.edited, recalled: !!frame.recalled, reply: frame.reply, reactions,
  };
}

/** The conversation an event (24–26) belongs to: a group, or the other party of a one-to-one chat. */
function eventConversation(frame) {
  if (frame.groupid !== undefined) return conversation(`g${frame.groupid}`);
  return conversation(`u${frame.id === state.me.id ? frame.toid : frame.id}`);
}

/** An edit, recall or reaction: applied to its message, or held until the message is seen (it may come later). */
function receiveEvent(frame) {
  const conv = eventConversation(frame);
  if (frame.seq === undefined || conv.events.has(frame.seq)) return;
  conv.events.add(frame.seq);
  conv.lastSeq = Math.max(conv.lastSeq, frame.seq);
  noteSeen(conv, frame.seq);
  const message = conv.messages.get(frame.ref);
  if (message) {
    applyEvent(message, frame);
    return;
  }
  const held = conv.held.get(frame.ref) ?? [];
  held.push(frame);
  conv.held.set(frame.ref, held);
  if (conv.historyStarted && frame.ref < Math.min(...conv.messages.keys())) return; // older pages bring it folded
  if (conv.historyStarted && !conv.loadingHistory) {
    // A message the page has not seen: ask for it (HISTORY folds what is held).
    link.request({ msgid: MsgId.HISTORY, ...conv.target, before: frame.ref + 1, limit: 1 }).then(reply => {
      for (const m of reply.messages ?? []) addFolded(conv, m);
      render();
    }, () => {});
  }
}

function applyEvent(message, frame) {
  if (frame.msgid === MsgId.EDIT && !message.recalled) {
    message.msg = frame.msg;
    message.edited = frame.ts;
  } else if (frame.msgid === MsgId.RECALL) {
    message.recalled = true;
    message.msg = "";
    message.edited = undefined;
    message.reactions.clear();
  } else if (frame.msgid === MsgId.REACT && !message.recalled) {
    const ids = message.reactions.get(frame.emoji) ?? new Set();
    if (frame.on) ids.add(frame.id);
    else ids.delete(frame.id);
    if (ids.size > 0) message.reactions.set(frame.emoji, ids);
    else message.reactions.delete(frame.emoji);
  }
}

/** Events that came before their message, applied in seq order once it is here. */
function applyHeld(conv, seq) {
  const held = conv.held.get(seq);
  if (!held) return;
  conv.held.delete(seq);
  const message = conv.messages.get(seq);
  for (const frame of held.sort((a, b) => a.seq - b.seq)) applyEvent(message, frame);
}

/** A message from HISTORY: already folded, so events held for it are in it (they were stored before the answer). */
function addFolded(conv, m) {
  if (m.id !== state.me.id) rememberUser(m.id, m.name);
  conv.held.delete(m.seq);
  if (!conv.messages.has(m.seq)) conv.messages.set(m.seq, messageOf(m));
  conv.lastSeq = Math.max(conv.lastSeq, m.seq);
  conv.lastActivity = Math.max(conv.lastActivity, m.ts ?? 0);
}

function onReadNotice(frame) {
  if (frame.id === state.me.id) {
    // Read on another of this user's devices.
    const conv = conversation(convKey(frame));
    conv.read = Math.max(conv.read, frame.seq);
    conv.unread = conv.read >= conv.lastSeq ? 0 : Math.min(conv.unread, countUnread(conv));
  } else {
    const conv = conversation(`u${frame.peer}`);
    conv.peerRead = Math.max(conv.peerRead, frame.seq);
  }
  render();
}

function countUnread(conv) {
  let n = 0;
  for (const m of conv.messages.values()) if (m.from !== state.me.id && m.seq > conv.read) n++;
  return n;
}

function onTyping(frame) {
  if (frame.id === state.me.id) return;
  const conv = conversation(frame.groupid !== undefined ? `g${frame.groupid}` : `u${frame.id}`);
  rememberUser(frame.id, frame.name);
  clearTimeout(conv.typing.get(frame.id)?.timer);
  const timer = setTimeout(() => { conv.typing.delete(frame.id); render(); }, TYPING_SHOWN_MS);
  conv.typing.set(frame.id, { name: frame.name ?? userName(frame.id), timer });
  render();
}

function stopTyping(conv, userId) {
  const typing = conv.typing.get(userId);
  if (typing) {
    clearTimeout(typing.timer);
    conv.typing.delete(userId);
  }
}

function onPresence(frame) {
  rememberUser(frame.id, undefined, frame.state);
  render();
}

/** Membership pushes for groups whose join is still being answered: applied once the ACK's member list is in. */
const joining = new Map();

/** Keeps a membership push that came before the user's own join was answered; true when kept. */
function held(frame) {
  const early = joining.get(frame.groupid);
  if (!early || state.groups.has(frame.groupid)) return false;
  early.push(frame);
  return true;
}

/** Someone joined one of the user's groups (ADD_GROUP pushed). */
function onJoined(frame) {
  if (held(frame)) return;
  const group = state.groups.get(frame.groupid);
  if (!group) return;
  rememberMember(group, frame);
  render();
}

/** Someone is out of one of the user's groups (LEAVE_GROUP or REMOVE_MEMBER pushed): the user, on another device or by the creator, or another member. */
function onRemoved(frame) {
  if (held(frame)) return;
  const group = state.groups.get(frame.groupid);
  if (frame.userid !== state.me.id) {
    group?.members.delete(frame.userid);
    if (frame.creator !== undefined) group?.members.set(frame.creator, "creator"); // the role passed on
  } else if (group) {
    toast(frame.msgid === MsgId.REMOVE_MEMBER ? `You were removed from ${group.name}.` : `You left ${group.name} on another device.`);
    forgetGroup(frame.groupid);
  }
  render();
}

function onError(frame) {
  if (frame.errno === 5 && frame.req >= MsgId.HISTORY) {
    state.unsupported.add(frame.req); // an older server: that feature stays off
    return;
  }
  if (frame.errno === 12) {
    link.stop();
    state.loggedIn = false;
    showStatus("You signed in somewhere else, so this window was signed out.", { label: "Use here", run: () => link.start() });
    return;
  }
  toast(frame.errmsg || `Error ${frame.errno}`);
}

function forgetGroup(groupId) {
  state.groups.delete(groupId);
  state.convs.delete(`g${groupId}`);
  delete seen[`g${groupId}`];
  session.saveSeen(state.me.id, seen);
  if (state.openKey === `g${groupId}`) closeConversation();
}

// ---------------------------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------------------------
async function ask(frame) {
  try {
    return await link.request(frame);
  } catch (error) {
    if (error instanceof RequestError && error.errno === 5) state.unsupported.add(frame.msgid);
    toast(error.message);
    return null;
  }
}

function sendMessage(conv, text, reply, file) {
  const message = { cid: `m${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`, from: state.me.id, msg: text, file, ts: Date.now(), pending: true, reactions: new Map() };
  if (reply !== undefined) {
    const quoted = conv.messages.get(reply);
    message.replySeq = reply;
    message.reply = quoted && { seq: reply, id: quoted.from, name: quoted.name ?? userName(quoted.from), msg: quoted.msg.slice(0, 100), recalled: quoted.recalled || undefined };
  }
  conv.pending.set(message.cid, message);
  conv.lastActivity = message.ts;
  deliver(conv, message);
  render({ toBottom: true });
}

async function deliver(conv, message) {
  const frame = conv.group
    ? { msgid: MsgId.GROUP_CHAT, groupid: conv.target.groupid, msg: message.msg, cid: message.cid }
    : { msgid: MsgId.ONE_CHAT, toid: conv.target.peer, msg: message.msg, cid: message.cid };
  if (message.replySeq !== undefined) frame.reply = message.replySeq;
  if (message.file) frame.file = message.file.id;
  try {
    const ack = await link.request(frame);
    conv.pending.delete(message.cid);
    conv.messages.set(ack.seq, { seq: ack.seq, from: state.me.id, msg: message.msg, file: message.file, ts: ack.ts ?? message.ts, reply: message.reply, reactions: new Map() });
    applyHeld(conv, ack.seq);
    conv.lastSeq = Math.max(conv.lastSeq, ack.seq);
    conv.read = Math.max(conv.read, ack.seq);
    noteSeen(conv, ack.seq);
  } catch (error) {
    if (!(error instanceof RequestError)) return; // kept pending: sent again with the same cid after the next login
    message.failed = error.message;
    toast(`Not sent: ${error.message}`);
  }
  render();
}

function markRead(conv) {
  if (conv.lastSeq <= conv.read && conv.unread === 0) return;
  conv.read = Math.max(conv.read, conv.lastSeq);
  conv.unread = 0;
  if (!state.unsupported.has(MsgId.READ) && conv.read > 0) link.send({ msgid: MsgId.READ, ...conv.target, seq: conv.read });
}

function sendTyping(conv) {
  if (state.unsupported.has(MsgId.TYPING) || conv.typingTimer) return;
  const wait = conv.typingSentAt + TYPING_SEND_EVERY_MS - Date.now();
  if (wait > 0) {
    // Typing goes on inside the window: say so once the window has passed (the server drops more than one a second).
    conv.typingTimer = setTimeout(() => {
      conv.typingTimer = 0;
      if (state.openKey === conv.key && $("message-input").value.trim()) sendTyping(conv);
    }, wait);
    return;
  }
  conv.typingSentAt = Date.now();
  link.send({ msgid: MsgId.TYPING, ...conv.target });
}

async function loadHistory(conv) {
  if (conv.loadingHistory || conv.historyDone || state.unsupported.has(MsgId.HISTORY) || !state.loggedIn) return;
  conv.loadingHistory = true;
  const frame = { msgid: MsgId.HISTORY, ...conv.target, limit: HISTORY_PAGE };
  const oldest = conv.historyStarted ? Math.min(...conv.messages.keys()) : Infinity;
  if (Number.isFinite(oldest)) frame.before = oldest;
  conv.historyStarted = true;
  renderHistoryState(conv);
  try {
    const reply = await link.request(frame);
    for (const m of reply.messages ?? []) addFolded(conv, m);
    const newest = Math.max(0, ...conv.messages.keys());
    if (newest && (seen[conv.key] === undefined || seen[conv.key] < newest) && !hasGap(conv, Math.min(...conv.messages.keys()) - 1, newest)) {
      seen[conv.key] = newest;
      session.saveSeen(state.me.id, seen);
    }
    conv.historyDone = !reply.more;
  } catch (error) {
    if (error instanceof RequestError && error.errno === 5) state.unsupported.add(MsgId.HISTORY);
    else if (error instanceof RequestError) toast(error.message);
    conv.historyDone = error instanceof RequestError;
    if (!(error instanceof RequestError)) conv.historyStarted = conv.messages.size > 0;
  } finally {
    conv.loadingHistory = false;
  }
  render({ keepFromBottom: Number.isFinite(oldest) });
  if (isVisible(conv)) markRead(conv);
  fillScreen(conv);
}

/** Loads older pages until the list can scroll (otherwise there would be no scroll to trigger the next page). */
function fillScreen(conv) {
  const box = $("messages");
  if (state.openKey === conv.key && !conv.historyDone && box.scrollHeight <= box.clientHeight) loadHistory(conv);
}

// ---------------------------------------------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------------------------------------------
const $ = id => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter(c => c !== null && c !== undefined));
  return node;
}

function avatar(node, name, id, userId) {
  node.textContent = (name || "?").trim().slice(0, 1).toUpperCase();
  node.style.setProperty("--hue", String((id * 47) % 360));
  node.classList.remove("picture");
  node.style.backgroundImage = "";
  if (userId) avatarPicture(node, userId);
}

function isVisible(conv) {
  return state.openKey === conv.key && document.visibilityState === "visible";
}

function showAuth(message = "") {
  state.loggedIn = false;
  $("app").hidden = true;
  $("auth").hidden = false;
  $("auth-message").textContent = message;
}

function showApp() {
  $("auth").hidden = true;
  $("app").hidden = false;
}

function showStatus(text, action) {
  const box = $("status");
  box.replaceChildren(el("span", { text }));
  if (action) box.append(el("button", { type: "button", text: action.label, onclick: () => { showStatus(""); action.run(); } }));
  box.hidden = !text;
}

function toast(text) {
  const note = el("div", { class: "toast", role: "alert", text });
  $("toasts").append(note);
  setTimeout(() => note.remove(), 6000);
}

function formatTime(ts) {
  const date = new Date(ts);
  const today = new Date();
  const time = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return date.toDateString() === today.toDateString() ? time : `${date.toLocaleDateString([], { month: "short", day: "numeric" })} ${time}`;
}

function lastMessage(conv) {
  const pending = [...conv.pending.values()].at(-1);
  if (pending) return pending;
  const newest = Math.max(0, ...conv.messages.keys());
  return conv.messages.get(newest);
}

function render(scroll = {}) {
  if (!state.me) return;
  avatar($("me-avatar"), state.me.name, state.me.id, state.me.id);
  $("me-name").textContent = state.me.name;
  $("me-id").textContent = `#${state.me.id}`;
  renderConversations();
  renderFriends();
  renderBlocked();
  renderGroups();
  renderPane(scroll);
}

function renderConversations() {
  const convs = [...state.convs.values()]
    .filter(c => c.messages.size || c.pending.size || c.lastSeq > 0)
    .sort((a, b) => (b.lastActivity - a.lastActivity) || (b.lastSeq - a.lastSeq));
  let total = 0;
  $("conversations").replaceChildren(...convs.map(conv => {
    total += conv.unread;
    const last = lastMessage(conv);
    const preview = last ? `${last.from === state.me.id ? "You: " : conv.group ? `${userName(last.from)}: ` : ""}${last.msg}` : "";
    const title = convTitle(conv);
    const icon = el("span", { class: "avatar", "aria-hidden": "true" });
    avatar(icon, title, conv.group ? conv.target.groupid + 1000 : conv.target.peer, conv.group ? 0 : conv.target.peer);
    return el("li", {},
      el("button", {
        type: "button", class: "row", dataset: { conv: conv.key },
        "aria-current": state.openKey === conv.key ? "true" : undefined,
        onclick: () => openConversation(conv.key),
      },
        icon,
        el("span", { class: "row-text" },
          el("span", { class: "row-title", text: title }),
          el("span", { class: "row-preview", text: preview })),
        conv.unread > 0 ? el("span", { class: "badge", "aria-label": `${conv.unread} unread`, text: String(conv.unread) }) : null));
  }));
  $("no-chats").hidden = convs.length > 0;
  $("unread-total").hidden = total === 0;
  $("unread-total").textContent = String(total);
  $("unread-total").setAttribute("aria-label", `${total} unread`);
}

function presenceDot(userId) {
  const presence = state.users.get(userId)?.state ?? "unknown";
  return el("span", { class: "presence", dataset: { state: presence }, role: "img", "aria-label": presence, title: presence });
}

function renderFriends() {
  const friends = [...state.friends].sort((a, b) => userName(a).localeCompare(userName(b)));
  $("friends").replaceChildren(...friends.map(id => el("li", {},
    el("button", { type: "button", class: "row", dataset: { user: id }, onclick: () => openConversation(`u${id}`) },
      presenceDot(id),
      el("span", { class: "row-text" },
        el("span", { class: "row-title", text: userName(id) }),
        el("span", { class: "row-preview", text: `#${id} · ${state.users.get(id)?.state ?? "unknown"}` }),
        state.users.get(id)?.about ? el("span", { class: "row-about", text: state.users.get(id).about }) : null)))));
  if (!friends.length) $("friends").append(el("li", { class: "empty", text: "No friends yet: add one by their user id." }));
}

function renderGroups() {
  const groups = [...state.groups.values()].sort((a, b) => a.name.localeCompare(b.name));
  $("groups").replaceChildren(...groups.map(g => {
    const icon = el("span", { class: "avatar", "aria-hidden": "true" });
    avatar(icon, g.name, g.id + 1000);
    return el("li", {},
      el("button", { type: "button", class: "row", dataset: { group: g.id }, onclick: () => openConversation(`g${g.id}`) },
        icon,
        el("span", { class: "row-text" },
          el("span", { class: "row-title", text: g.name }),
          el("span", { class: "row-preview", text: `#${g.id} · ${g.members.size} member${g.members.size === 1 ? "" : "s"}${g.desc ? ` · ${g.desc}` : ""}` }))));
  }));
  if (!groups.length) $("groups").append(el("li", { class: "empty", text: "No groups yet: create one, or join one by its id." }));
}

function openConversation(key) {
  state.openKey = key;
  $("app").dataset.view = "pane";
  const conv = conversation(key);
  render({ toBottom: true });
  if (!conv.historyStarted) loadHistory(conv);
  markRead(conv);
  render();
  $("message-input").focus();
}

function closeConversation() {
  state.openKey = null;
  $("app").dataset.view = "list";
  render();
}

function renderPane(scroll) {
  const conv = state.convs.get(state.openKey);
  $("pane-empty").hidden = !!conv;
  $("pane-chat").hidden = !conv;
  if (!conv) return;
  const title = convTitle(conv);
  avatar($("conv-avatar"), title, conv.group ? conv.target.groupid + 1000 : conv.target.peer, conv.group ? 0 : conv.target.peer);
  $("conv-title").textContent = title;
  const action = $("conv-action");
  if (conv.group) {
    const group = state.groups.get(conv.target.groupid);
    $("conv-sub").textContent = `#${conv.target.groupid} · ${group?.members.size ?? 0} members`;
    $("members-toggle").hidden = false;
    action.hidden = false;
    action.textContent = action.dataset.confirm === conv.key ? "Confirm leave" : "Leave group";
    renderMembers(group);
  } else {
    const presence = state.users.get(conv.target.peer)?.state;
    $("conv-sub").textContent = `#${conv.target.peer}${presence ? ` · ${presence}` : ""}`;
    $("members-toggle").hidden = true;
    $("members").hidden = true;
    const friend = state.friends.has(conv.target.peer);
    action.hidden = !friend || state.unsupported.has(MsgId.REMOVE_FRIEND);
    action.textContent = action.dataset.confirm === conv.key ? "Confirm remove" : "Remove friend";
  }
  renderMessages(conv, scroll);
  renderHistoryState(conv);
  renderCompose();
  const typing = [...conv.typing.values()].map(t => t.name);
  $("typing").textContent = typing.length === 0 ? "" : `${typing.join(" and ")} ${typing.length === 1 ? "is" : "are"} typing…`;
}

function renderHistoryState(conv) {
  $("history-state").textContent = conv.loadingHistory ? "Loading older messages…"
    : conv.historyDone && conv.historyStarted && !state.unsupported.has(MsgId.HISTORY) ? "This is the beginning of the conversation." : "";
}

function renderMembers(group) {
  const creator = group?.members.get(state.me.id) === "creator";
  const members = group ? [...group.members].sort((a, b) => userName(a[0]).localeCompare(userName(b[0]))) : [];
  $("member-list").replaceChildren(...members.map(([id, role]) => el("li", { class: "member" },
    presenceDot(id),
    el("span", { class: "row-title", text: id === state.me.id ? `${userName(id)} (you)` : userName(id) }),
    role === "creator" ? el("span", { class: "role", text: "creator" }) : null,
    creator && id !== state.me.id && !state.unsupported.has(MsgId.REMOVE_MEMBER)
      ? el("button", { type: "button", class: "ghost danger small", "aria-label": `Remove ${userName(id)} from the group`, text: "Remove", onclick: () => removeMember(group, id) })
      : null)));
}

function renderMessages(conv, scroll) {
  const box = $("messages");
  const fromBottom = box.scrollHeight - box.scrollTop;
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const messages = [...conv.messages.values()].sort((a, b) => a.seq - b.seq);
  const lastMine = [...messages].reverse().find(m => m.from === state.me.id);
  const items = messages.map(m => messageItem(conv, m, m === lastMine));
  for (const m of conv.pending.values()) items.push(messageItem(conv, m, false));
  $("message-list").replaceChildren(...items);
  if (scroll.keepFromBottom) box.scrollTop = box.scrollHeight - fromBottom;
  else if (scroll.toBottom || atBottom) box.scrollTop = box.scrollHeight;
}

function messageItem(conv, m, lastMine) {
  const mine = m.from === state.me.id;
  let status = "";
  if (mine) {
    if (m.failed) status = `Not sent: ${m.failed}`;
    else if (m.pending) status = "Sending…";
    else if (!conv.group && m.seq <= conv.peerRead) status = "Read";
    else status = lastMine ? "Sent" : "";
  }
  const stored = m.seq !== undefined && !m.pending;
  const group = conv.group ? state.groups.get(conv.target.groupid) : null;
  const canRecall = stored && !m.recalled && (mine || group?.members.get(state.me.id) === "creator");
  const reactions = [...(m.reactions ?? new Map())].map(([emoji, ids]) => el("button", {
    type: "button", class: `reaction${ids.has(state.me.id) ? " mine" : ""}`, dataset: { emoji },
    "aria-label": `${emoji} ${ids.size}`, title: [...ids].map(userName).join(", "),
    onclick: () => react(conv, m, emoji, !ids.has(state.me.id)),
  }, el("span", { text: emoji }), el("span", { class: "count", text: String(ids.size) })));
  return el("li", { class: `message${mine ? " mine" : ""}${m.failed ? " failed" : ""}${m.recalled ? " recalled" : ""}`, dataset: { seq: m.seq ?? "" } },
    conv.group && !mine ? el("span", { class: "sender", text: m.name ?? userName(m.from) }) : null,
    m.reply ? el("blockquote", { class: "quote", dataset: { seq: m.reply.seq } },
      el("span", { class: "quote-name", text: m.reply.name ?? userName(m.reply.id) }),
      el("span", { class: "quote-text", text: m.reply.recalled ? "Message recalled" : m.reply.msg })) : null,
    m.file && !m.recalled ? fileView(m.file) : null,
    m.recalled ? el("p", { class: "text recalled-text", text: "Message recalled" }) : m.msg || !m.file ? el("p", { class: "text", text: m.msg }) : null,
    reactions.length ? el("div", { class: "reactions" }, ...reactions) : null,
    el("span", { class: "meta" },
      el("time", { datetime: new Date(m.ts).toISOString(), text: formatTime(m.ts) }),
      m.edited && !m.recalled ? el("span", { class: "edited", text: " · edited" }) : null,
      status ? el("span", { class: "receipt", dataset: { status: status.split(":")[0] }, text: ` · ${status}` }) : null),
    stored && !m.recalled ? el("div", { class: "actions" },
      el("button", { type: "button", class: "ghost small", dataset: { action: "reply" }, text: "Reply", onclick: () => compose(conv, "reply", m) }),
      mine ? el("button", { type: "button", class: "ghost small", dataset: { action: "edit" }, text: "Edit", onclick: () => compose(conv, "edit", m) }) : null,
      canRecall ? el("button", { type: "button", class: "ghost small danger", dataset: { action: "recall" }, text: "Recall", onclick: () => recall(conv, m) }) : null,
      ...REACTIONS.map(emoji => el("button", { type: "button", class: "ghost small", dataset: { react: emoji }, "aria-label": `React ${emoji}`, text: emoji,
        onclick: () => react(conv, m, emoji, !(m.reactions?.get(emoji)?.has(state.me.id))) }))) : null);
}

/** Reply to or edit a message: the composer's next send does that (a bar above it says so). */
function compose(conv, mode, m) {
  state.compose = { key: conv.key, mode, seq: m.seq };
  const input = $("message-input");
  if (mode === "edit") input.value = m.msg;
  renderCompose();
  input.focus();
}

function renderCompose() {
  const c = state.compose;
  const conv = c && state.convs.get(c.key);
  const m = conv?.messages.get(c.seq);
  const shown = !!m && c.key === state.openKey;
  $("compose-context").hidden = !shown;
  if (shown) {
    $("compose-context").dataset.mode = c.mode;
    $("compose-context-text").textContent = c.mode === "edit" ? "Editing your message" : `Replying to ${m.name ?? userName(m.from)}: ${m.recalled ? "Message recalled" : m.msg.slice(0, 100)}`;
  }
}

async function editMessage(conv, seq, text) {
  const m = conv.messages.get(seq);
  const ack = await ask({ msgid: MsgId.EDIT, ...conv.target, seq, msg: text });
  if (ack && m) {
    conv.events.add(ack.seq);
    noteSeen(conv, ack.seq);
    applyEvent(m, { msgid: MsgId.EDIT, msg: text, ts: ack.ts });
    render();
  }
}

async function recall(conv, m) {
  const ack = await ask({ msgid: MsgId.RECALL, ...conv.target, seq: m.seq });
  if (ack) {
    conv.events.add(ack.seq);
    noteSeen(conv, ack.seq);
    applyEvent(m, { msgid: MsgId.RECALL });
    render();
  }
}

async function react(conv, m, emoji, on) {
  const ack = await ask({ msgid: MsgId.REACT, ...conv.target, seq: m.seq, emoji, on });
  if (ack) {
    conv.events.add(ack.seq);
    noteSeen(conv, ack.seq);
    applyEvent(m, { msgid: MsgId.REACT, id: state.me.id, emoji, on });
    render();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Files (POST/GET /files with the session token as bearer) and people (PROFILE 27, FIND 28, BLOCK 29)
// ---------------------------------------------------------------------------------------------------------------
const RASTER = ["image/jpeg", "image/png", "image/gif", "image/webp"];
const fetched = new Map(); // path -> Promise of an object URL (files never change)

function bearer() {
  return { Authorization: `Bearer ${session.load()?.token ?? ""}` };
}

/** A file's bytes as an object URL, fetched once with the token (an <img src> cannot send it). */
function fileUrl(path) {
  if (!fetched.has(path)) {
    const url = fetch(path, { headers: bearer() })
      .then(response => { if (!response.ok) throw new Error(`HTTP ${response.status}`); return response.blob(); })
      .then(blob => URL.createObjectURL(blob));
    url.catch(() => fetched.delete(path));
    fetched.set(path, url);
  }
  return fetched.get(path);
}

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** An image inline from its thumbnail (full size on click); anything else a download link. */
function fileView(file) {
  if (RASTER.includes(file.type) && file.thumb) {
    const img = el("img", { class: "thumb", alt: file.name, title: file.name });
    fileUrl(`/files/${file.id}/thumb`).then(url => { img.src = url; }, () => { img.alt = `${file.name} (unavailable)`; });
    img.addEventListener("click", async () => {
      try {
        $("viewer-img").src = await fileUrl(`/files/${file.id}`);
        $("viewer-img").alt = file.name;
        $("viewer").showModal();
      } catch (error) { toast(`Could not open ${file.name}: ${error.message}`); }
    });
    return el("div", { class: "attachment" }, img);
  }
  const link = el("a", { class: "file-link", href: "#", text: `${file.name} (${formatSize(file.size)})` });
  link.addEventListener("click", async event => {
    event.preventDefault();
    try {
      const a = el("a", { href: await fileUrl(`/files/${file.id}`), download: file.name });
      document.body.append(a);
      a.click();
      a.remove();
    } catch (error) { toast(`Download failed: ${error.message}`); }
  });
  return el("div", { class: "attachment" }, link);
}

/** Uploads with progress shown under the conversation; resolves to {id, name, size, type, thumb} or null. */
function upload(file) {
  return new Promise(resolve => {
    const bar = el("progress", { max: 100, value: 0 });
    const line = el("p", { class: "upload", text: `Uploading ${file.name}` }, bar);
    $("uploads").append(line);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/files?name=${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader("Authorization", bearer().Authorization);
    if (file.type) xhr.setRequestHeader("Content-Type", file.type);
    xhr.upload.onprogress = event => { if (event.lengthComputable) bar.value = Math.round(100 * event.loaded / event.total); };
    xhr.onload = () => {
      line.remove();
      if (xhr.status === 201) return resolve(JSON.parse(xhr.responseText));
      const reason = { 401: "signed out", 413: "too large", 415: "not a readable image", 429: "daily upload limit reached" }[xhr.status] ?? `HTTP ${xhr.status}`;
      toast(`${file.name} not sent: ${reason}`);
      resolve(null);
    };
    xhr.onerror = () => { line.remove(); toast(`${file.name} not sent: network error`); resolve(null); };
    xhr.send(file);
  });
}

async function sendFiles(files) {
  const conv = state.convs.get(state.openKey);
  if (!conv) return;
  for (const file of files) {
    const uploaded = await upload(file);
    if (uploaded) sendMessage(conv, "", undefined, uploaded);
  }
}

function rememberProfile(entry) {
  if (entry.about === undefined && entry.avatar === undefined) return;
  const user = state.users.get(entry.id) ?? { id: entry.id };
  user.about = entry.about ?? user.about;
  user.avatar = entry.avatar ?? user.avatar;
  state.users.set(entry.id, user);
}

function onProfile(frame) {
  rememberProfile(frame);
  render();
}

/** An avatar picture when the user has one, else the coloured initial. */
function avatarPicture(node, id) {
  const file = state.users.get(id)?.avatar;
  if (!file) return;
  fileUrl(`/files/${file}/thumb`).then(url => {
    node.classList.add("picture");
    node.style.backgroundImage = `url("${url}")`;
  }, () => {});
}

async function findPeople(q) {
  const ack = await ask({ msgid: MsgId.FIND, q });
  if (!ack) return;
  $("found").replaceChildren(...(ack.users ?? []).filter(u => u.id !== state.me.id).map(u => {
    rememberUser(u.id, u.name);
    rememberProfile(u);
    const add = el("button", { type: "button", class: "ghost", text: state.friends.has(u.id) ? "Friend" : "Add", disabled: state.friends.has(u.id) });
    add.addEventListener("click", async () => {
      const added = await ask({ msgid: MsgId.ADD_FRIEND, friendid: u.id });
      if (added) {
        state.friends.add(u.id);
        if (added.friend) rememberUser(added.friend.id, added.friend.name, added.friend.state);
        add.textContent = "Friend";
        add.disabled = true;
        render();
      }
    });
    const block = el("button", { type: "button", class: "ghost danger", dataset: { action: "block" }, text: state.blocked.has(u.id) ? "Unblock" : "Block" });
    block.addEventListener("click", () => setBlocked(u.id, !state.blocked.has(u.id)));
    return el("li", { class: "row", dataset: { found: u.id } },
      el("span", { class: "row-text" },
        el("span", { class: "row-title", text: `${u.name} #${u.id}` }),
        u.about ? el("span", { class: "row-about", text: u.about }) : null),
      add, block);
  }));
  if (!(ack.users ?? []).length) $("found").append(el("li", { class: "empty", text: "Nobody by that name." }));
}

/** Blocks or unblocks a user (BLOCK 29); the Blocked list and any FIND row of theirs follow. */
async function setBlocked(id, on) {
  if (!(await ask({ msgid: MsgId.BLOCK, userid: id, on }))) return;
  if (on) state.blocked.add(id); else state.blocked.delete(id);
  for (const button of document.querySelectorAll(`#found [data-found="${id}"] [data-action="block"]`)) button.textContent = on ? "Unblock" : "Block";
  render();
}

/**
 * The people this user blocked (LOGIN_ACK `blocked`, then BLOCK), each with an Unblock button: someone blocked is in
 * no FIND result the user has to hand. Their name is what the page knows of them (friends, group members, FIND,
 * their messages); the protocol tells no name by id, so an unknown one shows as the id.
 */
function renderBlocked() {
  const ids = [...state.blocked].sort((a, b) => userName(a).localeCompare(userName(b)) || a - b);
  $("blocked").replaceChildren(...ids.map(id => el("li", { class: "row", dataset: { blocked: id } },
    el("span", { class: "row-text" },
      el("span", { class: "row-title", text: userName(id) }),
      el("span", { class: "row-preview", text: `#${id}` })),
    el("button", { type: "button", class: "ghost", "aria-label": `Unblock ${userName(id)}`, text: "Unblock", onclick: () => setBlocked(id, false) }))));
  if (!ids.length) $("blocked").append(el("li", { class: "empty", text: "Nobody blocked." }));
}

async function saveProfile(form) {
  const frame = { msgid: MsgId.PROFILE, about: form.about.value };
  const picked = form.avatar.files[0];
  if (picked) {
    const uploaded = await upload(picked);
    if (!uploaded) return;
    frame.avatar = uploaded.id;
  }
  if (await ask(frame)) {
    rememberProfile({ id: state.me.id, about: frame.about, avatar: frame.avatar });
    form.avatar.value = "";
    toast("Profile saved");
    render();
  }
}

function wireFilesAndPeople() {
  $("file-input").addEventListener("change", event => {
    const files = [...event.target.files];
    event.target.value = "";
    sendFiles(files);
  });
  const pane = $("pane-chat");
  pane.addEventListener("dragover", event => { event.preventDefault(); pane.classList.add("dropping"); });
  pane.addEventListener("dragleave", () => pane.classList.remove("dropping"));
  pane.addEventListener("drop", event => {
    event.preventDefault();
    pane.classList.remove("dropping");
    sendFiles([...(event.dataTransfer?.files ?? [])]);
  });
  $("find-people").addEventListener("submit", event => {
    event.preventDefault();
    findPeople(event.target.q.value.trim());
  });
  $("profile-form").addEventListener("submit", event => {
    event.preventDefault();
    saveProfile(event.target);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Actions from the page
// ---------------------------------------------------------------------------------------------------------------
function twoStep(button, key, run) {
  if (button.dataset.confirm === key) {
    delete button.dataset.confirm;
    run();
    return;
  }
  button.dataset.confirm = key;
  render();
  setTimeout(() => { if (button.dataset.confirm === key) { delete button.dataset.confirm; render(); } }, 4000);
}

async function removeMember(group, userId) {
  if (await ask({ msgid: MsgId.REMOVE_MEMBER, groupid: group.id, userid: userId })) {
    group.members.delete(userId);
    render();
  }
}

function selectTab(tabs, chosen) {
  for (const tab of tabs) {
    const on = tab === chosen;
    tab.setAttribute("aria-selected", String(on));
    $(tab.getAttribute("aria-controls")).hidden = !on;
  }
}

function wire() {
  const authTabs = [$("tab-login"), $("tab-register")];
  for (const tab of authTabs) tab.addEventListener("click", () => selectTab(authTabs, tab));
  const listTabs = [$("tab-chats"), $("tab-friends"), $("tab-groups")];
  for (const tab of listTabs) tab.addEventListener("click", () => selectTab(listTabs, tab));

  $("login-form").addEventListener("submit", event => {
    event.preventDefault();
    const form = event.target;
    $("auth-message").textContent = "Signing in…";
    session.clear();
    state.credentials = { id: Number(form.id.value), password: form.password.value };
    if (link.isOpen) login(state.credentials);
  });

  $("register-form").addEventListener("submit", async event => {
    event.preventDefault();
    const form = event.target;
    $("auth-message").textContent = "Creating your account…";
    try {
      const reply = await link.request({ msgid: MsgId.REG, name: form.name.value.trim(), password: form.password.value });
      session.clear();
      $("auth-message").textContent = `Welcome! Your user id is ${reply.id}: friends add you by it, and you sign in with it.`;
      toast(`Your user id is ${reply.id}.`);
      state.credentials = { id: reply.id, password: form.password.value };
      login(state.credentials);
    } catch (error) {
      $("auth-message").textContent = error.message;
    }
  });

  $("logout").addEventListener("click", async () => {
    await ask({ msgid: MsgId.LOGINOUT });
    session.clear();
    state.convs.clear();
    state.openKey = null;
    state.me = null;
    showAuth("Signed out.");
  });

  $("add-friend").addEventListener("submit", async event => {
    event.preventDefault();
    const id = Number(event.target.friendid.value);
    const ack = await ask({ msgid: MsgId.ADD_FRIEND, friendid: id });
    if (ack) {
      event.target.reset();
      state.friends.add(id);
      if (ack.friend) rememberUser(ack.friend.id, ack.friend.name, ack.friend.state);
      else if (state.users.get(id)?.state === undefined) await resync(); // a server whose ACK has no entry
      render();
    }
  });

  $("create-group").addEventListener("submit", async event => {
    event.preventDefault();
    const form = event.target;
    const name = form.groupname.value.trim();
    const desc = form.groupdesc.value.trim();
    const ack = await ask({ msgid: MsgId.CREATE_GROUP, groupname: name, groupdesc: desc });
    if (ack) {
      form.reset();
      state.groups.set(ack.groupid, { id: ack.groupid, name, desc, members: new Map([[state.me.id, "creator"]]) });
      toast(`Group "${name}" created: its id is ${ack.groupid}.`);
      openConversation(`g${ack.groupid}`);
    }
  });

  $("join-group").addEventListener("submit", async event => {
    event.preventDefault();
    const id = Number(event.target.groupid.value);
    joining.set(id, []);
    const ack = await ask({ msgid: MsgId.ADD_GROUP, groupid: id });
    const early = joining.get(id);
    joining.delete(id);
    if (ack) {
      event.target.reset();
      if (ack.group) rememberGroup(ack.group);
      else await resync(); // a server whose ACK has no entry
      for (const frame of early) link.onframe(frame);
      openConversation(`g${id}`);
    }
  });

  $("conv-action").addEventListener("click", () => {
    const conv = state.convs.get(state.openKey);
    if (!conv) return;
    twoStep($("conv-action"), conv.key, async () => {
      if (conv.group) {
        const name = convTitle(conv);
        if (await ask({ msgid: MsgId.LEAVE_GROUP, groupid: conv.target.groupid })) {
          forgetGroup(conv.target.groupid);
          toast(`You left ${name}.`);
        }
      } else if (await ask({ msgid: MsgId.REMOVE_FRIEND, friendid: conv.target.peer })) {
        state.friends.delete(conv.target.peer);
      }
      render();
    });
  });

  $("members-toggle").addEventListener("click", () => {
    const open = $("members").hidden;
    $("members").hidden = !open;
    $("members-toggle").setAttribute("aria-expanded", String(open));
  });

  $("back").addEventListener("click", closeConversation);
  wireFilesAndPeople();

  const input = $("message-input");
  $("composer").addEventListener("submit", event => {
    event.preventDefault();
    const conv = state.convs.get(state.openKey);
    const text = input.value.trim();
    if (!conv || !text) return;
    input.value = "";
    input.style.height = "auto";
    const c = state.compose?.key === conv.key ? state.compose : null;
    state.compose = null;
    renderCompose();
    if (c?.mode === "edit") editMessage(conv, c.seq, text);
    else sendMessage(conv, text, c?.seq);
  });
  $("compose-cancel").addEventListener("click", () => {
    if (state.compose?.mode === "edit") $("message-input").value = "";
    state.compose = null;
    renderCompose();
  });
  input.addEventListener("keydown", event => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  input.addEventListener("input", () => {
    input.style.height = "auto";
    input.style.height = `${input.scrollHeight + 2}px`; // grows with the text, up to the CSS max-height
    const conv = state.convs.get(state.openKey);
    if (conv && input.value.trim()) sendTyping(conv);
  });

  $("messages").addEventListener("scroll", () => {
    const conv = state.convs.get(state.openKey);
    if (conv && $("messages").scrollTop < 60) loadHistory(conv);
  });

  document.addEventListener("visibilitychange", () => {
    const conv = state.convs.get(state.openKey);
    if (conv && isVisible(conv)) {
      markRead(conv);
      render();
    }
  });
}

wire();
const saved = session.load();
if (saved?.token) {
  state.me = { id: saved.id, name: saved.name };
  showApp();
  render();
} else {
  showAuth();
}
link.start();
