/* api_sweep_test.c — every HTTP route of a real node, fed hostile requests.
 *
 * The rule under test (docs/api.md, "Conventions"): bad input never hurts the
 * node. Each bad request gets a clear error — an HTTP 4xx whose body is JSON
 * with a string "error" — the node keeps running, and nothing committed is
 * lost. Other tests check particular routes; this one sweeps them all.
 *
 * The routes are the node library's own table (node_routes_collect, linked
 * from veche_node: the table the `veche` binary serves), so a route added
 * later is swept without touching this file. Each route is shown to be served
 * by the binary too: a method it does not take answers 405 with Allow.
 *
 * Phases (one cmocka test each, in order, against one node):
 *   setup      a one-validator node on 127.0.0.1 (a block every 100 ms when
 *              idle); a citizen and three trustees, a document with its blob
 *              uploaded and a grant, a poll left in its key generation, and a
 *              second poll (two questions, district d1 only) brought through
 *              the trustees' key generation to READY, with six voters in d1 and
 *              one in d2: so that routes have things to find;
 *   checker    check() itself, on made-up answers: it flags what it must;
 *   poll ballots  the second poll OPEN: three rounds of honest ballots (as
 *              a JSON batch, a binary batch, single txs; re-votes replace)
 *              must commit; between them ballots no node may count, each sent
 *              alone, in a JSON batch and in a binary batch, each refused with
 *              its documented status and code (docs/voting.md §5): bad
 *              encodings (identity, non-canonical, negative and non-point
 *              ciphertexts, a proof scalar of L), a flipped proof bit, cut,
 *              padded, oversize, re-versioned ballots, lists of the wrong
 *              count or order, payload and tx over their limits, a bad
 *              signature, shapes of another poll, proofs for another poll,
 *              chain or voter, another voter's ballot, ineligible, unknown
 *              signers, a poll in key generation and an unknown one, replays
 *              of replaced and counted ballots (same bytes, re-signed,
 *              copied), a decryption share before the close; after each the
 *              tally and every receipt say exactly what the honest ballots
 *              did; then the poll routes' params and queries swept;
 *   params     each :param of each route: empty, too long (within and over
 *              API_URL_BYTES_MAX), non-hex, wrong length, %-encoded junk, NUL
 *              and control bytes (encoded, and raw in the request line),
 *              overflowing and negative numbers, seeded random junk;
 *   methods    every other method (405 with Allow), HEAD, unknown methods;
 *   queries    known query names with bad values, junk query strings, too
 *              many arguments, seeded random junk;
 *   bodies     malformed JSON, too deep, scalars, duplicates, wrong content
 *              types, oversize (announced, chunked, lying Content-Length),
 *              broken framing; then transactions no node may admit (wrong
 *              chain, bad signature, replay, unknown type, stale sequence,
 *              expired, unknown signer, truncated, oversize, random bytes) as
 *              JSON and as the binary batch framing;
 *   keepalive  junk and good requests on one connection, sent one by one and
 *              pipelined: every answer arrives, in order;
 *   wire       broken request lines and headers (libmicrohttpd's domain);
 *   concurrent SW_HOSTILE_THREADS clients send a seeded mix of the hostile
 *              requests above (every route; junk and hostile poll txs; wire
 *              junk; bodies of MiBs now and then) at once, while an honest
 *              client submits transactions that must each commit within
 *              SW_HONEST_COMMIT_MS and /health must answer within
 *              SW_HEALTH_BOUND_MS throughout; no 5xx (see the section for
 *              the connection limits);
 *   poll decryption  after the second poll's close: shares no node may
 *              accept (wrong signer or trustee index, bad encodings and
 *              proofs, wrong counts and sizes, a stale tally, another chain's
 *              or poll's context, a poll in key generation, an unknown one),
 *              honest shares of trustees 1 and 3 committing, their replays
 *              and late shares refused; the recorded result equals the
 *              honest voters' latest choices and `veche audit poll` passes;
 *              the poll routes swept again;
 *   after      the node process alive, /health, no 5xx in its own metrics,
 *              the height moving on, a new transaction committing, every
 *              committed transaction, block and record unchanged (the
 *              decrypted poll too), no junk transaction admitted, no sanitizer
 *              report in its log; the same after a clean restart.
 *
 * Every answer is checked (check()): a status 200..499, never 5xx, never a
 * connection dropped without an answer. A 4xx body is JSON with a string
 * "error"; a 405 lists the route's methods in Allow; where the layer's answer
 * is documented (404, 400 bad_request, 413, 414, 415, 431, malformed_json,
 * too_deep) that exact answer is required; a 2xx to junk transactions admits
 * none. The exceptions, each what docs/api.md says or what libmicrohttpd
 * 0.9.75 does below the node's code, are kinds of case:
 *   K_DROP   the server may close without answering: a chunked upload over
 *            the limit; a client that stops sending mid-request (the server
 *            may also hold it until its idle timeout, which is not waited for);
 *   K_HTTPD  libmicrohttpd refuses it itself (no Host, a bad Content-Length,
 *            broken chunks, ...): any 4xx, its own HTML page allowed; a version
 *            it does not speak is its 505 (HTTP/2.0, HTTP/9.9), by HTTP's rules;
 *   K_LINE   a request line it cannot parse (whitespace inside the target, a
 *            raw control byte): as K_HTTPD, or closed without a word, which
 *            0.9.75 does for whitespace in the target (counted and printed);
 *            a raw NUL ends the target there (the rest is ignored).
 * Every violation is printed with the request's bytes (a reproducer) and the
 * test fails at the end of its phase; a node that dies fails at once, naming
 * the request.
 *
 * Seeded junk: the seed is printed; VECHE_SEED=n replays it (the ballots'
 * randomness too; in the concurrent phase each client's picks, not their
 * interleaving). VECHE_SWEEP_VERBOSE=1 prints one line per request;
 * VECHE_SWEEP_ONLY=<test name pattern> runs some phases (cmocka's filter;
 * setup always runs).
 * Runtime: about 13 s normal, 16 s with sanitizers (about 27,000 requests;
 * the poll's close is waited for). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "api/api.h"
#include "api/http_client.h"
#include "apps/documents/documents.h"
#include "apps/identity/identity.h"
#include "apps/voting/voting.h"
#include "base/err.h"
#include "base/limits.h"
#include "harness.h"
#include "node/node_int.h" /* node_routes_collect, NODE_ROUTES_MAX: the served table */

/* ---------------------------------------------------------------- limits */

#define SW_TIMEOUT_MS 5000          /* one exchange, send to last answer byte */
#define SW_DROP_TIMEOUT_MS 3000     /* an exchange the server may end without answering */
/* A client that leaves mid-request: libmicrohttpd may hold the connection
 * until its idle timeout (API_CONNECTION_TIMEOUT_S_DEFAULT); not waited for. */
#define SW_LEAVE_WAIT_MS 300
#define SW_HEAD_BYTES_MAX (16 * 1024)
#define SW_BODY_BYTES_MAX ((size_t)16 * 1024 * 1024)
#define SW_RANDOM_PER_SLOT 8        /* seeded random values per param / route query / body */
#define SW_VIOLATIONS_SHOWN 40      /* printed in full; the rest are counted */
#define SW_SHOW_BYTES 360           /* request/answer bytes quoted per violation */
#define SW_SETUP_TXS_MAX 32
#define SW_JUNK_TXS_MAX 24
#define SW_SETTLE_MS 10000          /* the height must move on within this */
#define SW_HEX 65                   /* 32 bytes of hex and a NUL */
#define SW_SLOW_MS 1000             /* exchanges slower than this are printed */
#define SW_DEATH_WAIT_MS 2000       /* a node refusing connections: time to see it exit */

static const char *g_veche;

/* ---------------------------------------------------------------- state */

typedef struct {
  char name[48];
  ve_buf_t bytes;
  uint8_t id[32];
  bool committed_before; /* a replay of a committed tx: it stays committed */
} junk_tx_t;

static struct {
  h_node_t n;
  uint64_t seed, rng;
  bool verbose; /* VECHE_SWEEP_VERBOSE=1: one line per request */
  bool quiet;   /* violations counted, not printed (the checker's self-test) */
  bool dead;    /* the node died: later phases fail at once */
  char last_what[300]; /* the last request sent, for a death noticed later */
  ve_buf_t last_req;
  api_route_t routes[NODE_ROUTES_MAX];
  size_t n_routes;
  /* what the setup committed */
  vcrypto_keypair_t citizen, trustee[3];
  char citizen_id[SW_HEX], citizen_pk[SW_HEX], trustee_id[SW_HEX];
  char doc_id[SW_HEX], blob_id[SW_HEX], digest[SW_HEX], poll_id[SW_HEX];
  ve_buf_t blob;
  uint8_t setup_ids[SW_SETUP_TXS_MAX][32];
  json_t *setup_results[SW_SETUP_TXS_MAX]; /* GET /v1/txs/:id before the sweep */
  json_t *setup_headers[SW_SETUP_TXS_MAX]; /* the header of each one's block */
  json_t *identity, *document;             /* records before the sweep */
  size_t n_setup;
  uint64_t height_before;
  junk_tx_t junk[SW_JUNK_TXS_MAX];
  size_t n_junk;
  /* :id of /v1/polls/:id... and :voter while the open poll is swept (NULL:
   * the poll in key generation and the citizen) */
  const char *poll_param, *voter_param;
  pthread_mutex_t lock; /* check() and its counts, in the concurrent phase */
  /* counts of the phase running */
  size_t requests, violations, drops, silent, status_class[6];
} g;

/* ---------------------------------------------------------------- small helpers */

static int64_t now_ms(void) { return (int64_t)h_now_ms(); } /* signed, for deadlines */

static uint64_t rnd(void) { /* xorshift64* */
  g.rng ^= g.rng >> 12;
  g.rng ^= g.rng << 25;
  g.rng ^= g.rng >> 27;
  return g.rng * 2685821657736338717ull;
}

static size_t rnd_below(size_t n) { return n ? (size_t)(rnd() % n) : 0; }

static void bput(ve_buf_t *b, const void *p, size_t n) {
  if (n) assert_int_equal(ve_buf_append(b, p, n), 0);
}

static void bputs(ve_buf_t *b, const char *s) { bput(b, s, strlen(s)); }

