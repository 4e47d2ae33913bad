/* recv_mmsg: the floor of the fastsockets UDP receive benchmark.
 *
 * A blocking UDP receiver on 127.0.0.1 that calls recvmmsg (MSG_WAITFORONE, BATCH slots) and
 * only counts. It prints "READY port=P" once bound, then one JSON line with the same fields as
 * the Python receivers in receivers.py. Its CPU window (getrusage(RUSAGE_SELF), user+sys) runs
 * from the return of the first recvmmsg that got data to the return of the last one, and covers
 * the datagrams received after that first batch. It stops at COUNT datagrams, after SECONDS,
 * or after IDLE seconds without data once data has arrived.
 *
 * With --epoll 1 it is instead the floor of an event-loop receiver: a non-blocking socket in a
 * level-triggered epoll set, epoll_wait, then one recvmmsg (MSG_DONTWAIT) per readiness event -
 * the same system calls per wake-up as fastsockets, uvloop and aiofastnet make, with no
 * interpreter on top.
 *
 *   cc -O2 -o recv_mmsg recv_mmsg.c
 *   ./recv_mmsg --port 0 --count 1000000 --seconds 5 [--epoll 1]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCH 1024
#define SLOT_SIZE 2048
#define POLL_US 5000   /* SO_RCVTIMEO: how often an idle receiver checks its limits */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU seconds (user + sys) of this process; *nvcsw gets its voluntary context switches. */
static double cpu_s(long *nvcsw) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *nvcsw = ru.ru_nvcsw;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec)
         + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

/* Seconds spent runnable but waiting for a CPU (second field of /proc/self/schedstat), or -1. */
static double runq_wait(void) {
    FILE *f = fopen("/proc/self/schedstat", "r");
    unsigned long long run = 0, wait = 0;
    int ok = f && fscanf(f, "%llu %llu", &run, &wait) == 2;
    if (f) fclose(f);
    return ok ? (double)wait * 1e-9 : -1.0;
}

/* The kernel's drop counter of the socket bound to 127.0.0.1:port (last column of
 * /proc/net/udp), or -1 if the line is not found. */
static long sock_drops(unsigned port) {
    FILE *f = fopen("/proc/net/udp", "r");
    if (!f) return -1;
    char line[512];
    long drops = -1;
    if (!fgets(line, sizeof line, f)) { fclose(f); return -1; }
    while (fgets(line, sizeof line, f)) {
        unsigned long addr, lport;
        if (sscanf(line, " %*d: %lx:%lx", &addr, &lport) != 2) continue;
        if (lport != port || addr != 0x0100007FUL) continue;
        char *tok, *last = NULL, *save = NULL;
        for (tok = strtok_r(line, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save))
            last = tok;
        drops = last ? atol(last) : -1;
        break;
    }
    fclose(f);
    return drops;
}

static void usage(void) {
    fprintf(stderr, "usage: recv_mmsg [--port P] [--count N] [--seconds S] [--idle I]"
                    " [--batch K] [--rcvbuf B] [--cpu C] [--epoll 0|1]\n");
    exit(2);
}

