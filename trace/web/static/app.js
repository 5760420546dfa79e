// socklab web: the page. It draws a run of socklab's lessons as a live
// sequence diagram (docs/web.md): one lifeline per peer, a box per call,
// the bytes, FINs and RSTs (or, with --wire, the real packets) as arrows,
// the kernel's state on each lifeline. Plain ES2020, no build step, nothing
// loaded from the network.
//
// Safety: bytes in events come from the peers and are untrusted. Every
// string of an event or of the catalogue reaches the page as text
// (textContent, createTextNode, setAttribute), never as HTML.
//
// Test hooks (stable: trace/web's browser tests query these):
//
//   document.body.dataset.phase   "loading" (until the page has drawn itself once) | "idle" | "running" |
//                                 "waiting" | "done" | "replay"
//   document.body.dataset.lang    "en" | "zh"
//   document.body.dataset.events  the number of events drawn
//   document.body.dataset.mode    "live" | "replay"
//   document.body.dataset.cjk     "yes" | "no": whether the machine has a font for Chinese; without
//                                 one, #font-warning says so (in English) and the page works on
//   The dataset changes as the page is drawn (at the next frame, or within
//   50 ms), so that a hook never runs ahead of the diagram it describes.
//
//   #lesson (select), #run, #next, #stop, #speed (select: 0 = by hand, or ms),
//   #lang-en, #lang-zh; in a replay #back, #play and #timeline (range 0..events).
//   A replay's URL: #step=N opens it with N events drawn, #end with all of them (the hash is read again
//   on hashchange); as the replay moves, the hash follows (history.replaceState: one history entry).
//   #events: the event list, one li[data-seq] a shown call or packet (data-index its place in the
//   run's events, data-kind "call" | "packet", data-conn "addr ↔ addr" or ""); hidden rows have the
//   hidden attribute; class "at" the newest row drawn, "ahead" rows not drawn yet. A click jumps there.
//   #filter-calls, #filter-packets (checkboxes), #filter-conn (select: "" or a data-conn).
//   Live, #back looks back through the run so far without stopping it (#now returns):
//   document.body.dataset.viewAt is how many events the page then shows ("" when it shows them all).
//   svg#tcp-states: the TCP state machine (tcpstates.js). g.tcp-state[data-state] a state; class
//   "current" with data-sockets ("server:3 client:5", a socket is the peer that made it and its fd) when a socket is in
//   it, "visited" when one passed through it, "last" the newest move's end. g.tcp-edge[data-from]
//   [data-to] a transition: "last" on the newest move's path, "taken" on the followed socket's.
//   #tcp-sockets button[data-socket][data-peer][data-fd][data-state]: a socket; a click follows it
//   (only its state marked; svg#tcp-states' data-follow is its id). #tcp-last: the newest move in words.
//   A socket the kernel closed at its program's end (trace --web) is drawn as a g.call[data-op="close"]
//   of kind "kernel" (class "kernel"), after the run's events.
//   #notice: what the run said of itself (web.Notice: --wire without its capture), hidden when nothing.
//   #speed follows the run's speed as the server says it (hello, run, delay messages).
//   #status: the state of the run in words; #explain .next and #explain .said:
//   the panel's next step and its explanations.
//
//   In svg#diagram:
//   g.lifeline[data-peer]                 one per peer, in order of first appearance, "server" first
//   text.state[data-peer][data-fd]        the kernel state of one of that peer's sockets ("fd 3 LISTEN"),
//                                         once it has one: up to three a peer (its open ones first); an
//                                         accept's state is its new socket's, never the listening one's
//   g.call[data-peer][data-op][data-seq]  one per call; data-seq is its Begin's seq (its End's when it
//                                         has no Begin); data-step its Begin's step (when it has one),
//                                         data-end-step its End's when that differs (connect 5 → 7,
//                                         accept 6 → 8); data-end-seq; data-state the state its End
//                                         reported; data-result "ok" | "error" | "eof" once it ended.
//                                         Classes: "blocked" (events came between Begin and End),
//                                         "inflight" (no End yet), "failed" (an errno).
//   g.step[data-step]                     a step's numbered circle (an accept has two: 6 and 8)
//   g.arrow[data-kind][data-from][data-to][data-seq]
//                                         data-kind "data" | "fin" | "rst" | "packet"; data-seq is the
//                                         seq of the event it was drawn for; packets add data-flags;
//                                         data-from "" when no peer owns the sender's address yet.
//                                         Without packets in the trace, a read's bytes are "data", its
//                                         EOF "fin", ECONNRESET or ECONNREFUSED "rst"; with any packet,
//                                         only the packets are drawn.
//   g.ghost[data-peer][data-op]           the call the run waits to let begin (live, while waiting)
"use strict";