static void bprintf(ve_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(ve_buf_t *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  assert_true(n >= 0);
  assert_int_equal(ve_buf_reserve(b, (size_t)n + 1), 0);
  va_start(ap, fmt);
  vsnprintf((char *)b->ptr + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

static void brepeat(ve_buf_t *b, const char *s, size_t times) {
  for (size_t i = 0; i < times; i++) bputs(b, s);
}

/* A chunked body of 64 KiB chunks that passes max bytes (then the last
 * chunk): an upload the server must drop. Returns the chunk size. */
static size_t chunked_over(ve_buf_t *b, size_t max) {
  const size_t chunk = 64 * 1024;
  ve_buf_reset(b);
  for (size_t sent = 0; sent <= max; sent += chunk) {
    bprintf(b, "%zx\r\n", chunk);
    size_t at = b->len;
    assert_int_equal(ve_buf_reserve(b, chunk), 0);
    memset(b->ptr + at, '1', chunk);
    b->len += chunk;
    bputs(b, "\r\n");
  }
  bputs(b, "0\r\n\r\n");
  return chunk;
}

static const uint8_t *find(const uint8_t *p, size_t n, const char *needle) {
  size_t k = strlen(needle);
  for (size_t i = 0; k <= n && i <= n - k; i++)
    if (!memcmp(p + i, needle, k)) return p + i;
  return NULL;
}

/* Prints up to SW_SHOW_BYTES of p as a C string literal body. */
static void show(const char *label, const uint8_t *p, size_t n) {
  fprintf(stderr, "    %s (%zu bytes): \"", label, n);
  for (size_t i = 0; i < n && i < SW_SHOW_BYTES; i++) {
    uint8_t c = p[i];
    if (c == '\r') fputs("\\r", stderr);
    else if (c == '\n') fputs("\\n", stderr);
    else if (c == '"' || c == '\\') fprintf(stderr, "\\%c", c);
    else if (c >= 0x20 && c < 0x7f) fputc(c, stderr);
    else fprintf(stderr, "\\x%02x\"\"", c); /* "" ends the hex escape */
  }
  fprintf(stderr, "\"%s\n", n > SW_SHOW_BYTES ? " ..." : "");
}

static void hex32(char out[SW_HEX], const uint8_t in[32]) { ve_hex_encode(out, in, 32); }

/* ---------------------------------------------------------------- raw HTTP */

/* A connection to the node that sends exactly the bytes it is given. */
typedef struct {
  int fd;
  ve_buf_t in; /* received, not yet consumed */
  bool eof;    /* the server closed (or reset) the connection */
} conn_t;

/* One answer as read off the wire. */
typedef struct {
  int status;          /* 0: no complete answer */
  bool timed_out;      /* nothing complete, connection still open */
  const char *bad;     /* not HTTP the way this server writes it */
  bool close;          /* "Connection: close" */
  char ctype[96], allow[160];
  ve_buf_t body;
} resp_t;

/* Has the node process exited? (It is not reaped: the harness does that.) */
static bool node_exited(siginfo_t *si) {
  memset(si, 0, sizeof *si);
  return waitid(P_PID, (id_t)g.n.pid, si, WEXITED | WNOHANG | WNOWAIT) == 0 && si->si_pid == g.n.pid;
}

static void node_died(const siginfo_t *si, const char *what, ve_slice_t req) {
  g.dead = true;
  fprintf(stderr, "THE NODE DIED after [%s]\n", what);
  show("request", req.ptr, req.len);
  fail_msg("the node %s %d after [%s]; its log: %s/node.log",
           si->si_code == CLD_EXITED ? "exited with status" : "was killed by signal", si->si_status, what, g.n.dir);
}

/* The node refuses connections: if it is dying (an abort takes a moment),
 * wait for its exit and fail naming the last request it was sent. */
static void node_gone(void) {
  siginfo_t si;
  for (int waited = 0; waited < SW_DEATH_WAIT_MS; waited += 20) {
    if (node_exited(&si)) node_died(&si, g.last_what, ve_buf_slice(&g.last_req));
    h_sleep_ms(20);
  }
}

/* Connects to the node; 0, or the errno of the failure (c->fd is then -1).
 * Asserts nothing: the concurrent phase calls it from its own threads. */
static int conn_try_open(conn_t *c) {
  memset(c, 0, sizeof *c);
  ve_buf_init(&c->in, SW_HEAD_BYTES_MAX + SW_BODY_BYTES_MAX);
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd < 0) return errno;
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(g.n.port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    int err = errno;
    close(c->fd);
    c->fd = -1;
    return err;
  }
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
  return 0;
}

static void conn_open(conn_t *c) {
  int err = conn_try_open(c);
  if (err) {
    node_gone(); /* fails naming the last request if the node died */
    fail_msg("cannot connect to the node on 127.0.0.1:%u: %s", g.n.port, strerror(err));
  }
}

static void conn_close(conn_t *c) {
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  ve_buf_free(&c->in);
}

/* Waits for bytes until deadline; true if some arrived. */
static bool conn_fill(conn_t *c, int64_t deadline) {
  while (!c->eof) {
    int64_t left = deadline - now_ms();
    if (left <= 0) return false;
    struct pollfd pf = {.fd = c->fd, .events = POLLIN};
    int n = poll(&pf, 1, (int)left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    size_t room = c->in.cap_max - c->in.len;
    if (room > 65536) room = 65536;
    if (room == 0 || ve_buf_reserve(&c->in, room) < 0) return false;
    ssize_t r = recv(c->fd, c->in.ptr + c->in.len, room, 0);
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (r <= 0) {
      c->eof = true; /* EOF or reset */
      return false;
    }
    c->in.len += (size_t)r;
    return true;
  }
  return false;
}

/* Sends p[n]. With stop_on_answer, stops as soon as the server answers (a
 * refusal before the body, as a 413 is) — what a careful client does.
 * Returns the bytes sent. */
static size_t conn_send(conn_t *c, const uint8_t *p, size_t n, int64_t deadline, bool stop_on_answer) {
  size_t sent = 0;
  while (sent < n) {
    int64_t left = deadline - now_ms();
    if (left <= 0) break;
    struct pollfd pf = {.fd = c->fd, .events = (short)(POLLOUT | (stop_on_answer ? POLLIN : 0))};
    int k = poll(&pf, 1, (int)left);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) break;
    if (pf.revents & (POLLIN | POLLERR | POLLHUP)) break;
    ssize_t r = send(c->fd, p + sent, n - sent, MSG_NOSIGNAL);
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (r <= 0) break;
    sent += (size_t)r;
  }
  return sent;
}

static void resp_init(resp_t *r) {
  memset(r, 0, sizeof *r);
  ve_buf_init(&r->body, SW_BODY_BYTES_MAX);
}

static void resp_free(resp_t *r) { ve_buf_free(&r->body); }

static void header_value(const char *line, size_t len, char *out, size_t cap) {
  const char *v = memchr(line, ':', len);
  if (!v) return;
  v++;
  while (v < line + len && (*v == ' ' || *v == '\t')) v++;
  size_t n = (size_t)(line + len - v);
  if (n >= cap) n = cap - 1;
  memcpy(out, v, n);
  out[n] = 0;
}

/* Parses the head in c->in[0..head_len); fills r and *body_len (SIZE_MAX:
 * until the connection closes). Returns false with r->bad set if it is not
 * an answer this client understands. */
static bool parse_head(const conn_t *c, size_t head_len, bool no_body, resp_t *r, size_t *body_len) {
  const char *h = (const char *)c->in.ptr;
  int status = 0;
  if (head_len < 12 || memcmp(h, "HTTP/1.", 7) != 0 || sscanf(h + 9, "%3d", &status) != 1 || status < 100) {
    r->bad = "answer is not an HTTP/1.x status line";
    return false;
  }
  char cl[32] = "", te[32] = "", conn[32] = "";
  for (const char *line = strstr(h, "\r\n") + 2; line < h + head_len - 2;) {
    const char *end = strstr(line, "\r\n");
    if (!end) break; /* a NUL inside the head */
    size_t len = (size_t)(end - line);
    if (!strncasecmp(line, "content-type:", 13)) header_value(line, len, r->ctype, sizeof r->ctype);
    else if (!strncasecmp(line, "allow:", 6)) header_value(line, len, r->allow, sizeof r->allow);
    else if (!strncasecmp(line, "content-length:", 15)) header_value(line, len, cl, sizeof cl);
    else if (!strncasecmp(line, "transfer-encoding:", 18)) header_value(line, len, te, sizeof te);
    else if (!strncasecmp(line, "connection:", 11)) header_value(line, len, conn, sizeof conn);
    line = end + 2;
  }
  r->status = status;
  r->close = !strcasecmp(conn, "close");
  if (no_body || status < 200 || status == 204 || status == 304) *body_len = 0;
  else if (cl[0]) *body_len = (size_t)strtoull(cl, NULL, 10);
  else if (te[0]) {
    r->bad = "chunked answer (this server sends Content-Length)";
    return false;
  } else *body_len = SIZE_MAX;
  if (*body_len != SIZE_MAX && *body_len > SW_BODY_BYTES_MAX) {
    r->bad = "answer body over 16 MiB";
    return false;
  }
  return true;
}

/* Reads one final answer (interim 1xx answers are skipped). no_body: the
 * request was a HEAD. */
static void conn_answer(conn_t *c, bool no_body, int64_t deadline, resp_t *r) {
  for (;;) {
    const uint8_t *e;
    while (!(e = find(c->in.ptr, c->in.len, "\r\n\r\n"))) {
      if (c->in.len > SW_HEAD_BYTES_MAX) {
        r->bad = "answer head over 16 KiB";
        return;
      }
      if (!conn_fill(c, deadline)) {
        r->timed_out = !c->eof;
        return;
      }
    }
    size_t head_len = (size_t)(e - c->in.ptr) + 4, body_len;
    assert_int_equal(ve_buf_append(&c->in, "", 1), 0); /* a NUL after the bytes, for parsing */
    c->in.len--;
    if (!parse_head(c, head_len, no_body, r, &body_len)) return;
    while (body_len == SIZE_MAX ? !c->eof : c->in.len < head_len + body_len) {
      if (!conn_fill(c, deadline) && !(c->eof && body_len == SIZE_MAX)) {
        r->timed_out = !c->eof;
        r->status = 0;
        return;
      }
    }
    if (body_len == SIZE_MAX) body_len = c->in.len - head_len;
    bput(&r->body, c->in.ptr + head_len, body_len);
    size_t used = head_len + body_len;
    memmove(c->in.ptr, c->in.ptr + used, c->in.len - used);
    c->in.len -= used;
    if (r->status >= 200) return;
    r->status = 0; /* 100 Continue: the final answer follows */
    ve_buf_reset(&r->body);
  }
}

/* ---------------------------------------------------------------- requests */

static bool method_has_body(const char *m) { return !strcmp(m, "POST") || !strcmp(m, "PUT") || !strcmp(m, "PATCH"); }

/* "METHOD target HTTP/1.1", Host, Connection (close unless keep), the extra
 * header lines (each ending in \r\n), Content-Length (body_len, when there is
 * a body or the method takes one, unless extra frames the body itself), the
 * blank line, the body. */
static void req_build(ve_buf_t *out, const char *method, ve_slice_t target, bool keep, const char *extra,
                      const void *body, size_t body_len) {
  ve_buf_reset(out);
  bputs(out, method);
  bputs(out, " ");
  bput(out, target.ptr, target.len);
  bputs(out, " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  if (!keep) bputs(out, "Connection: close\r\n");
  if (extra) bputs(out, extra);
  bool framed = extra && (strstr(extra, "Content-Length:") || strstr(extra, "Transfer-Encoding:"));
  if (!framed && (body_len || method_has_body(method))) bprintf(out, "Content-Length: %zu\r\n", body_len);
  bputs(out, "\r\n");
  bput(out, body, body_len);
}

static ve_slice_t str_slice(const char *s) { return ve_slice(s, strlen(s)); }

/* ---------------------------------------------------------------- checking */

typedef enum {
  K_JSON,  /* answered by the API layer or a handler */
  K_HTTPD, /* may be refused by libmicrohttpd itself: its own HTML page, then close */
  K_LINE,  /* a request line libmicrohttpd cannot parse: as K_HTTPD, or closed
            * without a word (0.9.75 does that for whitespace inside the target) */
  K_DROP,  /* the server may end the connection without answering (documented) */
} kind_t;

typedef struct {
  const api_route_t *route; /* NULL: not aimed at one route */
  char what[200];
  kind_t kind;
  int want;               /* exact status, or 0 */
  const char *want_error; /* exact "error" of a 4xx ("a|b": any of them), or NULL */
  const char *allow;      /* a 405 must list these methods ("GET, PUT"), or NULL */
  bool head;              /* a HEAD request: answers carry no body */
  bool half_close;        /* the client stops sending after its bytes (vanishes mid-body) */
  bool junk_tx;           /* the body carries transactions no node may admit */
  int wait_ms;            /* deadline of the exchange; 0: by kind */
} case_t;

static void case_set(case_t *c, const api_route_t *route, kind_t kind, int want, const char *want_error,
                     const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void case_set(case_t *c, const api_route_t *route, kind_t kind, int want, const char *want_error,
                     const char *fmt, ...) {
  memset(c, 0, sizeof *c);
  c->route = route;
  c->kind = kind;
  c->want = want;
  c->want_error = want_error;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->what, sizeof c->what, fmt, ap);
  va_end(ap);
}

static void violation(const case_t *c, ve_slice_t req, const resp_t *r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void violation(const case_t *c, ve_slice_t req, const resp_t *r, const char *fmt, ...) {
  if (++g.violations > SW_VIOLATIONS_SHOWN || g.quiet) return;
  char msg[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "VIOLATION [%s %s] %s: %s\n", c->route ? c->route->method : "-",
          c->route ? c->route->pattern : "(wire)", c->what, msg);
  show("request", req.ptr, req.len);
  if (r) {
    fprintf(stderr, "    answer: status %d, content-type \"%s\", allow \"%s\"\n", r->status, r->ctype, r->allow);
    show("answer body", r->body.ptr, r->body.len);
  }
}

/* Does the comma-separated list have token m? */
static bool list_has(const char *list, const char *m) {
  size_t k = strlen(m);
  for (const char *p = list; (p = strstr(p, m)) != NULL; p += k) {
    bool start = p == list || p[-1] == ' ' || p[-1] == ',';
    if (start && (p[k] == 0 || p[k] == ',' || p[k] == ' ')) return true;
  }
  return false;
}

/* Is e one of the codes of set ("a|b|c")? */
static bool err_in(const char *set, const char *e) {
  if (!e || !e[0]) return false;
  size_t k = strlen(e);
  for (const char *p = set; p; p = strchr(p, '|') ? strchr(p, '|') + 1 : NULL)
    if (!strncmp(p, e, k) && (p[k] == 0 || p[k] == '|')) return true;
  return false;
}

/* A 2xx answer to junk transactions must admit none of them. */
static void check_not_admitted(const case_t *c, ve_slice_t req, const resp_t *r, json_t *j) {
  const char *st = json_string_value(json_object_get(j, "status"));
  json_t *acc = json_object_get(j, "accepted");
  if ((st && !strcmp(st, "accepted")) || (json_is_integer(acc) && json_integer_value(acc) > 0))
    violation(c, req, r, "a transaction no node may admit was accepted");
}

/* Checks one answer (or its absence) against the case. */
static void check(const case_t *c, ve_slice_t req, const resp_t *r) {
  g.requests++;
  if (r->bad) return violation(c, req, r, "%s", r->bad);
  if (r->status == 0) {
    if (c->kind == K_DROP || (c->kind == K_LINE && !r->timed_out)) {
      g.drops += c->kind == K_DROP;
      g.silent += c->kind == K_LINE;
      return;
    }
    return violation(c, req, r, r->timed_out ? "no answer within the deadline" : "connection closed without an answer");
  }
  g.status_class[r->status / 100 <= 5 ? r->status / 100 : 0]++;
  if (r->status >= 500 && r->status != c->want) return violation(c, req, r, "server error %d", r->status);
  if (r->status < 200) return violation(c, req, r, "status %d", r->status);
  if (c->want && r->status != c->want) return violation(c, req, r, "want status %d, got %d", c->want, r->status);
  bool is_json = !strncasecmp(r->ctype, "application/json", 16);
  json_t *j = NULL;
  if (is_json && !c->head) {
    j = json_loadb((const char *)r->body.ptr, r->body.len, 0, NULL);
    if (!j) return violation(c, req, r, "Content-Type is JSON but the body does not parse");
  }
  if (r->status >= 400 && !c->head) {
    const char *e = json_string_value(json_object_get(j, "error"));
    if (!is_json && c->kind != K_HTTPD && c->kind != K_LINE) violation(c, req, r, "a %d without a JSON body", r->status);
    else if (is_json && (!json_is_object(j) || !e || !e[0])) violation(c, req, r, "a %d without a string \"error\"", r->status);
    else if (c->want_error && !err_in(c->want_error, e))
      violation(c, req, r, "want error \"%s\", got \"%s\"", c->want_error, e ? e : "");
  }
  if (r->status == 405 && !r->allow[0]) {
    violation(c, req, r, "405 without Allow");
  } else if (r->status == 405) {
    char want[160];
    snprintf(want, sizeof want, "%s", c->allow ? c->allow : "");
    for (char *save = NULL, *m = strtok_r(want, ", ", &save); m; m = strtok_r(NULL, ", ", &save))
      if (!list_has(r->allow, m)) violation(c, req, r, "Allow \"%s\" does not list %s", r->allow, m);
  }
  if (c->junk_tx && r->status < 300 && j) check_not_admitted(c, req, r, j);
  json_decref(j);
}

/* Fails at once, naming the last request, if the node process has exited. */
static void node_alive(void) {
  siginfo_t si;
  if (node_exited(&si)) node_died(&si, g.last_what, ve_buf_slice(&g.last_req));
}

/* After an exchange that ended without an answer the node must still answer
 * the next request at once; if it does not, it is dying: wait for its exit
 * and blame the request just sent (not whichever comes next). */
static void probe_after_silence(void) {
  static const char H[] = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  conn_t k;
  conn_open(&k); /* refused: node_gone blames the last request */
  int64_t deadline = now_ms() + SW_TIMEOUT_MS;
  conn_send(&k, (const uint8_t *)H, sizeof H - 1, deadline, false);
  resp_t r;
  resp_init(&r);
  conn_answer(&k, false, deadline, &r);
  int st = r.status;
  resp_free(&r);
  conn_close(&k);
  if (st == 200) return;
  node_gone();
  fail_msg("the node does not answer GET /health (status %d) after [%s]", st, g.last_what);
}

/* Notes the request about to be sent, for node_gone's report. */
static void remember(const case_t *c, ve_slice_t req) {
  snprintf(g.last_what, sizeof g.last_what, "%s %s: %s", c->route ? c->route->method : "-",
           c->route ? c->route->pattern : "(wire)", c->what);
  ve_buf_reset(&g.last_req);
  bput(&g.last_req, req.ptr, req.len < SW_SHOW_BYTES ? req.len : SW_SHOW_BYTES);
}

/* Sends req on the open connection k and reads the answer into r (as the
 * case says: half-close, HEAD, deadline by kind). No check; asserts nothing
 * that can fail short of running out of memory (the concurrent phase's
 * threads call it). */
static void exchange(conn_t *k, const case_t *c, ve_slice_t req, resp_t *r) {
  int64_t deadline = now_ms() + (c->wait_ms ? c->wait_ms : c->kind == K_DROP ? SW_DROP_TIMEOUT_MS : SW_TIMEOUT_MS);
  conn_send(k, req.ptr, req.len, deadline, true);
  if (c->half_close) shutdown(k->fd, SHUT_WR);
  conn_answer(k, c->head, deadline, r);
}

/* One request on a fresh connection, checked; the answer is left in r (from
 * resp_init; the caller frees it) for checks of its own. */
static void run_keep(const case_t *c, ve_slice_t req, resp_t *r) {
  conn_t k;
  conn_open(&k);
  remember(c, req);
  int64_t t0 = now_ms();
  exchange(&k, c, req, r);
  check(c, req, r);
  int64_t took = now_ms() - t0;
  if (g.verbose || took > SW_SLOW_MS)
    fprintf(stderr, "api_sweep: %s[%s %s] %s -> %d%s in %lld ms\n", took > SW_SLOW_MS ? "SLOW " : "",
            c->route ? c->route->method : "-", c->route ? c->route->pattern : "(wire)", c->what, r->status,
            r->status ? "" : r->timed_out ? " (no answer, still open)" : " (closed, no answer)", (long long)took);
  bool silent = r->status == 0;
  conn_close(&k);
  if (silent) probe_after_silence();
  node_alive();
}

/* One request on a fresh connection, checked. */
static void run(const case_t *c, ve_slice_t req) {
  resp_t r;
  resp_init(&r);
  run_keep(c, req, &r);
  resp_free(&r);
}

/* A plain GET of a node path; answers 200 or the phase fails. */
static void health(const char *after) {
  case_t c;
  case_set(&c, NULL, K_JSON, 200, NULL, "GET /health after %s", after);
  ve_buf_t req;
  ve_buf_init(&req, 0);
  req_build(&req, "GET", str_slice("/health"), false, NULL, NULL, 0);
  run(&c, ve_buf_slice(&req));
  ve_buf_free(&req);
}

static void phase_begin(const char *name) {
  if (g.dead) fail_msg("the node died in an earlier phase");
  g.requests = g.violations = g.drops = g.silent = 0;
  memset(g.status_class, 0, sizeof g.status_class);
  fprintf(stderr, "api_sweep: phase %s\n", name);
}

static void phase_end(const char *name, int64_t t0) {
  fprintf(stderr,
          "api_sweep: phase %s: %zu requests in %lld ms: %zu 2xx, %zu 3xx, %zu 4xx, %zu 5xx, %zu dropped as "
          "documented, %zu request lines libmicrohttpd closed on without a word; %zu violations\n",
          name, g.requests, (long long)(now_ms() - t0), g.status_class[2], g.status_class[3], g.status_class[4],
          g.status_class[5], g.drops, g.silent, g.violations);
  if (g.violations) fail_msg("%zu violations in phase %s (the first %d printed above)", g.violations, name,
                             SW_VIOLATIONS_SHOWN);
}

/* ---------------------------------------------------------------- routes */

typedef struct {
  size_t n;
  char seg[API_PATH_SEGMENTS_MAX][64];
  bool param[API_PATH_SEGMENTS_MAX];
} pattern_t;

static void pattern_split(const char *pattern, pattern_t *p) {
  memset(p, 0, sizeof *p);
  for (const char *s = pattern + 1; *s;) {
    size_t len = strcspn(s, "/");
    assert_true(p->n < API_PATH_SEGMENTS_MAX && len < sizeof p->seg[0]);
    p->param[p->n] = s[0] == ':';
    memcpy(p->seg[p->n], s + p->param[p->n], len - p->param[p->n]);
    p->n++;
    s += len + (s[len] == '/');
  }
}

static size_t route_params(const api_route_t *r) {
  pattern_t p;
  pattern_split(r->pattern, &p);
  size_t k = 0;
  for (size_t i = 0; i < p.n; i++) k += p.param[i];
  return k;
}

/* The largest body the route takes (api.h: 0 means 8 MiB for POST/PUT/PATCH
 * and none for the other methods). */
static size_t route_body_max(const api_route_t *r) {
  if (r->body_bytes_max) return r->body_bytes_max;
  return method_has_body(r->method) ? API_BODY_BYTES_MAX : 0;
}

static bool route_json(const api_route_t *r) { return r->flags & API_ROUTE_JSON; }

/* A value of :name (after the literal prev) naming something that exists,
 * where the setup made one; else 64 zeros. */
static const char *param_value(const char *name, const char *prev) {
  static const char zeros[] = "0000000000000000000000000000000000000000000000000000000000000000";
  static char tx[SW_HEX];
  hex32(tx, g.setup_ids[0]);
  if (!strcmp(name, "id")) {
    if (!strcmp(prev, "txs")) return tx;
    if (!strcmp(prev, "identities")) return g.citizen_id;
    if (!strcmp(prev, "documents")) return g.doc_id;
    if (!strcmp(prev, "polls")) return g.poll_param ? g.poll_param : g.poll_id;
    if (!strcmp(prev, "trustees")) return g.trustee_id;
    return zeros;
  }
  if (!strcmp(name, "pk")) return g.citizen_pk;
  if (!strcmp(name, "voter") && g.voter_param) return g.voter_param;
  if (!strcmp(name, "identity") || !strcmp(name, "voter")) return g.citizen_id;
  if (!strcmp(name, "blob")) return g.blob_id;
  if (!strcmp(name, "alg")) return "sha256";
  if (!strcmp(name, "digest")) return g.digest;
  if (!strcmp(name, "height")) return "1";
  return zeros;
}

/* The route's path with every :param given its value, except the which-th
 * (counting params from 0), which becomes raw[raw_len] as given (SIZE_MAX:
 * none). A '$' in raw stands for the param's own value. */
static void route_path(const api_route_t *r, size_t which, const void *raw, size_t raw_len, ve_buf_t *out) {
  pattern_t p;
  pattern_split(r->pattern, &p);
  ve_buf_reset(out);
  size_t k = 0;
  for (size_t i = 0; i < p.n; i++) {
    bputs(out, "/");
    if (!p.param[i]) {
      bputs(out, p.seg[i]);
      continue;
    }
    const char *v = param_value(p.seg[i], i ? p.seg[i - 1] : "");
    if (k++ != which) {
      bputs(out, v);
      continue;
    }
    const uint8_t *s = raw;
    for (size_t j = 0; j < raw_len; j++) {
      if (s[j] == '$') bputs(out, v);
      else bput(out, &s[j], 1);
    }
  }
  if (p.n == 0) bputs(out, "/");
}

static const char *param_name(const api_route_t *r, size_t which) {
  static char name[64];
  pattern_t p;
  pattern_split(r->pattern, &p);
  for (size_t i = 0, k = 0; i < p.n; i++)
    if (p.param[i] && k++ == which) return strcpy(name, p.seg[i]);
  return "?";
}

/* The methods of every route whose pattern matches r's path with its values
 * (the router's rule: same segment count, equal literals), as "GET, PUT". */
static void route_methods(const api_route_t *r, char *out, size_t cap) {
  pattern_t mine, other;
  pattern_split(r->pattern, &mine);
  out[0] = 0;
  for (size_t i = 0; i < g.n_routes; i++) {
    pattern_split(g.routes[i].pattern, &other);
    bool match = other.n == mine.n;
    for (size_t s = 0; match && s < mine.n; s++) {
      if (other.param[s]) continue;
      const char *v = mine.param[s] ? param_value(mine.seg[s], s ? mine.seg[s - 1] : "") : mine.seg[s];
      match = !strcmp(v, other.seg[s]);
    }
    if (match && !list_has(out, g.routes[i].method))
      snprintf(out + strlen(out), cap - strlen(out), "%s%s", out[0] ? ", " : "", g.routes[i].method);
  }
}

/* ---------------------------------------------------------------- transactions */

static void tx_make(ve_buf_t *out, const char *chain, const vcrypto_keypair_t *kp, uint64_t seq, uint64_t expiry,
                    uint32_t type, ve_slice_t payload) {
  ledger_tx_t tx = {.version = LEDGER_TX_VERSION, .chain_id = ve_slice(chain, strlen(chain)), .seq = seq,
                    .expiry = expiry, .type = type, .payload = payload};
  assert_int_equal(ledger_tx_sign(&tx, kp), 0);
  ve_buf_reset(out);
  assert_int_equal(ledger_tx_encode(&tx, out), 0);
}

static char *hex_of(ve_slice_t s) {
  char *h = malloc(2 * s.len + 1);
  assert_non_null(h);
  ve_hex_encode(h, s.ptr, s.len);
  return h;
}

/* Adds a signed tx of the founding authority (next sequence) to a batch. */
static void batch_add(json_t *arr, const vcrypto_keypair_t *kp, uint64_t seq, uint32_t type, const ve_buf_t *p) {
  assert_true(g.n_setup < SW_SETUP_TXS_MAX);
  ve_buf_t tx;
  ve_buf_init(&tx, 0);
  tx_make(&tx, g.n.chain, kp, seq, 50000, type, ve_buf_slice(p));
  ledger_tx_id(g.setup_ids[g.n_setup++], ve_buf_slice(&tx));
  char *h = hex_of(ve_buf_slice(&tx));
  json_array_append_new(arr, json_string(h));
  free(h);
  ve_buf_free(&tx);
}

/* Submits the batch (the txs added since first) and waits until all commit. */
static void batch_commit(json_t *arr, size_t first) {
  size_t k = g.n_setup - first;
  json_t *r;
  int st = h_post(&g.n, "/v1/txs", json_pack("{s:o}", "txs", arr), &r);
  json_t *acc = json_object_get(r, "accepted");
  if (st != 200 || json_integer_value(acc) != (json_int_t)k) {
    char *d = json_dumps(r, JSON_COMPACT);
    fail_msg("setup batch refused (%d): %s", st, d ? d : "");
  }
  json_decref(r);
  assert_int_equal(h_wait_final(&g.n, g.setup_ids + first, k), k);
}

/* ---------------------------------------------------------------- setup */

static void setup_people(ve_buf_t *p) {
  uint8_t id[32], digest[32] = {0x5e};
  size_t first = g.n_setup;
  json_t *arr = json_array();
  h_seed_key(&g.citizen, 77, 0);
  assert_int_equal(identity_payload_register(p, g.citizen.pk, digest, NULL, 0), 0);
  batch_add(arr, &g.n.authority, g.n.seq++, TX_TYPE_IDENTITY_REGISTER, p);
  identity_id_from_pk(id, g.citizen.pk);
  hex32(g.citizen_id, id);
  hex32(g.citizen_pk, g.citizen.pk);
  for (uint32_t j = 0; j < 3; j++) {
    h_seed_key(&g.trustee[j], 77, 1 + j);
    ve_buf_reset(p);
    assert_int_equal(identity_payload_register(p, g.trustee[j].pk, digest, NULL, 0), 0);
    batch_add(arr, &g.n.authority, g.n.seq++, TX_TYPE_IDENTITY_REGISTER, p);
  }
  identity_id_from_pk(id, g.trustee[0].pk);
  hex32(g.trustee_id, id);
  batch_commit(arr, first);
}

/* Trustee roles and a document with a blob (registered by the founding
 * authority, which holds every role). Returns the document's key. */
static void setup_document(ve_buf_t *p, uint8_t key[DOCUMENTS_KEY_BYTES]) {
  size_t first = g.n_setup;
  json_t *arr = json_array();
  for (uint32_t j = 0; j < 3; j++) {
    uint8_t id[32];
    identity_id_from_pk(id, g.trustee[j].pk);
    ve_buf_reset(p);
    assert_int_equal(identity_payload_set_roles(p, id, ROLE_TRUSTEE), 0);
    uint32_t type = TX_TYPE_IDENTITY_SET_ROLES;
    h_council_wrap(&type, p);
    batch_add(arr, &g.n.authority, g.n.seq++, type, p);
  }
  uint8_t plain[3000], nonce[DOCUMENTS_NONCE_BYTES], issuer[32], doc[32];
  for (size_t i = 0; i < sizeof plain; i++) plain[i] = (uint8_t)rnd();
  for (size_t i = 0; i < DOCUMENTS_KEY_BYTES; i++) key[i] = (uint8_t)rnd();
  for (size_t i = 0; i < sizeof nonce; i++) nonce[i] = (uint8_t)rnd();
  documents_spec_t spec;
  memset(&spec, 0, sizeof spec);
  strcpy(spec.type, "permit");
  identity_id_from_pk(spec.subject, g.citizen.pk);
  assert_int_equal(documents_digest_file_bytes(&spec.digest, DOCUMENTS_ALG_SHA256, plain, sizeof plain), 0);
  ve_buf_init(&g.blob, 0);
  assert_int_equal(documents_blob_encrypt(&g.blob, spec.blob_id, plain, sizeof plain, key, nonce), 0);
  spec.has_blob = true;
  spec.blob_bytes = g.blob.len;
  ve_buf_reset(p);
  assert_int_equal(documents_payload_register(p, &spec), 0);
  batch_add(arr, &g.n.authority, g.n.seq++, TX_TYPE_DOCUMENT_REGISTER, p);
  identity_id_from_pk(issuer, g.n.authority.pk);
  documents_id(doc, issuer, &spec.digest);
  hex32(g.doc_id, doc);
  hex32(g.blob_id, spec.blob_id);
  hex32(g.digest, spec.digest.bytes);
  batch_commit(arr, first);
}

/* The trustees' keys and a grant of the document to the citizen; then the
 * blob's upload. */
static void setup_keys_grant(ve_buf_t *p, const uint8_t key[DOCUMENTS_KEY_BYTES]) {
  size_t first = g.n_setup;
  json_t *arr = json_array();
  for (uint32_t j = 0; j < 3; j++) {
    uint8_t id[32], seed[VOTE_SEED_BYTES], enc_seed[VOTE_SEED_BYTES];
    identity_id_from_pk(id, g.trustee[j].pk);
    memset(seed, 0x31 + (int)j, sizeof seed);
    memset(enc_seed, 0x41 + (int)j, sizeof enc_seed);
    vote_keypair_t enc;
    vote_keypair_from_seed(&enc, enc_seed);
    ve_buf_reset(p);
    assert_int_equal(voting_payload_trustee_key(p, ve_slice(g.n.chain, strlen(g.n.chain)), id, &enc, seed), 0);
    vote_keypair_wipe(&enc);
    batch_add(arr, &g.trustee[j], 1, TX_TYPE_POLL_TRUSTEE_KEY, p);
  }
  uint8_t doc[32], citizen[32], wrapped[DOCUMENTS_WRAPPED_KEY_BYTES], seed[DOCUMENTS_WRAP_SEED_BYTES];
  memset(seed, 0x51, sizeof seed);
  assert_int_equal(ve_hex_decode(doc, 32, g.doc_id), 0);
  identity_id_from_pk(citizen, g.citizen.pk);
  assert_int_equal(documents_key_wrap(wrapped, key, g.citizen.pk, seed), 0);
  ve_buf_reset(p);
  assert_int_equal(documents_payload_grant(p, doc, citizen, g.citizen.pk, wrapped), 0);
  batch_add(arr, &g.n.authority, g.n.seq++, TX_TYPE_DOCUMENT_GRANT, p);
  batch_commit(arr, first);
  char path[200];
  snprintf(path, sizeof path, "/v1/documents/%s/blob", g.doc_id);
  http_response_t r;
  assert_int_equal(http_request("127.0.0.1", g.n.port, "PUT", path, "application/octet-stream", g.blob.ptr,
                                g.blob.len, 10000, &r), 0);
  assert_int_equal(r.status, 201);
  http_response_free(&r);
}

/* A poll of the three trustees, left in its key generation (far heights). */
static void setup_poll(ve_buf_t *p) {
  voting_def_t d;
  memset(&d, 0, sizeof d);
  uint64_t h = h_height(&g.n);
  strcpy(d.title, "sweep");
  d.n_questions = 1;
  strcpy(d.q[0].text, "Which?");
  d.q[0].first = 0, d.q[0].options = 2, d.q[0].min = 1, d.q[0].max = 1;
  strcpy(d.option[0], "this");
  strcpy(d.option[1], "that");
  d.n_options = 2;
  d.deal_end = h + 100000, d.complaint_end = h + 100001, d.open_height = h + 100002, d.close_height = h + 200000;
  d.threshold = 2;
  d.n_trustees = 3;
  for (uint32_t j = 0; j < 3; j++) identity_id_from_pk(d.trustees[j], g.trustee[j].pk);
  ve_buf_reset(p);
  assert_int_equal(voting_payload_create(p, &d), 0);
  uint8_t poll[32];
  voting_poll_id(poll, g.n.authority.pk, g.n.seq);
  hex32(g.poll_id, poll);
  size_t first = g.n_setup;
  json_t *arr = json_array();
  batch_add(arr, &g.n.authority, g.n.seq++, TX_TYPE_POLL_CREATE, p);
  batch_commit(arr, first);
}

/* JSON of a GET that must answer 200 (a new reference). */
static json_t *get_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *get_ok(const char *fmt, ...) {
  char path[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(path, sizeof path, fmt, ap);
  va_end(ap);
  json_t *j = NULL;
  int st = h_get(&g.n, path, &j);
  if (st != 200) fail_msg("GET %s: want 200, got %d", path, st);
  return j;
}

/* ---------------------------------------------------------------- the open poll: setup */

/* A second poll, brought through its key generation to READY so that ballots
 * and decryption shares meet a poll in the state where they count: question 0
 * has 3 options (exactly one choice), question 1 has 2 (none to both); only
 * identities with district=d1 may vote. Its window is SW_VOTE_WINDOW_BLOCKS
 * blocks from open to close: the ballots phase runs inside it (it is the
 * first phase after the checker), the decryption phase after the close. */
#define SW_VOTERS 6               /* eligible (district d1); voter[SW_VOTERS] is in d2 */
#define SW_OPTIONS 5              /* both questions' options */
#define SW_EMPTY_BLOCK_MS 100     /* the node's heartbeat (config empty_block_ms) */
#define SW_VOTE_WINDOW_BLOCKS 120 /* open..close: about 12 s of empty blocks */
#define SW_DEAL_BLOCKS 8          /* creation..deal_end: time for the dealings to commit */
#define SW_HONEST_MAX 24          /* honest ballot txs kept (replays are made of them) */
#define SW_HOSTILE_MAX 64         /* inadmissible poll txs kept for the concurrent phase */
#define SW_HOSTILE_SEQ 1000       /* hostile txs use sequences from here (never consumed) */

static struct {
  uint8_t id[32];
  char hex[SW_HEX];
  uint8_t keygen_poll[32]; /* g.poll_id, the poll left in key generation */
  vcrypto_keypair_t voter[SW_VOTERS + 1];
  uint8_t voter_id[SW_VOTERS + 1][32];
  char voter_hex[SW_VOTERS + 1][SW_HEX];
  uint64_t vseq[SW_VOTERS + 1]; /* next sequence of each voter */
  uint64_t tseq[3];             /* next sequence of each trustee */
  vote_keypair_t enc[3];        /* the trustees' share-encryption keys */
  voting_poll_t p;              /* its record as last fetched */
  voting_tally_rec_t early;     /* its tally after the first round: stale by the close */
  bool have_early;
  /* what the honest voters did */
  uint8_t latest[SW_VOTERS][SW_OPTIONS]; /* each voter's counted choices */
  uint8_t tracker[SW_VOTERS][32];
  uint64_t revision[SW_VOTERS]; /* 0: has not voted */
  uint64_t ballots;             /* honest ballot txs committed */
  uint64_t settled;             /* the highest block an honest ballot committed in */
  ve_buf_t honest[SW_HONEST_MAX];
  size_t n_honest;
  ve_buf_t hostile[SW_HOSTILE_MAX];
  size_t n_hostile;
  uint64_t next_hostile_seq;
  json_t *done; /* GET /v1/polls/:id once DONE (without as_of_height) */
} op;

/* Trustee j's (0-based) share-encryption key, as setup_keys_grant published it. */
static void trustee_enc(vote_keypair_t *enc, uint32_t j) {
  uint8_t enc_seed[VOTE_SEED_BYTES];
  memset(enc_seed, 0x41 + (int)j, sizeof enc_seed);
  vote_keypair_from_seed(enc, enc_seed);
}

static void seed_of_rnd(uint8_t seed[32]) {
  for (size_t i = 0; i < 32; i++) seed[i] = (uint8_t)rnd();
}

/* The open poll's record (and tally if t) as the node serves them now. */
static void open_poll_fetch(voting_poll_t *p, voting_tally_rec_t *t) {
  json_t *j = get_ok("/v1/polls/%s", op.hex);
  const char *rec = json_string_value(json_object_get(j, "record"));
  const char *tr = json_string_value(json_object_get(j, "tally_record"));
  if (!rec || (t && !tr)) fail_msg("GET /v1/polls/%s: no record or tally_record", op.hex);
  size_t len = strlen(rec) / 2;
  uint8_t *b = malloc(len + 1);
  assert_non_null(b);
  assert_int_equal(ve_hex_decode(b, len, rec), 0);
  assert_int_equal(voting_poll_decode(ve_slice(b, len), op.id, p), 0);
  free(b);
  if (t) {
    len = strlen(tr) / 2;
    b = malloc(len + 1);
    assert_non_null(b);
    assert_int_equal(ve_hex_decode(b, len, tr), 0);
    assert_int_equal(voting_tally_decode(ve_slice(b, len), p->def.n_options, t), 0);
    free(b);
  }
  json_decref(j);
}

/* Voters: SW_VOTERS in district d1 and one in d2, registered by the authority. */
static void setup_voters(ve_buf_t *p) {
  size_t first = g.n_setup;
  json_t *arr = json_array();
  for (uint32_t v = 0; v <= SW_VOTERS; v++) {
    identity_attr_t a;
    memset(&a, 0, sizeof a);
    strcpy(a.key, "district");
    strcpy(a.value, v < SW_VOTERS ? "d1" : "d2");
    h_seed_key(&op.voter[v], 80, v);
    ve_buf_reset(p);
    assert_int_equal(identity_payload_register(p, op.voter[v].pk, (uint8_t[32]){0x7e}, &a, 1), 0);
    batch_add(arr, &g.n.authority, g.n.seq++, TX_TYPE_IDENTITY_REGISTER, p);
    identity_id_from_pk(op.voter_id[v], op.voter[v].pk);
    hex32(op.voter_hex[v], op.voter_id[v]);
    op.vseq[v] = 1;
  }
  batch_commit(arr, first);
}

/* Creates the poll, the three trustees deal (dealings made before the
 * creation commits: the poll id and the trustees' keys are known), and once
 * the complaint window has passed the organizer finishes the key generation. */
static void setup_open_poll(ve_buf_t *p) {
  setup_voters(p);
  assert_int_equal(ve_hex_decode(op.keygen_poll, 32, g.poll_id), 0);
  voting_def_t d;
  memset(&d, 0, sizeof d);
  uint64_t h = h_height(&g.n);
  strcpy(d.title, "sweep, open");
  d.n_questions = 2;
  strcpy(d.q[0].text, "Which line?");
  d.q[0].first = 0, d.q[0].options = 3, d.q[0].min = 1, d.q[0].max = 1;
  strcpy(d.q[1].text, "Which days?");
  d.q[1].first = 3, d.q[1].options = 2, d.q[1].min = 0, d.q[1].max = 2;
  static const char *const LABELS[SW_OPTIONS] = {"red", "green", "blue", "saturday", "sunday"};
  for (uint32_t o = 0; o < SW_OPTIONS; o++) strcpy(d.option[o], LABELS[o]);
  d.n_options = SW_OPTIONS;
  d.has_filter = true;
  strcpy(d.filter_key, "district");
  strcpy(d.filter_value, "d1");
  d.deal_end = h + SW_DEAL_BLOCKS, d.complaint_end = d.deal_end + 1, d.open_height = d.complaint_end + 2;
  d.close_height = d.open_height + SW_VOTE_WINDOW_BLOCKS;
  d.threshold = 2;
  d.n_trustees = 3;
  for (uint32_t j = 0; j < 3; j++) identity_id_from_pk(d.trustees[j], g.trustee[j].pk);
  ve_buf_reset(p);
  assert_int_equal(voting_payload_create(p, &d), 0);
  voting_poll_id(op.id, g.n.authority.pk, g.n.seq);
  hex32(op.hex, op.id);
  size_t first = g.n_setup;
  json_t *arr = json_array();
  batch_add(arr, &g.n.authority, g.n.seq++, TX_TYPE_POLL_CREATE, p);
  batch_commit(arr, first);
  /* dealings */
  uint8_t enc_pks[3][VOTE_POINT_BYTES], ctx[32];
  for (uint32_t j = 0; j < 3; j++) {
    trustee_enc(&op.enc[j], j);
    memcpy(enc_pks[j], op.enc[j].pk, VOTE_POINT_BYTES);
    op.tseq[j] = 2; /* 1 published the key */
  }
  voting_poll_context(ctx, ve_slice(g.n.chain, strlen(g.n.chain)), op.id);
  vote_dkg_params_t dp = {3, 2};
  first = g.n_setup;
  arr = json_array();
  for (uint32_t j = 1; j <= 3; j++) {
    ve_buf_t dealing;
    ve_buf_init(&dealing, 0);
    uint8_t seed[32];
    seed_of_rnd(seed);
    assert_int_equal(vote_dkg_deal(&dealing, &dp, j, (const uint8_t(*)[32])enc_pks, ctx, 32, seed), 0);
    ve_buf_reset(p);
    assert_int_equal(voting_payload_deal(p, op.id, ve_buf_slice(&dealing)), 0);
    batch_add(arr, &g.trustee[j - 1], op.tseq[j - 1]++, TX_TYPE_POLL_DKG_DEAL, p);
    ve_buf_free(&dealing);
  }
  batch_commit(arr, first);
  h_wait_height(&g.n, d.complaint_end, SW_SETTLE_MS + SW_DEAL_BLOCKS * SW_EMPTY_BLOCK_MS * 4);
  ve_buf_reset(p);
  assert_int_equal(voting_payload_finish(p, op.id), 0);
  first = g.n_setup;
  arr = json_array();
  batch_add(arr, &g.n.authority, g.n.seq++, TX_TYPE_POLL_DKG_FINISH, p);
  batch_commit(arr, first);
  open_poll_fetch(&op.p, NULL);
  if (op.p.status != VOTING_READY || op.p.qualified != 7)
    fail_msg("the open poll is %s with qualified dealers 0x%x after its key generation",
             voting_status_name(op.p.status), op.p.qualified);
  fprintf(stderr, "api_sweep: poll %s READY; open at height %llu, close at %llu\n", op.hex,
          (unsigned long long)op.p.def.open_height, (unsigned long long)op.p.def.close_height);
}

/* The facts the sweep must leave as they are: each setup tx's result and its
 * block header, the citizen's identity and the document records. */
static void record_facts(void) {
  for (size_t i = 0; i < g.n_setup; i++) {
    char id[SW_HEX];
    hex32(id, g.setup_ids[i]);
    g.setup_results[i] = get_ok("/v1/txs/%s", id);
    const char *st = json_string_value(json_object_get(g.setup_results[i], "status"));
    if (!st || strcmp(st, "committed")) fail_msg("setup tx %zu is %s", i, st ? st : "?");
    json_t *b = get_ok("/v1/blocks/%lld", (long long)json_integer_value(json_object_get(g.setup_results[i], "height")));
    g.setup_headers[i] = json_incref(json_object_get(b, "header"));
    json_decref(b);
  }
  g.identity = get_ok("/v1/identities/%s", g.citizen_id);
  json_object_del(g.identity, "as_of_height");
  g.document = get_ok("/v1/documents/%s", g.doc_id);
  json_object_del(g.document, "as_of_height");
  json_object_del(g.document, "as_of_time_ms");
  json_object_del(g.document, "verdict"); /* depends on the tip's time */
  json_decref(get_ok("/v1/polls/%s", g.poll_id));
  json_decref(get_ok("/v1/documents/%s/grants/%s", g.doc_id, g.citizen_id));
}

static void junk_add(const char *name, ve_slice_t bytes, bool committed) {
  assert_true(g.n_junk < SW_JUNK_TXS_MAX);
  junk_tx_t *j = &g.junk[g.n_junk++];
  snprintf(j->name, sizeof j->name, "%s", name);
  ve_buf_init(&j->bytes, 0);
  bput(&j->bytes, bytes.ptr, bytes.len);
  ledger_tx_id(j->id, bytes);
  j->committed_before = committed;
}

/* Transactions that no node may admit, each for a reason the admission
 * checks name (docs/api.md "POST /v1/txs"). None consumes a sequence. */
static void make_junk_txs(ve_buf_t *p) {
  ve_buf_t tx;
  ve_buf_init(&tx, 0);
  vcrypto_keypair_t stranger;
  h_seed_key(&stranger, 78, 0);
  ve_buf_reset(p);
  assert_int_equal(identity_payload_register(p, stranger.pk, (uint8_t[32]){1}, NULL, 0), 0);
  uint64_t next = g.n.seq;
  tx_make(&tx, "veche-other-1", &g.n.authority, next, 50000, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(p));
  junk_add("wrong chain id", ve_buf_slice(&tx), false);
  tx_make(&tx, g.n.chain, &g.n.authority, next, 50000, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(p));
  tx.ptr[tx.len - 1] ^= 0x01;
  junk_add("bad signature (last byte)", ve_buf_slice(&tx), false);
  tx.ptr[tx.len - 1] ^= 0x01;
  tx.ptr[tx.len / 2] ^= 0x10;
  junk_add("bad signature (a payload byte)", ve_buf_slice(&tx), false);
  tx.ptr[tx.len / 2] ^= 0x10;
  ve_buf_t tr;
  ve_buf_init(&tr, 0);
  bput(&tr, tx.ptr, tx.len);
  bput(&tr, "\0", 1);
  junk_add("trailing byte", ve_buf_slice(&tr), false);
  junk_add("truncated", ve_slice(tx.ptr, tx.len - 7), false);
  junk_add("cut to its first byte", ve_slice(tx.ptr, 1), false);
  ve_buf_free(&tr);
  tx_make(&tx, g.n.chain, &g.n.authority, 1, 50000, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(p));
  junk_add("stale sequence", ve_buf_slice(&tx), false);
  tx_make(&tx, g.n.chain, &g.n.authority, next, 1, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(p));
  junk_add("expired", ve_buf_slice(&tx), false);
  tx_make(&tx, g.n.chain, &g.n.authority, next, 50000, 0x7777, ve_buf_slice(p));
  junk_add("unknown type", ve_buf_slice(&tx), false);
  tx_make(&tx, g.n.chain, &stranger, 1, 50000, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(p));
  junk_add("unknown signer", ve_buf_slice(&tx), false);
  ve_buf_reset(p);
  assert_int_equal(identity_payload_register(p, g.citizen.pk, (uint8_t[32]){2}, NULL, 0), 0);
  tx_make(&tx, g.n.chain, &g.n.authority, next, 50000, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(p));
  junk_add("registers a registered key", ve_buf_slice(&tx), false);
  ve_buf_reset(p);
  bputs(p, "\x07garbage payload");
  tx_make(&tx, g.n.chain, &g.n.authority, next, 50000, TX_TYPE_DOCUMENT_REGISTER, ve_buf_slice(p));
  junk_add("malformed payload", ve_buf_slice(&tx), false);
  /* The citizen's registration again, byte for byte: a replay. */
  ve_buf_reset(p);
  assert_int_equal(identity_payload_register(p, g.citizen.pk, (uint8_t[32]){0x5e}, NULL, 0), 0);
  tx_make(&tx, g.n.chain, &g.n.authority, 1, 50000, TX_TYPE_IDENTITY_REGISTER, ve_buf_slice(p));
  uint8_t id[32];
  ledger_tx_id(id, ve_buf_slice(&tx));
  assert_memory_equal(id, g.setup_ids[0], 32);
  junk_add("replay of a committed tx", ve_buf_slice(&tx), true);
  junk_add("empty", ve_slice("", 0), false);
  ve_buf_reset(&tx);
  for (size_t i = 0; i <= VE_TX_BYTES_MAX; i++) bput(&tx, "\x01", 1);
  junk_add("over VE_TX_BYTES_MAX", ve_buf_slice(&tx), false);
  for (int k = 0; k < 4; k++) {
    ve_buf_reset(&tx);
    size_t len = 1 + rnd_below(400);
    for (size_t i = 0; i < len; i++) {
      uint8_t b = (uint8_t)rnd();
      bput(&tx, &b, 1);
    }
    junk_add("random bytes", ve_buf_slice(&tx), false);
  }
  vcrypto_keypair_wipe(&stranger);
  ve_buf_free(&tx);
}

static int group_setup(void **state) {
  (void)state;
  const char *env = getenv("VECHE_SEED");
  g.seed = env ? strtoull(env, NULL, 0) : ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid();
  g.rng = g.seed ? g.seed : 1;
  g.verbose = getenv("VECHE_SWEEP_VERBOSE") != NULL;
  ve_buf_init(&g.last_req, 0);
  pthread_mutex_init(&g.lock, NULL);
  fprintf(stderr, "api_sweep: seed %llu (VECHE_SEED=%llu replays)\n", (unsigned long long)g.seed,
          (unsigned long long)g.seed);
  g.n_routes = node_routes_collect(g.routes, NODE_ROUTES_MAX);
  h_node_init(&g.n, g_veche);
  h_config_set(&g.n, "empty_block_ms", json_integer(SW_EMPTY_BLOCK_MS)); /* the poll's phases pass in seconds */
  h_node_start(&g.n);
  ve_buf_t p;
  ve_buf_init(&p, 0);
  uint8_t key[DOCUMENTS_KEY_BYTES];
  setup_people(&p);
  setup_document(&p, key);
  setup_keys_grant(&p, key);
  setup_poll(&p);
  setup_open_poll(&p);
  make_junk_txs(&p);
  ve_buf_free(&p);
  record_facts();
  g.height_before = h_height(&g.n);
  fprintf(stderr, "api_sweep: %zu routes; %zu setup txs committed by height %llu; node log %s/node.log\n",
          g.n_routes, g.n_setup, (unsigned long long)g.height_before, g.n.dir);
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  if (g.n.pid) h_node_stop(&g.n);
  h_node_cleanup(&g.n);
  for (size_t i = 0; i < g.n_setup; i++) json_decref(g.setup_results[i]), json_decref(g.setup_headers[i]);
  json_decref(g.identity);
  json_decref(g.document);
  for (size_t i = 0; i < g.n_junk; i++) ve_buf_free(&g.junk[i].bytes);
  for (size_t i = 0; i < op.n_honest; i++) ve_buf_free(&op.honest[i]);
  for (size_t i = 0; i < op.n_hostile; i++) ve_buf_free(&op.hostile[i]);
  json_decref(op.done);
  for (size_t v = 0; v <= SW_VOTERS; v++) vcrypto_keypair_wipe(&op.voter[v]);
  for (int j = 0; j < 3; j++) vote_keypair_wipe(&op.enc[j]);
  pthread_mutex_destroy(&g.lock);
  ve_buf_free(&g.blob);
  ve_buf_free(&g.last_req);
  vcrypto_keypair_wipe(&g.citizen);
  for (int j = 0; j < 3; j++) vcrypto_keypair_wipe(&g.trustee[j]);
  return 0;
}

/* ---------------------------------------------------------------- sweep: params */

/* Path parameter values. '$' is the param's own (valid) value. want/err: the
 * API layer's documented answer (docs/api.md), or 0/NULL (the handler's). */
static const struct {
  const char *v;
  int want;
  const char *err;
} PARAM_JUNK[] = {
    {"", 404, "not_found"}, /* an empty segment matches no route */
    {"$/", 404, "not_found"},
    {"x", 0, NULL}, {"0", 0, NULL}, {"-1", 0, NULL}, {"-0", 0, NULL}, {"+1", 0, NULL}, {"00", 0, NULL},
    {"01", 0, NULL}, {"1e3", 0, NULL}, {"0x1f", 0, NULL}, {"1.5", 0, NULL}, {"%2B1", 0, NULL}, {"%2D1", 0, NULL},
    {"18446744073709551615", 0, NULL}, {"18446744073709551614", 0, NULL}, {"18446744073709551616", 0, NULL},
    {"99999999999999999999999999999999", 0, NULL}, {"-9223372036854775809", 0, NULL}, {"9223372036854775808", 0, NULL},
    {"latest", 0, NULL}, {"LATEST", 0, NULL}, {"null", 0, NULL}, {"missing", 0, NULL}, {"by-digest", 0, NULL},
    {"%20", 0, NULL}, {"%201", 0, NULL}, {"1%20", 0, NULL}, {"%09", 400, "bad_request"},
    {"%00", 400, "bad_request"}, {"$%00", 400, "bad_request"}, {"%0a", 400, "bad_request"},
    {"%0d%0a", 400, "bad_request"}, {"%7f", 400, "bad_request"}, {"%1b", 400, "bad_request"},
    {"%zz", 400, "bad_request"}, {"%", 400, "bad_request"}, {"%4", 400, "bad_request"}, {"$%", 400, "bad_request"},
    {"%g0", 400, "bad_request"}, {"%2f", 0, NULL}, {"%2F..%2F..%2Fetc%2Fpasswd", 0, NULL}, {"..", 0, NULL},
    {".", 0, NULL}, {"%2e%2e", 0, NULL}, {"%ff%fe%fd", 0, NULL}, {"%c0%af", 0, NULL}, {"%e2%80%ae", 0, NULL},
    {"%ed%a0%80", 0, NULL}, {"%61%62", 0, NULL}, {"*", 0, NULL}, {"'%20OR%201=1--", 0, NULL}, {"%22", 0, NULL},
    {"%5C", 0, NULL}, {"%7B%7D", 0, NULL}, {"$0", 0, NULL}, {"$$", 0, NULL}, {"0$", 0, NULL}, {"$%20", 0, NULL},
    {"$;x", 0, NULL}, {"$#frag", 0, NULL}, {"%30%30$", 0, NULL}, {"%3F", 0, NULL}, {"%23", 0, NULL},
    {"~", 0, NULL}, {"@", 0, NULL}, {"a:b", 0, NULL}, {"%25", 0, NULL}, {"%2525", 0, NULL},
};

/* Raw bytes in the request line (libmicrohttpd decides about these). */
static const char *const RAW_BYTES[] = {"\x00", " ", "\t", "\r", "\n", "\x01", "\x7f", "\x80", "\xff", "\"", "<>", "\\",
                                        "{}", "|", "^", "`"};

static void param_case(const api_route_t *r, size_t which, const void *raw, size_t raw_len, kind_t kind, int want,
                       const char *err, const char *label, ve_buf_t *path, ve_buf_t *req) {
  route_path(r, which, raw, raw_len, path);
  case_t c;
  case_set(&c, r, kind, want, err, ":%s = %s", param_name(r, which), label);
  if (path->len > API_URL_BYTES_MAX && kind == K_JSON) c.want = 414, c.want_error = "uri_too_long";
  req_build(req, r->method, ve_buf_slice(path), false, NULL, NULL, 0);
  run(&c, ve_buf_slice(req));
}

/* A value of fixed length len made of unit repeated. */
static void long_value(ve_buf_t *v, const char *unit, size_t len) {
  ve_buf_reset(v);
  while (v->len + strlen(unit) <= len) bputs(v, unit);
}

static const char RANDOM_PIECES[][5] = {"0", "1", "9", "a", "f", "A", "F", "g", "z", "-", "+", ".", "%",
                                        "%00", "%2f", "%ff", "%41", "%", "~", "_", "!", "$", "&", "'",
                                        "(", ")", "*", ",", ";", "=", ":", "@", "/", "%20", "%7f", "..",
                                        "%25", "%c3", "%a9", "0000"};

static void random_value(ve_buf_t *v) {
  ve_buf_reset(v);
  size_t pieces = 1 + rnd_below(rnd_below(4) ? 12 : 120);
  for (size_t i = 0; i < pieces; i++) bputs(v, RANDOM_PIECES[rnd_below(sizeof RANDOM_PIECES / sizeof RANDOM_PIECES[0])]);
}

static void sweep_params(const api_route_t *r) {
  ve_buf_t path, req, v;
  ve_buf_init(&path, 0);
  ve_buf_init(&req, 0);
  ve_buf_init(&v, 0);
  char label[64];
  for (size_t which = 0; which < route_params(r); which++) {
    for (size_t i = 0; i < sizeof PARAM_JUNK / sizeof PARAM_JUNK[0]; i++)
      param_case(r, which, PARAM_JUNK[i].v, strlen(PARAM_JUNK[i].v), K_JSON, PARAM_JUNK[i].want, PARAM_JUNK[i].err,
                 PARAM_JUNK[i].v[0] ? PARAM_JUNK[i].v : "(empty)", &path, &req);
    /* wrong lengths and non-hex where 64 hex characters are expected */
    static const struct {
      const char *unit;
      size_t len;
    } SHAPES[] = {{"a", 62}, {"a", 63}, {"a", 65}, {"a", 66}, {"ab", 128}, {"g", 64}, {"AB", 64}, {"0", 64},
                  {"f", 64}, {"%41", 3 * 64}, {"9", 19}, {"9", 20}, {"9", 21}, {"9", 40}, {"0", 20}};
    for (size_t i = 0; i < sizeof SHAPES / sizeof SHAPES[0]; i++) {
      long_value(&v, SHAPES[i].unit, SHAPES[i].len);
      snprintf(label, sizeof label, "%zu x \"%s\"", v.len / strlen(SHAPES[i].unit), SHAPES[i].unit);
      param_case(r, which, v.ptr, v.len, K_JSON, 0, NULL, label, &path, &req);
    }
    /* long: within the target limit, just over it, far over it (the handler,
     * 414, then libmicrohttpd's own limit of the request line) */
    route_path(r, which, "", 0, &path);
    size_t base = path.len;
    static const size_t LONG[] = {1000, API_URL_BYTES_MAX - 1, API_URL_BYTES_MAX, API_URL_BYTES_MAX + 1, 4096};
    for (size_t i = 0; i < sizeof LONG / sizeof LONG[0]; i++) {
      long_value(&v, "f", LONG[i] - base);
      snprintf(label, sizeof label, "%zu characters (target %zu bytes)", v.len, LONG[i]);
      param_case(r, which, v.ptr, v.len, K_JSON, 0, NULL, label, &path, &req);
    }
    long_value(&v, "%41", 3 * 600);
    param_case(r, which, v.ptr, v.len, K_JSON, 0, NULL, "600 x %41", &path, &req);
    long_value(&v, "f", 100000);
    param_case(r, which, v.ptr, v.len, K_HTTPD, 0, NULL, "100000 characters", &path, &req);
    for (size_t i = 0; i < sizeof RAW_BYTES / sizeof RAW_BYTES[0]; i++) {
      size_t len = RAW_BYTES[i][0] ? strlen(RAW_BYTES[i]) : 1;
      snprintf(label, sizeof label, "raw byte 0x%02x in the request line", (uint8_t)RAW_BYTES[i][0]);
      ve_buf_reset(&v);
      bputs(&v, "$");
      bput(&v, RAW_BYTES[i], len);
      bputs(&v, "0");
      param_case(r, which, v.ptr, v.len, K_LINE, 0, NULL, label, &path, &req);
    }
    for (int k = 0; k < SW_RANDOM_PER_SLOT; k++) {
      random_value(&v);
      snprintf(label, sizeof label, "random \"%.*s\"", v.len > 40 ? 40 : (int)v.len, (const char *)v.ptr);
      param_case(r, which, v.ptr, v.len, K_JSON, 0, NULL, label, &path, &req);
    }
  }
  ve_buf_free(&path);
  ve_buf_free(&req);
  ve_buf_free(&v);
}

/* ---------------------------------------------------------------- sweep: methods */

static const char *const METHODS[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"};
/* Methods outside what the router knows: libmicrohttpd passes them on and the
 * router answers 405 (control bytes and 3000 characters included). */
static const char *const ODD_METHODS[] = {"FOO", "get", "Get", "CONNECT", "PROPFIND", "M-SEARCH", "GETT",
                                          "AAAAAAAAAAAAAAAAA", /* 17: over the router's method buffer */
                                          "POST\x01", "G;T"};

static void sweep_methods(const api_route_t *r) {
  char allow[160];
  route_methods(r, allow, sizeof allow);
  ve_buf_t path, req, big;
  ve_buf_init(&path, 0);
  ve_buf_init(&req, 0);
  ve_buf_init(&big, 0);
  route_path(r, SIZE_MAX, NULL, 0, &path);
  bool any_405 = false;
  for (size_t i = 0; i < sizeof METHODS / sizeof METHODS[0]; i++) {
    const char *m = METHODS[i];
    bool served = list_has(allow, m) || (!strcmp(m, "HEAD") && list_has(allow, "GET"));
    case_t c;
    if (served) case_set(&c, r, K_JSON, 0, NULL, "method %s (served)", m);
    else case_set(&c, r, K_JSON, 405, "method_not_allowed", "method %s (not served)", m);
    c.allow = allow;
    c.head = !strcmp(m, "HEAD");
    any_405 |= !served;
    req_build(&req, m, ve_buf_slice(&path), false, NULL, NULL, 0);
    run(&c, ve_buf_slice(&req));
    if (served) continue;
    /* not served, with a body: refused before it is read */
    case_set(&c, r, K_JSON, 405, "method_not_allowed", "method %s (not served) with a JSON body", m);
    c.allow = allow;
    c.head = !strcmp(m, "HEAD");
    req_build(&req, m, ve_buf_slice(&path), false, "Content-Type: application/json\r\n", "{\"tx\":\"00\"}", 11);
    run(&c, ve_buf_slice(&req));
  }
  assert_true(any_405); /* so this route was shown to be served by the binary */
  for (size_t i = 0; i < sizeof ODD_METHODS / sizeof ODD_METHODS[0]; i++) {
    case_t c;
    case_set(&c, r, K_JSON, 405, "method_not_allowed", "method \"%s\"", ODD_METHODS[i]);
    c.allow = allow;
    req_build(&req, ODD_METHODS[i], ve_buf_slice(&path), false, NULL, NULL, 0);
    run(&c, ve_buf_slice(&req));
  }
  long_value(&big, "X", 3000);
  assert_int_equal(ve_buf_append(&big, "", 1), 0);
  case_t c;
  case_set(&c, r, K_JSON, 405, "method_not_allowed", "a 3000-character method");
  c.allow = allow;
  req_build(&req, (const char *)big.ptr, ve_buf_slice(&path), false, NULL, NULL, 0);
  run(&c, ve_buf_slice(&req));
  ve_buf_free(&path);
  ve_buf_free(&req);
  ve_buf_free(&big);
}

/* ---------------------------------------------------------------- sweep: queries */

static const char *const QUERY_NAMES[] = {"raw", "from", "limit", "height", "key", "after", "offset", "length",
                                          "count", "cts", "id"};
static const char *const QUERY_VALUES[] = {"", "0", "1", "-1", "01", "18446744073709551615", "18446744073709551616",
                                           "99999999999999999999999", "zz", "1e3", "%20", "%ff%fe", "%zz", "%",
                                           "latest", "@HEX64", "@HEX63", "@HEX66", "@LONG", "+1", "1%00"};

static void query_value(ve_buf_t *out, const char *v) {
  if (!strcmp(v, "@HEX64")) long_value(out, "ab", 64);
  else if (!strcmp(v, "@HEX63")) long_value(out, "a", 63);
  else if (!strcmp(v, "@HEX66")) long_value(out, "a", 66);
  else if (!strcmp(v, "@LONG")) long_value(out, "f", 1500);
  else ve_buf_reset(out), bputs(out, v);
}

/* One request: r's own method and path, then "?" and q. */
static void query_case(const api_route_t *r, const char *q, size_t q_len, int want, const char *err,
                       const char *label, ve_buf_t *path, ve_buf_t *req) {
  route_path(r, SIZE_MAX, NULL, 0, path);
  bputs(path, "?");
  bput(path, q, q_len);
  case_t c;
  case_set(&c, r, K_JSON, want, err, "query %s", label);
  if (path->len > API_URL_BYTES_MAX) c.want = 414, c.want_error = "uri_too_long";
  /* POST/PUT routes get an empty body: the layer or the handler refuses it. */
  req_build(req, r->method, ve_buf_slice(path), false, route_json(r) ? "Content-Type: application/json\r\n" : NULL,
            NULL, 0);
  run(&c, ve_buf_slice(req));
}

static void sweep_queries(const api_route_t *r) {
  ve_buf_t path, req, q, v;
  ve_buf_init(&path, 0);
  ve_buf_init(&req, 0);
  ve_buf_init(&q, 0);
  ve_buf_init(&v, 0);
  char label[96];
  for (size_t n = 0; n < sizeof QUERY_NAMES / sizeof QUERY_NAMES[0]; n++) {
    for (size_t i = 0; i < sizeof QUERY_VALUES / sizeof QUERY_VALUES[0]; i++) {
      query_value(&v, QUERY_VALUES[i]);
      ve_buf_reset(&q);
      bprintf(&q, "%s=", QUERY_NAMES[n]);
      bput(&q, v.ptr, v.len);
      bool nul = strstr(QUERY_VALUES[i], "%00") != NULL;
      snprintf(label, sizeof label, "%s=%.40s", QUERY_NAMES[n], QUERY_VALUES[i]);
      query_case(r, (const char *)q.ptr, q.len, nul ? 400 : 0, nul ? "bad_request" : NULL, label, &path, &req);
    }
  }
  static const struct {
    const char *q;
    int want;
    const char *err;
  } JUNK[] = {{"", 0, NULL},        {"&&&", 0, NULL},          {"=", 0, NULL},       {"==", 0, NULL},
              {"=1", 0, NULL},      {"raw=1&raw=0", 0, NULL},  {"%zz=1", 0, NULL},   {"%00=1", 400, "bad_request"},
              {"a=%00", 400, "bad_request"}, {"raw=1#frag", 0, NULL}, {"?", 0, NULL}, {"a=1;b=2", 0, NULL},
              {"%3F=%3D", 0, NULL}, {"a[]=1&a[]=2", 0, NULL}, {"from=1&from=2&limit=3&limit=999", 0, NULL},
              {"key=&height=", 0, NULL}, {"height=0", 0, NULL}, {"height=1", 0, NULL}};
  for (size_t i = 0; i < sizeof JUNK / sizeof JUNK[0]; i++)
    query_case(r, JUNK[i].q, strlen(JUNK[i].q), JUNK[i].want, JUNK[i].err, JUNK[i].q[0] ? JUNK[i].q : "(empty)", &path,
               &req);
  /* API_QUERY_ARGS_MAX arguments pass the layer; one more is a 400. */
  for (int n = API_QUERY_ARGS_MAX; n <= API_QUERY_ARGS_MAX + 1; n++) {
    ve_buf_reset(&q);
    for (int i = 0; i < n; i++) bprintf(&q, "%sa%d=%d", i ? "&" : "", i, i);
    snprintf(label, sizeof label, "%d arguments", n);
    query_case(r, (const char *)q.ptr, q.len, n > API_QUERY_ARGS_MAX ? 400 : 0,
               n > API_QUERY_ARGS_MAX ? "bad_request" : NULL, label, &path, &req);
  }
  long_value(&q, "x", 3000);
  query_case(r, (const char *)q.ptr, q.len, 414, "uri_too_long", "3000 characters", &path, &req);
  for (int k = 0; k < SW_RANDOM_PER_SLOT; k++) {
    ve_buf_reset(&q);
    size_t args = 1 + rnd_below(4);
    for (size_t a = 0; a < args; a++) {
      bprintf(&q, "%s%s=", a ? "&" : "", QUERY_NAMES[rnd_below(sizeof QUERY_NAMES / sizeof QUERY_NAMES[0])]);
      random_value(&v);
      for (size_t i = 0; i < v.len; i++) /* '#' and '&' are structure here, not junk */
        if (v.ptr[i] == '&' || v.ptr[i] == '#') v.ptr[i] = '_';
      bput(&q, v.ptr, v.len);
    }
    bool nul = find(q.ptr, q.len, "%00") != NULL;
    snprintf(label, sizeof label, "random \"%.*s\"", q.len > 50 ? 50 : (int)q.len, (const char *)q.ptr);
    query_case(r, (const char *)q.ptr, q.len, nul ? 400 : 0, nul ? "bad_request" : NULL, label, &path, &req);
  }
  ve_buf_free(&path);
  ve_buf_free(&req);
  ve_buf_free(&q);
  ve_buf_free(&v);
}

/* ---------------------------------------------------------------- sweep: bodies */

typedef enum { B_BAD_JSON, B_DEEP, B_JSON, B_EMPTY } body_class_t;

/* The answer docs/api.md promises for a body of class cls sent with a JSON
 * content type (json_ct) or another: *want 0 means "the handler decides". */
static void body_expect(const api_route_t *r, body_class_t cls, bool json_ct, size_t len, int *want,
                        const char **err) {
  *want = 0, *err = NULL;
  if (len > route_body_max(r)) *want = 413, *err = "too_big";
  else if (route_json(r) && !json_ct) *want = 415, *err = "unsupported_media_type";
  else if (!json_ct) return;
  else if (cls == B_BAD_JSON || (cls == B_EMPTY && route_json(r))) *want = 400, *err = "malformed_json";
  else if (cls == B_DEEP) *want = 400, *err = "too_deep";
}

static void body_case(const api_route_t *r, const char *label, const char *ct, const void *body, size_t len,
                      body_class_t cls, ve_buf_t *path, ve_buf_t *req) {
  case_t c;
  int want;
  const char *err;
  const char *t = ct;
  while (t && (*t == ' ' || *t == '\t')) t++; /* as the server reads it */
  bool json_ct = t && !strncasecmp(t, "application/json", 16) && (t[16] == 0 || t[16] == ';' || t[16] == ' ');
  body_expect(r, cls, json_ct, len, &want, &err);
  case_set(&c, r, K_JSON, want, err, "body %s (Content-Type %s)", label, ct ? ct : "none");
  char extra[160] = "";
  if (ct) snprintf(extra, sizeof extra, "Content-Type: %s\r\n", ct);
  route_path(r, SIZE_MAX, NULL, 0, path);
  req_build(req, r->method, ve_buf_slice(path), false, extra, body, len);
  run(&c, ve_buf_slice(req));
}

static void deep(ve_buf_t *b, const char *open, const char *close, size_t depth, bool closed) {
  ve_buf_reset(b);
  brepeat(b, open, depth);
  if (closed) brepeat(b, close, depth);
}

static void sweep_json_bodies(const api_route_t *r, ve_buf_t *path, ve_buf_t *req) {
  static const struct {
    const char *label, *body;
    body_class_t cls;
  } BODIES[] = {
      {"\"{\"", "{", B_BAD_JSON},
      {"\"[1,\"", "[1,", B_BAD_JSON},
      {"\"nul\"", "nul", B_BAD_JSON},
      {"{\"tx\":}", "{\"tx\":}", B_BAD_JSON},
      {"single quotes", "{'tx':'00'}", B_BAD_JSON},
      {"trailing comma", "{\"tx\":\"00\",}", B_BAD_JSON},
      {"trailing bytes", "{} x", B_BAD_JSON},
      {"two documents", "{}{}", B_BAD_JSON},
      {"duplicate keys", "{\"tx\":\"00\",\"tx\":\"01\"}", B_BAD_JSON},
      {"a number", "1", B_BAD_JSON},
      {"a string", "\"tx\"", B_BAD_JSON},
      {"null", "null", B_BAD_JSON},
      {"invalid UTF-8", "{\"tx\":\"\xff\xfe\"}", B_BAD_JSON},
      {"overlong UTF-8", "{\"tx\":\"\xc0\xaf\"}", B_BAD_JSON},
      {"escaped NUL", "{\"tx\":\"\\u0000\"}", B_BAD_JSON},
      {"lone surrogate", "{\"tx\":\"\\ud800\"}", B_BAD_JSON},
      {"bad escape", "{\"tx\":\"\\x41\"}", B_BAD_JSON},
      {"control byte in a string", "{\"tx\":\"a\x01\"}", B_BAD_JSON},
      {"huge real", "{\"tx\":1e999999}", B_BAD_JSON},
      {"integer overflow", "{\"txs\":[-9223372036854775809]}", B_BAD_JSON},
      {"BOM", "\xef\xbb\xbf{}", B_BAD_JSON},
      {"whitespace only", " \r\n\t ", B_BAD_JSON},
      {"{}", "{}", B_JSON},
      {"[]", "[]", B_JSON},
      {"{\"tx\":1}", "{\"tx\":1}", B_JSON},
      {"{\"tx\":\"\"}", "{\"tx\":\"\"}", B_JSON},
      {"{\"tx\":\"0\"}", "{\"tx\":\"0\"}", B_JSON},
      {"{\"tx\":\"zz\"}", "{\"tx\":\"zz\"}", B_JSON},
      {"{\"tx\":null}", "{\"tx\":null}", B_JSON},
      {"{\"tx\":[\"00\"]}", "{\"tx\":[\"00\"]}", B_JSON},
      {"{\"txs\":[]}", "{\"txs\":[]}", B_JSON},
      {"{\"txs\":\"00\"}", "{\"txs\":\"00\"}", B_JSON},
      {"{\"txs\":[1,null,{},[],true]}", "{\"txs\":[1,null,{},[],true]}", B_JSON},
      {"{\"tx\":\"00\",\"txs\":[\"00\"]}", "{\"tx\":\"00\",\"txs\":[\"00\"]}", B_JSON},
      {"[\"00\"]", "[\"00\"]", B_JSON},
      {"unknown fields", "{\"x\":1,\"y\":{\"z\":[1,2,3]}}", B_JSON},
      {"1e308", "{\"tx\":1e308,\"txs\":-1}", B_JSON},
  };
  for (size_t i = 0; i < sizeof BODIES / sizeof BODIES[0]; i++)
    body_case(r, BODIES[i].label, "application/json", BODIES[i].body, strlen(BODIES[i].body), BODIES[i].cls, path,
              req);
  body_case(r, "empty", "application/json", NULL, 0, B_EMPTY, path, req);
  ve_buf_t b;
  ve_buf_init(&b, 0);
  char label[96];
  /* depth: the limit passes, one more is too deep, far more (unclosed) too */
  for (size_t d = API_JSON_DEPTH_MAX; d <= API_JSON_DEPTH_MAX + 1; d++) {
    deep(&b, "[", "]", d, true);
    snprintf(label, sizeof label, "arrays nested %zu deep", d);
    body_case(r, label, "application/json", b.ptr, b.len, d > API_JSON_DEPTH_MAX ? B_DEEP : B_JSON, path, req);
    ve_buf_reset(&b);
    for (size_t k = 0; k < d; k++) bputs(&b, "{\"a\":");
    bputs(&b, "1");
    brepeat(&b, "}", d);
    snprintf(label, sizeof label, "objects nested %zu deep", d);
    body_case(r, label, "application/json", b.ptr, b.len, d > API_JSON_DEPTH_MAX ? B_DEEP : B_JSON, path, req);
  }
  deep(&b, "[", "]", 200000, false);
  body_case(r, "200000 unclosed [", "application/json", b.ptr, b.len, B_DEEP, path, req);
  ve_buf_reset(&b);
  bputs(&b, "[\"");
  brepeat(&b, "[{", 5000);
  bputs(&b, "\"]");
  body_case(r, "brackets inside a string", "application/json", b.ptr, b.len, B_JSON, path, req);
  /* content types */
  static const char *const CTS[] = {"text/plain", "application/jsonx", "application/json-patch+json",
                                    "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                                    "APPLICATION/JSON", "application/json; charset=utf-8", "application/json;",
                                    " application/json", "application/json\x01"};
  for (size_t i = 0; i < sizeof CTS / sizeof CTS[0]; i++) {
    snprintf(label, sizeof label, "{\"tx\":\"00\"} as \"%s\"", CTS[i]);
    body_case(r, label, CTS[i], "{\"tx\":\"00\"}", 11, B_JSON, path, req);
  }
  body_case(r, "{\"tx\":\"00\"} without Content-Type", NULL, "{\"tx\":\"00\"}", 11, B_JSON, path, req);
  body_case(r, "\"{\" without Content-Type", NULL, "{", 1, B_BAD_JSON, path, req);
  /* big but within the limit: a 4 MiB hex string, and 20,001 array items */
  if (route_body_max(r) >= ((size_t)5 << 20) && route_json(r)) {
    ve_buf_reset(&b);
    bputs(&b, "{\"tx\":\"");
    brepeat(&b, "ab", (size_t)2 << 20);
    bputs(&b, "\"}");
    body_case(r, "a 4 MiB hex tx", "application/json", b.ptr, b.len, B_JSON, path, req);
    ve_buf_reset(&b);
    bputs(&b, "{\"txs\":[\"00\"");
    brepeat(&b, ",\"00\"", 20000);
    bputs(&b, "]}");
    body_case(r, "20001 items", "application/json", b.ptr, b.len, B_JSON, path, req);
  }
  for (int k = 0; k < SW_RANDOM_PER_SLOT; k++) {
    static const char *const TOK[] = {"{", "}", "[", "]", ",", ":", "\"tx\"", "\"txs\"", "\"00\"", "1", "-", "null",
                                      "true", "\"", "\\", "e", "\xff", " "};
    ve_buf_reset(&b);
    size_t n = 1 + rnd_below(60);
    for (size_t i = 0; i < n; i++) bputs(&b, TOK[rnd_below(sizeof TOK / sizeof TOK[0])]);
    int want;
    const char *err;
    body_expect(r, B_JSON, true, b.len, &want, &err); /* the class is unknown: only 413/415 are certain */
    case_t c;
    case_set(&c, r, K_JSON, want == 413 ? 413 : 0, want == 413 ? err : NULL, "random JSON-ish body \"%.*s\"",
             b.len > 50 ? 50 : (int)b.len, (const char *)b.ptr);
    route_path(r, SIZE_MAX, NULL, 0, path);
    req_build(req, r->method, ve_buf_slice(path), false, "Content-Type: application/json\r\n", b.ptr, b.len);
    run(&c, ve_buf_slice(req));
  }
  ve_buf_free(&b);
}

/* Bodies whose framing lies or breaks the limits. */
static void sweep_framing(const api_route_t *r, ve_buf_t *path, ve_buf_t *req) {
  size_t max = route_body_max(r);
  const char *ct = route_json(r) ? "Content-Type: application/json\r\n" : "Content-Type: application/octet-stream\r\n";
  char extra[256];
  case_t c;
  route_path(r, SIZE_MAX, NULL, 0, path);
  ve_buf_t body;
  ve_buf_init(&body, 0);
  /* Content-Length over the limit, with 1 KiB of it sent: 413 at once, then close. */
  snprintf(extra, sizeof extra, "%sContent-Length: %zu\r\n", ct, max + 1);
  long_value(&body, "{", 1024);
  case_set(&c, r, K_JSON, 413, "too_big", "Content-Length %zu (limit + 1), 1 KiB sent", max + 1);
  req_build(req, r->method, ve_buf_slice(path), false, extra, body.ptr, body.len);
  run(&c, ve_buf_slice(req));
  snprintf(extra, sizeof extra, "%sContent-Length: %zu\r\nExpect: 100-continue\r\n", ct, max + 1);
  case_set(&c, r, K_JSON, 413, "too_big", "Content-Length %zu with Expect: 100-continue", max + 1);
  req_build(req, r->method, ve_buf_slice(path), false, extra, NULL, 0);
  run(&c, ve_buf_slice(req));
  /* Content-Length values libmicrohttpd or the layer must refuse */
  static const char *const BAD_CL[] = {"18446744073709551616", "99999999999999999999999999", "-1", "abc", "1 2",
                                       "0x10", "+5", "18446744073709551615"};
  for (size_t i = 0; i < sizeof BAD_CL / sizeof BAD_CL[0]; i++) {
    snprintf(extra, sizeof extra, "%sContent-Length: %s\r\n", ct, BAD_CL[i]);
    case_set(&c, r, K_HTTPD, 0, NULL, "Content-Length \"%s\"", BAD_CL[i]);
    req_build(req, r->method, ve_buf_slice(path), false, extra, "{}", 2);
    run(&c, ve_buf_slice(req));
  }
  snprintf(extra, sizeof extra, "%sContent-Length: 2\r\nContent-Length: 5\r\n", ct);
  case_set(&c, r, K_HTTPD, 0, NULL, "two different Content-Length");
  req_build(req, r->method, ve_buf_slice(path), false, extra, "{}", 2);
  run(&c, ve_buf_slice(req));
  snprintf(extra, sizeof extra, "%sContent-Length: 2\r\nTransfer-Encoding: chunked\r\n", ct);
  case_set(&c, r, K_HTTPD, 0, NULL, "Content-Length and chunked together");
  req_build(req, r->method, ve_buf_slice(path), false, extra, "2\r\n{}\r\n0\r\n\r\n", 12);
  run(&c, ve_buf_slice(req));
  /* Content-Length shorter than the body: the rest would be the next request. */
  snprintf(extra, sizeof extra, "%sContent-Length: 3\r\n", ct);
  case_set(&c, r, K_JSON, max ? 0 : 413, max ? NULL : "too_big", "Content-Length 3, 11 bytes sent");
  req_build(req, r->method, ve_buf_slice(path), false, extra, "{\"tx\":\"00\"}", 11);
  run(&c, ve_buf_slice(req));
  /* Content-Length longer than the body, then the client stops sending. */
  snprintf(extra, sizeof extra, "%sContent-Length: %zu\r\n", ct, max ? (max < 1000 ? max : 1000) : 1000);
  case_set(&c, r, max ? K_DROP : K_JSON, max ? 0 : 413, max ? NULL : "too_big",
           "Content-Length 1000, 11 bytes sent, then the client half-closes");
  c.half_close = true;
  c.wait_ms = max ? SW_LEAVE_WAIT_MS : 0;
  req_build(req, r->method, ve_buf_slice(path), false, extra, "{\"tx\":\"00\"}", 11);
  run(&c, ve_buf_slice(req));
  /* chunked: well formed; broken framing; over the limit */
  snprintf(extra, sizeof extra, "%sTransfer-Encoding: chunked\r\n", ct);
  case_set(&c, r, K_JSON, max ? 0 : 413, max ? NULL : "too_big", "chunked {\"tx\":\"00\"}");
  const char *chunked = "5\r\n{\"tx\"\r\n6\r\n:\"00\"}\r\n0\r\n\r\n";
  req_build(req, r->method, ve_buf_slice(path), false, extra, chunked, strlen(chunked));
  run(&c, ve_buf_slice(req));
  static const char *const BAD_CHUNKS[] = {"zz\r\n{}\r\n0\r\n\r\n", "ffffffffffffffffffff\r\n{}\r\n0\r\n\r\n",
                                           "-2\r\n{}\r\n0\r\n\r\n", "2\r\n{}XX0\r\n\r\n"};
  for (size_t i = 0; i < sizeof BAD_CHUNKS / sizeof BAD_CHUNKS[0]; i++) {
    case_set(&c, r, max ? K_HTTPD : K_JSON, max ? 0 : 413, max ? NULL : "too_big", "broken chunked framing #%zu", i);
    req_build(req, r->method, ve_buf_slice(path), false, extra, BAD_CHUNKS[i], strlen(BAD_CHUNKS[i]));
    run(&c, ve_buf_slice(req));
  }
  if (max) { /* stream limit + 64 KiB in chunks: the server drops the connection */
    size_t chunk = chunked_over(&body, max);
    case_set(&c, r, K_DROP, 0, NULL, "chunked body over the limit (%zu bytes)", max + chunk);
    req_build(req, r->method, ve_buf_slice(path), false, extra, body.ptr, body.len);
    run(&c, ve_buf_slice(req));
  } else {
    case_set(&c, r, K_JSON, 413, "too_big", "chunked body on a route that takes none");
    req_build(req, r->method, ve_buf_slice(path), false, extra, "2\r\n{}\r\n0\r\n\r\n", 12);
    run(&c, ve_buf_slice(req));
  }
  ve_buf_free(&body);
  health("the framing cases");
}

/* The junk transactions: as {"tx": hex} and in one {"txs": [...]} (JSON
 * routes), or in the binary batch framing (other routes with a body). */
static void sweep_junk_txs(const api_route_t *r, ve_buf_t *path, ve_buf_t *req) {
  if (!route_body_max(r)) return;
  route_path(r, SIZE_MAX, NULL, 0, path);
  ve_buf_t b;
  ve_buf_init(&b, 0);
  case_t c;
  json_t *all = json_array();
  for (size_t i = 0; i < g.n_junk; i++) {
    const junk_tx_t *j = &g.junk[i];
    char *h = hex_of(ve_buf_slice(&j->bytes));
    json_array_append_new(all, json_string(h));
    ve_buf_reset(&b);
    if (route_json(r)) {
      bprintf(&b, "{\"tx\":\"%s\"}", h);
    } else {
      uint8_t v[20];
      size_t k = 0;
      v[k++] = 1;
      for (uint64_t x = j->bytes.len; k == 1 || x; x >>= 7) v[k++] = (uint8_t)((x & 0x7f) | (x >> 7 ? 0x80 : 0));
      bput(&b, v, k);
      bput(&b, j->bytes.ptr, j->bytes.len);
    }
    free(h);
    case_set(&c, r, K_JSON, 0, NULL, "tx: %s", j->name);
    c.junk_tx = true;
    req_build(req, r->method, ve_buf_slice(path), false,
              route_json(r) ? "Content-Type: application/json\r\n" : "Content-Type: application/octet-stream\r\n", b.ptr,
              b.len);
    run(&c, ve_buf_slice(req));
  }
  json_t *batch = json_pack("{s:o}", "txs", all);
  char *d = json_dumps(batch, JSON_COMPACT);
  json_decref(batch);
  assert_non_null(d);
  if (route_json(r)) {
    case_set(&c, r, K_JSON, 0, NULL, "all %zu junk txs in one batch", g.n_junk);
    c.junk_tx = true;
    req_build(req, r->method, ve_buf_slice(path), false, "Content-Type: application/json\r\n", d, strlen(d));
    run(&c, ve_buf_slice(req));
  }
  free(d);
  /* binary batch framing that breaks its own rules (docs/api.md "/v1/txs/raw") */
  static const struct {
    const char *label;
    const char *bytes;
    size_t len;
  } FRAMES[] = {{"count 0", "\x00", 1},
                {"count 1, nothing after", "\x01", 1},
                {"count 2, one tx", "\x02\x01\x00", 3},
                {"non-minimal count", "\x81\x00\x01\x00", 4},
                {"count 20001", "\xa1\x9c\x01\x01\x00", 5},
                {"count 2^64", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10},
                {"count of 11 bytes", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11},
                {"length over VE_TX_BYTES_MAX", "\x01\x81\x80\x04", 4},
                {"length 2^63", "\x01\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10},
                {"trailing byte", "\x01\x01\x00\x00", 4},
                {"cut length", "\x01\x80", 2}};
  if (!route_json(r)) {
    for (size_t i = 0; i < sizeof FRAMES / sizeof FRAMES[0]; i++) {
      case_set(&c, r, K_JSON, 0, NULL, "binary batch: %s", FRAMES[i].label);
      c.junk_tx = true;
      req_build(req, r->method, ve_buf_slice(path), false, "Content-Type: application/octet-stream\r\n",
                FRAMES[i].bytes, FRAMES[i].len);
      run(&c, ve_buf_slice(req));
    }
    ve_buf_reset(&b);
    uint8_t count = 0; /* every junk tx within VE_TX_BYTES_MAX, so that the framing passes */
    for (size_t i = 0; i < g.n_junk; i++) count += g.junk[i].bytes.len <= VE_TX_BYTES_MAX;
    bput(&b, &count, 1);
    for (size_t i = 0; i < g.n_junk; i++) {
      if (g.junk[i].bytes.len > VE_TX_BYTES_MAX) continue;
      uint8_t v[10];
      size_t k = 0;
      for (uint64_t x = g.junk[i].bytes.len; k == 0 || x; x >>= 7) v[k++] = (uint8_t)((x & 0x7f) | (x >> 7 ? 0x80 : 0));
      bput(&b, v, k);
      bput(&b, g.junk[i].bytes.ptr, g.junk[i].bytes.len);
    }
    case_set(&c, r, K_JSON, 0, NULL, "binary batch of %u junk txs", count);
    c.junk_tx = true;
    req_build(req, r->method, ve_buf_slice(path), false, "Content-Type: application/octet-stream\r\n", b.ptr, b.len);
    run(&c, ve_buf_slice(req));
  }
  ve_buf_free(&b);
}

static void sweep_bodies(const api_route_t *r) {
  ve_buf_t path, req;
  ve_buf_init(&path, 0);
  ve_buf_init(&req, 0);
  sweep_json_bodies(r, &path, &req);
  sweep_framing(r, &path, &req);
  sweep_junk_txs(r, &path, &req);
  ve_buf_free(&path);
  ve_buf_free(&req);
}

/* ---------------------------------------------------------------- sweep: keep-alive */

/* Requests on one connection: junk, then good ones, then /health. */
static size_t keepalive_requests(const api_route_t *r, ve_buf_t *reqs, case_t *cases, char *allow, size_t allow_cap) {
  ve_buf_t path;
  ve_buf_init(&path, 0);
  route_methods(r, allow, allow_cap);
  size_t n = 0;
  const char *wrong = NULL;
  for (size_t i = 0; i < sizeof METHODS / sizeof METHODS[0] && !wrong; i++)
    if (!list_has(allow, METHODS[i]) && strcmp(METHODS[i], "HEAD")) wrong = METHODS[i];
  route_path(r, SIZE_MAX, NULL, 0, &path);
  case_set(&cases[n], r, K_JSON, 405, "method_not_allowed", "keep-alive: method %s", wrong);
  cases[n].allow = allow;
  req_build(&reqs[n++], wrong, ve_buf_slice(&path), true, NULL, NULL, 0);
  if (route_params(r)) {
    route_path(r, 0, "%zz", 3, &path);
    case_set(&cases[n], r, K_JSON, 400, "bad_request", "keep-alive: :%s = %%zz", param_name(r, 0));
    req_build(&reqs[n++], r->method, ve_buf_slice(&path), true, NULL, NULL, 0);
    route_path(r, 0, "$%20", 4, &path);
    case_set(&cases[n], r, K_JSON, 0, NULL, "keep-alive: :%s = $%%20", param_name(r, 0));
    req_build(&reqs[n++], r->method, ve_buf_slice(&path), true, NULL, NULL, 0);
  }
  route_path(r, SIZE_MAX, NULL, 0, &path);
  bputs(&path, "?a=%00");
  case_set(&cases[n], r, K_JSON, 400, "bad_request", "keep-alive: query a=%%00");
  req_build(&reqs[n++], r->method, ve_buf_slice(&path), true, NULL, NULL, 0);
  route_path(r, SIZE_MAX, NULL, 0, &path);
  case_set(&cases[n], r, K_JSON, 0, NULL, "keep-alive: the route itself");
  if (route_json(r)) req_build(&reqs[n++], r->method, ve_buf_slice(&path), true, "Content-Type: application/json\r\n", "{}", 2);
  else req_build(&reqs[n++], r->method, ve_buf_slice(&path), true, NULL, NULL, 0);
  if (!strcmp(r->method, "GET")) {
    case_set(&cases[n], r, K_JSON, 0, NULL, "keep-alive: HEAD");
    cases[n].head = true;
    req_build(&reqs[n++], "HEAD", ve_buf_slice(&path), true, NULL, NULL, 0);
  }
  if (route_body_max(r) == 0) {
    case_set(&cases[n], r, K_JSON, 413, "too_big", "keep-alive: a body on a route that takes none");
    req_build(&reqs[n++], r->method, ve_buf_slice(&path), true, "Content-Type: application/json\r\n", "{}", 2);
  }
  case_set(&cases[n], NULL, K_JSON, 200, NULL, "keep-alive: GET /health last");
  req_build(&reqs[n++], "GET", str_slice("/health"), true, NULL, NULL, 0);
  ve_buf_free(&path);
  return n;
}

#define KEEPALIVE_MAX 10

/* Sends the requests one by one (pipelined: all at once) on one connection.
 * Each must be answered in order. The server may end the connection only
 * after an answer that says so (Connection: close, as after a 413 with a body
 * announced); the client then opens another and goes on. */
static void keepalive_run(const api_route_t *r, bool pipelined) {
  ve_buf_t reqs[KEEPALIVE_MAX];
  case_t cases[KEEPALIVE_MAX];
  char allow[160];
  for (size_t i = 0; i < KEEPALIVE_MAX; i++) ve_buf_init(&reqs[i], 0);
  size_t n = keepalive_requests(r, reqs, cases, allow, sizeof allow);
  assert_true(n <= KEEPALIVE_MAX);
  conn_t k;
  conn_open(&k);
  int64_t deadline = now_ms() + SW_TIMEOUT_MS;
  if (pipelined) {
    ve_buf_t all;
    ve_buf_init(&all, 0);
    for (size_t i = 0; i < n; i++) bput(&all, reqs[i].ptr, reqs[i].len);
    assert_int_equal(conn_send(&k, all.ptr, all.len, deadline, false), all.len);
    ve_buf_free(&all);
  }
  for (size_t i = 0; i < n; i++) {
    snprintf(cases[i].what + strlen(cases[i].what), sizeof cases[i].what - strlen(cases[i].what), " (%s, #%zu)",
             pipelined ? "pipelined" : "one by one", i);
    remember(&cases[i], ve_buf_slice(&reqs[i]));
    if (!pipelined) conn_send(&k, reqs[i].ptr, reqs[i].len, deadline, false);
    resp_t a;
    resp_init(&a);
    conn_answer(&k, cases[i].head, deadline, &a);
    check(&cases[i], ve_buf_slice(&reqs[i]), &a);
    if (a.status == 0) probe_after_silence();
    node_alive();
    bool closed = a.close || a.status == 0;
    resp_free(&a);
    if (!closed) continue;
    if (pipelined) break; /* the rest was sent on the closed connection; one-by-one covers it */
    conn_close(&k);
    conn_open(&k);
  }
  conn_close(&k);
  for (size_t i = 0; i < KEEPALIVE_MAX; i++) ve_buf_free(&reqs[i]);
}

/* ---------------------------------------------------------------- sweep: the wire */

static void wire_case(kind_t kind, int want, const char *err, const char *label, const void *bytes, size_t len) {
  case_t c;
  case_set(&c, NULL, kind, want, err, "%s", label);
  run(&c, ve_slice(bytes, len));
}

#define LIT(s) s, sizeof(s) - 1

static void sweep_wire(void) {
  static const struct {
    const char *label, *bytes;
    size_t len;
    kind_t kind;
    int want;
    bool half_close; /* bytes after which libmicrohttpd waits for more: the client then leaves */
  } WIRE[] = {
      {"no Host in HTTP/1.1", LIT("GET /health HTTP/1.1\r\nConnection: close\r\n\r\n"), K_HTTPD, 400, false},
      {"HTTP/1.0 without Host", LIT("GET /health HTTP/1.0\r\n\r\n"), K_JSON, 200, false},
      {"HTTP/0.9 request line", LIT("GET /health\r\n\r\n"), K_HTTPD, 400, false},
      {"lower-case version", LIT("GET /health http/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), K_LINE, 400, false},
      {"double space", LIT("GET  /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), K_LINE, 0, false},
      {"a space inside the target", LIT("GET /hea lth HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), K_LINE, 0, false},
      {"a fourth word", LIT("GET /health HTTP/1.1 x\r\nHost: x\r\nConnection: close\r\n\r\n"), K_LINE, 400, false},
      {"LF line ends", LIT("GET /health HTTP/1.1\nHost: x\nConnection: close\n\n"), K_LINE, 0, false},
      {"absolute-form target", LIT("GET http://127.0.0.1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), K_HTTPD, 400, false},
      {"asterisk target", LIT("OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), K_HTTPD, 400, false},
      {"empty target", LIT("GET  HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), K_LINE, 400, false},
      {"target without /", LIT("GET health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), K_HTTPD, 400, false},
      {"NUL inside the target", LIT("GET /hea\0lth HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), K_LINE, 404, false},
      {"leading blank lines", LIT("\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), K_HTTPD, 0, false},
      {"header without colon", LIT("GET /health HTTP/1.1\r\nHost: x\r\nBroken\r\nConnection: close\r\n\r\n"), K_HTTPD, 400, false},
      {"header name with space", LIT("GET /health HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\nConnection: close\r\n\r\n"), K_HTTPD, 0, false},
      {"folded header", LIT("GET /health HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  continued\r\nConnection: close\r\n\r\n"), K_HTTPD, 0, false},
      {"two Host headers", LIT("GET /health HTTP/1.1\r\nHost: x\r\nHost: y\r\nConnection: close\r\n\r\n"), K_HTTPD, 0, false},
      {"TLS ClientHello", LIT("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"), K_DROP, 0, true},
      {"binary junk", LIT("\x00\x01\x02\x03\xff\xfe\r\n\r\n"), K_DROP, 0, true},
      {"HTTP/2 preface", LIT("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), K_HTTPD, 505, false},
  };
  for (size_t i = 0; i < sizeof WIRE / sizeof WIRE[0]; i++) {
    case_t c;
    case_set(&c, NULL, WIRE[i].kind, WIRE[i].want, NULL, "%s", WIRE[i].label);
    c.half_close = WIRE[i].half_close;
    if (c.half_close) c.wait_ms = SW_LEAVE_WAIT_MS;
    run(&c, ve_slice(WIRE[i].bytes, WIRE[i].len));
  }
  /* versions: libmicrohttpd answers 505 for one it does not speak (docs/api.md) */
  static const struct {
    const char *v;
    int want;
  } VERSIONS[] = {{"HTTP/1.2", 0}, {"HTTP/2.0", 505}, {"HTTP/9.9", 505}, {"HTTP/1.10", 400}, {"HTTP/1", 400},
                  {"HTTPS/1.1", 400}};
  ve_buf_t b;
  ve_buf_init(&b, 0);
  char label[96];
  for (size_t i = 0; i < sizeof VERSIONS / sizeof VERSIONS[0]; i++) {
    ve_buf_reset(&b);
    bprintf(&b, "GET /health %s\r\nHost: x\r\nConnection: close\r\n\r\n", VERSIONS[i].v);
    snprintf(label, sizeof label, "version %s", VERSIONS[i].v);
    wire_case(K_LINE, VERSIONS[i].want, NULL, label, b.ptr, b.len);
  }
  /* headers: API_HEADERS_MAX pass, one more is 431; huge ones */
  for (int n = API_HEADERS_MAX - 2; n <= API_HEADERS_MAX + 1; n++) {
    ve_buf_reset(&b);
    bputs(&b, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
    for (int i = 0; i < n - 2; i++) bprintf(&b, "X-H%d: %d\r\n", i, i);
    bputs(&b, "\r\n");
    snprintf(label, sizeof label, "%d headers", n);
    wire_case(K_JSON, n > API_HEADERS_MAX ? 431 : 200, n > API_HEADERS_MAX ? "too_many_headers" : NULL, label, b.ptr,
              b.len);
  }
  ve_buf_reset(&b);
  bputs(&b, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: ");
  brepeat(&b, "a", 70000);
  bputs(&b, "\r\n\r\n");
  wire_case(K_HTTPD, 431, NULL, "a 70 KB header", b.ptr, b.len);
  ve_buf_reset(&b);
  bputs(&b, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
  for (int i = 0; i < 3000; i++) bprintf(&b, "X-%d: %d\r\n", i, i);
  bputs(&b, "\r\n");
  wire_case(K_HTTPD, 431, NULL, "3000 headers", b.ptr, b.len);
  ve_buf_reset(&b);
  bputs(&b, "GET /health HTTP/1.1\r\nHost: x\r\nX-N: a");
  bput(&b, "\0", 1);
  bputs(&b, "b\r\nConnection: close\r\n\r\n");
  wire_case(K_HTTPD, 0, NULL, "NUL in a header value", b.ptr, b.len);
  ve_buf_reset(&b);
  bputs(&b, "GET /");
  brepeat(&b, "a", 100000);
  bputs(&b, " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  wire_case(K_HTTPD, 414, NULL, "a 100 KB target", b.ptr, b.len);
  /* a client that vanishes mid-request line / mid-headers */
  static const char *const CUT[] = {"GET /hea", "GET /health HTTP/1.1\r\nHost: x\r\nX-A: "};
  for (size_t i = 0; i < sizeof CUT / sizeof CUT[0]; i++) {
    case_t c;
    case_set(&c, NULL, K_DROP, 0, NULL, "client half-closes after \"%s\"", CUT[i]);
    c.half_close = true;
    c.wait_ms = SW_LEAVE_WAIT_MS;
    run(&c, str_slice(CUT[i]));
  }
  ve_buf_free(&b);
  health("the wire cases");
}

/* ---------------------------------------------------------------- sweep: the open poll */

static const char *nz(const char *s) { return s ? s : "(none)"; }

static const api_route_t *route_find(const char *method, const char *pattern) {
  for (size_t i = 0; i < g.n_routes; i++)
    if (!strcmp(g.routes[i].method, method) && !strcmp(g.routes[i].pattern, pattern)) return &g.routes[i];
  fail_msg("no route %s %s in the node's table", method, pattern);
  return NULL;
}

static void put_uvarint(ve_buf_t *b, uint64_t x) {
  uint8_t v[10];
  size_t k = 0;
  do {
    v[k++] = (uint8_t)((x & 0x7f) | (x >> 7 ? 0x80 : 0));
    x >>= 7;
  } while (x);
  bput(b, v, k);
}

/* A ballot payload laid out as docs/voting.md 0x0307 says, with whatever
 * version, count and pieces it is given: u8 version | poll | voter |
 * uvarint n | n x (uvarint length | bytes). */
static void ballot_payload_raw(ve_buf_t *out, uint8_t version, const uint8_t poll[32], const uint8_t voter[32],
                               const ve_slice_t *piece, size_t n) {
  ve_buf_reset(out);
  bput(out, &version, 1);
  bput(out, poll, 32);
  bput(out, voter, 32);
  put_uvarint(out, n);
  for (size_t i = 0; i < n; i++) {
    put_uvarint(out, piece[i].len);
    bput(out, piece[i].ptr, piece[i].len);
  }
}

/* A decrypt payload likewise (0x0308): u8 version | poll | uvarint n | n x bytes. */
static void decrypt_payload_raw(ve_buf_t *out, uint8_t version, const uint8_t poll[32], const ve_slice_t *piece,
                                size_t n) {
  ve_buf_reset(out);
  bput(out, &version, 1);
  bput(out, poll, 32);
  put_uvarint(out, n);
  for (size_t i = 0; i < n; i++) {
    put_uvarint(out, piece[i].len);
    bput(out, piece[i].ptr, piece[i].len);
  }
}

/* kp signs payload with a sequence no honest transaction uses: a refused
 * transaction consumes none, so these never disturb the honest ones. */
static void hostile_sign(ve_buf_t *tx, const vcrypto_keypair_t *kp, uint32_t type, ve_slice_t payload) {
  tx_make(tx, g.n.chain, kp, SW_HOSTILE_SEQ + op.next_hostile_seq++, 50000, type, payload);
}

/* The one entry of a batch answer's list ("results" or "errors") must be a
 * refusal with a code of errs. (check() has judged the rest of the answer.) */
static void check_inner(const case_t *c, ve_slice_t req, const resp_t *r, const char *list, const char *errs) {
  if (r->status != 200) return;
  json_t *j = json_loadb((const char *)r->body.ptr, r->body.len, 0, NULL);
  json_t *l = json_object_get(j, list);
  const char *code = json_string_value(json_object_get(json_array_get(l, 0), "error"));
  if (json_array_size(l) != 1 || !err_in(errs, code))
    violation(c, req, r, "want the tx refused with %s, got %s", errs, code ? code : "no refusal");
  json_decref(j);
}

/* A transaction no node may admit, sent the three ways a client sends one:
 * alone as JSON (the answer is the refusal: status want, error one of errs),
 * in a JSON batch and in a binary batch (200, the one entry refused with one
 * of errs; a tx over VE_TX_BYTES_MAX fails the binary framing as a whole: 413
 * too_big). It is kept for the concurrent phase. */
static void tx_case(const char *label, ve_slice_t tx, int want, const char *errs) {
  static const char JSON_CT[] = "Content-Type: application/json\r\n";
  const api_route_t *rj = route_find("POST", "/v1/txs"), *rr = route_find("POST", "/v1/txs/raw");
  char *h = hex_of(tx);
  ve_buf_t body, req;
  ve_buf_init(&body, 0);
  ve_buf_init(&req, 0);
  case_t c;
  resp_t r;
  bprintf(&body, "{\"tx\":\"%s\"}", h);
  case_set(&c, rj, K_JSON, want, errs, "%s", label);
  c.junk_tx = true;
  req_build(&req, "POST", str_slice("/v1/txs"), false, JSON_CT, body.ptr, body.len);
  run(&c, ve_buf_slice(&req));
  ve_buf_reset(&body);
  bprintf(&body, "{\"txs\":[\"%s\"]}", h);
  case_set(&c, rj, K_JSON, 200, NULL, "%s, in a JSON batch", label);
  c.junk_tx = true;
  req_build(&req, "POST", str_slice("/v1/txs"), false, JSON_CT, body.ptr, body.len);
  resp_init(&r);
  run_keep(&c, ve_buf_slice(&req), &r);
  check_inner(&c, ve_buf_slice(&req), &r, "results", errs);
  resp_free(&r);
  ve_buf_reset(&body);
  bput(&body, "\x01", 1);
  put_uvarint(&body, tx.len);
  bput(&body, tx.ptr, tx.len);
  bool big = tx.len > VE_TX_BYTES_MAX;
  case_set(&c, rr, K_JSON, big ? 413 : 200, big ? "too_big" : NULL, "%s, in a binary batch", label);
  c.junk_tx = true;
  req_build(&req, "POST", str_slice("/v1/txs/raw"), false, "Content-Type: application/octet-stream\r\n", body.ptr,
            body.len);
  resp_init(&r);
  run_keep(&c, ve_buf_slice(&req), &r);
  if (!big) check_inner(&c, ve_buf_slice(&req), &r, "errors", errs);
  resp_free(&r);
  if (op.n_hostile < SW_HOSTILE_MAX) {
    ve_buf_init(&op.hostile[op.n_hostile], 0);
    bput(&op.hostile[op.n_hostile++], tx.ptr, tx.len);
  }
  free(h);
  ve_buf_free(&body);
  ve_buf_free(&req);
}

/* Voter v (as signer) sends a ballot payload of these pieces for poll with
 * voter field `voter`. */
static void ballot_case(const char *label, const vcrypto_keypair_t *signer, const uint8_t poll[32],
                        const uint8_t voter[32], const ve_slice_t *piece, size_t n, int want, const char *errs) {
  ve_buf_t pl, tx;
  ve_buf_init(&pl, 0);
  ve_buf_init(&tx, 0);
  ballot_payload_raw(&pl, 1, poll, voter, piece, n);
  hostile_sign(&tx, signer, TX_TYPE_POLL_BALLOT, ve_buf_slice(&pl));
  tx_case(label, ve_buf_slice(&tx), want, errs);
  ve_buf_free(&pl);
  ve_buf_free(&tx);
}

/* Random valid choices: one of question 0's three options, any of question 1's two. */
static void choices_random(uint8_t c[SW_OPTIONS]) {
  memset(c, 0, SW_OPTIONS);
  c[rnd_below(3)] = 1;
  c[3] = (uint8_t)(rnd() & 1);
  c[4] = (uint8_t)(rnd() & 1);
}

/* A ballot payload proven against p (the poll's record, or an altered copy)
 * on chain for voter (identity id), with seeded randomness. */
static void ballot_make(ve_buf_t *payload, uint8_t tracker[32], const voting_poll_t *p, const char *chain,
                        const uint8_t voter[32], const uint8_t *choices) {
  uint8_t seed[32];
  seed_of_rnd(seed);
  ve_buf_reset(payload);
  int rc = voting_ballot_build(payload, tracker, p, ve_slice(chain, strlen(chain)), voter, choices,
                               p->def.n_options, seed);
  if (rc) fail_msg("voting_ballot_build: %s", ve_strerror(rc));
}

/* 32 bytes that decode to no point: the smallest even s whose encoding
 * vote_pk_check refuses (s = 0 is the identity, which it refuses too). */
static void no_point(uint8_t out[32]) {
  for (unsigned s = 2; s < 256; s += 2) {
    memset(out, 0, 32);
    out[0] = (uint8_t)s;
    if (vote_pk_check(out) != 0) return;
  }
  fail_msg("no small non-point encoding found");
}

/* The group order L, little-endian: a scalar that is not canonical. */
static const uint8_t GROUP_ORDER[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                        0xa2, 0xde, 0xf9, 0xde, 0x14, [31] = 0x10};

/* 32 bytes of 0xff: bit 255 set and s >= p, the least canonical encoding. */
static const uint8_t ALL_FF[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* dst := src with len bytes at `at` replaced (len 0: unchanged copy). */
static void patched(ve_buf_t *dst, ve_slice_t src, size_t at, const void *bytes, size_t len) {
  ve_buf_reset(dst);
  bput(dst, src.ptr, src.len);
  assert_true(at + len <= dst->len);
  if (len) memcpy(dst->ptr + at, bytes, len);
}

/* The ballots phase may not run past the poll's close: honest ballots would
 * then be refused (too_late) for a reason that is no fault of the node. */
static void window_check(const char *what) {
  uint64_t h = h_height(&g.n);
  if (h + 3 >= op.p.def.close_height)
    fail_msg("%s at height %llu: the poll closes at %llu (SW_VOTE_WINDOW_BLOCKS is too small for this machine)",
             what, (unsigned long long)h, (unsigned long long)op.p.def.close_height);
}

typedef enum { VIA_TX, VIA_BATCH, VIA_RAW } via_t;

/* Honest ballots of the n voters (fresh random choices), sent as `via` says:
 * each must be admitted and commit. Records what they did. */
static void honest_round(const size_t *voters, size_t n, via_t via) {
  window_check("an honest round");
  assert_true(n <= SW_VOTERS);
  ve_buf_t pl, tx[SW_VOTERS], raw;
  uint8_t ids[SW_VOTERS][32], tr[SW_VOTERS][32], ch[SW_VOTERS][SW_OPTIONS];
  ve_buf_init(&pl, 0);
  ve_buf_init(&raw, 0);
  put_uvarint(&raw, n);
  json_t *arr = json_array();
  for (size_t i = 0; i < n; i++) {
    size_t v = voters[i];
    choices_random(ch[i]);
    ballot_make(&pl, tr[i], &op.p, g.n.chain, op.voter_id[v], ch[i]);
    ve_buf_init(&tx[i], 0);
    tx_make(&tx[i], g.n.chain, &op.voter[v], op.vseq[v]++, 50000, TX_TYPE_POLL_BALLOT, ve_buf_slice(&pl));
    ledger_tx_id(ids[i], ve_buf_slice(&tx[i]));
    char *h = hex_of(ve_buf_slice(&tx[i]));
    if (via == VIA_TX) {
      json_t *r;
      int st = h_post(&g.n, "/v1/txs", json_pack("{s:s}", "tx", h), &r);
      if (st != 202) fail_msg("voter %zu's honest ballot refused (%d %s)", v, st,
                              nz(json_string_value(json_object_get(r, "error"))));
      json_decref(r);
    }
    json_array_append_new(arr, json_string(h));
    put_uvarint(&raw, tx[i].len);
    bput(&raw, tx[i].ptr, tx[i].len);
    free(h);
  }
  if (via == VIA_BATCH) {
    json_t *r;
    int st = h_post(&g.n, "/v1/txs", json_pack("{s:O}", "txs", arr), &r);
    if (st != 200 || json_integer_value(json_object_get(r, "accepted")) != (json_int_t)n) {
      char *d = json_dumps(r, JSON_COMPACT);
      fail_msg("honest ballots refused (%d): %s", st, nz(d));
    }
    json_decref(r);
  } else if (via == VIA_RAW) {
    http_response_t r;
    assert_int_equal(http_request("127.0.0.1", g.n.port, "POST", "/v1/txs/raw", "application/octet-stream", raw.ptr,
                                  raw.len, 10000, &r), 0);
    json_t *j = json_loadb((const char *)r.body.ptr, r.body.len, 0, NULL);
    if (r.status != 200 || json_integer_value(json_object_get(j, "accepted")) != (json_int_t)n)
      fail_msg("honest ballots refused in a binary batch (%d): %.*s", r.status, (int)r.body.len,
               (const char *)r.body.ptr);
    json_decref(j);
    http_response_free(&r);
  }
  json_decref(arr);
  size_t ok = h_wait_final(&g.n, ids, n);
  if (ok != n) fail_msg("only %zu of %zu honest ballots committed", ok, n);
  for (size_t i = 0; i < n; i++) {
    char hex[65];
    ve_hex_encode(hex, ids[i], 32);
    json_t *j = get_ok("/v1/txs/%s", hex);
    uint64_t h = (uint64_t)json_integer_value(json_object_get(j, "height"));
    if (h > op.settled) op.settled = h;
    json_decref(j);
  }
  for (size_t i = 0; i < n; i++) {
    size_t v = voters[i];
    memcpy(op.latest[v], ch[i], SW_OPTIONS);
    memcpy(op.tracker[v], tr[i], 32);
    op.revision[v]++;
    op.ballots++;
    if (op.n_honest < SW_HONEST_MAX) {
      ve_buf_init(&op.honest[op.n_honest], 0);
      bput(&op.honest[op.n_honest++], tx[i].ptr, tx[i].len);
    }
    ve_buf_free(&tx[i]);
  }
  ve_buf_free(&pl);
  ve_buf_free(&raw);
}

static size_t voters_counted(void) {
  size_t k = 0;
  for (size_t v = 0; v < SW_VOTERS; v++) k += op.revision[v] > 0;
  return k;
}

/* The poll as the honest ballots left it — status and phase, voters and
 * ballots counted, each voter's receipt naming its latest ballot — whatever
 * hostile transactions came in between. */
static void open_poll_expect(const char *status, const char *phase) {
  /* Receipts are proof bundles, and the state after block H is proven only
   * once block H+1 certifies it (their default height is the tip's parent):
   * wait for the block after the last honest ballot's. */
  h_wait_height(&g.n, op.settled + 1, SW_SETTLE_MS);
  json_t *j = get_ok("/v1/polls/%s", op.hex);
  const char *st = json_string_value(json_object_get(j, "status"));
  const char *ph = json_string_value(json_object_get(j, "phase"));
  json_t *t = json_object_get(j, "tally");
  if (!st || strcmp(st, status) || !ph || strcmp(ph, phase))
    fail_msg("the open poll is %s/%s, want %s/%s", nz(st), nz(ph), status, phase);
  if (json_integer_value(json_object_get(t, "voters")) != (json_int_t)voters_counted() ||
      json_integer_value(json_object_get(t, "ballots")) != (json_int_t)op.ballots)
    fail_msg("the tally counts %lld voters and %lld ballots, want %zu and %llu",
             (long long)json_integer_value(json_object_get(t, "voters")),
             (long long)json_integer_value(json_object_get(t, "ballots")), voters_counted(),
             (unsigned long long)op.ballots);
  json_decref(j);
  for (size_t v = 0; v <= SW_VOTERS; v++) {
    json_t *rc = get_ok("/v1/polls/%s/ballots/%s", op.hex, op.voter_hex[v]);
    bool counted = json_is_true(json_object_get(rc, "counted"));
    bool want = v < SW_VOTERS && op.revision[v] > 0;
    if (counted != want) fail_msg("voter %zu's receipt says counted=%d", v, counted);
    if (want) {
      char tr[SW_HEX];
      hex32(tr, op.tracker[v]);
      const char *got = json_string_value(json_object_get(rc, "tracker"));
      if (!got || strcmp(got, tr) || json_integer_value(json_object_get(rc, "revision")) != (json_int_t)op.revision[v])
        fail_msg("voter %zu's receipt names tracker %s revision %lld, want %s revision %llu", v, nz(got),
                 (long long)json_integer_value(json_object_get(rc, "revision")), tr,
                 (unsigned long long)op.revision[v]);
    }
    json_decref(rc);
  }
}

/* Trustee j's (1-based) secret share, from the dealings the node serves. */
static void trustee_secret(uint32_t j, uint8_t x[32]) {
  json_t *d = get_ok("/v1/polls/%s/dkg", op.hex);
  ve_slice_t dealings[3] = {{0}};
  uint8_t *bufs[3] = {0};
  size_t i;
  json_t *e;
  json_array_foreach(json_object_get(d, "dealings"), i, e) {
    json_int_t dealer = json_integer_value(json_object_get(e, "dealer"));
    const char *h = json_string_value(json_object_get(e, "dealing"));
    assert_true(dealer >= 1 && dealer <= 3 && h && !bufs[dealer - 1]);
    size_t len = strlen(h) / 2;
    bufs[dealer - 1] = malloc(len + 1);
    assert_int_equal(ve_hex_decode(bufs[dealer - 1], len, h), 0);
    dealings[dealer - 1] = ve_slice(bufs[dealer - 1], len);
  }
  json_decref(d);
  vote_dkg_result_t res;
  memset(&res, 0, sizeof res);
  res.n = 3, res.t = 2, res.qualified = op.p.qualified;
  memcpy(res.pk, op.p.pk, sizeof res.pk);
  memcpy(res.vk, op.p.vk, sizeof op.p.vk);
  uint8_t ctx[32];
  voting_poll_context(ctx, ve_slice(g.n.chain, strlen(g.n.chain)), op.id);
  assert_int_equal(vote_dkg_secret_share(x, &res, j, &op.enc[j - 1], ctx, 32, dealings), 0);
  for (int k = 0; k < 3; k++) free(bufs[k]);
}

/* Trustee j's decrypt payload for tally, made with secret x under index
 * `index` (j's own, or another's) against p (the record or an altered copy). */
static void decrypt_make(ve_buf_t *payload, const voting_poll_t *p, const voting_tally_rec_t *tally, const char *chain,
                         uint32_t index, const uint8_t x[32]) {
  uint8_t seed[32];
  seed_of_rnd(seed);
  ve_buf_reset(payload);
  assert_int_equal(voting_decrypt_build(payload, p, tally, ve_slice(chain, strlen(chain)), index, x, seed), 0);
}

/* A hostile variant of an honest encoding: len bytes at offset `at` replaced
 * by `bytes`, and the status and error code(s) it must get. */
typedef struct {
  const char *label;
  size_t at;
  const uint8_t *bytes;
  size_t len;
  int want;
  const char *errs;
} patch_case_t;

/* Ballots no node may count, against the READY poll. Codes: docs/voting.md
 * §5 (a bad encoding is malformed / non_canonical, a proof that does not
 * verify bad_proof, a shape other than the poll's wrong_poll, a count or
 * length over its maximum too_big) and docs/api.md (their statuses). */
static void hostile_ballots_made(void) {
  const uint8_t *me = op.voter_id[0];
  const vcrypto_keypair_t *v0 = &op.voter[0];
  ve_buf_t base, m, big;
  ve_buf_init(&base, 0);
  ve_buf_init(&m, 0);
  ve_buf_init(&big, 0);
  uint8_t ch[SW_OPTIONS], bad[32];
  choices_random(ch);
  ballot_make(&base, NULL, &op.p, g.n.chain, me, ch);
  voting_ballot_payload_t bp;
  assert_int_equal(voting_ballot_payload_decode(ve_buf_slice(&base), &bp), 0);
  assert_int_equal(bp.n, 2);
  /* ballot_payload_raw gives the builder's bytes: each variant below differs
   * only where it says */
  ballot_payload_raw(&m, 1, op.id, me, bp.ballot, 2);
  assert_true(m.len == base.len && !memcmp(m.ptr, base.ptr, m.len));
  ve_slice_t b0 = bp.ballot[0], b1 = bp.ballot[1];
  ve_slice_t two[2] = {ve_slice(NULL, 0), b1};
  const size_t C1 = 4, C2 = 4 + 32, Z = b0.len - 32; /* option 0's ciphertext; the last proof scalar */
  /* one field of question 0's ballot */
  static const uint8_t ZERO[32] = {0};
  /* fields derived from the honest ballot's own */
  uint8_t c1_high[32], c1_odd[32], z_flip[32], swapped[128];
  memcpy(c1_high, b0.ptr + C1, 32);
  c1_high[31] |= 0x80; /* bit 255: never set in a canonical encoding */
  memcpy(c1_odd, b0.ptr + C1, 32);
  c1_odd[0] |= 0x01; /* s odd: "negative", refused */
  memcpy(z_flip, b0.ptr + Z, 32);
  z_flip[0] ^= 0x01; /* still below L: canonical, but the equations fail */
  memcpy(swapped, b0.ptr + C1 + 64, 64);
  memcpy(swapped + 64, b0.ptr + C1, 64);
  no_point(bad);
  const patch_case_t FIELD[] = {
      {"ballot: C1 of option 0 is the identity", C1, ZERO, 32, 400, "malformed"},
      {"ballot: C1 of option 0 is 32 bytes of 0xff", C1, ALL_FF, 32, 400, "non_canonical"},
      {"ballot: C1 of option 0 with bit 255 set", C1, c1_high, 32, 400, "non_canonical"},
      {"ballot: C1 of option 0 negative (odd)", C1, c1_odd, 32, 400, "non_canonical"},
      {"ballot: C2 of option 0 encodes no point", C2, bad, 32, 400, "malformed"},
      {"ballot: the last proof scalar is the group order", Z, GROUP_ORDER, 32, 400, "non_canonical"},
      {"ballot: the last proof scalar's lowest bit flipped", Z, z_flip, 32, 400, "bad_proof"},
      {"ballot: ciphertexts of options 0 and 1 swapped", C1, swapped, 128, 400, "bad_proof"},
      {"ballot: version 2", 0, (const uint8_t *)"\x02", 1, 400, "unknown_version"},
      {"ballot: bounds 0..1 in its header", 2, (const uint8_t *)"\x00", 1, 400, "wrong_poll"},
      {"ballot: 2 options in its header", 1, (const uint8_t *)"\x02", 1, 400, "wrong_poll"},
  };
  for (size_t i = 0; i < sizeof FIELD / sizeof FIELD[0]; i++) {
    patched(&m, b0, FIELD[i].at, FIELD[i].bytes, FIELD[i].len);
    two[0] = ve_buf_slice(&m);
    ballot_case(FIELD[i].label, v0, op.id, me, two, 2, FIELD[i].want, FIELD[i].errs);
  }
  /* lengths */
  two[0] = ve_slice(b0.ptr, b0.len - 32);
  ballot_case("ballot: question 0's cut 32 bytes short", v0, op.id, me, two, 2, 400, "malformed");
  patched(&m, b0, 0, NULL, 0);
  bput(&m, "", 1);
  two[0] = ve_buf_slice(&m);
  ballot_case("ballot: question 0's with a trailing byte", v0, op.id, me, two, 2, 400, "trailing_bytes");
  patched(&m, b0, 0, NULL, 0);
  while (m.len <= VOTE_BALLOT_BYTES_MAX) bput(&m, "", 1);
  two[0] = ve_buf_slice(&m);
  ballot_case("ballot: question 0's of VOTE_BALLOT_BYTES_MAX + 1 bytes", v0, op.id, me, two, 2, 413, "too_big");
  /* the list */
  ve_slice_t list[VOTING_QUESTIONS_MAX + 1];
  ballot_case("ballot list: question 1's ballot only", v0, op.id, me, &b1, 1, 400, "wrong_poll");
  list[0] = b1, list[1] = b0;
  ballot_case("ballot list: the two questions' ballots swapped", v0, op.id, me, list, 2, 400, "wrong_poll");
  list[0] = b0, list[1] = b1, list[2] = b1;
  ballot_case("ballot list: three ballots for two questions", v0, op.id, me, list, 3, 400, "wrong_poll");
  ballot_case("ballot list: empty", v0, op.id, me, list, 0, 400, "malformed");
  for (size_t i = 0; i <= VOTING_QUESTIONS_MAX; i++) list[i] = b1;
  ballot_case("ballot list: 17 ballots", v0, op.id, me, list, VOTING_QUESTIONS_MAX + 1, 413, "too_big");
  /* the payload around the list */
  ve_buf_t tx;
  ve_buf_init(&tx, 0);
  patched(&m, ve_buf_slice(&base), 0, "\x02", 1);
  hostile_sign(&tx, v0, TX_TYPE_POLL_BALLOT, ve_buf_slice(&m));
  tx_case("ballot payload: version 2", ve_buf_slice(&tx), 400, "unknown_version");
  hostile_sign(&tx, v0, TX_TYPE_POLL_BALLOT, ve_slice(base.ptr, base.len - 10));
  tx_case("ballot payload: cut 10 bytes short", ve_buf_slice(&tx), 400, "malformed");
  patched(&m, ve_buf_slice(&base), 0, NULL, 0);
  bput(&m, "", 1);
  hostile_sign(&tx, v0, TX_TYPE_POLL_BALLOT, ve_buf_slice(&m));
  tx_case("ballot payload: a trailing byte", ve_buf_slice(&tx), 400, "trailing_bytes");
  /* over the transaction's limits: a payload over VE_TX_PAYLOAD_BYTES_MAX in
   * a tx within VE_TX_BYTES_MAX (unsignable: zero signature, refused before
   * it is looked at), and a tx over VE_TX_BYTES_MAX */
  for (int over_tx = 0; over_tx < 2; over_tx++) {
    ve_buf_reset(&m);
    size_t want = over_tx ? VE_TX_BYTES_MAX + 1 : VE_TX_PAYLOAD_BYTES_MAX + 1;
    bput(&m, base.ptr, base.len);
    while (m.len < want) bput(&m, "", 1);
    ve_buf_reset(&big);
    bput(&big, "\x01", 1); /* LEDGER_TX_VERSION */
    put_uvarint(&big, strlen(g.n.chain));
    bputs(&big, g.n.chain);
    bput(&big, v0->pk, 32);
    put_uvarint(&big, SW_HOSTILE_SEQ + op.next_hostile_seq++);
    put_uvarint(&big, 50000);
    put_uvarint(&big, TX_TYPE_POLL_BALLOT);
    put_uvarint(&big, m.len);
    bput(&big, m.ptr, m.len);
    bput(&big, ZERO, 32);
    bput(&big, ZERO, 32);
    tx_case(over_tx ? "ballot tx over VE_TX_BYTES_MAX" : "ballot payload over VE_TX_PAYLOAD_BYTES_MAX",
            ve_buf_slice(&big), 413, "too_big");
  }
  /* a good ballot under a bad signature */
  hostile_sign(&tx, v0, TX_TYPE_POLL_BALLOT, ve_buf_slice(&base));
  tx.ptr[tx.len - 1] ^= 0x01;
  tx_case("ballot: good, its signature's last byte flipped", ve_buf_slice(&tx), 401, "bad_signature");
  ve_buf_free(&tx);
  ve_buf_free(&base);
  ve_buf_free(&m);
  ve_buf_free(&big);
}

/* Good ballots in the wrong place: made for another poll, chain, voter or
 * shape; sent by someone who may not vote, or to a poll that takes none. */
static void hostile_ballots_misplaced(void) {
  const uint8_t *me = op.voter_id[0];
  const vcrypto_keypair_t *v0 = &op.voter[0];
  ve_buf_t pl;
  ve_buf_init(&pl, 0);
  uint8_t ch[VOTING_OPTIONS_MAX]; /* the other shapes have more options */
  voting_ballot_payload_t bp;
  voting_poll_t *fake = malloc(sizeof *fake);
  assert_non_null(fake);
  /* other shapes: proofs that verify, for a poll that is not this one */
  static const struct {
    const char *label;
    uint32_t q0_options, q0_min, q0_max, q1_options;
  } SHAPES[] = {{"ballot made for 2 options in question 0", 2, 1, 1, 2},
                {"ballot made for 3 options in question 1", 3, 1, 1, 3},
                {"ballot made for 0..3 choices in question 0", 3, 0, 3, 2}};
  for (size_t i = 0; i < sizeof SHAPES / sizeof SHAPES[0]; i++) {
    *fake = op.p;
    fake->def.q[0].options = SHAPES[i].q0_options, fake->def.q[0].min = SHAPES[i].q0_min;
    fake->def.q[0].max = SHAPES[i].q0_max;
    fake->def.q[1].first = SHAPES[i].q0_options, fake->def.q[1].options = SHAPES[i].q1_options;
    fake->def.n_options = SHAPES[i].q0_options + SHAPES[i].q1_options;
    memset(ch, 0, sizeof ch);
    ch[0] = 1;
    ballot_make(&pl, NULL, fake, g.n.chain, me, ch);
    assert_int_equal(voting_ballot_payload_decode(ve_buf_slice(&pl), &bp), 0);
    ballot_case(SHAPES[i].label, v0, op.id, me, bp.ballot, bp.n, 400, "wrong_poll");
  }
  /* other contexts: every challenge changes */
  choices_random(ch);
  *fake = op.p;
  memcpy(fake->id, op.keygen_poll, 32);
  ballot_make(&pl, NULL, fake, g.n.chain, me, ch);
  assert_int_equal(voting_ballot_payload_decode(ve_buf_slice(&pl), &bp), 0);
  ballot_case("ballot proven for the poll in key generation, sent to this one", v0, op.id, me, bp.ballot, bp.n, 400,
              "bad_proof");
  ballot_case("ballot sent to the poll in key generation", v0, op.keygen_poll, me, bp.ballot, bp.n, 409, "too_early");
  uint8_t unknown[32];
  memset(unknown, 0x5a, sizeof unknown);
  ballot_case("ballot sent to an unknown poll", v0, unknown, me, bp.ballot, bp.n, 404, "not_found");
  ballot_make(&pl, NULL, &op.p, "veche-other-1", me, ch);
  assert_int_equal(voting_ballot_payload_decode(ve_buf_slice(&pl), &bp), 0);
  ballot_case("ballot proven for another chain", v0, op.id, me, bp.ballot, bp.n, 400, "bad_proof");
  ballot_make(&pl, NULL, &op.p, g.n.chain, op.voter_id[1], ch);
  assert_int_equal(voting_ballot_payload_decode(ve_buf_slice(&pl), &bp), 0);
  ballot_case("ballot proven for voter 1, sent by voter 0 as its own", v0, op.id, me, bp.ballot, bp.n, 400,
              "bad_proof");
  ballot_case("voter 1's ballot sent by voter 0", v0, op.id, op.voter_id[1], bp.ballot, bp.n, 403, "no_permission");
  /* voters who may not vote, with ballots proven for themselves */
  const uint8_t *out_id = op.voter_id[SW_VOTERS];
  ballot_make(&pl, NULL, &op.p, g.n.chain, out_id, ch);
  assert_int_equal(voting_ballot_payload_decode(ve_buf_slice(&pl), &bp), 0);
  ballot_case("ballot of a voter in district d2", &op.voter[SW_VOTERS], op.id, out_id, bp.ballot, bp.n, 403,
              "not_eligible");
  uint8_t cid[32];
  assert_int_equal(ve_hex_decode(cid, 32, g.citizen_id), 0);
  ballot_make(&pl, NULL, &op.p, g.n.chain, cid, ch);
  assert_int_equal(voting_ballot_payload_decode(ve_buf_slice(&pl), &bp), 0);
  ballot_case("ballot of the citizen (no district)", &g.citizen, op.id, cid, bp.ballot, bp.n, 403, "not_eligible");
  vcrypto_keypair_t stranger;
  uint8_t sid[32];
  h_seed_key(&stranger, 78, 1);
  identity_id_from_pk(sid, stranger.pk);
  ballot_make(&pl, NULL, &op.p, g.n.chain, sid, ch);
  assert_int_equal(voting_ballot_payload_decode(ve_buf_slice(&pl), &bp), 0);
  ballot_case("ballot of an unregistered key", &stranger, op.id, sid, bp.ballot, bp.n, 403, "unknown_signer");
  vcrypto_keypair_wipe(&stranger);
  /* a decryption share while the poll is open */
  uint8_t x[32];
  voting_tally_rec_t *t = malloc(sizeof *t);
  assert_non_null(t);
  open_poll_fetch(&op.p, t);
  trustee_secret(1, x);
  decrypt_make(&pl, &op.p, t, g.n.chain, 1, x);
  ve_buf_t tx;
  ve_buf_init(&tx, 0);
  hostile_sign(&tx, &g.trustee[0], TX_TYPE_POLL_DECRYPT, ve_buf_slice(&pl));
  tx_case("decryption share while the poll is open", ve_buf_slice(&tx), 409, "too_early");
  vcrypto_wipe(x, sizeof x);
  ve_buf_free(&tx);
  free(t);
  free(fake);
  ve_buf_free(&pl);
}

/* Honest ballots re-sent or copied: the tracker is accepted once per poll. */
static void hostile_ballots_replayed(void) {
  ve_buf_t tx, pl;
  ve_buf_init(&tx, 0);
  ve_buf_init(&pl, 0);
  ledger_tx_t first, last;
  assert_true(op.n_honest > SW_VOTERS);
  /* op.honest[0] is voter 0's first ballot, since replaced; the last one kept
   * is counted */
  assert_int_equal(ledger_tx_decode(ve_buf_slice(&op.honest[0]), &first), 0);
  assert_int_equal(ledger_tx_decode(ve_buf_slice(&op.honest[op.n_honest - 1]), &last), 0);
  tx_case("replay of a replaced ballot (the same bytes)", ve_buf_slice(&op.honest[0]), 409, "duplicate");
  tx_case("replay of a counted ballot (the same bytes)", ve_buf_slice(&op.honest[op.n_honest - 1]), 409, "duplicate");
  voting_ballot_payload_t bp;
  assert_int_equal(voting_ballot_payload_decode(first.payload, &bp), 0);
  assert_memory_equal(bp.voter, op.voter_id[0], 32);
  hostile_sign(&tx, &op.voter[0], TX_TYPE_POLL_BALLOT, first.payload);
  tx_case("voter 0's replaced ballot, signed again", ve_buf_slice(&tx), 409, "duplicate");
  ballot_case("voter 0's replaced ballot, copied by voter 4 as its own", &op.voter[4], op.id, op.voter_id[4], bp.ballot,
              bp.n, 409, "duplicate");
  assert_int_equal(voting_ballot_payload_decode(last.payload, &bp), 0);
  size_t v = SW_VOTERS;
  for (size_t k = 0; k < SW_VOTERS; k++)
    if (!memcmp(bp.voter, op.voter_id[k], 32)) v = k;
  assert_true(v < SW_VOTERS);
  hostile_sign(&tx, &op.voter[v], TX_TYPE_POLL_BALLOT, last.payload);
  tx_case("a counted ballot, signed again", ve_buf_slice(&tx), 409, "duplicate");
  size_t other = (v + 1) % SW_VOTERS;
  ballot_case("a counted ballot copied by another voter as its own", &op.voter[other], op.id, op.voter_id[other],
              bp.ballot, bp.n, 409, "duplicate");
  hostile_sign(&tx, &op.voter[other], TX_TYPE_POLL_BALLOT, last.payload);
  tx_case("a counted ballot sent by another voter", ve_buf_slice(&tx), 403, "no_permission");
  ve_buf_free(&tx);
  ve_buf_free(&pl);
}

/* The poll routes (and the audit's block export), swept as in the params and
 * queries phases with :id the open poll and :voter a voter who voted. */
static void sweep_poll_routes(const char *when) {
  g.poll_param = op.hex;
  g.voter_param = op.voter_hex[0];
  for (size_t i = 0; i < g.n_routes; i++) {
    const char *pat = g.routes[i].pattern;
    if (strncmp(pat, "/v1/polls", 9) && strncmp(pat, "/v1/audit/", 10)) continue;
    sweep_params(&g.routes[i]);
    sweep_queries(&g.routes[i]);
  }
  g.poll_param = g.voter_param = NULL;
  health(when);
}

/* Trustee j's (1-based) decrypt payload committed by way of POST /v1/txs. */
static void honest_share(uint32_t j, const ve_buf_t *payload, ve_buf_t *tx_out) {
  uint8_t id[32];
  tx_make(tx_out, g.n.chain, &g.trustee[j - 1], op.tseq[j - 1]++, 50000, TX_TYPE_POLL_DECRYPT, ve_buf_slice(payload));
  ledger_tx_id(id, ve_buf_slice(tx_out));
  char *h = hex_of(ve_buf_slice(tx_out));
  json_t *r;
  int st = h_post(&g.n, "/v1/txs", json_pack("{s:s}", "tx", h), &r);
  if (st != 202)
    fail_msg("trustee %u's honest shares refused (%d %s)", j, st, nz(json_string_value(json_object_get(r, "error"))));
  json_decref(r);
  free(h);
  if (h_wait_final(&g.n, (uint8_t(*)[32])id, 1) != 1) fail_msg("trustee %u's honest shares did not commit", j);
}

/* Decryption shares no node may accept, against the closed poll. Trustee 1's
 * honest payload is `good` (for the tally t); x1 its secret. Codes: docs/voting.md
 * §5. */
static void hostile_shares(const ve_buf_t *good, const voting_tally_rec_t *t, const uint8_t x1[32]) {
  ve_buf_t pl, tx, m;
  ve_buf_init(&pl, 0);
  ve_buf_init(&tx, 0);
  ve_buf_init(&m, 0);
  voting_decrypt_payload_t dp;
  assert_int_equal(voting_decrypt_payload_decode(ve_buf_slice(good), &dp), 0);
  assert_int_equal(dp.n, 2);
  decrypt_payload_raw(&m, 1, op.id, dp.share, 2); /* the builder's bytes: variants differ where they say */
  assert_true(m.len == good->len && !memcmp(m.ptr, good->ptr, m.len));
  ve_slice_t s0 = dp.share[0], s1 = dp.share[1], two[2] = {s0, s1}, list[VOTING_QUESTIONS_MAX + 1];
  /* who sends it */
  uint8_t sid[32];
  vcrypto_keypair_t stranger;
  h_seed_key(&stranger, 78, 2);
  identity_id_from_pk(sid, stranger.pk);
  hostile_sign(&tx, &g.n.authority, TX_TYPE_POLL_DECRYPT, ve_buf_slice(good));
  tx_case("shares sent by the authority (a trustee, not of this poll)", ve_buf_slice(&tx), 403, "no_permission");
  hostile_sign(&tx, &g.citizen, TX_TYPE_POLL_DECRYPT, ve_buf_slice(good));
  tx_case("shares sent by the citizen (no trustee role)", ve_buf_slice(&tx), 403, "no_permission");
  hostile_sign(&tx, &stranger, TX_TYPE_POLL_DECRYPT, ve_buf_slice(good));
  tx_case("shares sent by an unregistered key", ve_buf_slice(&tx), 403, "unknown_signer");
  vcrypto_keypair_wipe(&stranger);
  hostile_sign(&tx, &g.trustee[1], TX_TYPE_POLL_DECRYPT, ve_buf_slice(good));
  tx_case("trustee 1's shares sent by trustee 2", ve_buf_slice(&tx), 403, "no_permission");
  decrypt_make(&pl, &op.p, t, g.n.chain, 2, x1);
  hostile_sign(&tx, &g.trustee[1], TX_TYPE_POLL_DECRYPT, ve_buf_slice(&pl));
  tx_case("shares under trustee 2's index made with trustee 1's secret", ve_buf_slice(&tx), 400, "bad_proof");
  /* one field of question 0's share: u8 1 | uvarint trustee | uvarint
   * options | per option D || A || B || z */
  uint8_t bad[32], flip[32];
  no_point(bad);
  const size_t D = 3, Z = 3 + 32 + 64;
  memcpy(flip, s0.ptr + Z, 32);
  flip[0] ^= 0x01;
  const patch_case_t FIELD[] = {
      {"share: D of option 0 is 32 bytes of 0xff", D, ALL_FF, 32, 400, "non_canonical"},
      {"share: D of option 0 encodes no point", D, bad, 32, 400, "malformed"},
      {"share: option 0's proof scalar is the group order", Z, GROUP_ORDER, 32, 400, "non_canonical"},
      {"share: option 0's proof scalar's lowest bit flipped", Z, flip, 32, 400, "bad_proof"},
      {"share: version 2", 0, (const uint8_t *)"\x02", 1, 400, "unknown_version"},
  };
  for (size_t i = 0; i < sizeof FIELD / sizeof FIELD[0]; i++) {
    patched(&m, s0, FIELD[i].at, FIELD[i].bytes, FIELD[i].len);
    two[0] = ve_buf_slice(&m);
    decrypt_payload_raw(&pl, 1, op.id, two, 2);
    hostile_sign(&tx, &g.trustee[0], TX_TYPE_POLL_DECRYPT, ve_buf_slice(&pl));
    tx_case(FIELD[i].label, ve_buf_slice(&tx), FIELD[i].want, FIELD[i].errs);
  }
  /* lengths and counts */
  static const struct {
    const char *label;
    int cut; /* bytes off question 0's share (negative: added) */
    int want;
    const char *errs;
  } LEN[] = {{"share: question 0's cut 32 bytes short", 32, 400, "malformed"},
             {"share: question 0's with a trailing byte", -1, 400, "trailing_bytes"},
             {"share: question 0's of VOTE_DECSHARE_BYTES_MAX + 1 bytes", -(VOTE_DECSHARE_BYTES_MAX + 1), 413,
              "too_big"}};
  for (size_t i = 0; i < sizeof LEN / sizeof LEN[0]; i++) {
    patched(&m, s0, 0, NULL, 0);
    if (LEN[i].cut > 0) m.len -= (size_t)LEN[i].cut;
    else if (LEN[i].cut == -1) bput(&m, "", 1);
    else while (m.len < (size_t)-LEN[i].cut) bput(&m, "", 1);
    two[0] = ve_buf_slice(&m), two[1] = s1;
    decrypt_payload_raw(&pl, 1, op.id, two, 2);
    hostile_sign(&tx, &g.trustee[0], TX_TYPE_POLL_DECRYPT, ve_buf_slice(&pl));
    tx_case(LEN[i].label, ve_buf_slice(&tx), LEN[i].want, LEN[i].errs);
  }
  list[0] = s1, list[1] = s0;
  decrypt_payload_raw(&pl, 1, op.id, list, 2);
  hostile_sign(&tx, &g.trustee[0], TX_TYPE_POLL_DECRYPT, ve_buf_slice(&pl));
  tx_case("shares: the two questions' swapped", ve_buf_slice(&tx), 400, "malformed"); /* layout vs options */
  static const struct {
    const char *label;
    size_t n;
    int want;
    const char *errs;
  } COUNT[] = {{"shares: question 0's only", 1, 400, "wrong_poll"},
               {"shares: three for two questions", 3, 400, "wrong_poll"},
               {"shares: none", 0, 400, "malformed"},
               {"shares: 17", VOTING_QUESTIONS_MAX + 1, 413, "too_big"}};
  for (size_t i = 0; i <= VOTING_QUESTIONS_MAX; i++) list[i] = i % 2 ? s1 : s0;
  for (size_t i = 0; i < sizeof COUNT / sizeof COUNT[0]; i++) {
    decrypt_payload_raw(&pl, 1, op.id, list, COUNT[i].n);
    hostile_sign(&tx, &g.trustee[0], TX_TYPE_POLL_DECRYPT, ve_buf_slice(&pl));
    tx_case(COUNT[i].label, ve_buf_slice(&tx), COUNT[i].want, COUNT[i].errs);
  }
  patched(&m, ve_buf_slice(good), 0, "\x02", 1);
  hostile_sign(&tx, &g.trustee[0], TX_TYPE_POLL_DECRYPT, ve_buf_slice(&m));
  tx_case("decrypt payload: version 2", ve_buf_slice(&tx), 400, "unknown_version");
  /* the wrong tally, poll or chain */
  if (op.have_early) {
    decrypt_make(&pl, &op.p, &op.early, g.n.chain, 1, x1);
    hostile_sign(&tx, &g.trustee[0], TX_TYPE_POLL_DECRYPT, ve_buf_slice(&pl));
    tx_case("shares of the tally after the first round (stale)", ve_buf_slice(&tx), 400, "bad_proof");
  }
  decrypt_make(&pl, &op.p, t, "veche-other-1", 1, x1);
  hostile_sign(&tx, &g.trustee[0], TX_TYPE_POLL_DECRYPT, ve_buf_slice(&pl));
  tx_case("shares proven for another chain", ve_buf_slice(&tx), 400, "bad_proof");
  voting_poll_t *fake = malloc(sizeof *fake);
  assert_non_null(fake);
  *fake = op.p;
  memcpy(fake->id, op.keygen_poll, 32);
  decrypt_make(&pl, fake, t, g.n.chain, 1, x1);
  free(fake);
  hostile_sign(&tx, &g.trustee[0], TX_TYPE_POLL_DECRYPT, ve_buf_slice(&pl));
  tx_case("trustee 1's shares for the poll in key generation", ve_buf_slice(&tx), 409, "invalid_state");
  assert_int_equal(voting_decrypt_payload_decode(ve_buf_slice(&pl), &dp), 0);
  decrypt_payload_raw(&m, 1, op.id, dp.share, dp.n);
  hostile_sign(&tx, &g.trustee[0], TX_TYPE_POLL_DECRYPT, ve_buf_slice(&m));
  tx_case("shares proven for the poll in key generation, sent to this one", ve_buf_slice(&tx), 400, "bad_proof");
  uint8_t unknown[32];
  memset(unknown, 0x5b, sizeof unknown);
  decrypt_payload_raw(&m, 1, unknown, dp.share, dp.n);
  hostile_sign(&tx, &g.trustee[0], TX_TYPE_POLL_DECRYPT, ve_buf_slice(&m));
  tx_case("shares for an unknown poll", ve_buf_slice(&tx), 404, "not_found");
  ve_buf_free(&pl);
  ve_buf_free(&tx);
  ve_buf_free(&m);
}

/* The result the node records equals the honest voters' latest choices. */
static void result_expect(void) {
  json_t *j = get_ok("/v1/polls/%s", op.hex);
  const char *st = json_string_value(json_object_get(j, "status"));
  json_t *res = json_object_get(j, "result");
  if (!st || strcmp(st, "done") || !json_is_object(res)) fail_msg("the poll is %s, without a result", nz(st));
  if (json_integer_value(json_object_get(res, "voters")) != (json_int_t)voters_counted())
    fail_msg("the result counts %lld voters, want %zu", (long long)json_integer_value(json_object_get(res, "voters")),
             voters_counted());
  json_t *counts = json_object_get(res, "counts");
  char got[200] = "", want[200] = "";
  for (uint32_t o = 0; o < SW_OPTIONS; o++) {
    uint64_t w = 0;
    for (size_t v = 0; v < SW_VOTERS; v++) w += op.revision[v] ? op.latest[v][o] : 0;
    json_int_t c = json_integer_value(json_array_get(json_array_get(counts, o < 3 ? 0 : 1), o < 3 ? o : o - 3));
    snprintf(got + strlen(got), sizeof got - strlen(got), " %lld", (long long)c);
    snprintf(want + strlen(want), sizeof want - strlen(want), " %llu", (unsigned long long)w);
  }
  fprintf(stderr, "api_sweep: result:%s (the honest ballots:%s)\n", got, want);
  if (strcmp(got, want)) fail_msg("the result is%s, the honest ballots make%s", got, want);
  json_object_del(j, "as_of_height");
  op.done = j;
}

/* ---------------------------------------------------------------- sweep: many clients at once */

/* SW_HOSTILE_THREADS clients send a seeded mix of hostile requests at the
 * same time, while one honest client submits transactions one after the
 * other and waits for each to commit, and a watcher asks GET /health every
 * SW_HEALTH_EVERY_MS. Every hostile answer is checked as in the other phases
 * (check(), under g.lock); the honest transactions must each commit within
 * SW_HONEST_COMMIT_MS, /health must answer 200 within SW_HEALTH_BOUND_MS every
 * time, and no answer may be a 5xx.
 *
 * Limits that could refuse the honest client for no fault of the node: every
 * client is 127.0.0.1. The node sets no per-IP limit (api.h
 * connections_per_ip_max 0: the node's config has none) and takes
 * API_CONNECTIONS_DEFAULT (256) connections; a hostile client holds one
 * connection at a time and closes it before its next request (also after
 * leaving mid-request), so at most SW_HOSTILE_THREADS + 2 are open. Bodies in
 * flight: a hostile body is at most its route's limit (8 MiB), so
 * SW_HOSTILE_THREADS of them stay below API_BODY_INFLIGHT_BYTES_DEFAULT
 * (64 MiB), past which the server answers 503 full, to honest clients too.
 * Should the honest client's connection still fail (refused, reset, no
 * answer), it does what a real client does: it tries again, within
 * SW_HONEST_COMMIT_MS, and each retry is printed; a 5xx fails the phase
 * whether or not a retry then succeeds.
 *
 * The picks are seeded per thread (VECHE_SEED), their interleaving is not. */
#define SW_HOSTILE_THREADS 4
#define SW_CONC_MIN_MS 4000       /* the hostile clients run at least this long */
#define SW_CONC_HONEST_TXS 12     /* honest transactions, one after the other */
#define SW_HONEST_COMMIT_MS 10000 /* submission to commit of one honest tx, retries included */
#define SW_HEALTH_EVERY_MS 100
#define SW_HEALTH_BOUND_MS 2000   /* each /health answer under the load */
#define SW_POOL_MAX 1024          /* hostile requests to pick from */
#define SW_BIG_ONE_IN 4           /* a request with a body of MiBs goes out one pick in this many */

typedef struct {
  case_t c;
  ve_buf_t req;
  char allow[160];
  bool big; /* a body of MiBs */
} item_t;

typedef struct {
  pthread_t th;
  uint64_t rng;
  size_t sent, big; /* requests sent; of which with a body of MiBs */
} worker_t;

static struct {
  item_t *items;
  size_t n;
  atomic_bool stop;
  /* the watcher's findings (under g.lock) */
  int64_t health_max_ms;
  size_t health_n, health_bad;
  char health_bad_what[160];
} cc;

static item_t *pool_add(const case_t *c, const ve_buf_t *req, bool big) {
  assert_true(cc.n < SW_POOL_MAX);
  item_t *it = &cc.items[cc.n++];
  it->c = *c;
  if (c->allow) {
    snprintf(it->allow, sizeof it->allow, "%s", c->allow);
    it->c.allow = it->allow;
  }
  ve_buf_init(&it->req, 0);
  bput(&it->req, req->ptr, req->len);
  it->big = big;
  return it;
}

/* The hostile requests of one route: a wrong method, junk in each :param and
 * in the query, bodies that break the rules, a client that leaves mid-body. */
static void pool_route(const api_route_t *r, ve_buf_t *path, ve_buf_t *req) {
  static const char JSON_CT[] = "Content-Type: application/json\r\n";
  char allow[160];
  case_t c;
  route_methods(r, allow, sizeof allow);
  route_path(r, SIZE_MAX, NULL, 0, path);
  for (size_t i = 0; i < sizeof METHODS / sizeof METHODS[0]; i++) {
    if (list_has(allow, METHODS[i]) || !strcmp(METHODS[i], "HEAD")) continue;
    case_set(&c, r, K_JSON, 405, "method_not_allowed", "method %s", METHODS[i]);
    c.allow = allow;
    req_build(req, METHODS[i], ve_buf_slice(path), false, NULL, NULL, 0);
    pool_add(&c, req, false);
    break;
  }
  for (size_t which = 0; which < route_params(r); which++) {
    route_path(r, which, "%zz", 3, path);
    case_set(&c, r, K_JSON, 400, "bad_request", ":%s = %%zz", param_name(r, which));
    req_build(req, r->method, ve_buf_slice(path), false, NULL, NULL, 0);
    pool_add(&c, req, false);
    ve_buf_t v;
    ve_buf_init(&v, 0);
    for (int k = 0; k < 3; k++) {
      random_value(&v);
      route_path(r, which, v.ptr, v.len, path);
      case_set(&c, r, K_JSON, path->len > API_URL_BYTES_MAX ? 414 : 0, NULL, ":%s = random", param_name(r, which));
      req_build(req, r->method, ve_buf_slice(path), false, NULL, NULL, 0);
      pool_add(&c, req, false);
    }
    ve_buf_free(&v);
  }
  route_path(r, SIZE_MAX, NULL, 0, path);
  size_t base = path->len;
  bputs(path, "?a=%00");
  case_set(&c, r, K_JSON, 400, "bad_request", "query a=%%00");
  req_build(req, r->method, ve_buf_slice(path), false, route_json(r) ? JSON_CT : NULL, NULL, 0);
  pool_add(&c, req, false);
  path->len = base;
  bputs(path, "?");
  while (path->len < 3000) bputs(path, "x");
  case_set(&c, r, K_JSON, 414, "uri_too_long", "a query of 3000 characters");
  req_build(req, r->method, ve_buf_slice(path), false, NULL, NULL, 0);
  pool_add(&c, req, false);
  path->len = base;
  size_t max = route_body_max(r);
  if (!max) {
    case_set(&c, r, K_JSON, 413, "too_big", "a body on a route that takes none");
    req_build(req, r->method, ve_buf_slice(path), false, JSON_CT, "{}", 2);
    pool_add(&c, req, false);
    return;
  }
  char extra[160];
  const char *ct = route_json(r) ? JSON_CT : "Content-Type: application/octet-stream\r\n";
  snprintf(extra, sizeof extra, "%sContent-Length: %zu\r\n", ct, max + 1);
  case_set(&c, r, K_JSON, 413, "too_big", "Content-Length %zu (limit + 1), 1 KiB sent", max + 1);
  ve_buf_t body;
  ve_buf_init(&body, 0);
  long_value(&body, "{", 1024);
  req_build(req, r->method, ve_buf_slice(path), false, extra, body.ptr, body.len);
  pool_add(&c, req, false);
  snprintf(extra, sizeof extra, "%sContent-Length: 1000\r\n", ct);
  case_set(&c, r, K_DROP, 0, NULL, "Content-Length 1000, 11 bytes sent, then the client half-closes");
  c.half_close = true;
  c.wait_ms = SW_LEAVE_WAIT_MS;
  req_build(req, r->method, ve_buf_slice(path), false, extra, "{\"tx\":\"00\"}", 11);
  pool_add(&c, req, false);
  if (route_json(r)) {
    static const char *const BAD[] = {"{", "{\"tx\":}", "{\"tx\":\"00\",\"tx\":\"01\"}", "[1,"};
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
      case_set(&c, r, K_JSON, 400, "malformed_json", "body %s", BAD[i]);
      req_build(req, r->method, ve_buf_slice(path), false, JSON_CT, BAD[i], strlen(BAD[i]));
      pool_add(&c, req, false);
    }
    deep(&body, "[", "]", API_JSON_DEPTH_MAX + 1, true);
    case_set(&c, r, K_JSON, 400, "too_deep", "arrays nested %d deep", API_JSON_DEPTH_MAX + 1);
    req_build(req, r->method, ve_buf_slice(path), false, JSON_CT, body.ptr, body.len);
    pool_add(&c, req, false);
    case_set(&c, r, K_JSON, 415, "unsupported_media_type", "JSON as text/plain");
    req_build(req, r->method, ve_buf_slice(path), false, "Content-Type: text/plain\r\n", "{}", 2);
    pool_add(&c, req, false);
    if (max >= ((size_t)5 << 20)) {
      ve_buf_reset(&body);
      bputs(&body, "{\"tx\":\"");
      brepeat(&body, "ab", (size_t)2 << 20);
      bputs(&body, "\"}");
      case_set(&c, r, K_JSON, 0, NULL, "a 4 MiB hex tx");
      c.junk_tx = true;
      req_build(req, r->method, ve_buf_slice(path), false, JSON_CT, body.ptr, body.len);
      pool_add(&c, req, true);
    }
  } else {
    size_t chunk = chunked_over(&body, max); /* the route's limit + 64 KiB: dropped */
    snprintf(extra, sizeof extra, "%sTransfer-Encoding: chunked\r\n", ct);
    case_set(&c, r, K_DROP, 0, NULL, "chunked body over the limit (%zu bytes)", max + chunk);
    req_build(req, r->method, ve_buf_slice(path), false, extra, body.ptr, body.len);
    pool_add(&c, req, true);
  }
  ve_buf_free(&body);
}

/* Transactions no node may admit, as JSON and in binary batches: the junk
 * ones and every hostile poll tx of the poll phases. */
static void pool_txs(ve_buf_t *req) {
  const api_route_t *rj = route_find("POST", "/v1/txs"), *rr = route_find("POST", "/v1/txs/raw");
  ve_buf_t body;
  ve_buf_init(&body, 0);
  case_t c;
  for (size_t i = 0; i < g.n_junk + op.n_hostile; i++) {
    const ve_buf_t *tx = i < g.n_junk ? &g.junk[i].bytes : &op.hostile[i - g.n_junk];
    const char *name = i < g.n_junk ? g.junk[i].name : "a hostile poll tx";
    char *h = hex_of(ve_buf_slice(tx));
    ve_buf_reset(&body);
    bprintf(&body, "{\"tx\":\"%s\"}", h);
    free(h);
    case_set(&c, rj, K_JSON, 0, NULL, "tx: %s", name);
    c.junk_tx = true;
    req_build(req, "POST", str_slice("/v1/txs"), false, "Content-Type: application/json\r\n", body.ptr, body.len);
    pool_add(&c, req, false);
    if (tx->len > VE_TX_BYTES_MAX) continue;
    ve_buf_reset(&body);
    put_uvarint(&body, 1);
    put_uvarint(&body, tx->len);
    bput(&body, tx->ptr, tx->len);
    case_set(&c, rr, K_JSON, 0, NULL, "binary batch: %s", name);
    c.junk_tx = true;
    req_build(req, "POST", str_slice("/v1/txs/raw"), false, "Content-Type: application/octet-stream\r\n", body.ptr,
              body.len);
    pool_add(&c, req, false);
  }
  ve_buf_free(&body);
}

/* Broken requests that libmicrohttpd answers (or closes on) itself. */
static void pool_wire(ve_buf_t *req) {
  static const struct {
    const char *label, *bytes;
    size_t len;
    kind_t kind;
    int want;
    bool half_close;
  } WIRE[] = {
      {"no Host in HTTP/1.1", LIT("GET /health HTTP/1.1\r\nConnection: close\r\n\r\n"), K_HTTPD, 400, false},
      {"a space inside the target", LIT("GET /hea lth HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), K_LINE, 0,
       false},
      {"version HTTP/2.0", LIT("GET /health HTTP/2.0\r\nHost: x\r\nConnection: close\r\n\r\n"), K_LINE, 505, false},
      {"header without colon", LIT("GET /health HTTP/1.1\r\nHost: x\r\nBroken\r\nConnection: close\r\n\r\n"),
       K_HTTPD, 400, false},
      {"binary junk", LIT("\x00\x01\x02\x03\xff\xfe\r\n\r\n"), K_DROP, 0, true},
      {"client half-closes mid-headers", LIT("GET /health HTTP/1.1\r\nHost: x\r\nX-A: "), K_DROP, 0, true},
  };
  case_t c;
  for (size_t i = 0; i < sizeof WIRE / sizeof WIRE[0]; i++) {
    case_set(&c, NULL, WIRE[i].kind, WIRE[i].want, NULL, "%s", WIRE[i].label);
    c.half_close = WIRE[i].half_close;
    if (c.half_close) c.wait_ms = SW_LEAVE_WAIT_MS;
    ve_buf_reset(req);
    bput(req, WIRE[i].bytes, WIRE[i].len);
    pool_add(&c, req, false);
  }
  ve_buf_reset(req);
  bputs(req, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: ");
  brepeat(req, "a", 70000);
  bputs(req, "\r\n\r\n");
  case_set(&c, NULL, K_HTTPD, 431, NULL, "a 70 KB header");
  pool_add(&c, req, false);
}

static uint64_t rnd_of(uint64_t *s) { /* xorshift64*, a thread's own */
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 2685821657736338717ull;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* A hostile client: seeded picks from the pool until told to stop. Asserts
 * nothing (cmocka's asserts belong to the main thread): findings go through
 * check() and violation() under g.lock. */
static void *hostile_client(void *arg) {
  worker_t *w = arg;
  while (!atomic_load(&cc.stop)) {
    const item_t *it = &cc.items[rnd_of(&w->rng) % cc.n];
    if (it->big && rnd_of(&w->rng) % SW_BIG_ONE_IN) continue;
    conn_t k;
    int err = conn_try_open(&k);
    resp_t r;
    resp_init(&r);
    if (!err) exchange(&k, &it->c, ve_buf_slice(&it->req), &r);
    pthread_mutex_lock(&g.lock);
    if (err) {
      g.requests++;
      violation(&it->c, ve_buf_slice(&it->req), NULL, "cannot connect: %s", strerror(err));
    } else {
      check(&it->c, ve_buf_slice(&it->req), &r);
    }
    pthread_mutex_unlock(&g.lock);
    resp_free(&r);
    conn_close(&k);
    w->sent++;
    w->big += it->big;
    if (err) sleep_ms(20);
  }
  return NULL;
}

/* Asks GET /health every SW_HEALTH_EVERY_MS until told to stop. */
static void *health_watcher(void *arg) {
  (void)arg;
  while (!atomic_load(&cc.stop)) {
    int64_t t0 = now_ms();
    http_response_t r;
    int rc = http_request("127.0.0.1", g.n.port, "GET", "/health", NULL, NULL, 0, SW_TIMEOUT_MS, &r);
    int64_t took = now_ms() - t0;
    pthread_mutex_lock(&g.lock);
    cc.health_n++;
    if (took > cc.health_max_ms) cc.health_max_ms = took;
    if ((rc || r.status != 200) && !cc.health_bad++)
      snprintf(cc.health_bad_what, sizeof cc.health_bad_what, "%s after %lld ms",
               rc ? "no answer" : r.status >= 500 ? "a 5xx" : "not 200", (long long)took);
    pthread_mutex_unlock(&g.lock);
    if (!rc) http_response_free(&r);
    int64_t left = t0 + SW_HEALTH_EVERY_MS - now_ms();
    if (left > 0) sleep_ms((int)left);
  }
  return NULL;
}

/* One honest transaction, sent as a careful client sends it, then waited for
 * until it commits. A failed connection or a 503 is retried within the
 * deadline (counted in *retries; a 5xx also in *errors_5xx); a 409 duplicate
 * on a retry means an earlier attempt got in. Returns the milliseconds from
 * the first submission to the commit, or -1 (refused, failed, or not
 * committed within SW_HONEST_COMMIT_MS: printed). Asserts nothing, so that
 * the hostile clients are always stopped before the phase judges. */
static int64_t honest_tx(const char *hex, const uint8_t id[32], size_t *retries, size_t *errors_5xx) {
  int64_t t0 = now_ms(), deadline = t0 + SW_HONEST_COMMIT_MS;
  ve_buf_t body;
  ve_buf_init(&body, 0);
  bprintf(&body, "{\"tx\":\"%s\"}", hex);
  bool in = false;
  for (int attempt = 0; !in && now_ms() < deadline; attempt++) {
    http_response_t r;
    int rc = http_request("127.0.0.1", g.n.port, "POST", "/v1/txs", "application/json", body.ptr, body.len,
                          (int)(deadline - now_ms()), &r);
    if (rc) {
      (*retries)++;
      fprintf(stderr, "api_sweep: honest client: no answer (%s), retrying\n", ve_strerror(rc));
      sleep_ms(50);
      continue;
    }
    json_t *j = json_loadb((const char *)r.body.ptr, r.body.len, 0, NULL);
    const char *e = json_string_value(json_object_get(j, "error"));
    if (r.status == 202 || (attempt && r.status == 409 && e && !strcmp(e, "duplicate"))) in = true;
    else if (r.status >= 500) {
      (*retries)++, (*errors_5xx)++;
      fprintf(stderr, "api_sweep: honest client: %d %s, retrying\n", r.status, nz(e));
      sleep_ms(r.retry_after_s ? 500 : 50);
    } else {
      fprintf(stderr, "api_sweep: an honest tx is refused: %d %.*s\n", r.status, (int)r.body.len,
              (const char *)r.body.ptr);
      json_decref(j);
      http_response_free(&r);
      break;
    }
    json_decref(j);
    http_response_free(&r);
  }
  ve_buf_free(&body);
  char path[128], idh[SW_HEX];
  hex32(idh, id);
  snprintf(path, sizeof path, "/v1/txs/%s", idh);
  while (in && now_ms() < deadline) {
    http_response_t r;
    int rc = http_request("127.0.0.1", g.n.port, "GET", path, NULL, NULL, 0, (int)(deadline - now_ms()), &r);
    json_t *j = rc ? NULL : json_loadb((const char *)r.body.ptr, r.body.len, 0, NULL);
    const char *s = json_string_value(json_object_get(j, "status"));
    int64_t took = now_ms() - t0;
    bool committed = s && !strcmp(s, "committed"), final = s && strcmp(s, "pending");
    if (!rc && r.status >= 500) (*errors_5xx)++;
    if (final && !committed) fprintf(stderr, "api_sweep: an honest tx %s is %s\n", idh, s);
    json_decref(j);
    if (!rc) http_response_free(&r);
    if (committed) return took;
    if (final) return -1;
    sleep_ms(20);
  }
  return -1;
}

/* ---------------------------------------------------------------- tests */

static void test_route_table(void **state) {
  (void)state;
  /* The table is the library's; a route added there is swept here. */
  assert_true(g.n_routes > 0 && g.n_routes <= NODE_ROUTES_MAX);
  for (size_t i = 0; i < g.n_routes; i++) {
    const api_route_t *r = &g.routes[i];
    assert_non_null(r->pattern);
    assert_true(r->pattern[0] == '/');
    fprintf(stderr, "api_sweep: route %-7s %-48s body max %zu%s\n", r->method, r->pattern, route_body_max(r),
            route_json(r) ? " (JSON)" : "");
  }
}

/* check() itself: each rule flags what it must and passes what it must. */
static size_t judge(kind_t kind, int want, const char *allow, bool junk_tx, int status, bool timed_out,
                    const char *ctype, const char *allow_hdr, const char *body) {
  case_t c;
  case_set(&c, NULL, kind, want, NULL, "self-test");
  c.allow = allow;
  c.junk_tx = junk_tx;
  resp_t r;
  resp_init(&r);
  r.status = status;
  r.timed_out = timed_out;
  snprintf(r.ctype, sizeof r.ctype, "%s", ctype);
  snprintf(r.allow, sizeof r.allow, "%s", allow_hdr);
  bputs(&r.body, body);
  size_t before = g.violations;
  check(&c, ve_slice("", 0), &r);
  resp_free(&r);
  return g.violations - before;
}

/* check() with a set of wanted codes, and check_inner() on a batch answer:
 * the violations each finds. */
static size_t judge_codes(const char *want_errors, int status, const char *body, const char *inner_errs) {
  case_t c;
  case_set(&c, NULL, K_JSON, status, want_errors, "self-test");
  resp_t r;
  resp_init(&r);
  r.status = status;
  snprintf(r.ctype, sizeof r.ctype, "application/json");
  bputs(&r.body, body);
  size_t before = g.violations;
  check(&c, ve_slice("", 0), &r);
  if (inner_errs) check_inner(&c, ve_slice("", 0), &r, "results", inner_errs);
  resp_free(&r);
  return g.violations - before;
}

static void test_checker(void **state) {
  (void)state;
  const char *J = "application/json", *E = "{\"error\":\"x\",\"message\":\"y\"}";
  g.quiet = true;
  g.violations = 0;
  assert_int_equal(judge(K_JSON, 0, NULL, false, 500, false, J, "", E), 1);
  assert_int_equal(judge(K_JSON, 0, NULL, false, 503, false, J, "", E), 1);
  assert_int_equal(judge(K_HTTPD, 0, NULL, false, 505, false, "text/html", "", "<html>"), 1);
  assert_int_equal(judge(K_HTTPD, 505, NULL, false, 505, false, "text/html", "", "<html>"), 0);
  assert_int_equal(judge(K_JSON, 0, NULL, false, 0, false, "", "", ""), 1);  /* closed, no answer */
  assert_int_equal(judge(K_JSON, 0, NULL, false, 0, true, "", "", ""), 1);   /* no answer */
  assert_int_equal(judge(K_DROP, 0, NULL, false, 0, false, "", "", ""), 0);
  assert_int_equal(judge(K_LINE, 0, NULL, false, 0, false, "", "", ""), 0);
  assert_int_equal(judge(K_LINE, 0, NULL, false, 0, true, "", "", ""), 1);   /* held open */
  assert_int_equal(judge(K_JSON, 0, NULL, false, 404, false, J, "", E), 0);
  assert_int_equal(judge(K_JSON, 0, NULL, false, 400, false, "text/html", "", "<html>"), 1);
  assert_int_equal(judge(K_HTTPD, 0, NULL, false, 400, false, "text/html", "", "<html>"), 0);
  assert_int_equal(judge(K_JSON, 0, NULL, false, 400, false, J, "", "{\"message\":\"y\"}"), 1);
  assert_int_equal(judge(K_JSON, 0, NULL, false, 400, false, J, "", "{\"error\":5}"), 1);
  assert_int_equal(judge(K_JSON, 0, NULL, false, 400, false, J, "", "[\"error\"]"), 1);
  assert_int_equal(judge(K_JSON, 0, NULL, false, 400, false, J, "", "{\"error\":"), 1);
  assert_int_equal(judge(K_JSON, 0, NULL, false, 200, false, J, "", "{\"ok\":"), 1);
  assert_int_equal(judge(K_JSON, 413, NULL, false, 400, false, J, "", E), 1);
  assert_int_equal(judge(K_JSON, 405, "GET, PUT", false, 405, false, J, "", E), 1);
  assert_int_equal(judge(K_JSON, 405, "GET, PUT", false, 405, false, J, "GET", E), 1);
  assert_int_equal(judge(K_JSON, 405, "GET, PUT", false, 405, false, J, "PUT, GET", E), 0);
  assert_int_equal(judge(K_JSON, 405, "GET", false, 405, false, J, "GETX, PUT", E), 1);
  assert_int_equal(judge(K_JSON, 0, NULL, true, 202, false, J, "", "{\"status\":\"accepted\"}"), 1);
  assert_int_equal(judge(K_JSON, 0, NULL, true, 200, false, J, "", "{\"accepted\":2}"), 1);
  assert_int_equal(judge(K_JSON, 0, NULL, true, 200, false, J, "", "{\"accepted\":0,\"rejected\":3}"), 0);
  assert_int_equal(judge(K_JSON, 0, NULL, true, 401, false, J, "", E), 0);
  /* a set of codes ("a|b"): any of them, nothing else, no prefix */
  assert_int_equal(judge_codes("bad_proof|malformed", 400, "{\"error\":\"malformed\"}", NULL), 0);
  assert_int_equal(judge_codes("bad_proof|malformed", 400, "{\"error\":\"bad_proof\"}", NULL), 0);
  assert_int_equal(judge_codes("bad_proof|malformed", 400, "{\"error\":\"non_canonical\"}", NULL), 1);
  assert_int_equal(judge_codes("bad_proof|malformed", 400, "{\"error\":\"bad\"}", NULL), 1);
  assert_int_equal(judge_codes("bad_proof", 400, "{\"error\":\"bad_proof_x\"}", NULL), 1);
  assert_int_equal(judge_codes("too_big", 413, "{\"error\":\"too_big\"}", NULL), 0);
  /* the one entry of a batch answer */
  const char *B = "{\"accepted\":0,\"results\":[{\"status\":\"rejected\",\"error\":\"not_eligible\"}]}";
  assert_int_equal(judge_codes(NULL, 200, B, "not_eligible"), 0);
  assert_int_equal(judge_codes(NULL, 200, B, "duplicate|not_eligible"), 0);
  assert_int_equal(judge_codes(NULL, 200, B, "no_permission"), 1);
  assert_int_equal(judge_codes(NULL, 200, "{\"accepted\":0,\"results\":[]}", "not_eligible"), 1);
  const char *A = "{\"accepted\":1,\"results\":[{\"status\":\"accepted\"}]}";
  assert_int_equal(judge_codes(NULL, 200, A, "not_eligible"), 1);
  g.quiet = false;
  g.violations = 0;
}

static void test_params(void **state) {
  (void)state;
  int64_t t0 = now_ms();
  phase_begin("params");
  for (size_t i = 0; i < g.n_routes; i++) {
    sweep_params(&g.routes[i]);
    health(g.routes[i].pattern);
  }
  phase_end("params", t0);
}

static void test_methods(void **state) {
  (void)state;
  int64_t t0 = now_ms();
  phase_begin("methods");
  for (size_t i = 0; i < g.n_routes; i++) sweep_methods(&g.routes[i]);
  health("the method cases");
  phase_end("methods", t0);
}

static void test_queries(void **state) {
  (void)state;
  int64_t t0 = now_ms();
  phase_begin("queries");
  for (size_t i = 0; i < g.n_routes; i++) {
    sweep_queries(&g.routes[i]);
    health(g.routes[i].pattern);
  }
  phase_end("queries", t0);
}

static void test_bodies(void **state) {
  (void)state;
  int64_t t0 = now_ms();
  phase_begin("bodies");
  for (size_t i = 0; i < g.n_routes; i++) sweep_bodies(&g.routes[i]);
  phase_end("bodies", t0);
}

static void test_keepalive(void **state) {
  (void)state;
  int64_t t0 = now_ms();
  phase_begin("keepalive");
  for (size_t i = 0; i < g.n_routes; i++) {
    keepalive_run(&g.routes[i], false);
    keepalive_run(&g.routes[i], true);
  }
  phase_end("keepalive", t0);
}

static void test_wire(void **state) {
  (void)state;
  int64_t t0 = now_ms();
  phase_begin("wire");
  sweep_wire();
  phase_end("wire", t0);
}

/* The server's own count of answers it sent with a 5xx status. */
static double metric_5xx(void) {
  http_response_t r;
  assert_int_equal(http_request("127.0.0.1", g.n.port, "GET", "/metrics", NULL, NULL, 0, 5000, &r), 0);
  assert_int_equal(r.status, 200);
  const char *pat = "\n" API_METRIC_REQUESTS "{class=\"5xx\"} ";
  const char *at = r.body.len ? strstr((const char *)r.body.ptr, pat) : NULL;
  double v = at ? strtod(at + strlen(pat), NULL) : -1;
  http_response_free(&r);
  if (!at) fail_msg("no %s{class=\"5xx\"} in /metrics", API_METRIC_REQUESTS);
  return v;
}

/* Every fact recorded before the sweep is still there, unchanged. */
static void facts_unchanged(const char *when) {
  for (size_t i = 0; i < g.n_setup; i++) {
    char id[SW_HEX];
    hex32(id, g.setup_ids[i]);
    json_t *now = get_ok("/v1/txs/%s", id);
    if (!json_equal(now, g.setup_results[i])) fail_msg("%s: tx %s changed", when, id);
    json_t *b = get_ok("/v1/blocks/%lld", (long long)json_integer_value(json_object_get(now, "height")));
    if (!json_equal(json_object_get(b, "header"), g.setup_headers[i])) fail_msg("%s: the block of tx %s changed", when, id);
    bool listed = false;
    json_t *t;
    size_t k;
    json_array_foreach(json_object_get(b, "txs"), k, t) listed |= !strcmp(json_string_value(t), id);
    if (!listed) fail_msg("%s: tx %s no longer in its block", when, id);
    json_decref(b);
    json_decref(now);
  }
  json_t *j = get_ok("/v1/identities/%s", g.citizen_id);
  json_object_del(j, "as_of_height");
  if (!json_equal(j, g.identity)) fail_msg("%s: the citizen's identity changed", when);
  json_decref(j);
  j = get_ok("/v1/documents/%s", g.doc_id);
  json_object_del(j, "as_of_height");
  json_object_del(j, "as_of_time_ms");
  json_object_del(j, "verdict");
  if (!json_equal(j, g.document)) fail_msg("%s: the document record changed", when);
  json_decref(j);
  json_decref(get_ok("/v1/polls/%s", g.poll_id));
  if (op.done) { /* the decrypted poll: a record that never changes again */
    j = get_ok("/v1/polls/%s", op.hex);
    json_object_del(j, "as_of_height");
    if (!json_equal(j, op.done)) fail_msg("%s: the decrypted poll changed", when);
    json_decref(j);
  }
  json_decref(get_ok("/v1/documents/%s/grants/%s", g.doc_id, g.citizen_id));
  char path[200];
  snprintf(path, sizeof path, "/v1/blobs/%s", g.blob_id);
  http_response_t r;
  assert_int_equal(http_request("127.0.0.1", g.n.port, "GET", path, NULL, NULL, 0, 10000, &r), 0);
  assert_int_equal(r.status, 200);
  assert_int_equal(r.body.len, g.blob.len);
  assert_memory_equal(r.body.ptr, g.blob.ptr, g.blob.len);
  http_response_free(&r);
  /* no junk transaction was admitted (a replay's id is the committed tx's) */
  for (size_t i = 0; i < g.n_junk; i++) {
    if (g.junk[i].committed_before) continue;
    char id[SW_HEX], p[128];
    hex32(id, g.junk[i].id);
    snprintf(p, sizeof p, "/v1/txs/%s", id);
    json_t *a = NULL;
    int st = h_get(&g.n, p, &a);
    const char *s = json_string_value(json_object_get(a, "status"));
    if (!(st == 404 || (st == 200 && s && !strcmp(s, "rejected"))))
      fail_msg("%s: junk tx \"%s\" is %d %s", when, g.junk[i].name, st, s ? s : "");
    json_decref(a);
  }
}

/* The node is alive, healthy, still committing (its height moves on and a
 * new transaction commits), counted no 5xx, and lost nothing. */
static void node_healthy(const char *when) {
  json_t *h = get_ok("/health");
  assert_string_equal(json_string_value(json_object_get(h, "status")), "ok");
  json_decref(h);
  assert_true(metric_5xx() == 0);
  uint64_t h0 = h_height(&g.n);
  assert_true(h0 >= g.height_before);
  h_wait_height(&g.n, h0 + 1, SW_SETTLE_MS); /* empty blocks every empty_block_ms */
  uint8_t id[32];
  char *hex = h_register_hex(&g.n, 79, (uint32_t)g.n.seq, 0x11, id);
  json_t *r;
  int st = h_post(&g.n, "/v1/txs", json_pack("{s:s}", "tx", hex), &r);
  free(hex);
  if (st != 202) fail_msg("%s: a good tx is refused (%d)", when, st);
  json_decref(r);
  assert_int_equal(h_wait_final(&g.n, (uint8_t(*)[32])id, 1), 1);
  facts_unchanged(when);
}

static void test_poll_ballots(void **state) {
  (void)state;
  int64_t t0 = now_ms();
  phase_begin("poll ballots");
  h_wait_height(&g.n, op.p.def.open_height - 1, SW_SETTLE_MS); /* the next block executes at open */
  open_poll_expect("ready", "open");
  size_t all[SW_VOTERS];
  for (size_t v = 0; v < SW_VOTERS; v++) all[v] = v;
  honest_round(all, SW_VOTERS, VIA_BATCH);
  open_poll_fetch(&op.p, &op.early);
  op.have_early = true;
  hostile_ballots_made();
  open_poll_expect("ready", "open");
  static const size_t REVOTE[] = {0, 1, 2}, LAST[] = {0, 3};
  honest_round(REVOTE, 3, VIA_RAW); /* re-votes: each replaces the voter's ballot */
  hostile_ballots_misplaced();
  hostile_ballots_replayed();
  open_poll_expect("ready", "open");
  sweep_poll_routes("the poll routes, poll open");
  honest_round(LAST, 2, VIA_TX);
  open_poll_expect("ready", "open");
  fprintf(stderr, "api_sweep: %llu honest ballots of %zu voters committed, %zu hostile poll txs refused\n",
          (unsigned long long)op.ballots, voters_counted(), op.n_hostile);
  phase_end("poll ballots", t0);
}

static void test_poll_decrypt(void **state) {
  (void)state;
  int64_t t0 = now_ms();
  phase_begin("poll decryption");
  uint64_t close = op.p.def.close_height, h = h_height(&g.n);
  /* the next block executes at close + 1, the first that takes shares */
  h_wait_height(&g.n, close, SW_SETTLE_MS + (close > h ? (int)(close - h) * SW_EMPTY_BLOCK_MS * 3 : 0));
  fprintf(stderr, "api_sweep: waited %lld ms for the poll's close\n", (long long)(now_ms() - t0));
  open_poll_expect("ready", "closed");
  voting_tally_rec_t *t = malloc(sizeof *t);
  assert_non_null(t);
  open_poll_fetch(&op.p, t);
  uint8_t x[3][32];
  for (uint32_t j = 1; j <= 3; j++) trustee_secret(j, x[j - 1]);
  ve_buf_t good, pl, tx;
  ve_buf_init(&good, 0);
  ve_buf_init(&pl, 0);
  ve_buf_init(&tx, 0);
  decrypt_make(&good, &op.p, t, g.n.chain, 1, x[0]);
  hostile_shares(&good, t, x[0]);
  open_poll_expect("ready", "closed");
  honest_share(1, &good, &tx);
  tx_case("replay of trustee 1's committed shares (the same bytes)", ve_buf_slice(&tx), 409, "duplicate");
  /* docs/voting.md §5 names no code for a trustee's second shares (the table's
   * already_exists row names deals and complaints): this is the ledger's. */
  hostile_sign(&tx, &g.trustee[0], TX_TYPE_POLL_DECRYPT, ve_buf_slice(&good));
  tx_case("trustee 1's shares again (a new sequence)", ve_buf_slice(&tx), 409, "already_exists");
  decrypt_make(&pl, &op.p, t, g.n.chain, 3, x[2]);
  honest_share(3, &pl, &tx);
  result_expect();
  decrypt_make(&pl, &op.p, t, g.n.chain, 2, x[1]);
  hostile_sign(&tx, &g.trustee[1], TX_TYPE_POLL_DECRYPT, ve_buf_slice(&pl));
  tx_case("trustee 2's honest shares after the result", ve_buf_slice(&tx), 409, "invalid_state");
  hostile_sign(&tx, &g.trustee[0], TX_TYPE_POLL_DECRYPT, ve_buf_slice(&good));
  tx_case("trustee 1's shares after the result", ve_buf_slice(&tx), 409, "invalid_state");
  uint8_t ch[SW_OPTIONS];
  choices_random(ch);
  ballot_make(&pl, NULL, &op.p, g.n.chain, op.voter_id[5], ch);
  hostile_sign(&tx, &op.voter[5], TX_TYPE_POLL_BALLOT, ve_buf_slice(&pl));
  tx_case("a ballot after the close", ve_buf_slice(&tx), 409, "too_late");
  for (int j = 0; j < 3; j++) vcrypto_wipe(x[j], 32);
  free(t);
  ve_buf_free(&good);
  ve_buf_free(&pl);
  ve_buf_free(&tx);
  /* the public audit re-verifies every ballot and share against the chain */
  char genesis[400], out[16384];
  snprintf(genesis, sizeof genesis, "%s/net/genesis.json", g.n.dir);
  h_wait_height(&g.n, h_height(&g.n) + 2, SW_SETTLE_MS); /* the result's block certified */
  int64_t ta = now_ms();
  int st = h_veche(&g.n, out, sizeof out, "audit", "poll", op.hex, "--genesis", genesis, (char *)NULL);
  if (st != 0 || !strstr(out, "AUDIT OK")) fail_msg("veche audit poll exited %d:\n%s", st, out);
  fprintf(stderr, "api_sweep: veche audit poll: AUDIT OK in %lld ms\n", (long long)(now_ms() - ta));
  sweep_poll_routes("the poll routes, poll done");
  phase_end("poll decryption", t0);
}

static void test_concurrent(void **state) {
  (void)state;
  int64_t t0 = now_ms();
  phase_begin("concurrent");
  cc.items = calloc(SW_POOL_MAX, sizeof *cc.items);
  assert_non_null(cc.items);
  cc.n = 0;
  ve_buf_t path, req;
  ve_buf_init(&path, 0);
  ve_buf_init(&req, 0);
  for (size_t i = 0; i < g.n_routes; i++) pool_route(&g.routes[i], &path, &req);
  pool_txs(&req);
  pool_wire(&req);
  ve_buf_free(&path);
  ve_buf_free(&req);
  cc.health_max_ms = 0, cc.health_n = cc.health_bad = 0;
  atomic_store(&cc.stop, false);
  worker_t w[SW_HOSTILE_THREADS];
  pthread_t watcher;
  for (size_t k = 0; k < SW_HOSTILE_THREADS; k++) {
    w[k].sent = w[k].big = 0;
    w[k].rng = g.seed ^ (0x9e3779b97f4a7c15ull * (k + 1));
    if (!w[k].rng) w[k].rng = 1;
    assert_int_equal(pthread_create(&w[k].th, NULL, hostile_client, &w[k]), 0);
  }
  assert_int_equal(pthread_create(&watcher, NULL, health_watcher, NULL), 0);
  /* the honest client: registrations by the authority, one after the other,
   * spread over the phase */
  size_t retries = 0, errors_5xx = 0, lost = 0;
  int64_t worst = 0;
  for (uint32_t i = 0; i < SW_CONC_HONEST_TXS; i++) {
    int64_t start = t0 + (int64_t)i * SW_CONC_MIN_MS / SW_CONC_HONEST_TXS;
    if (start > now_ms()) sleep_ms((int)(start - now_ms()));
    uint8_t id[32];
    char *hex = h_register_hex(&g.n, 81, i, 0x12, id);
    int64_t took = honest_tx(hex, id, &retries, &errors_5xx);
    free(hex);
    if (took < 0) lost++;
    else if (took > worst) worst = took;
  }
  while (now_ms() - t0 < SW_CONC_MIN_MS) sleep_ms(50);
  atomic_store(&cc.stop, true);
  size_t sent = 0, big = 0;
  for (size_t k = 0; k < SW_HOSTILE_THREADS; k++) {
    pthread_join(w[k].th, NULL);
    sent += w[k].sent, big += w[k].big;
  }
  pthread_join(watcher, NULL);
  for (size_t i = 0; i < cc.n; i++) ve_buf_free(&cc.items[i].req);
  free(cc.items);
  cc.items = NULL;
  fprintf(stderr,
          "api_sweep: concurrent: %d hostile clients sent %zu requests (%zu with bodies of MiBs; a pool of %zu); %d "
          "honest txs committed in %lld ms at worst (%zu lost, %zu retries, %zu 5xx); /health asked %zu times, "
          "slowest %lld ms, %zu bad\n",
          SW_HOSTILE_THREADS, sent, big, cc.n, SW_CONC_HONEST_TXS, (long long)worst, lost, retries, errors_5xx,
          cc.health_n, (long long)cc.health_max_ms, cc.health_bad);
  node_alive();
  if (lost) fail_msg("%zu honest txs did not commit within %d ms", lost, SW_HONEST_COMMIT_MS);
  if (errors_5xx) fail_msg("the honest client got %zu 5xx answers", errors_5xx);
  if (cc.health_bad) fail_msg("%zu /health requests failed; the first: %s", cc.health_bad, cc.health_bad_what);
  if (cc.health_max_ms > SW_HEALTH_BOUND_MS)
    fail_msg("/health took %lld ms under the load (bound %d ms)", (long long)cc.health_max_ms, SW_HEALTH_BOUND_MS);
  if (metric_5xx() != 0) fail_msg("the node counted 5xx answers");
  h_log_check(&g.n); /* a sanitizer report or assertion in any life of the node */
  phase_end("concurrent", t0);
}

static void test_after(void **state) {
  (void)state;
  if (g.dead) fail_msg("the node died in an earlier phase");
  node_alive();
  node_healthy("after the sweep");
  h_node_stop(&g.n); /* clean: fails if the node does not stop in time */
  h_log_check(&g.n); /* a sanitizer report or assertion in any life of the node */
  h_node_start(&g.n);
  node_healthy("after a restart");
  h_node_stop(&g.n);
  h_log_check(&g.n); /* a sanitizer report or assertion in any life of the node */
}

int main(int argc, char **argv) {
  g_veche = h_veche_arg(argc, argv);
  if (getenv("VECHE_SWEEP_ONLY")) cmocka_set_test_filter(getenv("VECHE_SWEEP_ONLY")); /* e.g. "test_wire" */
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_route_table), cmocka_unit_test(test_checker), cmocka_unit_test(test_poll_ballots),
      cmocka_unit_test(test_params),      cmocka_unit_test(test_methods), cmocka_unit_test(test_queries),
      cmocka_unit_test(test_bodies),      cmocka_unit_test(test_keepalive), cmocka_unit_test(test_wire),
      cmocka_unit_test(test_concurrent),  cmocka_unit_test(test_poll_decrypt), cmocka_unit_test(test_after),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