int main(int argc, char **argv) {
    long port = 0, count = 1000000, batch = 64, rcvbuf = 0, cpu = -1, use_epoll = 0;
    double seconds = 5.0, idle = 0.5;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) usage();
        const char *v = argv[++i];
        if (!strcmp(a, "--port")) port = atol(v);
        else if (!strcmp(a, "--count")) count = atol(v);
        else if (!strcmp(a, "--seconds")) seconds = atof(v);
        else if (!strcmp(a, "--idle")) idle = atof(v);
        else if (!strcmp(a, "--batch")) batch = atol(v);
        else if (!strcmp(a, "--rcvbuf")) rcvbuf = atol(v);
        else if (!strcmp(a, "--cpu")) cpu = atol(v);
        else if (!strcmp(a, "--epoll")) use_epoll = atol(v);
        else usage();
    }
    if (port < 0 || port > 65535 || count < 1 || batch < 1 || batch > MAX_BATCH
        || seconds <= 0 || seconds > 600 || idle <= 0 || rcvbuf < 0)
        usage();

    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET((int)cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0) perror("sched_setaffinity");
    }

    int fd = socket(AF_INET, SOCK_DGRAM | (use_epoll ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0) { perror("socket"); return 1; }
    if (rcvbuf > 0) {
        int v = (int)rcvbuf;
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v) != 0) perror("SO_RCVBUF");
    }
    struct timeval tv = { 0, POLL_US };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) { perror("bind"); return 1; }
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    unsigned bound_port = ntohs(sa.sin_port);
    int eff_rcvbuf = 0;
    socklen_t il = sizeof eff_rcvbuf;
    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &eff_rcvbuf, &il);

    static char bufs[MAX_BATCH][SLOT_SIZE];
    static struct mmsghdr msgs[MAX_BATCH];
    static struct iovec iov[MAX_BATCH];
    static struct sockaddr_in from[MAX_BATCH];
    for (int i = 0; i < batch; i++) {
        iov[i].iov_base = bufs[i];
        iov[i].iov_len = SLOT_SIZE;
        memset(&msgs[i], 0, sizeof msgs[i]);
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &from[i];
    }

    int ep = -1;
    if (use_epoll) {
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
        ep = epoll_create1(EPOLL_CLOEXEC);
        if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) { perror("epoll"); return 1; }
    }

    printf("READY port=%u\n", bound_port);
    fflush(stdout);

    long n = 0, n_first = 0, cs_first = 0, cs_last = 0;
    double rq_first = -1.0;
    double t_ready = now_s(), t_first = 0, cpu_first = 0, t_last = 0, t_idle_from = 0;
    const char *stop = "time";
    for (;;) {
        for (int i = 0; i < batch; i++) msgs[i].msg_hdr.msg_namelen = sizeof from[i];
        int r;
        if (use_epoll) {
            struct epoll_event ev;
            r = epoll_wait(ep, &ev, 1, POLL_US / 1000);
            if (r > 0)
                r = recvmmsg(fd, msgs, (unsigned)batch, MSG_DONTWAIT, NULL);
            else if (r == 0) {
                r = -1;
                errno = EAGAIN;
            }
        } else {
            r = recvmmsg(fd, msgs, (unsigned)batch, MSG_WAITFORONE, NULL);
        }
        if (r > 0) {
            n += r;
            t_last = now_s();
            if (n_first == 0) {
                n_first = n;
                t_first = t_last;
                cpu_first = cpu_s(&cs_first);
                rq_first = runq_wait();
            }
            if (n >= count) { stop = "count"; break; }
            continue;
        }
        if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            perror("recvmmsg");
            stop = "error";
            break;
        }
        double t = now_s();
        if (t - t_ready >= seconds) break;
        if (n_first) {
            if (t_idle_from < t_last) t_idle_from = t_last;
            if (t - t_idle_from >= idle) { stop = "idle"; break; }
        }
    }
    /* The CPU spent blocked after the last datagram is nil; the wall clock stops at t_last. */
    double cpu_end = cpu_s(&cs_last);
    long window = n_first ? n - n_first : 0;
    double wall = n_first ? t_last - t_first : 0.0;
    double cpu_used = n_first ? cpu_end - cpu_first : 0.0;
    long drops = sock_drops(bound_port);
    long wakeups = n_first ? cs_last - cs_first : 0;
    double rq_last = runq_wait();
    char rq[32] = "null";
    if (n_first && rq_first >= 0 && rq_last >= 0)
        snprintf(rq, sizeof rq, "%.6f", rq_last - rq_first);
    printf("{\"kind\": \"%s\", \"impl\": \"%srecvmmsg batch %ld\", \"port\": %u, \"received\": %ld,"
           " \"window_dgrams\": %ld, \"cpu_s\": %.6f, \"wall_s\": %.6f, \"wakeups\": %ld, \"runq_wait_s\": %s,"
           " \"stop\": \"%s\", \"sock_drops\": %ld, \"rcvbuf\": %d, \"error\": null}\n",
           use_epoll ? "c-epoll" : "c", use_epoll ? "epoll + " : "",
           batch, bound_port, n, window, cpu_used, wall, wakeups, rq, stop, drops, eff_rcvbuf);
    if (ep >= 0) close(ep);
    close(fd);
    return 0;
}
