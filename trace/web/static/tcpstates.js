// socklab web: the TCP state machine, lit (docs/web.md). The RFC 793
// diagram (its Linux names), drawn as inline SVG, with each socket of the
// run marked in its current state and the last transition highlighted.
//
// The states come from the events' `state` fields: the kernel's own view
// of one socket. A socket is its peer and its fd; an accept's state is the
// NEW socket's (fd = the accept's ret), a close's the closed connection's,
// (a socket a peer's goroutine of the same role takes over, as a lesson's
// server-1 does with the server's accepted socket, stays the same socket),
// and a close's `peer_state` the other end's (found by its addresses). A
// listening socket keeps its own state, LISTEN, whatever its accepted
// sockets go through.
//
// Plain ES2020, loaded before app.js; it defines window.socklabTCP.
"use strict";

window.socklabTCP = (() => {
  const W = 460;
  const H = 350;
  const BW = 112; // a state's box
  const BH = 26;

  // The states, where the diagram draws them.
  const STATES = {
    CLOSED: [230, 18],
    LISTEN: [230, 70],
    SYN_RECV: [90, 122],
    SYN_SENT: [370, 122],
    ESTABLISHED: [230, 174],
    FIN_WAIT1: [90, 226],
    CLOSE_WAIT: [370, 226],
    FIN_WAIT2: [62, 280],
    CLOSING: [196, 280],
    LAST_ACK: [370, 280],
    TIME_WAIT: [128, 332],
  };

  // The transitions, labelled with what causes them (RFC 793, figure 6).
  // Order matters where two paths are as short: the first is the usual one.
  // via: the points of a path drawn around the others; at: where its
  // label goes.
  const EDGES = [
    { from: "CLOSED", to: "LISTEN", label: "listen", dx: 12, at: [262, 46] },
    { from: "LISTEN", to: "CLOSED", label: "close", dx: -12, at: [200, 46] },
    { from: "CLOSED", to: "SYN_SENT", label: "connect / snd SYN", at: [372, 72] },
    { from: "LISTEN", to: "SYN_RECV", label: "rcv SYN / snd SYN,ACK", at: [100, 90] },
    { from: "SYN_SENT", to: "SYN_RECV", label: "rcv SYN / snd ACK", at: [230, 116] },
    { from: "SYN_RECV", to: "ESTABLISHED", label: "rcv ACK of SYN", at: [110, 156] },
    { from: "SYN_SENT", to: "ESTABLISHED", label: "rcv SYN,ACK / snd ACK", at: [352, 156] },
    { from: "SYN_RECV", to: "FIN_WAIT1", label: "close / snd FIN", at: [42, 176] },
    { from: "ESTABLISHED", to: "FIN_WAIT1", label: "close / snd FIN", at: [126, 202] },
    { from: "ESTABLISHED", to: "CLOSE_WAIT", label: "rcv FIN / snd ACK", at: [334, 202] },
    { from: "FIN_WAIT1", to: "FIN_WAIT2", label: "rcv ACK of FIN", at: [4, 256], anchor: "start" },
    { from: "FIN_WAIT1", to: "CLOSING", label: "rcv FIN / snd ACK", at: [196, 252] },
    { from: "CLOSE_WAIT", to: "LAST_ACK", label: "close / snd FIN", at: [376, 256], anchor: "start" },
    { from: "FIN_WAIT2", to: "TIME_WAIT", label: "rcv FIN / snd ACK", at: [4, 316], anchor: "start" },
    { from: "CLOSING", to: "TIME_WAIT", label: "rcv ACK of FIN", at: [236, 312] },
    { from: "LAST_ACK", to: "CLOSED", label: "rcv ACK of FIN", via: [[440, 280], [440, 14]], at: [436, 300], anchor: "end" },
    { from: "TIME_WAIT", to: "CLOSED", label: "timeout (2 MSL)", via: [[452, 332], [452, 22]], at: [300, 346] },
  ];
  const edgeKey = (a, b) => a + ">" + b;
  const EDGE = new Map(EDGES.map((e) => [edgeKey(e.from, e.to), e]));

  // path is the shortest way through the diagram from a to b (a list of
  // edges), for a change of state the events saw in one step (connect's
  // CLOSED to ESTABLISHED is CLOSED → SYN_SENT → ESTABLISHED). It never
  // goes through CLOSED: a socket does not come back from it. Empty when
  // there is no way.
  function path(a, b) {
    if (a === b || !STATES[a] || !STATES[b]) return [];
    const prev = new Map([[a, null]]);
    const queue = [a];
    while (queue.length) {
      const s = queue.shift();
      if (s === b) break;
      if (s === "CLOSED" && s !== a) continue;
      for (const e of EDGES) {
        if (e.from === s && !prev.has(e.to)) {
          prev.set(e.to, e);
          queue.push(e.to);
        }
      }
    }
    if (!prev.has(b)) return [];
    const out = [];
    for (let s = b; s !== a; s = prev.get(s).from) out.unshift(prev.get(s));
    return out;
  }

  const real = (a) => a && !/:0$/.test(a);

  // track reads the events (in seq order) into the run's TCP sockets:
  // [{id, peer, fd, state, known, listener, closed, local, remote,
  // moves: [{from, to, seq}]}], in order of their first appearance. last is
  // the newest move of any of them: {socket, from, to, seq}.
  function track(events) {
    const sockets = [];
    const open = new Map(); // "peer|fd" → socket
    const ids = new Set();
    let last = null;
    const make = (peer, role, fd, state) => {
      let id = (peer || "?") + ":" + fd;
      for (let n = 2; ids.has(id); n++) id = (peer || "?") + ":" + fd + "#" + n;
      ids.add(id);
      const s = { id, peer, role, fd, state, known: false, listener: false, closed: false, local: "", remote: "", moves: [] };
      sockets.push(s);
      open.set(peer + "|" + fd, s);
      return s;
    };
    // find is the socket a call of ev's uses. A lesson's server hands an
    // accepted socket to a goroutine of its own (server-1): a peer of the
    // same role using an fd it never made takes that socket over, so the
    // socket keeps its id and its states, and is drawn on its new peer.
    const find = (ev) => {
      const k = ev.peer + "|" + ev.fd;
      let s = open.get(k);
      if (s) return s;
      for (const [other, o] of open) {
        if (o.fd === ev.fd && o.role && o.role === ev.role) {
          open.delete(other);
          o.peer = ev.peer;
          open.set(k, o);
          return o;
        }
      }
      return make(ev.peer, ev.role, ev.fd, "CLOSED");
    };
    const move = (s, state, ev) => {
      // A state read before a newer one but recorded after it (the two
      // peers' calls end at once) is not taken back: a socket only moves
      // forward through the diagram.
      if (s.known && s.state !== state && STATES[s.state] && STATES[state] && path(s.state, state).length === 0) return;
      s.known = true;
      if (state === "LISTEN") s.listener = true;
      if (s.state === state) return;
      const m = { from: s.state, to: state, seq: ev.seq };
      s.moves.push(m);
      s.state = state;
      last = { socket: s, from: m.from, to: m.to, seq: m.seq };
    };
    const where = (s, ev) => {
      if (real(ev.local)) s.local = ev.local;
      if (real(ev.remote)) s.remote = ev.remote;
    };
    for (const ev of events) {
      if (!ev || ev.op === "packet" || ev.phase !== "end" || ev.fd == null) continue;
      if (ev.kind && ev.kind !== "tcp") continue;
      const failed = ev.errno || (ev.ret != null && ev.ret < 0);
      if (ev.op === "create") {
        if (!failed && ev.ret != null) make(ev.peer, ev.role, ev.ret, "CLOSED");
        continue;
      }
      if (ev.op === "accept") {
        if (failed || ev.ret == null) continue;
        // The kernel made the new socket from a SYN on the listening one
        // (SYN_RECV); the accept's state is the new socket's.
        const s = make(ev.peer, ev.role, ev.ret, "SYN_RECV");
        where(s, ev);
        if (ev.state) move(s, ev.state, ev);
        continue;
      }
      const s = find(ev);
      where(s, ev);
      if (ev.op === "close" && !failed) {
        move(s, ev.state || "CLOSED", ev);
        s.closed = true;
        open.delete(ev.peer + "|" + ev.fd);
        if (ev.peer_state) {
          const o = sockets.find((x) => x !== s && x.local && x.local === s.remote && x.remote === s.local);
          if (o) move(o, ev.peer_state, ev);
        }
        continue;
      }
      if (ev.state) move(s, ev.state, ev);
    }
    return { sockets: sockets.filter((s) => s.known), last };
  }

  const NS = "http://www.w3.org/2000/svg";
  function el(tag, attrs, parent) {
    const e = document.createElementNS(NS, tag);
    for (const k in attrs) if (attrs[k] != null) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  // border is where the line from (x1,y1) to the centre of box b leaves
  // the box.
  function border(b, x1, y1) {
    const [cx, cy] = b;
    const dx = x1 - cx;
    const dy = y1 - cy;
    if (dx === 0 && dy === 0) return [cx, cy];
    const t = Math.min(Math.abs((BW / 2 + 3) / (dx || 1e-9)), Math.abs((BH / 2 + 3) / (dy || 1e-9)));
    return [cx + dx * t, cy + dy * t];
  }

  // draw draws the diagram into svg: the states (g.tcp-state[data-state],
  // "current" with data-sockets when a socket is in it, "visited" when
  // one passed through it), the transitions (g.tcp-edge[data-from][data-to],
  // "last" for the newest move, "taken" for the moves of the socket
  // followed). follow is the id of the socket followed, or null: then
  // every socket is marked.
  function draw(svg, run, follow) {
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.replaceChildren();
    const defs = el("defs", {}, svg);
    for (const [id, cls] of [["tcp-head", "head"], ["tcp-head-last", "head last"]]) {
      const m = el("marker", { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, defs);
      el("path", { d: "M0,0 L10,5 L0,10 z", class: cls }, m);
    }
    const shown = follow ? run.sockets.filter((s) => s.id === follow) : run.sockets;
    let last = run.last;
    if (follow) {
      const s = shown[0];
      const m = s && s.moves[s.moves.length - 1];
      last = m ? { socket: s, from: m.from, to: m.to, seq: m.seq } : null;
    }
    const lastEdges = new Set(last ? path(last.from, last.to).map((e) => edgeKey(e.from, e.to)) : []);
    const taken = new Set();
    const visited = new Set();
    for (const s of shown) {
      for (const m of s.moves) {
        visited.add(m.from);
        visited.add(m.to);
        for (const e of path(m.from, m.to)) {
          taken.add(edgeKey(e.from, e.to));
          visited.add(e.to);
        }
      }
    }

    const gEdges = el("g", { class: "tcp-edges" }, svg);
    for (const e of EDGES) {
      const k = edgeKey(e.from, e.to);
      const cls = ["tcp-edge"];
      if (follow && taken.has(k)) cls.push("taken");
      if (lastEdges.has(k)) cls.push("last");
      const g = el("g", { class: cls.join(" "), "data-from": e.from, "data-to": e.to }, gEdges);
      let [ax, ay] = STATES[e.from];
      let [bx, by] = STATES[e.to];
      let d;
      if (e.via) {
        const [p1, p2] = e.via;
        const s = border(STATES[e.from], p1[0], p1[1]);
        const t = [STATES[e.to][0] + BW / 2 + 3, p2[1]];
        d = `M${s[0]},${s[1]} L${p1[0]},${p1[1]} L${p2[0]},${p2[1]} L${t[0]},${t[1]}`;
      } else {
        if (e.dx) {
          ax += e.dx;
          bx += e.dx;
        }
        const s = e.dx ? [ax, ay + (by > ay ? 1 : -1) * (BH / 2 + 3)] : border(STATES[e.from], bx, by);
        const t = e.dx ? [bx, by - (by > ay ? 1 : -1) * (BH / 2 + 3)] : border(STATES[e.to], ax, ay);
        d = `M${s[0]},${s[1]} L${t[0]},${t[1]}`;
      }
      el("path", { d, class: "line", "marker-end": lastEdges.has(k) ? "url(#tcp-head-last)" : "url(#tcp-head)" }, g);
      const t = el("text", { x: e.at[0], y: e.at[1], "text-anchor": e.anchor || "middle", class: "label" }, g);
      t.textContent = e.label;
      const title = el("title", {}, g);
      title.textContent = `${e.from} → ${e.to}: ${e.label}`;
    }

    const gStates = el("g", { class: "tcp-states" }, svg);
    for (const [name, [x, y]] of Object.entries(STATES)) {
      const here = shown.filter((s) => s.state === name);
      const cls = ["tcp-state"];
      if (here.length) cls.push("current");
      if (visited.has(name)) cls.push("visited");
      if (last && last.to === name) cls.push("last");
      const g = el("g", {
        class: cls.join(" "),
        "data-state": name,
        "data-sockets": here.length ? here.map((s) => s.id).join(" ") : null,
      }, gStates);
      el("rect", { x: x - BW / 2, y: y - BH / 2, width: BW, height: BH, rx: 8 }, g);
      const t = el("text", { x, y: y + 5, "text-anchor": "middle", class: "name" }, g);
      t.textContent = name;
      if (here.length) {
        const cx = x + BW / 2 - 2;
        const cy = y - BH / 2 + 1;
        el("circle", { cx, cy, r: 9, class: "count" }, g);
        const n = el("text", { x: cx, y: cy + 4, "text-anchor": "middle", class: "count" }, g);
        n.textContent = String(here.length);
        const title = el("title", {}, g);
        title.textContent = here.map((s) => s.id).join(", ");
      }
    }
    return last;
  }

  return { track, draw, path, STATES, EDGES };
})();
