#define _GNU_SOURCE
/* An epoll server in C: a non-blocking listener (SOCK_NONBLOCK), its
   connections made non-blocking by accept4's flags, one thread waiting in
   epoll_wait; it echoes what each client sends and ends after the
   number of clients its second argument says. The port is the first. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int port = atoi(argv[1]), clients = argc > 2 ? atoi(argv[2]) : 1, served = 0;
    int ln = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(ln, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(ln, (struct sockaddr *)&a, sizeof a) < 0 || listen(ln, 8) < 0)
        return 1;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ln};
    epoll_ctl(ep, EPOLL_CTL_ADD, ln, &ev);
    while (served < clients) {
        struct epoll_event ready[8];
        int n = epoll_wait(ep, ready, 8, -1);
        for (int i = 0; i < n; i++) {
            int fd = ready[i].data.fd;
            if (fd == ln) {
                int c = accept4(ln, NULL, NULL, SOCK_NONBLOCK);
                if (c < 0)
                    continue;
                struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
                epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
                continue;
            }
            char buf[1024];
            ssize_t got = read(fd, buf, sizeof buf);
            if (got > 0) {
                write(fd, buf, got);
                continue;
            }
            epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
            close(fd);
            served++;
        }
    }
    close(ln);
    close(ep);
    return 0;
}
