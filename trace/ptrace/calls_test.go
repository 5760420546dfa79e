package ptrace

import "testing"

// The calls the tests make, by name: the entries of the table.
var (
	callSocket      = named("socket")
	callBind        = named("bind")
	callListen      = named("listen")
	callAccept      = named("accept")
	callAccept4     = named("accept4")
	callConnect     = named("connect")
	callRead        = named("read")
	callReadv       = named("readv")
	callRecvfrom    = named("recvfrom")
	callRecvmsg     = named("recvmsg")
	callRecvmmsg    = named("recvmmsg")
	callWrite       = named("write")
	callWritev      = named("writev")
	callSendto      = named("sendto")
	callSendmsg     = named("sendmsg")
	callSendmmsg    = named("sendmmsg")
	callShutdown    = named("shutdown")
	callClose       = named("close")
	callGetsockname = named("getsockname")
	callSetsockopt  = named("setsockopt")
	callFcntl       = named("fcntl")
)

func named(name string) call {
	for i := range table {
		if table[i].name == name {
			return &table[i]
		}
	}
	panic("no call " + name + " in the table")
}

// Every entry of the table is well formed: a name of its own, a number on
// some architecture, a step, one descriptor at most, a part only after
// an argument that takes one.
func TestTableEntries(t *testing.T) {
	seen := map[string]bool{}
	for i := range table {
		c := &table[i]
		if c.name == "" || seen[c.name] {
			t.Errorf("entry %d: name %q empty or twice", i, c.name)
		}
		seen[c.name] = true
		if c.nr.amd64 < 0 && c.nr.arm64 < 0 || c.nr.amd64 >= maxNr || c.nr.arm64 >= maxNr {
			t.Errorf("%s: numbers %+v", c.name, c.nr)
		}
		if c.op == "" {
			t.Errorf("%s: no step", c.name)
		}
		if len(c.args) > 6 {
			t.Errorf("%s: %d arguments", c.name, len(c.args))
		}
		fds := 0
		for j, f := range c.args {
			switch f {
			case sockFD:
				fds++
			case part:
				if j == 0 || c.args[j-1] == ignored || c.args[j-1] == sockFD {
					t.Errorf("%s: argument %d is part of nothing", c.name, j)
				}
			}
		}
		// A wait's descriptors are in its arguments (an array, fd_sets,
		// an epoll set): it has no sockFD.
		if fds > 1 || fds == 0 && c.does != creates && !c.wait && !c.notice || fds > 0 && (c.wait || c.notice) {
			t.Errorf("%s: %d descriptors", c.name, fds)
		}
		if c.only != nil && (c.only.arg < 0 || c.only.arg >= 6) {
			t.Errorf("%s: condition on argument %d", c.name, c.only.arg)
		}
	}
}
