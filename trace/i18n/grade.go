package i18n

// The catalogues' sentences for a judged run (socklab trace --expect,
// socklab grade, issue 25): the first cause of a miss, and the class
// table. Kept in a file of their own; init adds them to en and zh.
var gradeEN = map[string]string{
	"verdict.not_started":           "a program could not start: %s",
	"verdict.bind_timewait":         "the server's bind to %s failed: EADDRINUSE — the port is held by a connection in TIME_WAIT from an earlier run (%d s left): wait, set SO_REUSEADDR, or run with --isolate",
	"verdict.bind_in_use":           "the server's bind to %s failed: EADDRINUSE — another program holds the port",
	"verdict.refused":               "connect refused: nothing listens on %s (the server listens on %s)",
	"verdict.refused_no_server":     "connect refused: nothing listens on %s (the server never listened)",
	"verdict.timeout":               "did not finish in %s: the programs were still waiting (%s)",
	"verdict.crashed.server":        "the server crashed (%s) after %s: its last lines were: %s",
	"verdict.crashed.client":        "the client crashed (%s) after %s: its last lines were: %s",
	"verdict.udp_not_tcp":           "the programs use UDP datagrams: the lesson is about a TCP connection",
	"verdict.closed_by_exit.client": "the client never closed its socket: the kernel closed it when the program exited",
	"verdict.closed_by_exit.server": "the server never closed the connection: the kernel closed it when the program exited",
	"verdict.unjudged":              "socklab could not judge this run",
	"grade.col.submission":          "submission",
	"grade.col.verdict":             "verdict",
	"grade.col.cause":               "first cause",
	"grade.passed":                  "passed",
	"grade.failed":                  "failed",
	"grade.unjudged":                "not judged",
	"grade.did_not_finish":          "did not finish",
	"grade.summary":                 "%d of %d submissions follow the %s lesson",
	"err.grade_dir":                 "socklab grade: %s: %s",
	"err.grade_empty":               "socklab grade: %s holds no submission folders",
	"err.grade_unsupported":         "socklab grade needs Linux (ptrace and network namespaces)",
	"err.isolate_unsupported":       "--isolate needs Linux's network namespaces: %s",
}

var gradeZH = map[string]string{
	"verdict.not_started":           "有程序没能启动：%s",
	"verdict.bind_timewait":         "服务器 bind %s 失败：EADDRINUSE——端口被上一次运行留下的 TIME_WAIT 连接占着（还剩 %d 秒）：等一等、设置 SO_REUSEADDR，或用 --isolate 运行",
	"verdict.bind_in_use":           "服务器 bind %s 失败：EADDRINUSE——另一个程序占着这个端口",
	"verdict.refused":               "connect 被拒绝：%s 上没有程序在监听（服务器监听的是 %s）",
	"verdict.refused_no_server":     "connect 被拒绝：%s 上没有程序在监听（服务器从没监听）",
	"verdict.timeout":               "%s 内没有结束：程序还在等（%s）",
	"verdict.crashed.server":        "服务器崩溃了（%s），最后一个调用是 %s：它最后几行输出是：%s",
	"verdict.crashed.client":        "客户端崩溃了（%s），最后一个调用是 %s：它最后几行输出是：%s",
	"verdict.udp_not_tcp":           "这些程序用的是 UDP 数据报：这一课讲的是 TCP 连接",
	"verdict.closed_by_exit.client": "客户端从没关闭它的套接字：是程序退出时内核替它关的",
	"verdict.closed_by_exit.server": "服务器从没关闭这个连接：是程序退出时内核替它关的",
	"verdict.unjudged":              "socklab 没法判断这次运行",
	"grade.col.submission":          "作业",
	"grade.col.verdict":             "结果",
	"grade.col.cause":               "首要原因",
	"grade.passed":                  "通过",
	"grade.failed":                  "未通过",
	"grade.unjudged":                "未评判",
	"grade.did_not_finish":          "没有结束",
	"grade.summary":                 "通过 %d 份，共 %d 份作业（%s 课）",
	"err.grade_dir":                 "socklab grade：%s：%s",
	"err.grade_empty":               "socklab grade：%s 里没有作业文件夹",
	"err.grade_unsupported":         "socklab grade 需要 Linux（ptrace 和网络命名空间）",
	"err.isolate_unsupported":       "--isolate 需要 Linux 的网络命名空间：%s",
}

func init() {
	for k, v := range gradeEN {
		en[k] = v
	}
	for k, v := range gradeZH {
		zh[k] = v
	}
}
