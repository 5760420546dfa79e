/* Sets up an io_uring, as a program making its socket calls through one
   would: socklab trace says it cannot see those calls. */
#include <linux/io_uring.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    long fd = syscall(__NR_io_uring_setup, 4, &p);
    printf("io_uring_setup = %ld\n", fd);
    if (fd >= 0) close(fd);
    return 0;
}
