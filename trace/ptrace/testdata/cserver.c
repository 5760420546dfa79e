/* The tutorial's server in C: socket, bind, listen, accept, read, write,
   close. The port is the first argument; the reply is "got it". */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
	int port = argc > 1 ? atoi(argv[1]) : 65432;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0) { perror("socket"); return 1; }
	struct sockaddr_in addr;
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_port = htons(port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&addr, sizeof addr) < 0) { perror("bind"); return 1; }
	if (listen(s, 16) < 0) { perror("listen"); return 1; }
	int c = accept(s, NULL, NULL);
	if (c < 0) { perror("accept"); return 1; }
	char buf[1024];
	ssize_t n = read(c, buf, sizeof buf);
	if (n < 0) { perror("read"); return 1; }
	printf("client says: %.*s\n", (int)n, buf);
	fflush(stdout);
	const char reply[] = "got it";
	if (write(c, reply, sizeof reply - 1) < 0) { perror("write"); return 1; }
	while ((n = read(c, buf, sizeof buf)) > 0) /* until the client closes */
		;
	close(c);
	close(s);
	return 0;
}
