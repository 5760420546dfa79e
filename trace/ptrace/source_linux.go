package ptrace

// announced says whether a thread's call is the announcement of its
// mailbox (a write to descriptor -1), and if so keeps the mailbox.
func (t *thread) announced(c call, args [6]uint64) bool {
	if c.String() != "write" || int32(args[0]) != -1 {
		return false
	}
	b := make([]byte, min(args[2], 64))
	n, _ := processMemory{}.read(t.tid, args[1], b)
	if box, ok := parseAnnouncement(b[:n]); ok {
		t.box = box
	}
	return true
}

// source reads the thread's mailbox, if it announced one, into pc's event.
func (t *thread) source(pc *pending) {
	if pc == nil || t.box.addr == 0 {
		return
	}
	b := make([]byte, t.box.size)
	n, _ := processMemory{}.read(t.tid, t.box.addr, b)
	if src, ok := parseSource(b[:n]); ok {
		pc.e.Source = src
	}
}
