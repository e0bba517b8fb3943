/*!
 * opsbot web chat widget — plain ES2020, no dependencies, no build step.
 *
 * EMBEDDING
 *   <script src="https://opsbot.example/widget.js" async></script>
 *   Optional attributes on that tag:
 *     data-token   signed token for an authenticated user; sent as the `token` query parameter of the
 *                  WebSocket URL. Without it the user is an anonymous guest.
 *     data-mode    "floating" (default): launcher button fixed bottom-right that opens a 380x560 panel.
 *                  "inline": render the chat into the element matched by data-target, filling it.
 *     data-target  CSS selector of the container for inline mode.
 *     data-title   panel title (default "opsbot").
 *     data-room    a notification room to join (alerts, runbook progress); needs a token whose user holds
 *                  notifications.read. Notifications appear as bot messages.
 *   The server origin is the origin of this script's src, not the host page. The UI lives in an open
 *   Shadow DOM on an <opsbot-widget> host element. In floating mode the socket opens on first open.
 *
 * PROTOCOL (JSON text frames)
 *   connect  ws(s)://<origin>/ws?conversation=<id>[&token=<token>][&room=<room>]
 *            <id> = crypto.randomUUID(), kept in sessionStorage['opsbot.conversation'].
 *            Reconnects with exponential backoff, 0.5 s doubling to 10 s.
 *   client → server
 *     {"type":"message","id":"<client id>","text":"..."}
 *     {"type":"action","id":"<client id>","actionId":"...","value":"..."}
 *   server → client
 *     {"type":"welcome","conversationId":"...","user":{"name":"...","roles":["guest"]}}
 *     {"type":"reply","inReplyTo":"<client id>","reply":{"text":"...","blocks":[...]}}
 *     {"type":"notification","room":"...","reply":{"text":"...","blocks":[...]}}
 *     {"type":"error","inReplyTo":"<client id>"?,"error":{"code":"...","message":"..."}}
 *   blocks: section{text} · fields{fields[{label,value}]} · list{ordered?,items[]} · code{code,language?}
 *           buttons{buttons[{actionId,value,label,style?:"primary"|"danger"}]}
 *           citations{citations[{title,source,heading?,score?,url?}]}
 *           status{badges[{label,state:"ok"|"warning"|"critical"|"unknown"|"info",detail?}]}
 *   section text and list items support **bold** and `code` spans only. Empty blocks → reply.text.
 *
 * PAGE API
 *   window.opsbot.send(text)  send text now if connected (opening the panel in floating mode);
 *                             otherwise put it in the input. Returns true if sent.
 *   window.opsbot.fill(text)  put text in the input and focus it.
 *   window.opsbot.open() / window.opsbot.close()   floating mode only.
 *   Declarative: clicking any host-page element with data-opsbot-prompt="text" calls opsbot.send(text)
 *   (an empty attribute sends the element's text).
 *
 * TEST HOOKS (inside the shadow root): data-testid = opsbot-input, opsbot-send, opsbot-status,
 *   opsbot-bot-message, opsbot-user-message, opsbot-launcher.
 *
 * Every server- or user-provided string is inserted with textContent / text nodes, never innerHTML.
 */
