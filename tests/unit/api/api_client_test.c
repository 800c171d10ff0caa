/* api_client_test.c — the HTTP client against a scripted fake server on
 * 127.0.0.1: framing (Content-Length, chunked, close), interim responses,
 * limits, malformed and truncated responses, timeouts, keep-alive.
 *
 * The fake server accepts connections one at a time, reads one request head
 * (and a Content-Length body), then writes the scripted bytes in small pieces
 * and either closes or keeps the connection for the next script. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/http_client.h"
#include "base/err.h"
#include "raw_socket.h"

#define SCRIPTS_MAX 8

typedef struct {
  int lfd;
  uint16_t port;
  pthread_t thread;
  /* Scripted replies, one per request, all on one connection when keep is set. */
  const char *replies[SCRIPTS_MAX];
  size_t reply_lens[SCRIPTS_MAX];
  size_t n_replies;
  bool keep;          /* serve all replies on one connection */
  int silent_ms;      /* say nothing for this long instead of replying */
  char last_request[8192];
  size_t last_body_len;
} fake_t;

/* Reads one request head and its Content-Length body. */
static bool fake_read_request(fake_t *f, int fd) {
  size_t got = 0;
  char *buf = f->last_request;
  while (got + 1 < sizeof f->last_request) {
    bool closed;
    char one[2];
    if (raw_recv_all(fd, one, 2, 2000, &closed) != 1) return false;
    buf[got++] = one[0];
    buf[got] = 0;
    if (got >= 4 && memcmp(buf + got - 4, "\r\n\r\n", 4) == 0) break;
  }
  const char *cl = strstr(buf, "Content-Length: ");
  size_t body = cl ? strtoul(cl + 16, NULL, 10) : 0;
  f->last_body_len = 0;
  while (f->last_body_len < body) {
    char tmp[4096];
    size_t want = body - f->last_body_len < sizeof tmp ? body - f->last_body_len : sizeof tmp - 1;
    bool closed;
    size_t n = raw_recv_all(fd, tmp, want + 1, 2000, &closed);
    if (n == 0) return false;
    f->last_body_len += n;
  }
  return true;
}

static void fake_write(int fd, const char *data, size_t len) {
  /* Small pieces with tiny pauses, so the client sees split reads. */
  for (size_t off = 0; off < len;) {
    size_t n = len - off < 7 ? len - off : 7;
    if (raw_send(fd, data + off, n, 2000) != n) return;
    off += n;
    if (off < 64) raw_sleep_ms(1);
  }
}

static void *fake_main(void *arg) {
  fake_t *f = arg;
  size_t next = 0;
  while (next < f->n_replies || (f->n_replies == 0 && next == 0)) {
    struct pollfd p = {.fd = f->lfd, .events = POLLIN};
    if (poll(&p, 1, 5000) <= 0) return NULL;
    int fd = accept(f->lfd, NULL, NULL);
    if (fd < 0) return NULL;
    do {
      if (!fake_read_request(f, fd)) break;
      if (f->silent_ms) {
        raw_sleep_ms(f->silent_ms);
        next = 1;
        break;
      }
      fake_write(fd, f->replies[next], f->reply_lens[next]);
      next++;
    } while (f->keep && next < f->n_replies);
    shutdown(fd, SHUT_WR);
    raw_sleep_ms(20);
    close(fd);
  }
  return NULL;
}

static void fake_start(fake_t *f) {
  f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(f->lfd >= 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
  assert_int_equal(listen(f->lfd, 8), 0);
  socklen_t sl = sizeof sa;
  assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&sa, &sl), 0);
  f->port = ntohs(sa.sin_port);
  for (size_t i = 0; i < f->n_replies; i++)
    if (!f->reply_lens[i]) f->reply_lens[i] = strlen(f->replies[i]);
  assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void fake_stop(fake_t *f) {
  pthread_join(f->thread, NULL);
  close(f->lfd);
}

/* One request against a fake serving one reply. */
static int one(const char *reply, size_t reply_len, http_response_t *r) {
  fake_t f = {.replies = {reply}, .reply_lens = {reply_len}, .n_replies = 1};
  fake_start(&f);
  int rc = http_request("127.0.0.1", f.port, "GET", "/x", NULL, NULL, 0, 3000, r);
  fake_stop(&f);
  return rc;
}

/* ================================================================ framing */

