// Type declarations for chat-client.js (the Chat client for browsers and Node).

export declare const MsgId: Readonly<{
  LOGIN: 1; LOGIN_ACK: 2; LOGINOUT: 3; REG: 4; REG_ACK: 5; ONE_CHAT: 6; ADD_FRIEND: 7; CREATE_GROUP: 8;
  ADD_GROUP: 9; GROUP_CHAT: 10; ACK: 11; ERROR: 12; PING: 13; PONG: 14; HISTORY: 15; HISTORY_ACK: 16;
  READ: 17; READ_NOTICE: 18; TYPING: 19; PRESENCE: 20; LEAVE_GROUP: 21; REMOVE_MEMBER: 22; REMOVE_FRIEND: 23;
  EDIT: 24; RECALL: 25; REACT: 26; PROFILE: 27; FIND: 28; BLOCK: 29;
}>;

/** One JSON frame as the server sends it (README's protocol section has every field). */
export interface Frame {
  msgid: number;
  cid?: string | number;
  errno?: number;
  errmsg?: string;
  [field: string]: unknown;
}

/** A conversation: one-to-one with a peer, or a group. */
export type Conversation = { peer: number; groupid?: undefined } | { groupid: number; peer?: undefined };

/** A chat frame (6 one-to-one, 10 group). */
export interface ChatFrame extends Frame {
  msgid: 6 | 10;
  id: number;
  name: string;
  toid?: number;
  groupid?: number;
  msg: string;
  time: string;
  seq: number;
  ts: number;
  reply?: { seq: number; id: number; name: string; msg?: string; recalled?: boolean };
  file?: { id: string; name: string; size: number; type: string; thumb?: string };
}

export interface Ack extends Frame {
  msgid: 11;
  errno: 0;
  seq?: number;
  ts?: number;
}

export interface LoginAck extends Frame {
  msgid: 2;
  errno: 0;
  id: number;
  name: string;
  token?: string;
  friends?: Array<{ id: number; name: string; state: "online" | "offline" }>;
  groups?: Array<{ id: number; groupname: string; groupdesc: string; users: Array<{ id: number; name: string; state: string; role: string }> }>;
  offlinemsg?: ChatFrame[];
  convs?: Array<{ peer?: number; groupid?: number; seq: number; read: number; unread: number }>;
  blocked?: number[];
  more?: boolean;
}

export declare class RequestError extends Error {
  readonly errno: number;
  readonly reply: Frame;
}

/** A WebSocket class: the browser's, or in Node 20 the `ws` package's. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface ClientOptions {
  WebSocket?: new (url: string) => WebSocketLike;
  requestTimeoutMs?: number;
  pingEveryMs?: number;
  pongWithinMs?: number;
  backoffFirstMs?: number;
  backoffMaxMs?: number;
}

export type LinkState = "connecting" | "open" | "waiting" | "stopped";

/** The link: one WebSocket kept open, answers matched by cid. */
export declare class Connection {
  constructor(url: string, options?: ClientOptions);
  onframe: (frame: Frame) => void;
  onopen: () => void;
  onstate: (state: LinkState, delayMs?: number) => void;
  readonly isOpen: boolean;
  start(): void;
  stop(): void;
  resetBackoff(): void;
  retry(): void;
  send(frame: object): boolean;
  cid(): string;
  request<T extends Frame = Frame>(frame: object): Promise<T>;
}

export interface ChatEvents {
  message: ChatFrame;
  edit: Frame;
  recall: Frame;
  react: Frame;
  read: Frame;
  typing: Frame;
  presence: Frame & { id: number; state: "online" | "offline" };
  joined: Frame;
  left: Frame;
  removed: Frame;
  profile: Frame;
  error: Frame;
  login: LoginAck;
  state: { state: LinkState; delay?: number };
  resent: { cid: string; ack?: Ack; error?: RequestError };
  frame: Frame;
}

/** A user's session: login by password or token, typed events, sends with cid and resend, reconnect with resume. */
export declare class ChatClient {
  constructor(url: string, options?: ClientOptions);
  id: number | null;
  token: string | null;
  blocked: Set<number>;
  on<K extends keyof ChatEvents>(type: K, listener: (event: ChatEvents[K]) => void): () => void;
  connect(): Promise<void>;
  close(): void;
  drop(): void;
  register(name: string, password: string): Promise<number>;
  login(credentials: { id: number; password?: string; token?: string; resume?: Array<Conversation & { seq: number }> }): Promise<LoginAck>;
  logout(options?: { all?: boolean }): Promise<void>;
  send(peer: number, msg: string, options?: { reply?: number; file?: string; time?: string; cid?: string }): Promise<Ack>;
  sendGroup(groupid: number, msg: string, options?: { reply?: number; file?: string; time?: string; cid?: string }): Promise<Ack>;
  edit(to: Conversation, seq: number, msg: string): Promise<Ack>;
  recall(to: Conversation, seq: number): Promise<Ack>;
  react(to: Conversation, seq: number, emoji: string, on?: boolean): Promise<Ack>;
  history(to: Conversation, page?: { before?: number; limit?: number }): Promise<Frame & { messages: ChatFrame[]; more?: boolean; start?: number }>;
  read(to: Conversation, seq: number): Promise<Ack>;
  typing(to: Conversation): Promise<Ack>;
  addFriend(friendid: number): Promise<Ack>;
  removeFriend(friendid: number): Promise<Ack>;
  createGroup(groupname: string, groupdesc?: string): Promise<Ack & { groupid: number }>;
  joinGroup(groupid: number): Promise<Ack>;
  leaveGroup(groupid: number): Promise<Ack>;
  profile(profile: { about?: string; avatar?: string }): Promise<Ack>;
  find(q: string): Promise<Array<{ id: number; name: string; about?: string; avatar?: string }>>;
  block(userid: number, on?: boolean): Promise<Ack>;
  request<T extends Frame = Frame>(frame: object): Promise<T>;
  seen(to: Conversation): number;
}

export declare function conversationKey(to: Conversation): string;
export declare function conversationOf(frame: Frame, me: number): Conversation;