(() => {
  // ---- Geometry, in the diagram's own units (1 unit = 1 px at scale 1). ----
  let HEAD = 68; // the lifelines' header: taller with a peer's second and third socket
  const TOP = 10; // space under it
  const ROW = 30; // one row a call or an arrow
  const BOTTOM = 16;
  const BAR = 16; // width of a call's bar
  // The diagram shrinks to fit its panel down to MIN_SCALE, then scrolls to
  // keep the newest row in view; once a run is over (or a replay at its
  // end) it shrinks down to OVERVIEW_SCALE, to show the whole run at once.
  const MIN_SCALE = 0.8;
  const OVERVIEW_SCALE = 0.6;
  const MAX_SCALE = 1.6;
  const BASE_WIDTH = 1280; // the layout is made for this width, scaled to others
  const PILL = 17; // a state's label

  // Words the page needs before the catalogue is there.
  const FALLBACK = {
    "web.status.connecting": "connecting…",
    "web.status.noinfo": "cannot load the page's settings: %s",
    "web.status.disconnected": "disconnected: trying again…",
  };

  const $ = (id) => document.getElementById(id);
  const ui = {
    lesson: $("lesson"), run: $("run"), next: $("next"), stop: $("stop"), back: $("back"),
    play: $("play"), speed: $("speed"), timeline: $("timeline"), status: $("status"),
    en: $("lang-en"), zh: $("lang-zh"), stage: $("stage"), svg: $("diagram"),
    explain: $("explain"), lessonTitle: $("lesson-title"), legend: $("legend"),
    now: $("now"), events: $("events"), fCalls: $("filter-calls"), fPackets: $("filter-packets"),
    fConn: $("filter-conn"), tcp: $("tcp-states"), tcpLast: $("tcp-last"), tcpSockets: $("tcp-sockets"),
  };
  const nextLine = ui.explain.querySelector(".next");
  const saidBox = ui.explain.querySelector(".said");

  const S = {
    token: new URLSearchParams(location.search).get("token") || "",
    info: null,
    lang: "en",
    mode: "live",
    phase: "idle",
    ws: null,
    connected: false,
    run: 0,
    lesson: "",
    events: [], // live: the run's events so far
    replay: [], // replay: every event of the file
    pos: 0, // replay: how many are drawn
    next: null, // live: the call the run waits to let begin ("waiting")
    said: [], // events whose explanation the panel shows, newest last
    picked: null, // a call clicked on: its explanation shows
    status: { key: "web.status.connecting", args: [] },
    statusError: false,
    playing: null, // replay: the auto-advance timer
    replayed: false, // replay: the file's events have come
    viewAt: null, // live: how many events the page shows while it looks back (null: all, as they come)
    list: null, // the event list as drawn: {source, lang, rows}
    listPicked: null, // the seq of the list's row clicked on
    tcp: null, // the run's TCP sockets as drawn (tcpstates.js's track)
    follow: null, // the id of the socket the state machine follows, or null: every socket
    notices: [], // what the run said of itself ({key, args}): shown under the bar
    model: null, // the last layout drawn
    dirty: false,
  };

  // ---- Words. ----

  // T returns the catalogue's text for key in the page's language (English
  // when that language lacks it), formatted as Go's fmt would for the verbs
  // the catalogue uses. An argument that is {en, zh} is taken in the page's
  // language.
  function T(key, ...args) {
    const cat = (S.info && S.info.catalogue) || {};
    let s = (cat[S.lang] && cat[S.lang][key]) ?? (cat.en && cat.en[key]) ?? FALLBACK[key];
    if (s == null) return key;
    let i = 0;
    return s.replace(/%([-+# 0-9.]*)([a-zA-Z%])/g, (m, flags, verb) => {
      if (verb === "%") return "%";
      let a = localized(args[i++]);
      if (verb === "q") return JSON.stringify(String(a));
      if (verb === "d") return String(Math.trunc(Number(a)));
      return String(a);
    });
  }
  function has(key) {
    const cat = (S.info && S.info.catalogue) || {};
    return !!((cat[S.lang] && cat[S.lang][key]) || (cat.en && cat.en[key]));
  }
  function localized(a) {
    if (a && typeof a === "object") return a[S.lang] ?? a.en ?? "";
    return a ?? "";
  }

  // peerName: "server" → 服务器, "client-2" → 客户端-2.
  function peerName(peer) {
    if (!peer) return T("web.peer.unknown");
    const m = /^(server|client)(-.*)?$/.exec(peer);
    if (!m) return peer;
    return T("peer." + m[1]) + (m[2] || "");
  }

  // preview is a short piece of an event's data (already escaped by the
  // trace, shown as text), cut at a whole character.
  function preview(data, max = 16) {
    if (data == null) return "";
    const chars = Array.from(String(data));
    return chars.length > max ? chars.slice(0, max - 1).join("") + "…" : chars.join("");
  }

  // width estimates a string's width at size: monospace Latin is 0.6 em,
  // East Asian wide characters 1 em. Estimated, not measured, so that the
  // layout is the same in every browser and costs no reflow.
  function width(s, size, mono = true, latin = 0.56) {
    let w = 0;
    for (const ch of s) {
      const c = ch.codePointAt(0);
      const wide = (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) || (c >= 0xac00 && c <= 0xd7a3) ||
        (c >= 0xf900 && c <= 0xfaff) || (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
        (c >= 0xffe0 && c <= 0xffe6) || c >= 0x1f300;
      w += wide ? 1 : mono ? 0.602 : latin;
    }
    return w * size;
  }
  function fit(s, max, size, mono = true) {
    if (width(s, size, mono) <= max) return s;
    const chars = Array.from(s);
    while (chars.length > 1 && width(chars.join("") + "…", size, mono) > max) chars.pop();
    return chars.join("") + "…";
  }

  // ---- What a call says. ----

  const isRead = (op) => op === "read" || op === "recvfrom";

  // callText is the call as the terminal writes it: the trace's own
  // "call", which socklab's JSON carries on every line. A trace saved before
  // the field existed is drawn from its parts.
  function callText(ev) {
    if (ev.call && ev.op !== "packet") return ev.call;
    const name = ev.syscall || ev.op;
    const args = [];
    if (ev.fd != null && ev.op !== "create") args.push(String(ev.fd));
    switch (ev.op) {
      case "create":
        if (ev.arg) args.push(ev.arg);
        break;
      case "bind":
        if (ev.local) args.push(ev.local);
        break;
      case "connect":
        if (ev.remote) args.push(ev.remote);
        break;
      case "write":
      case "sendto":
        if (ev.data != null) args.push('"' + preview(ev.data, 14) + '"');
        if (ev.n != null) args.push(String(ev.n));
        if (ev.op === "sendto" && ev.remote) args.push(ev.remote);
        break;
      case "close":
        break;
      default:
        if (ev.arg) args.push(ev.arg);
    }
    return name + "(" + args.join(", ") + ")";
  }

  // result is what the End says: "= 0", "= -1 ECONNREFUSED", "EOF".
  // The text is the trace's own "result" when it has one (as strace writes
  // it, the terminal's words); a trace saved before the field existed is
  // read from its parts.
  function result(end, wire) {
    if (end.errno || (end.ret != null && end.ret < 0)) {
      return { text: end.result || "= " + (end.ret ?? -1) + " " + (end.errno || end.err || ""), cls: "err", kind: "error" };
    }
    if (isRead(end.op) && end.eof) return { text: (end.result || "= 0") + " " + T("web.result.eof"), cls: "eof", kind: "eof" };
    // extra is what may go when the label has no room for it.
    let s = end.result || (end.ret != null ? "= " + end.ret : "✓");
    let extra = "";
    if (end.op === "accept" && end.remote) extra = " ← " + end.remote;
    if (end.op === "getsockname" && end.local) extra = " → " + end.local;
    if (end.op === "recvfrom" && end.remote) extra = " ← " + end.remote;
    if (isRead(end.op) && wire && end.n > 0 && end.data != null) extra = ' "' + preview(end.data, 12) + '"';
    if (end.interrupt) s += " (" + end.interrupt + ")";
    return { text: s, extra, cls: "ok", kind: "ok" };
  }

  function bytes(n) {
    return T(n === 1 ? "web.arrow.byte" : "web.arrow.bytes", n);
  }

  function waitHint(ev) {
    const key = "web.wait." + ev.op;
    return has(key) ? T(key) : "";
  }

  function stepCall(step, syscall) {
    if (step > 0 && has(`step.${step}.call`)) return T(`step.${step}.call`);
    return (syscall || "") + "()";
  }

  // ---- Layout: the events, as lifelines, calls and arrows. ----

  // layout reads events (in seq order) into rows. peerSource are the events
  // whose peers get a lifeline (a replay's whole file, so that lifelines do
  // not move as it plays); wire turns the inferred arrows off.
  function layout(events, peerSource, wire) {
    const peers = [];
    const seen = new Set();
    const add = (p) => {
      if (p && !seen.has(p)) {
        seen.add(p);
        peers.push(p);
      }
    };
    const roles = new Map();
    for (const ev of peerSource) {
      if (!ev) continue;
      add(ev.peer);
      if (ev.peer && ev.role) roles.set(ev.peer, ev.role);
      if (ev.packet && ev.packet.to_peer) add(ev.packet.to_peer);
    }
    // The server first.
    let first = peers.indexOf("server");
    if (first < 0) first = peers.findIndex((p) => roles.get(p) === "server");
    if (first > 0) peers.unshift(peers.splice(first, 1)[0]);

    const conn = new Map(); // "local|remote" → peer
    const localOwner = new Map();
    const remoteOwner = new Map();
    const real = (a) => a && !/:0$/.test(a);
    const learn = (peer, local, remote) => {
      if (!peer) return;
      if (real(local)) localOwner.set(local, peer);
      if (real(remote)) remoteOwner.set(remote, peer);
      if (real(local) && real(remote)) conn.set(local + "|" + remote, peer);
    };
    // other finds the peer at the other end of a socket with these addresses.
    const other = (me, local, remote) => {
      let p;
      if (real(local) && real(remote)) {
        p = conn.get(remote + "|" + local);
        if (p && p !== me) return p;
      }
      if (real(remote)) {
        p = localOwner.get(remote);
        if (p && p !== me) return p;
      }
      if (real(local)) {
        p = remoteOwner.get(local);
        if (p && p !== me) return p;
      }
      const rest = peers.filter((x) => x !== me);
      return rest.length === 1 ? rest[0] : null;
    };

    const calls = [];
    const arrows = [];
    const state = new Map(); // a socket ("peer|fd") → its latest state
    // The calls in flight, by peer and op: a Begin's End is that peer's next
    // End of the same op (a traced program's threads may make two calls of
    // one peer at once: its getsockname while its accept waits).
    const open = new Map();
    let rows = 0;
    const arrow = (a) => arrows.push(a);

    events.forEach((ev, i) => {
      if (ev.op === "packet") {
        const p = ev.packet || {};
        const from = ev.peer || localOwner.get(p.from) || null;
        let to = p.to_peer || null;
        if (!to && p.to) to = conn.get(p.to + "|" + p.from) || localOwner.get(p.to) || null;
        if (!to && from) to = other(from, p.from, p.to);
        learn(ev.peer, p.from, p.to);
        arrow({ kind: "packet", from, to, row: rows++, ev });
        return;
      }
      learn(ev.peer, ev.local, ev.remote);
      if (ev.phase === "begin") {
        const c = { peer: ev.peer, op: ev.op, begin: ev, end: null, beginRow: rows++, endRow: -1, index: i };
        const k = ev.peer + "\u0000" + ev.op;
        if (!open.has(k)) open.set(k, []);
        open.get(k).push(c);
        calls.push(c);
        return;
      }
      if (ev.phase !== "end") {
        rows++; // a line of a schema to come: keep its place
        return;
      }
      const waiting = open.get(ev.peer + "\u0000" + ev.op);
      let c = waiting && waiting.shift();
      if (c) {
        c.end = ev;
        if (c.index === i - 1) c.endRow = c.beginRow;
        else {
          c.endRow = rows++;
          c.blocked = true;
        }
      } else {
        // An End with no Begin (gonet's socket, seen after it returned).
        c = { peer: ev.peer, op: ev.op, begin: null, end: ev, beginRow: rows, endRow: rows++, index: i };
        calls.push(c);
      }
      if (ev.state) {
        // An accept's state is its new socket's (fd = its ret), never the
        // listening socket's.
        const sock = ev.peer + "|" + (ev.op === "accept" ? ev.ret : ev.fd);
        if (state.get(sock) !== ev.state) c.stateChanged = true;
        state.set(sock, ev.state);
        c.state = ev.state;
      }
      if (ev.peer_state) {
        const o = other(ev.peer, ev.local, ev.remote);
        c.peerState = { peer: o, state: ev.peer_state };
      }
      if (wire) return;
      const failed = ev.errno === "ECONNRESET" || ev.errno === "ECONNREFUSED";
      if (failed && (isRead(ev.op) || ev.op === "write" || ev.op === "sendto" || ev.op === "connect")) {
        arrow({ kind: "rst", from: other(ev.peer, ev.local, ev.remote), to: ev.peer, row: c.endRow, ev });
      } else if (isRead(ev.op) && ev.eof && !ev.interrupt) {
        arrow({ kind: "fin", from: other(ev.peer, ev.local, ev.remote), to: ev.peer, row: c.endRow, ev });
      } else if (isRead(ev.op) && ev.n > 0 && !ev.errno) {
        arrow({ kind: "data", from: other(ev.peer, ev.local, ev.remote), to: ev.peer, row: c.endRow, ev });
      }
    });
    return { peers, calls, arrows, state, rows };
  }

  // ---- Drawing. ----

  const NS = "http://www.w3.org/2000/svg";
  function el(tag, attrs, parent) {
    const e = document.createElementNS(NS, tag);
    for (const k in attrs) if (attrs[k] != null && attrs[k] !== false) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function text(parent, attrs, s) {
    const t = el("text", attrs, parent);
    t.textContent = s;
    return t;
  }
  function span(parent, attrs, s) {
    const t = el("tspan", attrs, parent);
    t.textContent = s;
    return t;
  }

  function shownEvents() {
    if (S.mode === "replay") return S.replay.slice(0, S.pos);
    return S.viewAt != null ? S.events.slice(0, S.viewAt) : S.events;
  }
  function wireOn() {
    if (S.mode === "replay") return S.replay.some((e) => e.op === "packet");
    // --wire without its capture (no CAP_NET_RAW): the calls' arrows.
    const nowire = S.notices.some((n) => n.key === "web.notice.nowire");
    return (!!(S.info && S.info.wire) && !nowire) || S.events.some((e) => e.op === "packet");
  }

  // schedule draws the page once for a burst of messages: at the next
  // frame, or soon where frames do not come (a hidden tab). The hooks in
  // body's dataset change as the drawing does, never before it.
  function schedule() {
    if (S.dirty) return;
    S.dirty = true;
    const draw = () => {
      if (!S.dirty) return;
      S.dirty = false;
      render();
    };
    requestAnimationFrame(draw);
    setTimeout(draw, 50);
  }

  function render() {
    const events = shownEvents();
    const wire = wireOn();
    // The peer the run waits for has its lifeline already.
    const peerSource = S.mode === "replay" ? S.replay : S.next ? S.events.concat([S.next]) : S.events;
    const model = layout(events, peerSource, wire);
    S.model = model;
    S.tcp = window.socklabTCP.track(events);
    drawDiagram(model, wire);
    drawStates();
    drawPanel();
    drawStatus();
    drawControls();
    drawList();
    document.body.dataset.events = String(events.length);
    document.body.dataset.viewAt = S.viewAt == null ? "" : String(S.viewAt);
    document.body.dataset.phase = S.phase;
    writeHash();
  }

  // ---- A replay's place in its URL: #step=N (N events drawn), #end. ----

  // hashPos is the position the URL's hash asks for, or null.
  function hashPos() {
    const h = decodeURIComponent(location.hash || "");
    if (h === "#end") return S.replay.length;
    const m = /^#step=(\d+)$/.exec(h);
    return m ? Math.min(S.replay.length, Number(m[1])) : null;
  }

  // writeHash makes the URL follow the replay's position, replacing the
  // history's entry (Back leaves the page, not the last step).
  function writeHash() {
    if (S.mode !== "replay" || !S.replayed) return;
    const n = S.replay.length;
    const want = n > 0 && S.pos >= n ? "#end" : S.pos > 0 ? "#step=" + S.pos : "";
    if ((location.hash || "") === want) return;
    history.replaceState(history.state, "", location.pathname + location.search + want);
  }

  window.addEventListener("hashchange", () => {
    if (S.mode !== "replay" || !S.replayed) return;
    const at = hashPos();
    if (at == null || at === S.pos) return;
    stopPlaying();
    S.pos = at;
    S.picked = null;
    schedule();
  });

  function drawDiagram(m, wire) {
    const svg = ui.svg;
    const cw = ui.stage.clientWidth || 1280;
    const ch = ui.stage.clientHeight || 500;
    const ghost = S.mode === "live" && S.viewAt == null && S.phase === "waiting" && S.next && S.next.peer ? S.next : null;
    const nrows = m.rows + (ghost ? 1 : 0);
    // Each peer's sockets, their states in its header (three at most).
    const heads = new Map();
    for (const p of m.peers) heads.set(p, headSockets(p));
    HEAD = 68 + 22 * Math.max(0, ...[...heads.values()].map((l) => l.length - 1));
    const H = HEAD + TOP + Math.max(nrows, 1) * ROW + BOTTOM;
    const top = Math.min(MAX_SCALE, Math.max(1, cw / BASE_WIDTH));
    const whole = S.mode === "replay" ? S.pos >= S.replay.length : S.phase === "done";
    const scale = Math.max(Math.min(top, ch / H), Math.min(top, whole ? OVERVIEW_SCALE : MIN_SCALE));
    const W = cw / scale;
    const keepTop = ui.stage.scrollTop;
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("width", String(cw));
    svg.setAttribute("height", String(Math.ceil(H * scale)));
    svg.replaceChildren();
    S.scale = scale;

    // Columns: with two lifelines the labels go outside them, the arrows
    // between; with more, labels go right of each (left of the last).
    const peers = m.peers.slice();
    const cols = Math.max(peers.length, 2);
    const xs = [];
    if (cols === 2) xs.push(W * 0.39, W * 0.61);
    else for (let i = 0; i < cols; i++) xs.push(30 + ((i + 0.5) * (W - 60)) / cols);
    const colOf = new Map(peers.map((p, i) => [p, i]));
    const X = (p) => (colOf.has(p) ? xs[colOf.get(p)] : null);
    // room is the width a label has on side s (-1 left, 1 right) of p's
    // lifeline.
    const room = (p, s) => {
      const i = colOf.get(p);
      if (cols === 2) return s < 0 ? (i === 0 ? xs[0] - 6 : xs[1] - xs[0] - 12) : i === 1 ? W - xs[1] - 6 : xs[1] - xs[0] - 12;
      if (s < 0) return xs[i] - (i > 0 ? xs[i - 1] : 0) - 12;
      return (i < cols - 1 ? xs[i + 1] : W) - xs[i] - 12;
    };
    // side puts p's label at row away from the arrow drawn there, if any.
    const arrowAt = new Map(m.arrows.map((a) => [a.row, a]));
    const side = (p, row) => {
      const i = colOf.get(p);
      if (cols === 2) return i === 0 ? -1 : 1;
      let s = i === cols - 1 ? -1 : 1;
      const a = arrowAt.get(row);
      const o = a && (a.to === p ? a.from : a.from === p ? a.to : null);
      if (o && colOf.has(o)) s = colOf.get(o) > i ? -1 : 1;
      if (room(p, s) < 140) s = -s;
      return s;
    };
    const font = cols <= 2 ? 20 : cols <= 4 ? 17 : 14;
    const rowY = (r) => HEAD + TOP + r * ROW + ROW / 2;
    const bottomY = HEAD + TOP + Math.max(nrows, 1) * ROW;

    const gLines = el("g", { class: "lifelines" }, svg);
    const gBars = el("g", { class: "calls" }, svg);
    const gArrows = el("g", { class: "arrows" }, svg);
    const gHead = el("g", { class: "head" }, svg);

    // Lifelines.
    peers.forEach((p) => {
      const g = el("g", { class: "lifeline", "data-peer": p }, gLines);
      el("line", { x1: X(p), x2: X(p), y1: HEAD, y2: bottomY }, g);
    });

    // Calls.
    m.calls.forEach((c) => {
      const x = X(c.peer);
      if (x == null) return;
      const first = c.begin || c.end;
      const end = c.end;
      const g = el("g", {
        class: "call",
        "data-peer": c.peer,
        "data-op": c.op,
        "data-seq": first.seq,
        "data-step": first.step > 0 ? first.step : null,
        "data-end-step": end && end.step > 0 && end.step !== first.step ? end.step : null,
        "data-end-seq": end ? end.seq : null,
        "data-state": c.state || null,
        "data-result": end ? result(end, wire).kind : null,
      }, gBars);
      g.__call = c;
      if (!end) g.classList.add("inflight");
      if (c.blocked) g.classList.add("blocked");
      if (end && (end.errno || end.ret < 0)) g.classList.add("failed");
      if (!(first.step > 0) && !(end && end.step > 0)) g.classList.add("nostep");
      if (first.kind === "kernel") g.classList.add("kernel");
      if (S.picked && S.picked === keyOf(c)) g.classList.add("picked");

      const y1 = rowY(c.beginRow);
      const y2 = end ? rowY(c.endRow) : bottomY - ROW / 2 + 6;
      el("rect", { class: "bar", x: x - BAR / 2, y: y1 - 12, width: BAR, height: Math.max(24, y2 - y1 + 24), rx: 4 }, g);
      const title = el("title", {}, g);
      title.textContent = describe(c);

      const labelRow = (row, stepList, main, res, hint, pills) => {
        const y = rowY(row);
        const s = side(c.peer, row);
        let off = BAR / 2 + 6;
        // Read left to right: on the left side the last step is nearest.
        for (const n of s < 0 ? stepList.slice().reverse() : stepList) {
          const cx = x + s * (off + 14);
          const sg = el("g", { class: "step", "data-step": n }, g);
          el("circle", { cx, cy: y, r: 14 }, sg);
          text(sg, { x: cx, y: y + 6, "text-anchor": "middle", "font-size": n >= 10 ? 15 : 17 }, String(n));
          off += 30;
        }
        off += 3;
        // What goes when there is no room, in this order: the wait's
        // words, the result's extra, the call's arguments, the states.
        let resText = res ? " " + res.text + (res.extra || "") : "";
        let hintFit = hint ? "  " + hint : "";
        let mainText = main;
        const pillW = (ps) => ps.reduce((w, p) => w + pillWidth(p.text) + 10, 0);
        const avail = room(c.peer, s) - off;
        const fits = () => width(mainText + resText, font) + width(hintFit, font * 0.85, false) + pillW(pills) <= avail;
        // A short call is not cut at all; a long one keeps its name.
        const least = Array.from(main).length <= 14 ? width(main, font) : width(main.replace(/\(.*$/s, "(…)"), font);
        // fitMain cuts the arguments to the room the rest leaves, if that
        // keeps at least the call's name.
        const fitMain = () => {
          const w = avail - width(resText, font) - pillW(pills);
          if (width(main, font) <= w) mainText = main;
          else if (w >= least) mainText = fit(main, w, font);
          else return false;
          return true;
        };
        if (!fits()) hintFit = "";
        if (!fits() && res) resText = " " + res.text;
        if (!fits()) {
          while (!fitMain() && pills.length) pills.pop();
          if (!fits()) mainText = fit(main, Math.max(avail - width(resText, font), font), font);
        }
        const tx = x + s * off;
        const t = text(g, { x: tx, y: y + font * 0.35, "text-anchor": s < 0 ? "end" : "start", "font-size": font }, "");
        span(t, {}, mainText);
        if (res) span(t, { class: "res " + res.cls }, resText);
        if (hintFit) span(t, { class: "hint", "font-size": font * 0.85 }, hintFit);
        // Pills beyond the label.
        let px = tx + s * (width(mainText + resText, font) + width(hintFit, font * 0.85, false) + 12);
        for (const p of pills) {
          const w = pillWidth(p.text);
          const left = s < 0 ? px - w : px;
          const pg = el("g", { class: "state-pill" }, g);
          el("rect", { x: left, y: y - 12, width: w, height: 24, rx: 12, "data-s": p.state }, pg);
          text(pg, { x: left + w / 2, y: y + 6, "text-anchor": "middle", "font-size": PILL, "data-s": p.state }, p.text);
          px += s * (w + 10);
        }
      };

      const pills = [];
      if (end && c.state && c.stateChanged) pills.push({ text: c.state, state: c.state });
      if (end && c.peerState) {
        const who = c.peerState.peer ? peerName(c.peerState.peer) : T("web.peer.unknown");
        pills.push({ text: T("web.state.of", who, c.peerState.state), state: c.peerState.state });
      }
      if (!c.begin && end) {
        labelRow(c.endRow, end.step > 0 ? [end.step] : [], callText(end), result(end, wire), "", pills);
      } else if (end && !c.blocked) {
        const list = [c.begin.step, end.step].filter((n, i, a) => n > 0 && a.indexOf(n) === i);
        labelRow(c.beginRow, list, callText(c.begin), result(end, wire), "", pills);
      } else if (end) {
        labelRow(c.beginRow, c.begin.step > 0 ? [c.begin.step] : [], callText(c.begin), null, "", []);
        const endSteps = end.step > 0 && end.step !== c.begin.step ? [end.step] : [];
        labelRow(c.endRow, endSteps, c.begin.syscall || c.op, result(end, wire), "", pills);
      } else {
        labelRow(c.beginRow, c.begin.step > 0 ? [c.begin.step] : [], callText(c.begin), null, waitHint(c.begin), []);
      }
    });

    // The call the run holds until Next.
    if (ghost && X(ghost.peer) != null) {
      const x = X(ghost.peer);
      const s = side(ghost.peer, m.rows);
      const y = rowY(m.rows);
      const g = el("g", { class: "ghost", "data-peer": ghost.peer, "data-op": ghost.op }, gBars);
      el("rect", { x: x - BAR / 2, y: y - 13, width: BAR, height: 26, rx: 4 }, g);
      let off = BAR / 2 + 8;
      if (ghost.step > 0) {
        el("circle", { cx: x + s * (off + 14), cy: y, r: 14 }, g);
        text(g, { x: x + s * (off + 14), y: y + 6, "text-anchor": "middle", "font-size": 16 }, String(ghost.step));
        off += 32;
      }
      text(g, { x: x + s * (off + 4), y: y + font * 0.35, "text-anchor": s < 0 ? "end" : "start", "font-size": font },
        fit(stepCall(ghost.step, ghost.syscall) + " ?", room(ghost.peer, s) - off - 4, font));
    }

    // Arrows.
    m.arrows.forEach((a) => {
      const y = rowY(a.row);
      let x1 = X(a.from);
      let x2 = X(a.to);
      if (x1 == null && x2 == null) return;
      const unknown = x1 == null || x2 == null;
      if (x1 == null) x1 = x2 + (colOf.get(a.to) === 0 ? 1 : -1) * Math.min(220, W * 0.15);
      if (x2 == null) x2 = x1 + (colOf.get(a.from) === 0 ? 1 : -1) * Math.min(220, W * 0.15);
      const dir = x2 >= x1 ? 1 : -1;
      const sx = x1 + dir * (BAR / 2 + 2);
      const ex = x2 - dir * (BAR / 2 + 2);
      let label = "";
      let sub = "";
      let cls = a.kind;
      if (a.kind === "data") label = bytes(a.ev.n) + ' "' + preview(a.ev.data) + '"';
      else if (a.kind === "fin") label = T("web.arrow.fin");
      // A refused connect's RST is the kernel's answer for a port nobody
      // listens on: no connection was ever reset.
      else if (a.kind === "rst") label = T(a.ev.errno === "ECONNREFUSED" ? "web.arrow.refused" : "web.arrow.rst");
      else {
        const p = a.ev.packet || {};
        const flags = p.flags || (p.proto || "udp").toUpperCase();
        label = flags + (a.ev.n > 0 ? " " + bytes(a.ev.n) : "");
        if (p.proto === "tcp") sub = ` seq ${p.seq ?? "?"}` + (/ACK/.test(flags) ? ` ack ${p.ack}` : "");
        // A packet no socket of the trace owns yet says where it came from.
        if (!a.from && p.from) sub += " ← " + p.from;
        cls = /RST/.test(flags) ? "rst" : /FIN/.test(flags) ? "fin" : /SYN/.test(flags) ? "syn" : a.ev.n > 0 || p.proto !== "tcp" ? "data" : "ack";
      }
      const g = el("g", {
        class: "arrow " + cls + (unknown ? " unknown" : ""),
        "data-kind": a.kind,
        "data-from": a.from || "",
        "data-to": a.to || "",
        "data-seq": a.ev.seq,
        "data-flags": a.kind === "packet" ? (a.ev.packet && a.ev.packet.flags) || "" : null,
      }, gArrows);
      el("line", { x1: sx, x2: ex - dir * 12, y1: y + 4, y2: y + 4 }, g);
      el("path", { d: `M${ex},${y + 4} l${-dir * 16},-8 l0,16 z` }, g);
      const mid = (sx + ex) / 2;
      const max = Math.max(Math.abs(ex - sx) + 120, 160);
      const t = text(g, { class: "main", x: mid, y: y - 5, "text-anchor": "middle", "font-size": 17 }, fit(label, max, 17, false));
      if (sub && width(label + sub, 17, false) < max) span(t, { class: "sub", "font-size": 14 }, sub);
      const title = el("title", {}, g);
      title.textContent = a.ev.explain && has(a.ev.explain) ? label + ": " + T(a.ev.explain) : label;
    });

    // The header: the peers' names and states; it stays at the top.
    el("rect", { class: "head-bg", x: 0, y: 0, width: W, height: HEAD + 4 }, gHead);
    peers.forEach((p) => {
      const x = X(p);
      const name = peerName(p);
      const lines = heads.get(p).map((k) => ({ k, s: T("web.tcp.fd", k.fd) + " " + k.state }));
      const w = Math.max(150, width(name, 24, false) + 40, ...lines.map((l) => width(l.s, 18, false, 0.7) + 24));
      el("rect", { class: "head-card", x: x - w / 2, y: 4, width: w, height: HEAD - 8, rx: 10 }, gHead);
      text(gHead, { class: "peer-name", x, y: 31, "text-anchor": "middle", "font-size": 24, "data-peer": p }, name);
      lines.forEach((l, i) => {
        text(gHead, { class: "state", x, y: 55 + 22 * i, "text-anchor": "middle", "font-size": 18, "data-peer": p, "data-fd": l.k.fd, "data-s": l.k.state }, l.s);
      });
    });
    S.head = gHead;
    stickHead();

    // Keep the newest row in view when rows came or went; a redraw of the
    // same rows (a call clicked, the language) leaves the view where it is.
    if (m.rows + (ghost ? 1 : 0) !== S.drawnRows) ui.stage.scrollTop = ui.stage.scrollHeight;
    else ui.stage.scrollTop = keepTop;
    S.drawnRows = m.rows + (ghost ? 1 : 0);
    stickHead();
  }

  // headSockets are the sockets whose states p's header shows: its open
  // ones first, then those that moved last; three at most, in the order
  // they were made.
  function headSockets(p) {
    const mine = ((S.tcp && S.tcp.sockets) || []).filter((k) => k.peer === p);
    if (mine.length <= 3) return mine;
    const lastSeq = (k) => (k.moves.length ? k.moves[k.moves.length - 1].seq : 0);
    const keep = mine.slice().sort((a, b) => (a.closed - b.closed) || lastSeq(b) - lastSeq(a)).slice(0, 3);
    return mine.filter((k) => keep.includes(k));
  }

  // ---- The TCP state machine (tcpstates.js draws it). ----

  function socketName(k) {
    return peerName(k.peer) + " " + T("web.tcp.fd", k.fd);
  }

  function drawStates() {
    const run = S.tcp;
    if (S.follow && !run.sockets.some((k) => k.id === S.follow)) S.follow = null;
    const last = window.socklabTCP.draw(ui.tcp, run, S.follow);
    ui.tcp.dataset.follow = S.follow || "";
    ui.tcpLast.replaceChildren();
    if (last) {
      const why = window.socklabTCP.path(last.from, last.to).map((e) => e.label).join(", ");
      ui.tcpLast.textContent = socketName(last.socket) + ": " + last.from + " → " + last.to + (why ? " (" + why + ")" : "");
    } else {
      ui.tcpLast.textContent = run.sockets.length ? "" : T("web.tcp.none");
    }
    ui.tcpSockets.replaceChildren();
    for (const k of run.sockets) {
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.socket = k.id;
      b.dataset.peer = k.peer || "";
      b.dataset.fd = String(k.fd);
      b.dataset.state = k.state;
      if (S.follow === k.id) b.classList.add("followed");
      b.title = T("web.tcp.follow");
      b.textContent = socketName(k) + " ";
      const st = document.createElement("b");
      st.textContent = k.state;
      b.appendChild(st);
      ui.tcpSockets.appendChild(b);
    }
  }

  ui.tcpSockets.addEventListener("click", (e) => {
    const b = e.target.closest && e.target.closest("button[data-socket]");
    if (!b) return;
    b.blur();
    S.follow = S.follow === b.dataset.socket ? null : b.dataset.socket;
    schedule();
  });
  ui.tcp.addEventListener("click", () => {
    if (S.follow) {
      S.follow = null;
      schedule();
    }
  });

  // pillWidth: a state's label is bold capitals, wider than most text.
  function pillWidth(t) {
    return width(t, PILL, false, 0.7) + 16;
  }

  function stickHead() {
    if (!S.head) return;
    const dy = ui.stage.scrollTop / (S.scale || 1);
    S.head.setAttribute("transform", dy > 0 ? `translate(0 ${dy})` : "");
  }

  function keyOf(c) {
    return (c.begin || c.end).seq;
  }

  // describe is a call's whole story, for its tooltip.
  function describe(c) {
    const lines = [];
    const first = c.begin || c.end;
    lines.push(peerName(c.peer) + ": " + callText(first) + (c.end ? " " + result(c.end, false).text : ""));
    if (c.end && c.end.dur_ns != null) lines.push((c.end.dur_ns / 1000).toFixed(1) + " µs");
    for (const ev of [c.begin, c.end]) {
      if (ev && ev.explain && has(ev.explain)) {
        const s = T(ev.explain);
        if (!lines.includes(s)) lines.push(s);
      }
    }
    return lines.join("\n");
  }

  // ---- The panel. ----

  function badge(parent, step) {
    const b = document.createElement("span");
    b.className = "badge";
    b.textContent = String(step);
    parent.appendChild(b);
  }
  function add(parent, cls, s) {
    const e = document.createElement("span");
    if (cls) e.className = cls;
    e.textContent = s;
    parent.appendChild(e);
    return e;
  }

  // nextText fills p with "Next: [6] server — accept() waits: blocks until …".
  function nextText(p, n) {
    add(p, "label", T("web.next.label"));
    if (n.step > 0) badge(p, n.step);
    add(p, "who", peerName(n.peer) + " —");
    if (n.step > 0 && has(`step.${n.step}.call`)) {
      add(p, "", T(`step.${n.step}.call`) + (has(`step.${n.step}.what`) ? ": " + T(`step.${n.step}.what`) : ""));
    } else {
      const c = document.createElement("code");
      c.textContent = n.syscall || n.op || "";
      p.appendChild(c);
    }
  }

  function saidText(p, ev) {
    if (ev.op !== "packet") {
      if (ev.step > 0) badge(p, ev.step);
      add(p, "who", peerName(ev.peer));
      const c = document.createElement("code");
      c.textContent = (ev.syscall || ev.op) + ": ";
      p.appendChild(c);
    }
    add(p, "", T(ev.explain));
  }

  function drawPanel() {
    nextLine.replaceChildren();
    saidBox.replaceChildren();
    let n = null;
    if (S.mode === "live" && S.next) n = S.next;
    if (S.mode === "replay" && S.pos < S.replay.length) {
      const ev = S.replay[S.pos];
      if (ev.op !== "packet" && ev.phase === "begin") n = ev;
    }
    if (n) nextText(nextLine, n);

    let said = [];
    if (S.picked != null && S.model) {
      const c = S.model.calls.find((x) => keyOf(x) === S.picked);
      if (c) said = [c.end, c.begin].filter((e) => e && e.explain && has(e.explain));
      if (said.length === 2 && said[0].explain === said[1].explain) said.pop();
    } else if (S.mode === "replay") {
      const shown = S.replay.slice(0, S.pos);
      for (let i = shown.length - 1; i >= 0 && said.length < 1; i--) {
        if (shown[i].explain && has(shown[i].explain)) said.push(shown[i]);
      }
    } else {
      said = S.said.slice(-1);
    }
    // Newest first; the same sentence twice (a call's Begin and End) once.
    const seenKeys = new Set();
    for (const ev of said) {
      const k = ev.peer + "|" + ev.explain;
      if (seenKeys.has(k)) continue;
      seenKeys.add(k);
      const p = document.createElement("p");
      saidText(p, ev);
      saidBox.appendChild(p);
    }
    if (!n && !saidBox.firstChild) {
      const p = document.createElement("p");
      p.className = "hint";
      p.textContent = T(S.mode === "replay" ? "web.hint.replay" : "web.hint.live");
      saidBox.appendChild(p);
    }
  }

  // ---- The event list: every shown call and every packet. ----

  // listSource is every event the list may show: the whole file in a
  // replay (the rows not yet drawn dimmed), the run so far live.
  function listSource() {
    return S.mode === "replay" ? S.replay : S.events;
  }
  // listPos is how many of listSource the diagram draws.
  function listPos() {
    if (S.mode === "replay") return S.pos;
    return S.viewAt ?? S.events.length;
  }

  const realAddr = (a) => a && !/:0$/.test(a);
  // connOf is an event's connection: its two addresses, in a fixed order.
  function connOf(ev) {
    const p = ev.op === "packet" ? ev.packet || {} : ev;
    const a = ev.op === "packet" ? p.from : ev.local;
    const b = ev.op === "packet" ? p.to : ev.remote;
    if (!realAddr(a) || !realAddr(b)) return "";
    return [a, b].sort().join(" ↔ ");
  }

  // listRow is the list's line for ev: the peer, the step, the call and
  // its result (or a packet's flags and numbers).
  function listRow(ev, i) {
    const li = document.createElement("li");
    const packet = ev.op === "packet";
    li.className = packet ? "packet" : "call";
    li.dataset.seq = String(ev.seq);
    li.dataset.index = String(i);
    li.dataset.kind = packet ? "packet" : "call";
    li.dataset.conn = connOf(ev);
    if (!packet) li.dataset.peer = ev.peer || "";
    const who = add(li, "who", "");
    const n = add(li, "n", ev.step > 0 && !packet ? String(ev.step) : "");
    n.setAttribute("aria-hidden", "true");
    const what = add(li, "what", "");
    if (packet) {
      const p = ev.packet || {};
      const to = p.to_peer || "";
      who.textContent = peerName(ev.peer) + (to ? "→" + peerName(to) : "");
      what.textContent = (p.flags || (p.proto || "").toUpperCase()) + " " + (ev.call || "");
    } else {
      who.textContent = peerName(ev.peer);
      what.textContent = callText(ev);
      if (ev.phase === "end") {
        const r = result(ev, false);
        add(what, "res " + r.cls, " " + r.text);
      } else {
        add(what, "res", " …");
      }
    }
    who.title = who.textContent;
    return li;
  }

  function drawList() {
    const source = listSource();
    const rebuild = !S.list || S.list.source !== source || S.list.lang !== S.lang || S.list.built > source.length;
    if (rebuild) {
      ui.events.replaceChildren();
      S.list = { source, lang: S.lang, built: 0, rows: [], conns: new Set() };
    }
    const L = S.list;
    for (; L.built < source.length; L.built++) {
      const ev = source[L.built];
      if (!ev || (ev.shown === false && ev.op !== "packet")) continue;
      const li = listRow(ev, L.built);
      L.rows.push(li);
      ui.events.appendChild(li);
      const c = li.dataset.conn;
      if (c && !L.conns.has(c)) {
        L.conns.add(c);
        const o = document.createElement("option");
        o.value = c;
        o.textContent = c;
        ui.fConn.appendChild(o);
      }
    }
    if (rebuild) {
      // The connections of another run go; the one picked stays if it is still there.
      const keep = ui.fConn.value;
      for (const o of [...ui.fConn.options]) if (o.value && !L.conns.has(o.value)) o.remove();
      ui.fConn.value = L.conns.has(keep) ? keep : "";
    }
    const pos = listPos();
    const calls = ui.fCalls.checked;
    const packets = ui.fPackets.checked;
    const conn = ui.fConn.value;
    let at = null;
    for (const li of L.rows) {
      const i = Number(li.dataset.index);
      const packet = li.dataset.kind === "packet";
      li.hidden = (packet ? !packets : !calls) || (conn !== "" && li.dataset.conn !== conn);
      li.classList.toggle("ahead", i >= pos);
      li.classList.toggle("picked", S.listPicked != null && li.dataset.seq === String(S.listPicked));
      li.classList.remove("at");
      if (i < pos && !li.hidden) at = li;
    }
    if (at) at.classList.add("at");
    // Keep the row of now in view.
    if (at && at !== L.at) {
      const top = at.offsetTop;
      const box = ui.events;
      if (top < box.scrollTop || top + at.offsetHeight > box.scrollTop + box.clientHeight) {
        box.scrollTop = Math.max(0, top - box.clientHeight / 2);
      }
    }
    L.at = at;
  }

  // jumpTo shows the event at index i of the list's source: a replay
  // moves there; a live page scrolls the diagram to it (looking back to
  // it first if the page shows less).
  function jumpTo(i) {
    const ev = listSource()[i];
    if (!ev) return;
    S.listPicked = ev.seq;
    if (S.mode === "replay") {
      stopPlaying();
      S.pos = i + 1;
      S.picked = null;
      schedule();
      return;
    }
    if (S.viewAt != null && i >= S.viewAt) S.viewAt = i + 1 >= S.events.length ? null : i + 1;
    render();
    scrollToSeq(ev.seq);
  }

  // scrollToSeq scrolls the diagram to the call or arrow drawn for seq.
  function scrollToSeq(seq) {
    const q = `[data-seq="${Number(seq)}"], [data-end-seq="${Number(seq)}"]`;
    const g = ui.svg.querySelector(`g.call:is(${q}), g.arrow[data-seq="${Number(seq)}"]`);
    if (!g) return;
    const c = g.closest("g.call");
    if (c && c.__call) S.picked = keyOf(c.__call);
    const box = g.getBBox();
    const y = box.y * (S.scale || 1);
    ui.stage.scrollTop = Math.max(0, y - ui.stage.clientHeight / 2);
    stickHead();
    schedule();
  }

  ui.events.addEventListener("click", (e) => {
    const li = e.target.closest && e.target.closest("li[data-index]");
    if (li) jumpTo(Number(li.dataset.index));
  });
  for (const f of [ui.fCalls, ui.fPackets, ui.fConn]) {
    f.addEventListener("change", () => {
      f.blur();
      schedule();
    });
  }

  // ---- Status, controls, words of the page. ----

  function setStatus(key, ...args) {
    S.status = { key, args };
    S.statusError = false;
  }
  function setError(key, ...args) {
    S.status = { key, args };
    S.statusError = true;
  }

  function drawStatus() {
    let s;
    if (S.mode === "replay" && S.connected && !S.statusError) s = T("web.status.replay", S.pos, S.replay.length);
    else if (S.mode === "live" && S.viewAt != null) s = T("web.status.viewat", S.viewAt, S.events.length);
    else s = T(S.status.key, ...S.status.args);
    ui.status.textContent = s;
    ui.status.title = s;
    ui.status.classList.toggle("error", S.statusError);
  }

  // setPhase changes the phase; body's data-phase follows at the drawing.
  function setPhase(p) {
    S.phase = p;
  }

  function drawControls() {
    const live = S.mode === "live";
    const busy = S.phase === "running" || S.phase === "waiting";
    ui.run.disabled = !live || busy || !S.connected || !ui.lesson.value;
    ui.lesson.disabled = !live || busy;
    ui.next.disabled = live ? S.viewAt == null && (!busy || !S.connected) : S.pos >= S.replay.length;
    ui.stop.disabled = !live || !busy || !S.connected;
    ui.back.disabled = live ? (S.viewAt ?? S.events.length) <= 0 : S.pos <= 0;
    ui.now.hidden = !live || S.viewAt == null;
    // Live, Back has nothing to look back at before a run: the status keeps its room.
    ui.back.hidden = live && S.events.length === 0;
    ui.timeline.max = String(S.replay.length);
    ui.timeline.value = String(S.pos);
    ui.play.disabled = live || S.replay.length === 0;
    ui.play.textContent = T(S.playing ? "web.pause" : "web.play");
  }

  function drawWords() {
    document.documentElement.lang = S.lang === "zh" ? "zh-CN" : "en";
    document.body.dataset.lang = S.lang;
    document.title = T("web.title");
    for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = T(e.dataset.i18n);
    for (const o of ui.speed.options) {
      const v = Number(o.value);
      if (v > 0) o.textContent = T("web.speed.ms", v);
    }
    const lessons = (S.info && S.info.lessons) || [];
    for (const o of ui.lesson.options) {
      const l = lessons.find((x) => x.name === o.value);
      o.title = l ? localized(l.title) : "";
    }
    drawLessonTitle();
    ui.legend.textContent = S.info ? T(wireOn() ? "web.legend.wire" : "web.legend.inferred") : "";
    const notice = $("notice");
    notice.textContent = S.notices.map((n) => T(n.key, ...n.args)).join(" · ");
    notice.title = notice.textContent;
    notice.hidden = S.notices.length === 0;
  }

  function drawLessonTitle() {
    const lessons = (S.info && S.info.lessons) || [];
    const name = S.mode === "live" ? S.lesson || ui.lesson.value : "";
    const l = lessons.find((x) => x.name === name);
    ui.lessonTitle.textContent = l ? name + ": " + localized(l.title) : "";
  }

  function setLang(l) {
    if (l !== "en" && l !== "zh") return;
    S.lang = l;
    drawWords();
    render();
  }

  // ---- The WebSocket. ----

  function send(msg) {
    if (S.ws && S.ws.readyState === WebSocket.OPEN) S.ws.send(JSON.stringify(msg));
  }

  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}/ws?token=${encodeURIComponent(S.token)}`);
    S.ws = ws;
    ws.onopen = () => {
      S.connected = true;
      if (!S.statusError || S.status.key === "web.status.disconnected") setStatus("web.status.idle");
      schedule();
    };
    ws.onmessage = (m) => {
      let msg;
      try {
        msg = JSON.parse(m.data);
      } catch (_) {
        return;
      }
      onMessage(msg);
    };
    ws.onclose = () => {
      if (S.ws !== ws) return;
      S.connected = false;
      setError("web.status.disconnected");
      schedule();
      setTimeout(connect, 1500);
    };
  }

  function onMessage(msg) {
    switch (msg.type) {
      case "hello":
        S.mode = msg.mode === "replay" ? "replay" : "live";
        document.body.dataset.mode = S.mode;
        if (msg.lesson) selectLesson(msg.lesson);
        if (S.mode === "live") {
          if (msg.running && msg.delay_ms != null) setSpeed(msg.delay_ms);
          if (msg.running) {
            setPhase("running");
            setStatus("web.status.running");
          } else {
            setPhase(S.phase === "done" ? "done" : "idle");
            if (S.phase === "idle") setStatus("web.status.idle");
          }
        }
        break;
      case "run":
        S.run = msg.run;
        S.lesson = msg.lesson || S.lesson;
        if (msg.lesson) selectLesson(msg.lesson);
        S.events = [];
        S.said = [];
        S.next = null;
        S.picked = null;
        S.viewAt = null;
        S.notices = [];
        if (msg.delay_ms != null) setSpeed(msg.delay_ms);
        setPhase("running");
        setStatus("web.status.running");
        drawWords();
        break;
      case "event": {
        if (!msg.event) return;
        if (S.run && msg.run != null && msg.run !== S.run) return;
        if (!S.run && msg.run != null) S.run = msg.run;
        const ev = msg.event;
        S.events.push(ev);
        if (ev.explain && has(ev.explain)) S.said.push(ev);
        if (S.said.length > 20) S.said.splice(0, S.said.length - 20);
        if (S.next && ev.phase === "begin" && ev.peer === S.next.peer && ev.op === S.next.op) {
          S.next = null;
          if (S.phase === "waiting") {
            setPhase("running");
            setStatus("web.status.running");
          }
        }
        if (S.phase === "idle" || S.phase === "done") setPhase("running");
        if (ev.op === "packet") drawWords(); // the legend
        break;
      }
      case "waiting":
        if (S.run && msg.run != null && msg.run !== S.run) return;
        S.next = msg.next || null;
        setPhase("waiting");
        // At a speed, the run goes on by itself: it is not waiting for a person.
        setStatus(speed() > 0 ? "web.status.running" : "web.status.waiting");
        break;
      case "done":
        if (S.run && msg.run != null && msg.run !== S.run) return;
        S.next = null;
        setPhase("done");
        if (msg.error) setError("web.status.error", msg.error);
        else if (msg.stopped) setStatus("web.status.stopped");
        else setStatus("web.status.done");
        break;
      case "replay": {
        const events = Array.isArray(msg.events) ? msg.events.filter((e) => e && typeof e === "object") : [];
        const same = events.length === S.replay.length;
        S.mode = "replay";
        document.body.dataset.mode = "replay";
        S.replay = events;
        if (!same) S.pos = 0;
        S.replayed = true;
        // The URL may open the replay at a step (#step=N, #end).
        const at = hashPos();
        if (at != null) S.pos = at;
        setPhase("replay");
        setStatus("web.status.replay");
        drawWords();
        break;
      }
      case "error":
        setError("web.status.error", msg.message || "");
        break;
      case "delay":
        if (S.run && msg.run != null && msg.run !== S.run) return;
        if (msg.delay_ms != null) setSpeed(msg.delay_ms);
        break;
      case "notice":
        if (S.run && msg.run != null && msg.run !== S.run) return;
        if (typeof msg.key === "string" && msg.key.startsWith("web.")) {
          const args = Array.isArray(msg.args) ? msg.args : [];
          S.notices.push({ key: msg.key, args });
          if (msg.key === "web.notice.kernel_closed") kernelClose(String(args[0] ?? ""), Number(args[1]));
          drawWords();
        }
        break;
      default:
        return;
    }
    schedule();
  }

  // kernelClose draws the close of a socket the kernel closed when its
  // program ended (trace --web, a program Stop ended): no call of the
  // program's, so a box of its own, said to be the kernel's; the state
  // machine does not move (what the kernel sent then is not known).
  function kernelClose(peer, fd) {
    if (!peer || !(fd >= 0)) return;
    const last = S.events[S.events.length - 1];
    S.events.push({
      v: 2, seq: (last ? last.seq : 0) + 0.5, peer, role: "", op: "close", phase: "end", fd, ret: 0,
      kind: "kernel", shown: true, call: "close(" + fd + ")", result: T("web.kernel.closed"),
    });
  }

  function selectLesson(name) {
    if ([...ui.lesson.options].some((o) => o.value === name)) ui.lesson.value = name;
  }

  // ---- Commands. ----

  function speed() {
    return Number(ui.speed.value) || 0;
  }

  // setSpeed shows the run's speed as the server says it (a reloaded page,
  // another page's change), adding it to the list if it is not there.
  function setSpeed(ms) {
    const v = String(Math.max(0, Math.trunc(Number(ms)) || 0));
    if (![...ui.speed.options].some((o) => o.value === v)) {
      const o = document.createElement("option");
      o.value = v;
      o.textContent = T("web.speed.ms", Number(v));
      ui.speed.appendChild(o);
    }
    ui.speed.value = v;
  }

  function doRun() {
    if (S.mode !== "live" || ui.run.disabled) return;
    S.lesson = ui.lesson.value;
    send({ cmd: "run", lesson: ui.lesson.value, delay_ms: speed() });
  }

  function doNext() {
    if (S.mode === "replay") {
      if (S.pos < S.replay.length) {
        S.pos++;
        S.picked = null;
        schedule();
      }
      return;
    }
    if (S.viewAt != null) {
      // Looking back: Next moves through what was kept, then back to now.
      S.viewAt = S.viewAt + 1 >= S.events.length ? null : S.viewAt + 1;
      S.picked = null;
      schedule();
      return;
    }
    if (S.phase !== "running" && S.phase !== "waiting") return;
    send({ cmd: "next" });
    S.said = [];
    S.picked = null;
    if (S.phase === "waiting") {
      setPhase("running");
      setStatus("web.status.running");
    }
    schedule();
  }

  function doBack() {
    if (S.mode === "live") {
      // Step back through the run so far; the run itself goes on.
      const at = S.viewAt ?? S.events.length;
      if (at <= 0) return;
      S.viewAt = at - 1;
      S.picked = null;
      schedule();
      return;
    }
    if (S.pos <= 0) return;
    stopPlaying();
    S.pos--;
    S.picked = null;
    schedule();
  }

  function doStop() {
    if (S.mode !== "live") return;
    send({ cmd: "stop" });
  }

  function stopPlaying() {
    if (S.playing) clearTimeout(S.playing);
    S.playing = null;
  }
  function doPlay() {
    if (S.mode !== "replay") return;
    if (S.playing) {
      stopPlaying();
      schedule();
      return;
    }
    if (S.pos >= S.replay.length) S.pos = 0;
    const tick = () => {
      if (S.pos >= S.replay.length) {
        stopPlaying();
      } else {
        S.pos++;
        S.playing = setTimeout(tick, speed() || 500);
      }
      schedule();
    };
    S.playing = setTimeout(tick, 0);
    schedule();
  }

  function clickButton(b, f) {
    b.addEventListener("click", () => {
      b.blur(); // Space is Next, not this button again
      f();
    });
  }
  clickButton(ui.run, doRun);
  clickButton(ui.next, doNext);
  clickButton(ui.back, doBack);
  clickButton(ui.stop, doStop);
  clickButton(ui.play, doPlay);
  clickButton(ui.now, () => {
    S.viewAt = null;
    schedule();
  });
  clickButton(ui.en, () => setLang("en"));
  clickButton(ui.zh, () => setLang("zh"));

  ui.speed.addEventListener("change", () => {
    ui.speed.blur();
    if (S.mode === "live" && (S.phase === "running" || S.phase === "waiting")) send({ cmd: "delay", delay_ms: speed() });
  });
  ui.lesson.addEventListener("change", () => {
    ui.lesson.blur();
    S.lesson = ui.lesson.value;
    drawLessonTitle();
    schedule();
  });
  ui.timeline.addEventListener("input", () => {
    stopPlaying();
    S.pos = Math.max(0, Math.min(S.replay.length, Number(ui.timeline.value) || 0));
    S.picked = null;
    schedule();
  });

  document.addEventListener("keydown", (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey || e.isComposing) return;
    if (e.target && (e.target.tagName === "SELECT" || e.target.tagName === "INPUT")) return;
    if (e.key === " " || e.key === "ArrowRight") {
      e.preventDefault();
      if (!e.repeat || S.mode === "replay") doNext();
    } else if (e.key === "ArrowLeft") {
      e.preventDefault();
      doBack();
    }
  });

  ui.svg.addEventListener("click", (e) => {
    const g = e.target.closest && e.target.closest("g.call");
    if (!g || !g.__call) {
      S.picked = null;
    } else {
      const k = keyOf(g.__call);
      S.picked = S.picked === k ? null : k;
    }
    schedule();
  });

  ui.stage.addEventListener("scroll", stickHead, { passive: true });
  window.addEventListener("resize", schedule);

  // ---- Fonts: the page asks for none from the network. ----

  // hasCJKFont says whether the machine has a font for Chinese: without
  // one, two different characters are drawn as the same empty box.
  function hasCJKFont() {
    try {
      const c = document.createElement("canvas");
      c.width = 48;
      c.height = 48;
      const g = c.getContext("2d", { willReadFrequently: true });
      const family = getComputedStyle(document.body).fontFamily || "sans-serif";
      const image = (ch) => {
        g.clearRect(0, 0, 48, 48);
        g.font = "36px " + family;
        g.fillStyle = "#000";
        g.textBaseline = "top";
        g.fillText(ch, 4, 4);
        return g.getImageData(0, 0, 48, 48).data.join(",");
      };
      const zhong = image("中");
      return zhong !== image("文") && zhong !== image("\u{10FFFD}");
    } catch (_) {
      return true; // cannot tell: say nothing
    }
  }

  function checkFonts() {
    const ok = hasCJKFont();
    document.body.dataset.cjk = ok ? "yes" : "no";
    $("font-warning").hidden = ok;
    if (!ok) ui.zh.title = $("font-warning").textContent;
  }

  // ---- Start: /api/info, then the WebSocket. ----

  async function start() {
    checkFonts();
    setPhase("idle");
    drawStatus();
    let info;
    try {
      const r = await fetch(`/api/info?token=${encodeURIComponent(S.token)}`, { cache: "no-store" });
      if (!r.ok) throw new Error(`${r.status} ${r.statusText}`.trim());
      info = await r.json();
    } catch (err) {
      setError("web.status.noinfo", String(err && err.message ? err.message : err));
      drawStatus();
      return;
    }
    S.info = info;
    S.mode = info.mode === "replay" ? "replay" : "live";
    document.body.dataset.mode = S.mode;
    if (S.mode === "replay") setPhase("replay");
    for (const l of info.lessons || []) {
      const o = document.createElement("option");
      o.value = l.name;
      o.textContent = l.name;
      ui.lesson.appendChild(o);
    }
    if (info.lesson) selectLesson(info.lesson);
    S.lesson = ui.lesson.value;
    S.lang = info.lang === "zh" ? "zh" : "en";
    drawWords();
    render();
    connect();
  }

  start();
})();
