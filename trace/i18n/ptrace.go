package i18n

// The sentences of socklab trace's non-blocking programs that a traced
// program alone says (issue 24), kept apart from en.go and zh.go, which
// are at the project's 600 lines: added to both catalogues before any
// lookup.
func init() {
	for key, text := range map[string]string{
		"note.connected.io": "the first bytes moved: the handshake was done, the socket is connected (the program never asked SO_ERROR)",
		"warn.io_uring":     "%s set up an io_uring: calls made through it are not system calls, and socklab trace does not see them",
	} {
		en[key] = text
	}
	for key, text := range map[string]string{
		"note.connected.io": "第一次传了字节：握手已完成，套接字已连接（程序没有问 SO_ERROR）",
		"warn.io_uring":     "%s 建立了 io_uring：通过它做的调用不是系统调用，socklab trace 看不到",
	} {
		zh[key] = text
	}
}
