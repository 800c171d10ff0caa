/* raw_socket.h — tiny bounded socket helpers for the api tests: talk to a
 * server with bytes that no well-behaved client would send. Header-only so
 * each test executable stays one file plus this. Every wait is bounded. */
#ifndef VECHE_TESTS_API_RAW_SOCKET_H
#define VECHE_TESTS_API_RAW_SOCKET_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static inline int64_t raw_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void raw_sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Blocking connect to 127.0.0.1:port; -1 on failure. */
static inline int raw_connect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

/* Sends what it can within timeout_ms; returns bytes sent (stops on error). */
static inline size_t raw_send(int fd, const void *data, size_t len, int timeout_ms) {
  const char *p = data;
  size_t sent = 0;
  int64_t deadline = raw_now_ms() + timeout_ms;
  while (sent < len) {
    int64_t left = deadline - raw_now_ms();
    if (left <= 0) break;
    struct pollfd pf = {.fd = fd, .events = POLLOUT};
    if (poll(&pf, 1, (int)left) <= 0) break;
    ssize_t n = send(fd, p + sent, len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) break;
    sent += (size_t)n;
  }
  return sent;
}

/* Reads until the peer closes, out is full, or timeout_ms passes.
 * Out: *closed true if the peer closed (EOF or reset). Returns bytes read;
 * out is NUL-terminated (out_len includes room for it). */
static inline size_t raw_recv_all(int fd, char *out, size_t out_len, int timeout_ms,
                                  bool *closed) {
  size_t got = 0;
  int64_t deadline = raw_now_ms() + timeout_ms;
  *closed = false;
  while (got + 1 < out_len) {
    int64_t left = deadline - raw_now_ms();
    if (left <= 0) break;
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    if (poll(&pf, 1, (int)left) <= 0) continue;
    ssize_t n = recv(fd, out + got, out_len - 1 - got, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) {
      *closed = true;
      break;
    }
    got += (size_t)n;
  }
  out[got] = 0;
  return got;
}

/* Reads until "\r\n\r\n" plus the Content-Length body arrived (or timeout). */
static inline size_t raw_recv_response(int fd, char *out, size_t out_len, int timeout_ms) {
  size_t got = 0;
  int64_t deadline = raw_now_ms() + timeout_ms;
  while (got + 1 < out_len) {
    out[got] = 0;
    const char *end = strstr(out, "\r\n\r\n");
    if (end) {
      const char *cl = strstr(out, "Content-Length: ");
      size_t body = cl ? (size_t)strtoul(cl + 16, NULL, 10) : 0;
      if (got >= (size_t)(end + 4 - out) + body) break;
    }
    int64_t left = deadline - raw_now_ms();
    if (left <= 0) break;
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    if (poll(&pf, 1, (int)left) <= 0) continue;
    ssize_t n = recv(fd, out + got, out_len - 1 - got, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) break;
    got += (size_t)n;
  }
  out[got] = 0;
  return got;
}

#endif
