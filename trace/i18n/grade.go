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
	"msg.trace_clients_not_started": "the clients were not started: the server had already ended",
	"verdict.halfclose":             "the client shut down its writing side (shutdown SHUT_WR) and read on: the server's end of file came before the client's close — the halfclose lesson's story, not basic's",
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
	"flag.trace_isolate":            "run the programs in a network namespace of their own: a fresh loopback, no port left in TIME_WAIT by an earlier run (as root, or in a user namespace where the system allows one). ss in another terminal cannot see an isolated run; the trace shows the kernel's view as always",
	"usage.grade": `Usage: socklab grade [flags] DIR

Grade a class: DIR holds one folder per submission. The same --server and
--client commands run inside each folder, traced and checked against a
lesson's story (--expect, basic by default), each run in a network namespace
of its own (as socklab trace --isolate: as root, or in a user namespace where
the system allows one; ss cannot see the runs),
--jobs at a time, each within --timeout, after which its programs are stopped
and it is marked "did not finish" with what they were waiting in. Then a class
table: one row per submission, a mark per step and rule, the first cause.
Exit status: 0 every submission passed, 1 one did not, 2 bad input, 3 one
could not be judged. docs/grading.md has the formats and a teacher's workflow.

Flags:
  --server='CMD'          the server's command, run in each submission's folder
  --client='CMD'          a client's command; give it again for more clients
  --expect=LESSON         the lesson whose story the programs must follow (basic)
  --server-input=FILE     the server's standard input
  --client-input=FILE     each client's standard input
  --jobs=N                submissions at a time (default: the number of CPUs)
  --timeout=DURATION      each submission's time limit (default 20s)
  --format=table|json     the class table, or one JSON object per submission
  --junit=FILE            also write JUnit XML: a testsuite per submission
  --classroom=FILE        also write GitHub Classroom's autograding result
  --gradescope=FILE       also write Gradescope's results.json
  --lang=en|zh            language of the table and the sentences
`,
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
	"msg.trace_clients_not_started": "没有启动客户端：服务器已经结束了",
	"verdict.halfclose":             "客户端先关掉了自己的写方向（shutdown SHUT_WR）再继续读：服务器读到文件结束在客户端 close 之前——这是 halfclose 课的步骤，不是 basic 的",
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
	"flag.trace_isolate":            "让程序在它们自己的网络命名空间里运行：全新的回环接口，没有上一次运行留在 TIME_WAIT 的端口（以 root 运行，或在系统允许的用户命名空间里）。另一个终端里的 ss 看不到隔离的运行；跟踪照常显示内核的视角",
	"usage.grade": `用法：socklab grade [选项] DIR

给全班评分：DIR 里每份作业一个文件夹。同样的 --server 和 --client 命令在每个
文件夹里运行，被跟踪，并按一课的步骤检查（--expect，默认 basic）；每次运行都在
它自己的网络命名空间里（同 socklab trace --isolate：以 root 运行，或在系统允许的
用户命名空间里；ss 看不到），
一次 --jobs 份，每份限时 --timeout，超时就停掉程序，标为"没有结束"并说出它们在
等什么。最后是全班的表：每份作业一行，每一步、每条规则一个标记，外加首要原因。
退出状态：0 全部通过，1 有作业没通过，2 输入有误，3 有作业没法判断。
docs/zh/grading.md 讲格式和老师的流程。

选项：
  --server='CMD'          服务器的命令，在每份作业的文件夹里运行
  --client='CMD'          一个客户端的命令；多个客户端就多给几次
  --expect=LESSON         程序要遵循哪一课的步骤（basic）
  --server-input=FILE     服务器的标准输入
  --client-input=FILE     每个客户端的标准输入
  --jobs=N                同时评几份（默认：CPU 个数）
  --timeout=DURATION      每份作业的时限（默认 20s）
  --format=table|json     全班的表，或每份作业一个 JSON 对象
  --junit=FILE            另外写 JUnit XML：每份作业一个 testsuite
  --classroom=FILE        另外写 GitHub Classroom 的 autograding 结果
  --gradescope=FILE       另外写 Gradescope 的 results.json
  --lang=en|zh            表格和句子的语言
`,
}

func init() {
	for k, v := range gradeEN {
		en[k] = v
	}
	for k, v := range gradeZH {
		zh[k] = v
	}
}
