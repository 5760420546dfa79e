package trace

import (
	"strconv"
	"strings"

	"github.com/socklab/socklab/trace/i18n"
)

// Say says who waited in what when the run stalled, and what to try
// (i18n.Sayer).
func (e *StallError) Say(l i18n.Lang) string {
	hint := "hint.stall"
	if kind := e.Kind(); kind != "" {
		hint += "." + kind
	}
	return l.T("line.hint", e.sayWho(l), l.T(hint))
}

// sayWho says who waited in what.
func (e *StallError) sayWho(l i18n.Lang) string {
	if kind := e.Kind(); kind == "connect" {
		for _, p := range e.Peers {
			if !p.Turn && !p.Others && p.Op == OpConnect {
				return l.T("err.stall.connect", PeerLabel(l, p.Peer, ""))
			}
		}
	} else if kind != "" {
		key := "err.stall." + kind
		if len(e.Peers) > 2 {
			key += ".all"
		}
		return l.T(key)
	}
	var parts []string
	for _, p := range e.Peers {
		key := "stall.in"
		switch {
		case p.Turn:
			key = "stall.turn"
		case p.Others:
			key = "stall.others"
		}
		parts = append(parts, l.T(key, PeerLabel(l, p.Peer, ""), p.Op))
	}
	return l.T("err.stall", strings.Join(parts, l.T("line.join")))
}

// Say says which call the script expected and which came, and what to
// try (i18n.Sayer).
func (e *DivergenceError) Say(l i18n.Lang) string {
	want := PeerLabel(l, e.Want.Peer, "")
	return l.T("line.hint", l.T("err.diverged", want, e.Want.Op, want, e.Got), l.T("hint.diverged"))
}

// Say says the point in l: "client connect begin", "客户端 连接 开始".
func (p Point) Say(l i18n.Lang) string {
	s := PeerLabel(l, p.Peer, "") + " " + l.T("op."+string(p.Op))
	if p.EOF {
		s += l.T("rule.eof")
	}
	if p.Occurrence > 1 {
		s += "#" + strconv.Itoa(p.Occurrence)
	}
	return s + " " + l.T("rule."+string(p.Phase))
}

// Say says the rule in l: "client connect begin < server accept end".
func (r Rule) Say(l i18n.Lang) string { return r.Before.Say(l) + " < " + r.After.Say(l) }