(function () {
  'use strict';

  const MAX_LEN = 4000;
  const COUNTER_FROM = 3500;
  const REPLY_TIMEOUT_MS = 60000;
  const MAX_TRANSCRIPT = 100;
  const KEY_CONVERSATION = 'opsbot.conversation';
  const KEY_TRANSCRIPT = 'opsbot.transcript';
  const KEY_OPEN = 'opsbot.open';
  const BADGE_STATES = ['ok', 'warning', 'critical', 'unknown', 'info'];
  const STATUS_TEXT = { connecting: 'connecting…', online: 'online', offline: 'offline — retrying' };

  // ---------------------------------------------------------------- configuration

  function findOwnScript() {
    const current = document.currentScript;
    if (current && current.src) return current;
    const all = document.querySelectorAll('script[src*="widget.js"]');
    for (const s of all) if (!s.hasAttribute('data-opsbot-loaded')) return s;
    return null;
  }

  const scriptEl = findOwnScript();
  if (!scriptEl) {
    console.error('opsbot: cannot find the widget <script> tag');
    return;
  }
  scriptEl.setAttribute('data-opsbot-loaded', '');

  const ORIGIN = new URL(scriptEl.src, location.href).origin;
  const TOKEN = scriptEl.getAttribute('data-token') || '';
  const TITLE = scriptEl.getAttribute('data-title') || 'opsbot';
  const TARGET = scriptEl.getAttribute('data-target') || '';
  const ROOM = scriptEl.getAttribute('data-room') || '';
  let mode =
    (scriptEl.getAttribute('data-mode') || 'floating').trim().toLowerCase() === 'inline'
      ? 'inline'
      : 'floating';

  // ---------------------------------------------------------------- utilities

  const storage = {
    get(key) {
      try {
        return window.sessionStorage.getItem(key);
      } catch {
        return null;
      }
    },
    set(key, value) {
      try {
        window.sessionStorage.setItem(key, value);
        return true;
      } catch {
        return false;
      }
    },
  };

  function uuid() {
    const c = window.crypto;
    if (c && typeof c.randomUUID === 'function') return c.randomUUID();
    const b = c.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const x = Array.from(b, (n) => n.toString(16).padStart(2, '0')).join('');
    return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
  }

  function conversationId() {
    let id = storage.get(KEY_CONVERSATION);
    if (!id || !/^[A-Za-z0-9_-]{8,128}$/.test(id)) {
      id = uuid();
      storage.set(KEY_CONVERSATION, id);
    }
    return id;
  }

  const str = (v) => (v === undefined || v === null ? '' : String(v));

  /** Element builder: attrs {class, text, on<event>, other attributes}; children: nodes or strings. */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = str(v);
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      el.append(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return el;
  }

  const ICONS = {
    chat: ['M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z'],
    close: ['M18 6 6 18', 'M6 6l12 12'],
    send: ['M22 2 11 13', 'M22 2 15 22 11 13 2 9z'],
    bot: ['M12 8V4H8', 'M4 8h16v12H4z', 'M2 14h2', 'M20 14h2', 'M15 13v2', 'M9 13v2'],
  };

  function icon(name, size) {
    const NS = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(NS, 'svg');
    for (const [k, v] of Object.entries({
      viewBox: '0 0 24 24',
      width: size,
      height: size,
      fill: 'none',
      stroke: 'currentColor',
      'stroke-width': '2',
      'stroke-linecap': 'round',
      'stroke-linejoin': 'round',
      'aria-hidden': 'true',
      focusable: 'false',
    }))
      svg.setAttribute(k, String(v));
    for (const d of ICONS[name]) {
      const p = document.createElementNS(NS, 'path');
      p.setAttribute('d', d);
      svg.append(p);
    }
    return svg;
  }

  /** Appends text to parent, turning `code` spans (and, at the top level, **bold** spans) into elements. */
  function appendInline(parent, text, codeOnly) {
    const s = str(text);
    const re = codeOnly ? /`([^`\n]+)`/g : /`([^`\n]+)`|\*\*([^\n]+?)\*\*/g;
    let last = 0;
    for (const m of s.matchAll(re)) {
      if (m.index > last) parent.append(document.createTextNode(s.slice(last, m.index)));
      if (m[1] !== undefined) parent.append(h('code', { class: 'ic', text: m[1] }));
      else {
        const strong = h('strong');
        appendInline(strong, m[2], true);
        parent.append(strong);
      }
      last = m.index + m[0].length;
    }
    if (last < s.length) parent.append(document.createTextNode(s.slice(last)));
    return parent;
  }

  function safeUrl(u) {
    try {
      const url = new URL(str(u), ORIGIN + '/');
      return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
    } catch {
      return null;
    }
  }

  // ---------------------------------------------------------------- styles

  const CSS = `
:host { all: initial; }
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
.root {
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif;
  font-size: 14px; line-height: 1.45; color: #111827; text-align: left;
  -webkit-font-smoothing: antialiased;
}
.root.inline { display: block; width: 100%; height: 100%; }
.mono, code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; }
.sr-only { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0; }

.panel { display: flex; flex-direction: column; background: #fff; overflow: hidden; }
.floating .panel {
  position: fixed; right: 20px; bottom: 88px; z-index: 2147483000;
  width: 380px; height: 560px; max-width: calc(100vw - 24px); max-height: calc(100vh - 108px);
  border-radius: 14px; border: 1px solid rgba(15, 23, 42, .1);
  box-shadow: 0 16px 48px rgba(15, 23, 42, .22), 0 2px 8px rgba(15, 23, 42, .12);
  animation: pop .16s ease-out;
}
.inline .panel { width: 100%; height: 100%; border: 1px solid #e5e7eb; border-radius: 12px; }
@keyframes pop { from { opacity: 0; transform: translateY(8px) scale(.98); } to { opacity: 1; transform: none; } }

.hdr { flex: none; display: flex; align-items: center; gap: 10px; padding: 12px 14px;
  background: #111827; color: #f9fafb; }
.avatar { flex: none; width: 32px; height: 32px; border-radius: 8px; background: #374151; color: #e5e7eb;
  display: grid; place-items: center; }
.titles { flex: 1; min-width: 0; }
.title { margin: 0; font-size: 15px; font-weight: 600; line-height: 1.3; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }
.sub { display: flex; align-items: center; gap: 6px; font-size: 12px; line-height: 1.4; color: #9ca3af; min-width: 0; }
.dot { flex: none; width: 8px; height: 8px; border-radius: 50%; background: #fbbf24; }
.sub[data-state="online"] .dot { background: #22c55e; }
.sub[data-state="offline"] .dot { background: #f87171; }
.who { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.who::before { content: "·"; margin-right: 6px; }
.icon-btn { flex: none; width: 32px; height: 32px; display: grid; place-items: center; border: 0; border-radius: 8px;
  background: transparent; color: #d1d5db; cursor: pointer; padding: 0; }
.icon-btn:hover { background: #1f2937; color: #fff; }
.icon-btn:focus-visible, .launcher:focus-visible { outline: 2px solid #60a5fa; outline-offset: 2px; }

.scroll { flex: 1; min-height: 0; overflow-y: auto; overscroll-behavior: contain; padding: 16px 14px 12px;
  background: #f9fafb; }
.empty { margin: 24px auto; max-width: 280px; text-align: center; color: #6b7280; font-size: 13px; }
.empty strong { display: block; color: #111827; font-size: 14px; margin-bottom: 4px; }
.log { display: flex; flex-direction: column; gap: 10px; }
.msg { display: flex; min-width: 0; }
.msg.user { justify-content: flex-end; }
.bubble { min-width: 0; padding: 9px 12px; border-radius: 14px; overflow-wrap: anywhere; }
.user .bubble { max-width: 80%; background: #2563eb; color: #fff; border-bottom-right-radius: 4px;
  white-space: pre-wrap; }
.bot .bubble { max-width: 92%; background: #fff; border: 1px solid #e5e7eb; border-bottom-left-radius: 4px;
  box-shadow: 0 1px 2px rgba(15, 23, 42, .04); }
.bot.error .bubble { background: #fef2f2; border-color: #fecaca; color: #991b1b; }
.bubble > * { margin: 0; }
.bubble > * + * { margin-top: 8px; }

.b-section { white-space: pre-wrap; }
code.ic { font-size: 12.5px; background: #f3f4f6; border: 1px solid #e5e7eb; border-radius: 4px; padding: 0 4px; }
.error code.ic { background: #fff; border-color: #fecaca; }
.b-fields { display: grid; grid-template-columns: minmax(72px, max-content) minmax(0, 1fr); gap: 4px 14px;
  font-size: 13px; }
.b-fields dt { color: #6b7280; }
.b-fields dd { margin: 0; font-weight: 500; overflow-wrap: anywhere; }
.b-list { padding-left: 20px; }
.b-list li + li { margin-top: 3px; }
.b-code { border-radius: 8px; overflow: hidden; background: #0f172a; color: #e2e8f0; }
.b-code-hdr { display: flex; align-items: center; justify-content: space-between; gap: 8px;
  padding: 3px 6px 3px 10px; background: #1e293b; color: #94a3b8; font-size: 11px; }
.copy { border: 0; border-radius: 5px; background: transparent; color: #cbd5e1; font: inherit; font-size: 11px;
  padding: 2px 6px; cursor: pointer; }
.copy:hover { background: #334155; color: #fff; }
.b-code pre { margin: 0; padding: 10px 12px; overflow-x: auto; font-size: 12.5px; line-height: 1.5; white-space: pre; }
.b-code code { font: inherit; }

.b-buttons { display: flex; flex-wrap: wrap; gap: 6px; }
.btn { font: inherit; font-size: 13px; font-weight: 500; line-height: 1.3; padding: 6px 12px; border-radius: 8px;
  border: 1px solid #d1d5db; background: #fff; color: #111827; cursor: pointer; }
.btn:hover:not(:disabled) { background: #f3f4f6; }
.btn.primary { background: #2563eb; border-color: #2563eb; color: #fff; }
.btn.primary:hover:not(:disabled) { background: #1d4ed8; }
.btn.danger { background: #dc2626; border-color: #dc2626; color: #fff; }
.btn.danger:hover:not(:disabled) { background: #b91c1c; }
.btn:disabled { opacity: .45; cursor: default; }
.btn.chosen:disabled { opacity: 1; box-shadow: 0 0 0 2px #fff, 0 0 0 4px #9ca3af; }
.btn:focus-visible, .copy:focus-visible, .send:focus-visible { outline: 2px solid #2563eb; outline-offset: 2px; }

.b-cit { border-top: 1px solid #e5e7eb; padding-top: 8px; font-size: 12px; color: #4b5563; }
.b-cit-h { font-size: 11px; font-weight: 600; letter-spacing: .05em; text-transform: uppercase; color: #6b7280;
  margin-bottom: 4px; }
.b-cit ol { margin: 0; padding-left: 18px; }
.b-cit li + li { margin-top: 4px; }
.cit-title { color: #111827; font-weight: 500; }
a.cit-title { color: #1d4ed8; text-decoration: none; }
a.cit-title:hover { text-decoration: underline; }
.cit-meta { display: block; color: #6b7280; overflow-wrap: anywhere; }
.cit-src { font-size: 11.5px; }

.b-chart { margin: 4px 0; }
.b-chart img { display: block; max-width: 100%; height: auto; }
.b-chart figcaption { font-size: 12px; opacity: 0.75; }
.b-status { list-style: none; padding: 0; display: flex; flex-direction: column; gap: 6px; }
.badge { display: flex; flex-wrap: wrap; align-items: center; gap: 2px 8px; padding: 6px 10px; border-radius: 8px;
  border: 1px solid #e5e7eb; background: #f9fafb; font-size: 13px; }
.bdot { flex: none; width: 8px; height: 8px; border-radius: 50%; background: #9ca3af; }
.badge-label { font-weight: 600; }
.badge-state { font-size: 10.5px; font-weight: 700; letter-spacing: .05em; text-transform: uppercase;
  padding: 1px 7px; border-radius: 999px; background: #e5e7eb; color: #374151; }
.badge-detail { color: #4b5563; flex-basis: 100%; padding-left: 16px; font-size: 12.5px; }
.badge.ok { background: #f0fdf4; border-color: #bbf7d0; }
.badge.ok .bdot { background: #16a34a; }
.badge.ok .badge-state { background: #dcfce7; color: #166534; }
.badge.warning { background: #fffbeb; border-color: #fde68a; }
.badge.warning .bdot { background: #d97706; }
.badge.warning .badge-state { background: #fef3c7; color: #92400e; }
.badge.critical { background: #fef2f2; border-color: #fecaca; }
.badge.critical .bdot { background: #dc2626; }
.badge.critical .badge-state { background: #fee2e2; color: #991b1b; }
.badge.info { background: #eff6ff; border-color: #bfdbfe; }
.badge.info .bdot { background: #2563eb; }
.badge.info .badge-state { background: #dbeafe; color: #1e40af; }

.typing { display: flex; gap: 4px; width: fit-content; margin-top: 10px; padding: 12px 14px; background: #fff;
  border: 1px solid #e5e7eb; border-radius: 14px; border-bottom-left-radius: 4px; }
.typing i { width: 6px; height: 6px; border-radius: 50%; background: #9ca3af; animation: blink 1.2s infinite ease-in-out; }
.typing i:nth-child(2) { animation-delay: .15s; }
.typing i:nth-child(3) { animation-delay: .3s; }
@keyframes blink { 0%, 80%, 100% { opacity: .3; transform: translateY(0); } 40% { opacity: 1; transform: translateY(-3px); } }

.composer { position: relative; flex: none; display: flex; align-items: flex-end; gap: 8px; padding: 10px 12px;
  border-top: 1px solid #e5e7eb; background: #fff; }
.input { flex: 1; min-width: 0; min-height: 40px; max-height: 140px; resize: none; margin: 0; padding: 9px 12px;
  font: inherit; font-size: 14px; line-height: 1.45; color: #111827; background: #fff; border: 1px solid #d1d5db;
  border-radius: 10px; outline: none; overflow-y: auto; }
.input::placeholder { color: #9ca3af; }
.input:focus { border-color: #2563eb; box-shadow: 0 0 0 3px rgba(37, 99, 235, .15); }
.input:disabled { background: #f3f4f6; color: #6b7280; }
.send { flex: none; width: 40px; height: 40px; display: grid; place-items: center; padding: 0; border: 0;
  border-radius: 10px; background: #111827; color: #fff; cursor: pointer; }
.send:hover:not(:disabled) { background: #374151; }
.send:disabled { background: #d1d5db; cursor: default; }
.counter { position: absolute; right: 60px; bottom: 100%; margin-bottom: 4px; padding: 1px 7px; border-radius: 6px;
  background: rgba(255, 255, 255, .95); border: 1px solid #e5e7eb; font-size: 11px; color: #6b7280; }
.counter.full { color: #b91c1c; border-color: #fecaca; }

.launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; width: 56px; height: 56px;
  display: grid; place-items: center; padding: 0; border: 0; border-radius: 50%; background: #111827; color: #fff;
  cursor: pointer; box-shadow: 0 8px 24px rgba(15, 23, 42, .28); transition: transform .12s ease; }
.launcher:hover { transform: scale(1.05); background: #1f2937; }
.unread { position: absolute; top: 3px; right: 3px; width: 14px; height: 14px; border-radius: 50%;
  background: #ef4444; border: 2px solid #fff; }

@media (max-width: 480px) {
  .floating .panel { left: 8px; right: 8px; bottom: 84px; width: auto; max-width: none; height: calc(100vh - 96px);
    max-height: none; }
  .launcher { right: 12px; bottom: 12px; }
}
@media (prefers-reduced-motion: reduce) {
  *, *::before, *::after { animation: none !important; transition: none !important; }
}
`;

  function applyStyles(root) {
    try {
      // Constructable stylesheets are not blocked by a host page's CSP style-src (unlike <style>).
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
      return;
    } catch {
      /* fall back to a <style> element */
    }
    root.append(h('style', { text: CSS }));
  }

  // ---------------------------------------------------------------- the widget

  function mount(target) {
    const conversation = conversationId();
    const host = document.createElement('opsbot-widget');
    host.setAttribute('data-opsbot-mode', mode);
    if (mode === 'inline') {
      host.style.setProperty('display', 'block');
      host.style.setProperty('width', '100%');
      host.style.setProperty('height', '100%');
    }
    const shadow = host.attachShadow({ mode: 'open' });
    applyStyles(shadow);

    // --- header
    const statusText = h('span', { 'data-testid': 'opsbot-status', text: STATUS_TEXT.connecting });
    const whoEl = h('span', { class: 'who', hidden: true });
    const sub = h(
      'div',
      { class: 'sub', 'data-state': 'connecting' },
      h('span', { class: 'dot' }),
      statusText,
      whoEl,
    );
    const titleId = `opsbot-title-${Math.random().toString(36).slice(2, 8)}`;
    const header = h(
      'div',
      { class: 'hdr' },
      h('div', { class: 'avatar' }, icon('bot', 18)),
      h('div', { class: 'titles' }, h('h2', { class: 'title', id: titleId, text: TITLE }), sub),
    );

    // --- conversation
    const log = h('div', {
      class: 'log',
      role: 'log',
      'aria-live': 'polite',
      'aria-relevant': 'additions',
      'aria-label': `${TITLE} conversation`,
    });
    const empty = h(
      'div',
      { class: 'empty' },
      h('strong', { text: `Hi, I'm ${TITLE}.` }),
      'Ask about service health, runbooks or deployments. Type “help” to see what I can do.',
    );
    const typing = h(
      'div',
      { class: 'typing', hidden: true },
      h('i'),
      h('i'),
      h('i'),
      h('span', { class: 'sr-only', text: `${TITLE} is typing` }),
    );
    const scroller = h('div', { class: 'scroll' }, empty, log, typing);

    // --- composer
    const counterId = `${titleId}-counter`;
    const input = h('textarea', {
      class: 'input',
      rows: '1',
      maxlength: String(MAX_LEN),
      placeholder: `Message ${TITLE}…`,
      'aria-label': `Message ${TITLE}`,
      'aria-describedby': counterId,
      'data-testid': 'opsbot-input',
      disabled: true,
    });
    const counter = h('div', { class: 'counter', id: counterId, hidden: true });
    const sendBtn = h(
      'button',
      {
        class: 'send',
        type: 'submit',
        'aria-label': 'Send',
        title: 'Send',
        'data-testid': 'opsbot-send',
        disabled: true,
      },
      icon('send', 18),
    );
    const composer = h('form', { class: 'composer', onsubmit: onSubmit }, counter, input, sendBtn);

    const panel = h(
      'div',
      { class: 'panel', id: `${titleId}-panel`, role: 'region', 'aria-labelledby': titleId },
      header,
      scroller,
      composer,
    );
    const root = h('div', { class: `root ${mode}` });

    // --- floating launcher
    let launcher = null;
    let unreadDot = null;
    let isOpen = mode === 'inline';
    if (mode === 'floating') {
      unreadDot = h('span', { class: 'unread', hidden: true });
      launcher = h(
        'button',
        {
          class: 'launcher',
          type: 'button',
          'aria-controls': panel.id,
          'aria-expanded': 'false',
          'aria-label': `Open ${TITLE} chat`,
          'data-testid': 'opsbot-launcher',
          onclick: () => setOpen(!isOpen),
        },
        icon('chat', 24),
        unreadDot,
      );
      header.append(
        h(
          'button',
          {
            class: 'icon-btn',
            type: 'button',
            'aria-label': 'Close chat',
            title: 'Close',
            onclick: () => setOpen(false),
          },
          icon('close', 18),
        ),
      );
      panel.hidden = true;
      panel.addEventListener('keydown', (e) => {
        if (e.key === 'Escape') {
          setOpen(false);
          launcher.focus();
        }
      });
      root.append(panel, launcher);
    } else {
      root.append(panel);
    }
    shadow.append(root);
    target.append(host);

    // ------------------------------------------------------------ transcript (survives reloads)

    let transcript = [];
    try {
      const saved = JSON.parse(storage.get(KEY_TRANSCRIPT) || 'null');
      if (saved && saved.conversation === conversation && Array.isArray(saved.entries))
        transcript = saved.entries;
    } catch {
      transcript = [];
    }

    function saveTranscript() {
      if (transcript.length > MAX_TRANSCRIPT) transcript = transcript.slice(-MAX_TRANSCRIPT);
      while (
        !storage.set(KEY_TRANSCRIPT, JSON.stringify({ conversation, entries: transcript })) &&
        transcript.length
      ) {
        transcript = transcript.slice(Math.ceil(transcript.length / 2));
      }
    }

    function record(entry) {
      transcript.push(entry);
      saveTranscript();
      return entry;
    }

    // ------------------------------------------------------------ rendering

    function scrollToEnd() {
      scroller.scrollTop = scroller.scrollHeight;
    }

    function appendMessage(el) {
      empty.hidden = true;
      log.append(el);
      scrollToEnd();
    }

    function addUser(text, replaying) {
      appendMessage(
        h(
          'div',
          { class: 'msg user', 'data-testid': 'opsbot-user-message' },
          h('div', { class: 'bubble', text: str(text) }),
        ),
      );
      if (!replaying) record({ t: 'user', text: str(text) });
    }

    function addError(message, code, replaying) {
      const bubble = h(
        'div',
        { class: 'bubble' },
        h('p', { class: 'b-section' }, appendInline(h('span'), message)),
      );
      appendMessage(
        h(
          'div',
          { class: 'msg bot error', 'data-testid': 'opsbot-bot-message', 'data-error-code': code || null },
          bubble,
        ),
      );
      if (!replaying) record({ t: 'error', message: str(message), code: str(code) });
      if (!replaying) notifyUnread();
    }

    function addBot(reply, entry) {
      if (!entry) entry = record({ t: 'bot', reply, used: {} });
      const bubble = h('div', { class: 'bubble' });
      const blocks = Array.isArray(reply && reply.blocks) ? reply.blocks : [];
      blocks.forEach((block, i) => {
        let el = null;
        try {
          el = renderBlock(block, i, entry);
        } catch (err) {
          console.error('opsbot: cannot render block', block && block.type, err);
        }
        if (el) bubble.append(el);
      });
      if (!bubble.childNodes.length)
        bubble.append(h('p', { class: 'b-section', text: str(reply && reply.text) }));
      appendMessage(h('div', { class: 'msg bot', 'data-testid': 'opsbot-bot-message' }, bubble));
      notifyUnread();
    }

    function renderBlock(block, index, entry) {
      if (!block || typeof block !== 'object') return null;
      switch (block.type) {
        case 'section':
          return appendInline(h('p', { class: 'b-section' }), block.text);

        case 'fields': {
          const dl = h('dl', { class: 'b-fields' });
          for (const f of Array.isArray(block.fields) ? block.fields : []) {
            if (!f) continue;
            dl.append(h('dt', { text: f.label }), h('dd', { text: f.value }));
          }
          return dl;
        }

        case 'list': {
          const list = h(block.ordered ? 'ol' : 'ul', { class: 'b-list' });
          for (const item of Array.isArray(block.items) ? block.items : [])
            list.append(appendInline(h('li'), item));
          return list;
        }

        case 'code': {
          const lang = str(block.language).trim();
          const code = h('code', { text: block.code, 'data-language': lang || null });
          if (/^[A-Za-z0-9_+-]{1,32}$/.test(lang)) code.className = `language-${lang}`;
          const hdr = h('div', { class: 'b-code-hdr' }, h('span', { class: 'mono', text: lang || 'code' }));
          if (navigator.clipboard && typeof navigator.clipboard.writeText === 'function') {
            const copy = h('button', {
              class: 'copy',
              type: 'button',
              text: 'Copy',
              'aria-label': 'Copy code',
            });
            copy.addEventListener('click', () => {
              navigator.clipboard.writeText(str(block.code)).then(
                () => {
                  copy.textContent = 'Copied';
                  setTimeout(() => (copy.textContent = 'Copy'), 1500);
                },
                () => {},
              );
            });
            hdr.append(copy);
          }
          return h('div', { class: 'b-code' }, hdr, h('pre', null, code));
        }

        case 'buttons': {
          const group = h('div', { class: 'b-buttons', role: 'group', 'aria-label': 'Reply options' });
          const defs = (Array.isArray(block.buttons) ? block.buttons : []).filter(Boolean);
          const used =
            entry.used && Object.prototype.hasOwnProperty.call(entry.used, index) ? entry.used[index] : null;
          defs.forEach((def, bi) => {
            const style = def.style === 'primary' || def.style === 'danger' ? ` ${def.style}` : '';
            const btn = h('button', {
              class: `btn${style}${used === bi ? ' chosen' : ''}`,
              type: 'button',
              text: def.label,
              disabled: used !== null,
            });
            btn.addEventListener('click', () => onAction(group, btn, def, bi, index, entry));
            group.append(btn);
          });
          return group;
        }

        case 'citations': {
          const cits = (Array.isArray(block.citations) ? block.citations : []).filter(Boolean);
          if (!cits.length) return null;
          const ol = h('ol');
          for (const c of cits) {
            const href = c.url ? safeUrl(c.url) : null;
            const titleEl = href
              ? h('a', {
                  class: 'cit-title',
                  href,
                  target: '_blank',
                  rel: 'noopener noreferrer',
                  text: c.title || c.source,
                })
              : h('span', { class: 'cit-title', text: c.title || c.source });
            const meta = h(
              'span',
              { class: 'cit-meta' },
              h('span', { class: 'cit-src mono', text: c.source }),
            );
            if (c.score !== undefined && c.score !== null && c.score !== '') {
              const score =
                typeof c.score === 'number' && Number.isFinite(c.score) ? c.score.toFixed(2) : str(c.score);
              meta.append(` · score ${score}`);
            }
            ol.append(h('li', null, titleEl, c.heading ? ` — ${str(c.heading)}` : null, meta));
          }
          return h('div', { class: 'b-cit' }, h('div', { class: 'b-cit-h', text: 'Sources' }), ol);
        }

        case 'chart': {
          // Only an SVG data URI opsbot drew: in an <img> an SVG cannot run script or load anything.
          const src = str(block.image);
          if (!/^data:image\/svg\+xml;base64,[A-Za-z0-9+/=]+$/.test(src)) return null;
          const s = block.summary || {};
          const caption = `${str(block.title)} · now ${str(s.latest)} · min ${str(s.min)} · max ${str(s.max)}`;
          return h(
            'figure',
            { class: 'b-chart' },
            h('img', { src, alt: caption, width: 320, height: 64 }),
            h('figcaption', { text: caption }),
          );
        }

        case 'status': {
          const ul = h('ul', { class: 'b-status' });
          for (const b of Array.isArray(block.badges) ? block.badges : []) {
            if (!b) continue;
            const state = str(b.state).toLowerCase() || 'unknown';
            ul.append(
              h(
                'li',
                { class: `badge ${BADGE_STATES.includes(state) ? state : 'unknown'}` },
                h('span', { class: 'bdot', 'aria-hidden': 'true' }),
                h('span', { class: 'badge-label', text: b.label }),
                h('span', { class: 'badge-state', text: state }),
                b.detail ? h('span', { class: 'badge-detail', text: b.detail }) : null,
              ),
            );
          }
          return ul;
        }

        default:
          return null;
      }
    }

    function notifyUnread() {
      if (mode === 'floating' && !isOpen && unreadDot) {
        unreadDot.hidden = false;
        launcher.setAttribute('aria-label', `Open ${TITLE} chat (new reply)`);
      }
    }

    // ------------------------------------------------------------ pending replies / typing indicator

    const pending = new Map(); // client id -> timeout handle

    function expect(id) {
      pending.set(
        id,
        setTimeout(() => {
          pending.delete(id);
          updateTyping();
          addError(
            `No reply after ${REPLY_TIMEOUT_MS / 1000} s — ${TITLE} may still be working on it.`,
            'timeout',
          );
        }, REPLY_TIMEOUT_MS),
      );
      updateTyping();
    }

    function settle(id) {
      if (!pending.has(id)) return;
      clearTimeout(pending.get(id));
      pending.delete(id);
      updateTyping();
    }

    function failPending() {
      if (!pending.size) return;
      for (const t of pending.values()) clearTimeout(t);
      pending.clear();
      updateTyping();
      addError('Connection lost before a reply arrived. Please try again once back online.', 'disconnected');
    }

    function updateTyping() {
      typing.hidden = pending.size === 0;
      scrollToEnd();
    }

    // ------------------------------------------------------------ connection

    let ws = null;
    let online = false;
    let started = false;
    let attempt = 0;
    let retryTimer = null;
    let wantFocus = false; // focus the input once it is enabled again

    function wsUrl() {
      const u = new URL('/ws', ORIGIN);
      u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
      u.searchParams.set('conversation', conversation);
      if (TOKEN) u.searchParams.set('token', TOKEN);
      if (ROOM) u.searchParams.set('room', ROOM);
      return u.href;
    }

    function setStatus(state) {
      sub.setAttribute('data-state', state);
      statusText.textContent = STATUS_TEXT[state];
      online = state === 'online';
      const hadFocus = shadow.activeElement === input;
      input.disabled = !online;
      input.placeholder = online
        ? `Message ${TITLE}…`
        : state === 'connecting'
          ? 'Connecting…'
          : 'Reconnecting…';
      refreshComposer();
      if (online && isOpen && (hadFocus || wantFocus)) {
        wantFocus = false;
        input.focus();
      } else if (!online && hadFocus) wantFocus = true;
    }

    function start() {
      if (started) return;
      started = true;
      connect();
      window.addEventListener('online', () => {
        if (!ws && retryTimer) {
          attempt = 0;
          connect();
        }
      });
    }

    function connect() {
      clearTimeout(retryTimer);
      retryTimer = null;
      let sock;
      try {
        sock = new WebSocket(wsUrl());
      } catch (err) {
        console.error('opsbot: cannot open WebSocket', err);
        setStatus('offline');
        scheduleRetry();
        return;
      }
      ws = sock;
      sock.addEventListener('open', () => {
        if (ws !== sock) return;
        attempt = 0;
        setStatus('online');
      });
      sock.addEventListener('message', (ev) => {
        if (ws === sock) handleFrame(ev.data);
      });
      sock.addEventListener('close', () => {
        if (ws !== sock) return;
        ws = null;
        setStatus('offline');
        failPending();
        scheduleRetry();
      });
    }

    function scheduleRetry() {
      const delay = Math.min(10000, 500 * 2 ** attempt);
      attempt += 1;
      retryTimer = setTimeout(connect, delay);
    }

    function sendFrame(frame) {
      if (!ws || ws.readyState !== WebSocket.OPEN) return false;
      ws.send(JSON.stringify(frame));
      return true;
    }

    function handleFrame(data) {
      if (typeof data !== 'string') return;
      let frame;
      try {
        frame = JSON.parse(data);
      } catch {
        return;
      }
      if (!frame || typeof frame !== 'object') return;
      if (frame.type === 'welcome') {
        const user = frame.user && typeof frame.user === 'object' ? frame.user : {};
        const roles = Array.isArray(user.roles) ? user.roles : [];
        const name = str(user.name);
        whoEl.textContent = roles.includes('guest') || !name ? 'guest' : name;
        whoEl.hidden = false;
      } else if (frame.type === 'reply') {
        settle(frame.inReplyTo);
        addBot(frame.reply && typeof frame.reply === 'object' ? frame.reply : { text: '', blocks: [] });
      } else if (frame.type === 'notification') {
        addBot(frame.reply && typeof frame.reply === 'object' ? frame.reply : { text: '', blocks: [] });
      } else if (frame.type === 'error') {
        settle(frame.inReplyTo);
        const err = frame.error && typeof frame.error === 'object' ? frame.error : {};
        addError(str(err.message) || 'Something went wrong.', str(err.code));
      }
    }

    // ------------------------------------------------------------ user input

    function sendText(text) {
      const t = str(text).trim().slice(0, MAX_LEN);
      if (!t) return false;
      const id = uuid();
      if (!sendFrame({ type: 'message', id, text: t })) return false;
      addUser(t);
      expect(id);
      return true;
    }

    function onAction(group, btn, def, buttonIndex, blockIndex, entry) {
      if (group.hasAttribute('data-used')) return;
      const id = uuid();
      if (!sendFrame({ type: 'action', id, actionId: str(def.actionId), value: str(def.value) })) return;
      group.setAttribute('data-used', '');
      for (const b of group.querySelectorAll('button')) b.disabled = true;
      btn.classList.add('chosen');
      entry.used = entry.used || {};
      entry.used[blockIndex] = buttonIndex;
      addUser(str(def.label)); // also saves the transcript, including entry.used
      expect(id);
    }

    function onSubmit(e) {
      e.preventDefault();
      if (sendText(input.value)) {
        input.value = '';
        refreshComposer();
      }
    }

    function refreshComposer() {
      const len = input.value.length;
      sendBtn.disabled = !online || !input.value.trim();
      counter.hidden = len < COUNTER_FROM;
      counter.textContent = `${len} / ${MAX_LEN}`;
      counter.classList.toggle('full', len >= MAX_LEN);
      // Auto-grow the textarea; keep the conversation pinned to the bottom if it was.
      const pinned = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 24;
      input.style.height = 'auto';
      input.style.height = `${Math.min(input.scrollHeight + 2, 140)}px`;
      if (pinned) scrollToEnd();
    }

    input.addEventListener('input', refreshComposer);
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        composer.requestSubmit ? composer.requestSubmit() : onSubmit(e);
      }
    });

    // ------------------------------------------------------------ open / close (floating)

    function setOpen(value) {
      if (mode !== 'floating') return;
      isOpen = Boolean(value);
      panel.hidden = !isOpen;
      launcher.setAttribute('aria-expanded', String(isOpen));
      launcher.replaceChildren(icon(isOpen ? 'close' : 'chat', 24), unreadDot);
      storage.set(KEY_OPEN, isOpen ? '1' : '0');
      if (isOpen) {
        unreadDot.hidden = true;
        launcher.setAttribute('aria-label', `Close ${TITLE} chat`);
        start();
        refreshComposer();
        scrollToEnd();
        if (!input.disabled) input.focus();
        else wantFocus = true;
      } else {
        launcher.setAttribute('aria-label', `Open ${TITLE} chat`);
      }
    }

    // ------------------------------------------------------------ boot

    for (const entry of transcript) {
      if (!entry || typeof entry !== 'object') continue;
      if (entry.t === 'user') addUser(entry.text, true);
      else if (entry.t === 'error') addError(entry.message, entry.code, true);
      else if (entry.t === 'bot') addBot(entry.reply || {}, entry);
    }
    if (unreadDot) unreadDot.hidden = true;
    setStatus('connecting');

    if (mode === 'inline') start();
    else if (storage.get(KEY_OPEN) === '1') setOpen(true);

    const fill = (text) => {
      setOpen(true);
      input.value = str(text).slice(0, MAX_LEN);
      refreshComposer();
      if (!input.disabled) input.focus();
      else wantFocus = true;
    };
    return Object.freeze({
      version: '1',
      send(text) {
        setOpen(true);
        if (sendText(text)) return true;
        fill(text);
        return false;
      },
      fill,
      open: () => setOpen(true),
      close: () => setOpen(false),
    });
  }

  // ---------------------------------------------------------------- bootstrap

  function findTarget() {
    try {
      return TARGET ? document.querySelector(TARGET) : null;
    } catch {
      return null; // invalid selector
    }
  }

  function boot() {
    let target = document.body;
    if (mode === 'inline') {
      const el = findTarget();
      if (el) target = el;
      else {
        console.error(`opsbot: data-target ${JSON.stringify(TARGET)} not found; using floating mode`);
        mode = 'floating';
      }
    }
    const api = mount(target);
    window.opsbot = api;
    document.addEventListener('click', (e) => {
      const el = e.target && e.target.closest ? e.target.closest('[data-opsbot-prompt]') : null;
      if (!el) return;
      e.preventDefault();
      api.send(el.getAttribute('data-opsbot-prompt') || el.textContent.trim());
    });
  }

  const needsDom = mode === 'inline' ? !findTarget() : !document.body;
  if (needsDom && document.readyState === 'loading')
    document.addEventListener('DOMContentLoaded', boot, { once: true });
  else boot();
})();
