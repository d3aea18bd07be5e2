// The live socket: `/ws/`, authenticated with the subprotocol pair ["bearer", <access>].
//
// Frames are re-dispatched as DOM events named by their type ("today.snapshot",
// "instance.updated", ...). After a drop it reconnects with exponential backoff; the
// server's `today.snapshot` on every connect brings the page back in step. When the access
// token is renewed, a second socket opens with the new token and the old one is retired
// only once the new one has said hello, so no event falls into a gap.

import { accessToken, refresh } from './api.js';

const CLOSE_UNAUTHORIZED = 4401;
const PING_EVERY_MS = 25_000;
const SILENCE_LIMIT_MS = 40_000; // no frame at all (not even a pong) for this long: dead
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;

export class Live extends EventTarget {
  constructor() {
    super();
    this.socket = null; // the socket whose frames we follow
    this.pending = null; // a socket opened but not yet greeted by the server
    this.running = false;
    this.attempt = 0;
    this.retryTimer = null;
    this.heartbeat = null;
    this.lastFrameAt = 0;
    this.state = 'offline';
    window.addEventListener('online', () => this.reconnectNow());
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') this.reconnectNow();
    });
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    this.connect();
  }

  stop() {
    this.running = false;
    clearTimeout(this.retryTimer);
    clearInterval(this.heartbeat);
    for (const ws of [this.socket, this.pending]) retire(ws);
    this.socket = null;
    this.pending = null;
    this.setState('offline');
  }

  /** A fresh access token exists: move to a socket that carries it. */
  renew() {
    if (this.running && this.socket && !this.pending) this.connect();
  }

  /** Skip the rest of the backoff (the network came back, the tab became visible). */
  reconnectNow() {
    if (!this.running || this.socket || this.pending) return;
    this.attempt = 0;
    this.connect();
  }

  async connect() {
    clearTimeout(this.retryTimer);
    let token;
    try {
      token = await accessToken();
    } catch (error) {
      if (error.status !== 401) this.retry();
      return; // 401: signed out; the app stops us
    }
    if (!this.running || this.pending) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    let ws;
    try {
      ws = new WebSocket(`${scheme}://${location.host}/ws/`, ['bearer', token]);
    } catch {
      this.retry();
      return;
    }
    this.pending = ws;
    if (!this.socket) this.setState(this.attempt ? 'reconnecting' : 'connecting');
    ws.addEventListener('message', (event) => this.onFrame(ws, event));
    ws.addEventListener('close', (event) => this.onClose(ws, event.code));
  }

  onFrame(ws, event) {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    if (frame.type === 'hello' && ws === this.pending) {
      const previous = this.socket;
      this.socket = ws;
      this.pending = null;
      retire(previous);
      this.attempt = 0;
      this.lastFrameAt = Date.now();
      this.startHeartbeat();
      this.setState('live');
    }
    if (ws !== this.socket) return; // the retiring socket's copies of the same events
    this.lastFrameAt = Date.now();
    this.dispatchEvent(new CustomEvent(frame.type, { detail: frame.data }));
  }

  async onClose(ws, code) {
    if (ws === this.pending) this.pending = null;
    else if (ws === this.socket) {
      this.socket = null;
      clearInterval(this.heartbeat);
    } else return;
    if (!this.running || this.socket || this.pending) return; // still served, or stopped
    if (code === CLOSE_UNAUTHORIZED) {
      // Expired (or revoked) token: one refresh, then straight back; a refused refresh
      // signs the user out and the app stops us.
      try {
        await refresh();
      } catch (error) {
        if (error.status === 401 || error.status === 422) return;
      }
    }
    this.retry();
  }

  retry() {
    if (!this.running) return;
    clearTimeout(this.retryTimer);
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** this.attempt);
    const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2); // jittered
    this.attempt += 1;
    this.setState('reconnecting', delay);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  startHeartbeat() {
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => {
      const ws = this.socket;
      if (!ws) return;
      if (Date.now() - this.lastFrameAt > SILENCE_LIMIT_MS) {
        // A half-open connection may never fire `close`; give up on it ourselves.
        retire(ws);
        this.onClose(ws, 4000);
        return;
      }
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'ping' }));
    }, PING_EVERY_MS);
  }

  setState(state, retryIn = null) {
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: { state, retryIn } }));
  }
}

function retire(ws) {
  if (ws && ws.readyState <= WebSocket.OPEN) {
    try {
      ws.close(1000, 'replaced');
    } catch {
      // already closing
    }
  }
}
