/* send_flood: the sender of the fastsockets UDP receive benchmark.
 *
 * Sends COUNT datagrams of SIZE bytes to 127.0.0.1:PORT with sendmmsg, BATCH per call (or with
 * --gso 1, as UDP_SEGMENT messages of up to 64 datagrams each), then stops; it also stops after SECONDS whatever it has sent. --rate paces it (datagrams per
 * second, 0 = as fast as the kernel takes them). Loopback only: the destination address is
 * fixed to 127.0.0.1. Prints one JSON line: {"sent": N, "seconds": T, "calls": C, "errors": E}.
 *
 *   cc -O2 -o send_flood send_flood.c
 *   ./send_flood --port 9999 --count 1000000 --size 64 --seconds 3
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <arpa/inet.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCH 1024
#define MAX_SIZE 65507
#define MAX_GSO 64        /* segments per UDP_SEGMENT send (UDP_MAX_SEGMENTS on older kernels) */
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void usage(void) {
    fprintf(stderr, "usage: send_flood --port P [--count N] [--size B] [--seconds S] [--batch K]"
                    " [--rate R] [--gso 0|1] [--cpu C]\n");
    exit(2);
}

int main(int argc, char **argv) {
    long port = -1, count = 1000000, size = 64, batch = 64, cpu = -1, gso = 0;
    double seconds = 3.0, rate = 0.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) usage();
        const char *v = argv[++i];
        if (!strcmp(a, "--port")) port = atol(v);
        else if (!strcmp(a, "--count")) count = atol(v);
        else if (!strcmp(a, "--size")) size = atol(v);
        else if (!strcmp(a, "--seconds")) seconds = atof(v);
        else if (!strcmp(a, "--batch")) batch = atol(v);
        else if (!strcmp(a, "--rate")) rate = atof(v);
        else if (!strcmp(a, "--cpu")) cpu = atol(v);
        else if (!strcmp(a, "--gso")) gso = atol(v);
        else usage();
    }
    if (port <= 0 || port > 65535 || count < 0 || size < 0 || size > MAX_SIZE || batch < 1
        || batch > MAX_BATCH || (gso && (size < 1 || size * MAX_GSO > MAX_SIZE)) || seconds <= 0 || seconds > 600 || rate < 0)
        usage();

    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET((int)cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0) perror("sched_setaffinity");
    }

    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) { perror("socket"); return 1; }
    struct sockaddr_in dst;
    memset(&dst, 0, sizeof dst);
    dst.sin_family = AF_INET;
    dst.sin_port = htons((unsigned short)port);
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  /* loopback only, by construction */

    static char payload[MAX_SIZE];
    memset(payload, 'x', sizeof payload);
    static struct mmsghdr msgs[MAX_BATCH];
    static struct iovec iov[MAX_BATCH];
    for (int i = 0; i < batch; i++) {
        iov[i].iov_base = payload;
        iov[i].iov_len = (size_t)size;
        memset(&msgs[i], 0, sizeof msgs[i]);
        msgs[i].msg_hdr.msg_name = &dst;   /* unconnected: ICMP errors never fail a send */
        msgs[i].msg_hdr.msg_namelen = sizeof dst;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }

    /* --gso 1: UDP_SEGMENT (generic segmentation offload), so one send hands the kernel up to
     * MAX_GSO datagrams; the receiver still gets them one by one (unless it enables UDP_GRO).
     * Much cheaper per datagram for the sender, which then saturates faster receivers. */
    static char gso_payload[MAX_SIZE];
    memset(gso_payload, 'x', sizeof gso_payload);
    struct iovec gso_iov = { gso_payload, 0 };
    union { char buf[CMSG_SPACE(sizeof(unsigned short))]; struct cmsghdr align; } ctl;
    struct msghdr gso_msg;
    memset(&gso_msg, 0, sizeof gso_msg);
    memset(&ctl, 0, sizeof ctl);
    gso_msg.msg_name = &dst;
    gso_msg.msg_namelen = sizeof dst;
    gso_msg.msg_iov = &gso_iov;
    gso_msg.msg_iovlen = 1;
    gso_msg.msg_control = ctl.buf;
    gso_msg.msg_controllen = sizeof ctl.buf;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&gso_msg);
    cm->cmsg_level = SOL_UDP;
    cm->cmsg_type = UDP_SEGMENT;
    cm->cmsg_len = CMSG_LEN(sizeof(unsigned short));
    unsigned short seg = (unsigned short)size;
    memcpy(CMSG_DATA(cm), &seg, sizeof seg);

    long sent = 0, calls = 0, errors = 0;
    double t0 = now_s(), deadline = t0 + seconds, t = t0;
    while (sent < count) {
        t = now_s();
        if (t >= deadline) break;
        if (rate > 0) {
            double due = t0 + (double)sent / rate;   /* when datagram #sent is due */
            if (t < due) {
                double w = due - t;
                struct timespec ts = { (time_t)w, (long)((w - (double)(time_t)w) * 1e9) };
                nanosleep(&ts, NULL);
                continue;
            }
        }
        int r;
        if (gso) {
            /* One message of k segments: the kernel splits it into k datagrams of SIZE bytes. */
            long k = count - sent < MAX_GSO ? count - sent : MAX_GSO;
            gso_iov.iov_len = (size_t)(k * size);
            r = sendmsg(fd, &gso_msg, 0) < 0 ? -1 : (int)k;
        } else {
            long want = count - sent < batch ? count - sent : batch;
            r = sendmmsg(fd, msgs, (unsigned)want, 0);
        }
        calls++;
        if (r > 0) {
            sent += r;
        } else if (r < 0 && errno != EINTR) {
            errors++;
            if (errno == ENOBUFS || errno == EAGAIN) {
                struct timespec ts = { 0, 20000 };
                nanosleep(&ts, NULL);
            } else if (errors > 1000) {
                perror(gso ? "sendmsg(UDP_SEGMENT)" : "sendmmsg");
                break;
            }
        }
    }
    t = now_s();
    printf("{\"sent\": %ld, \"seconds\": %.6f, \"calls\": %ld, \"errors\": %ld}\n",
           sent, t - t0, calls, errors);
    close(fd);
    return 0;
}
