package i18n

// The Chinese catalogue's messages for waiting, where it happens (issue 24):
// poll, select and epoll, non-blocking sockets, and what the kernel
// already holds when a call begins. A part of zh.go's catalogue, kept in a
// file of its own; init adds it there.
var waitsZH = map[string]string{
	"op.poll":                         "等待就绪",
	"op.epoll_create":                 "创建 epoll",
	"op.epoll_ctl":                    "修改 epoll",
	"op.ioctl":                        "ioctl",
	"op.getsockopt":                   "读选项",
	"note.list_sep":                   "，",
	"wait.poll":                       "等待：%s",
	"wait.fd":                         "描述符 %d（%s）",
	"wait.fd.listening":               "描述符 %d 可读（监听：有连接）",
	"wait.fd.readable":                "描述符 %d 可读（数据或流的结束）",
	"wait.fd.writable":                "描述符 %d 可写（能写入；connect 之后：握手结束）",
	"wait.fd.readwrite":               "描述符 %d 可读或可写",
	"ready.fd":                        "描述符 %d（%s）",
	"ready.fd.listening":              "描述符 %d 可读：队列里有连接，accept 会立即返回",
	"ready.fd.readable":               "描述符 %d 可读：有字节（或流的结束）在等着",
	"ready.fd.writable":               "描述符 %d 可写",
	"ready.fd.readwrite":              "描述符 %d 可读且可写",
	"note.ready":                      "就绪：%s",
	"note.poll.timeout":               "超时前什么都没有就绪",
	"note.epoll.create":               "一个新的 epoll 集合：要一起等待的描述符",
	"note.epoll.add":                  "开始关注 %s",
	"note.epoll.del":                  "不再关注描述符 %d",
	"note.fionbio.on":                 "从现在起非阻塞：本来要等待的调用会以 EAGAIN 失败",
	"note.fionbio.off":                "恢复阻塞：调用会等待",
	"note.so_error.connected":         "SO_ERROR 为 0：握手完成，套接字已连接",
	"note.so_error.failed":            "connect 失败了：错误在这个值里，而不是调用的返回值",
	"note.eagain":                     "暂时什么都没有：非阻塞调用立即返回；程序会在别处等待（poll/epoll）",
	"note.inprogress":                 "握手已开始：调用不等它完成",
	"errno.EINPROGRESS":               "操作正在进行中",
	"queue.accept.none":               "队列为空：等待客户端",
	"queue.accept.one":                "队列里有 1 个连接：立即返回",
	"queue.accept.some":               "队列里有 %d 个连接：立即返回",
	"queue.read.none":                 "没有数据在等：等待数据",
	"queue.read.some":                 "有 %d 字节在等：立即返回",
	"queue.recvfrom.none":             "没有数据报在等：等待数据报",
	"queue.recvfrom.some":             "有一个 %d 字节的数据报在等：立即返回",
	"explain.poll.begin":              "程序在这里用一次调用等待这些描述符中的任何一个就绪；它的套接字是非阻塞的，所以这是它唯一阻塞的地方。",
	"explain.poll.end":                "内核告诉程序哪些描述符就绪了：程序接着对它们调用 accept、read 或 write，这些调用会立即返回。",
	"explain.poll.timeout":            "给定的时间用完了，什么都没有就绪：由程序决定接下来做什么（通常是再等一次）。",
	"explain.epoll.create":            "epoll 把一组描述符保存在内核里，每次等待就不必再把整个列表交一遍：这就是一个线程服务许多客户端的办法。",
	"explain.epoll.ctl":               "epoll_ctl 修改这个集合：下一次 epoll_wait 关注哪些描述符，关注什么。",
	"explain.ioctl.fionbio":           "ioctl(FIONBIO) 让套接字在阻塞与非阻塞之间切换；Python 的 settimeout 和 setblocking 就是这样做的。",
	"explain.getsockopt.connected":    "非阻塞的 connect 在握手结束前就返回了；程序在套接字可写之后读取 SO_ERROR 来得知结果。0：已连接——第 7 步就在这里。",
	"explain.getsockopt.so_error":     "SO_ERROR 保存着套接字待处理的错误：在非阻塞 connect 之后，就是它失败的原因。",
	"explain.connect.inprogress":      "EINPROGRESS 不是失败：在非阻塞套接字上，connect 发出 SYN 后立即返回；握手在内核里继续进行。",
	"explain.accept.queued":           "内核已经完成了这些握手：accept 只是从队列里取出第一个连接，不用等待。",
	"explain.read.queued":             "字节已经在接收缓冲区里了：read 直接把它们复制出来，不用等待。",
	"explain.nonblock.eagain.program": "非阻塞套接字上的 EAGAIN：暂时什么都没有。调用立即返回；程序在别处（poll、select、epoll）等待就绪，然后再试。",
}

func init() {
	for k, v := range waitsZH {
		zh[k] = v
	}
}