static void test_content_length(void **state) {
  http_response_t r;
  assert_int_equal(one("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                       "Content-Length: 11\r\n\r\n{\"a\":\"bc\"}\n", 0, &r), 0);
  assert_int_equal(r.status, 200);
  assert_string_equal(r.content_type, "application/json");
  assert_int_equal(r.body.len, 11);
  assert_string_equal((const char *)r.body.ptr, "{\"a\":\"bc\"}\n"); /* NUL-terminated */
  http_response_free(&r);

  assert_int_equal(one("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n", 0, &r), 0);
  assert_int_equal(r.status, 404);
  assert_int_equal(r.body.len, 0);
  http_response_free(&r);
}

static void test_chunked(void **state) {
  http_response_t r;
  assert_int_equal(one("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "5\r\nhello\r\n6;ext=1\r\n world\r\nA\r\n0123456789\r\n0\r\n"
                       "X-Trailer: t\r\n\r\n", 0, &r), 0);
  assert_int_equal(r.status, 200);
  assert_string_equal((const char *)r.body.ptr, "hello world0123456789");
  http_response_free(&r);

  /* Chunked wins over a Content-Length that disagrees. */
  assert_int_equal(one("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n"
                       "\r\n2\r\nok\r\n0\r\n\r\n", 0, &r), 0);
  assert_string_equal((const char *)r.body.ptr, "ok");
  http_response_free(&r);

  const char *bad[] = {
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(one(bad[i], 0, &r), VE_ERR_MALFORMED);
    assert_int_equal(r.status, 0);
  }
  /* A chunk size line with no end, or a chunk that claims too much. */
  char longline[600] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  memset(longline + strlen(longline), '1', 400);
  assert_int_equal(one(longline, 0, &r), VE_ERR_TOO_BIG);
  assert_int_equal(one("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "FFFFFFFFFFFFFFFFFFFF\r\n", 0, &r), VE_ERR_TOO_BIG);
  assert_int_equal(one("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "1000001\r\n", 0, &r), VE_ERR_TOO_BIG);
  /* Truncated: the connection ends inside a chunk. */
  assert_int_equal(one("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nabc", 0, &r),
                   VE_ERR_IO);
}

static void test_close_framed_and_interim(void **state) {
  http_response_t r;
  assert_int_equal(one("HTTP/1.0 200 OK\r\n\r\nuntil the end", 0, &r), 0);
  assert_string_equal((const char *)r.body.ptr, "until the end");
  http_response_free(&r);

  assert_int_equal(one("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"
                       "Content-Length: 2\r\n\r\nok", 0, &r), 0);
  assert_int_equal(r.status, 201);
  assert_string_equal((const char *)r.body.ptr, "ok");
  http_response_free(&r);

  assert_int_equal(one("HTTP/1.1 204 No Content\r\n\r\n", 0, &r), 0);
  assert_int_equal(r.status, 204);
  assert_int_equal(r.body.len, 0);
  http_response_free(&r);

  /* Endless interim responses are refused. */
  char many[512] = "";
  for (int i = 0; i < 8; i++) strcat(many, "HTTP/1.1 100 Continue\r\n\r\n");
  assert_int_equal(one(many, 0, &r), VE_ERR_MALFORMED);
}

/* ================================================================ bad responses */

static void test_malformed(void **state) {
  const char *bad[] = {
      "HTTX/1.1 200 OK\r\n\r\n",
      "HTTP/1.1 2x0 OK\r\n\r\n",
      "HTTP/1.1 200OK\r\n\r\n",
      "HTTP/2 200 OK\r\n\r\n",
      "HTTP/1.1 099 Low\r\n\r\n",
      "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
  };
  http_response_t r;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = one(bad[i], 0, &r);
    if (rc != VE_ERR_MALFORMED) fail_msg("case %zu: got %s", i, ve_err_name(rc));
  }
  /* Truncated body, no response at all. */
  assert_int_equal(one("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 0, &r), VE_ERR_IO);
  assert_int_equal(one("", 0, &r), VE_ERR_IO);
  assert_int_equal(one("HTTP/1.1 200 OK\r\nContent", 0, &r), VE_ERR_IO);
}

static void test_limits(void **state) {
  http_response_t r;
  /* Head over HTTP_CLIENT_HEAD_BYTES_MAX. */
  size_t n = HTTP_CLIENT_HEAD_BYTES_MAX + 100;
  char *head = malloc(n + 64);
  assert_non_null(head);
  size_t k = (size_t)sprintf(head, "HTTP/1.1 200 OK\r\nX-Big: ");
  memset(head + k, 'a', n);
  memcpy(head + k + n, "\r\n\r\n", 4);
  assert_int_equal(one(head, k + n + 4, &r), VE_ERR_TOO_BIG);
  free(head);

  /* Announced body over API_CLIENT_RESPONSE_BYTES_MAX: refused before reading. */
  char hdr[128];
  snprintf(hdr, sizeof hdr, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
           API_CLIENT_RESPONSE_BYTES_MAX + 1);
  assert_int_equal(one(hdr, 0, &r), VE_ERR_TOO_BIG);
  assert_int_equal(one("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", 0,
                       &r), VE_ERR_TOO_BIG);
}

static void test_timeouts_and_refusal(void **state) {
  /* A server that accepts and never answers: bounded by timeout_ms. */
  fake_t f = {.silent_ms = 1500};
  fake_start(&f);
  http_response_t r;
  int64_t t0 = raw_now_ms();
  assert_int_equal(http_request("127.0.0.1", f.port, "GET", "/x", NULL, NULL, 0, 300, &r),
                   VE_ERR_TIMEOUT);
  int64_t took = raw_now_ms() - t0;
  assert_true(took >= 250 && took < 1400);
  fake_stop(&f);

  /* Nobody listening: refused at once. A closed listener frees the port. */
  fake_t g = {.n_replies = 0};
  g.lfd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(g.lfd, (struct sockaddr *)&sa, sizeof sa), 0);
  socklen_t sl = sizeof sa;
  getsockname(g.lfd, (struct sockaddr *)&sa, &sl);
  close(g.lfd);
  assert_int_equal(http_request("127.0.0.1", ntohs(sa.sin_port), "GET", "/", NULL, NULL, 0, 1000,
                                &r), VE_ERR_IO);

  /* Bad arguments. */
  assert_int_equal(http_request("127.0.0.1", 1, "GET", "no-slash", NULL, NULL, 0, 1000, &r),
                   VE_ERR_INVALID);
  assert_int_equal(http_request("127.0.0.1", 1, "GET", "/", NULL, NULL, 0, 0, &r),
                   VE_ERR_INVALID);
  assert_int_equal(http_request("127.0.0.1", 1, "POST", "/", NULL, NULL, 5, 1000, &r),
                   VE_ERR_INVALID);
  http_conn_t *c = NULL;
  assert_int_equal(http_conn_open("", 80, 1000, &c), VE_ERR_INVALID);
  assert_int_equal(http_conn_open("127.0.0.1", 80, 0, &c), VE_ERR_INVALID);
  assert_null(c);
}

static void test_request_bytes(void **state) {
  fake_t f = {.replies = {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"}, .n_replies = 1};
  fake_start(&f);
  http_response_t r;
  assert_int_equal(http_request("127.0.0.1", f.port, "POST", "/v1/txs?x=1", "application/json",
                                "{\"k\":1}", 7, 3000, &r), 0);
  fake_stop(&f);
  assert_int_equal(r.status, 200);
  http_response_free(&r);
  assert_true(strncmp(f.last_request, "POST /v1/txs?x=1 HTTP/1.1\r\n", 27) == 0);
  assert_non_null(strstr(f.last_request, "\r\nHost: 127.0.0.1:"));
  assert_non_null(strstr(f.last_request, "\r\nContent-Type: application/json\r\n"));
  assert_non_null(strstr(f.last_request, "\r\nContent-Length: 7\r\n"));
  assert_non_null(strstr(f.last_request, "\r\nConnection: close\r\n"));
  assert_int_equal(f.last_body_len, 7);

  /* Injection attempts in the request line or content type are refused. */
  assert_int_equal(http_request("127.0.0.1", f.port, "GET", "/a b", NULL, NULL, 0, 1000, &r),
                   VE_ERR_INVALID);
  http_conn_t *c;
  fake_t g = {.replies = {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"}, .n_replies = 1};
  fake_start(&g);
  assert_int_equal(http_conn_open("127.0.0.1", g.port, 1000, &c), 0);
  assert_int_equal(http_conn_request(c, "GET", "/a\r\nX: y", NULL, NULL, 0, 1000, &r),
                   VE_ERR_INVALID);
  assert_int_equal(http_conn_request(c, "get", "/a", NULL, NULL, 0, 1000, &r), VE_ERR_INVALID);
  assert_int_equal(http_conn_request(c, "POST", "/a", "text/plain\r\nX: y", "x", 1, 1000, &r),
                   VE_ERR_INVALID);
  assert_int_equal(http_conn_request(c, "GET", "/a", NULL, NULL, 0, 1000, &r), 0);
  assert_int_equal(r.status, 200);
  http_response_free(&r);
  http_conn_close(c);
  fake_stop(&g);
}

/* ================================================================ keep-alive */

static void test_keep_alive(void **state) {
  fake_t f = {.replies = {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na",
                          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "1\r\nb\r\n0\r\n\r\n",
                          "HTTP/1.1 500 Oops\r\nContent-Length: 1\r\nConnection: close\r\n\r\nc"},
              .n_replies = 3,
              .keep = true};
  fake_start(&f);
  http_conn_t *c;
  assert_int_equal(http_conn_open("127.0.0.1", f.port, 1000, &c), 0);
  const char *want[] = {"a", "b", "c"};
  for (int i = 0; i < 3; i++) {
    http_response_t r;
    assert_int_equal(http_conn_request(c, "GET", "/k", NULL, NULL, 0, 2000, &r), 0);
    assert_string_equal((const char *)r.body.ptr, want[i]);
    http_response_free(&r);
  }
  /* The server said close: the next request is refused without I/O. */
  http_response_t r;
  assert_int_equal(http_conn_request(c, "GET", "/k", NULL, NULL, 0, 2000, &r), VE_ERR_CLOSED);
  assert_null(strstr(f.last_request, "Connection: close"));
  http_conn_close(c);
  fake_stop(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_content_length),
      cmocka_unit_test(test_chunked),
      cmocka_unit_test(test_close_framed_and_interim),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_timeouts_and_refusal),
      cmocka_unit_test(test_request_bytes),
      cmocka_unit_test(test_keep_alive),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
