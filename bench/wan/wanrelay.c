/* wanrelay.c — a TCP relay that delays every byte by a fixed time in each
 * direction, to emulate wide-area links between nodes on one machine when the
 * kernel has no netem (bench/scenarios/wan.sh uses netem when it can).
 *
 *   wanrelay --delay-ms D --map LISTEN_PORT:TARGET_HOST:TARGET_PORT [--map ...]
 *            [--listen-host 127.0.0.1]
 *
 * Every connection accepted on LISTEN_PORT is paired with a new connection to
 * the target; bytes read on one side are written to the other D ms after they
 * were read (a one-way delay of D; a round trip through the relay takes 2D).
 * Order is kept; bandwidth is not limited; each direction holds at most
 * WAN_QUEUE_BYTES_MAX in flight, beyond which reading pauses (TCP back-pressure)
 * so a fast sender cannot grow the relay without bound.
 *
 * Each direction is a small state machine:
 *   OPEN --EOF read--> DRAINING --queue and writes empty--> SHUTTING
 *        --shutdown done--> SHUT (the other side saw our EOF)
 * A relay pair is closed when both directions are SHUT, or at once on any
 * error (connect refused, read error, write error). Single-threaded (libuv loop).
 */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include <uv.h>

#define WAN_MAPS_MAX 128
#define WAN_QUEUE_BYTES_MAX (32u * 1024 * 1024)
#define WAN_DELAY_MS_MAX 10000
#define WAN_HOST_BYTES 64

typedef struct {
  char target_host[WAN_HOST_BYTES];
  int target_port;
  uv_tcp_t server;
} wan_map_t;

typedef struct wan_chunk {
  struct wan_chunk *next;
  uint64_t due_ms;
  size_t len;
  char data[];
} wan_chunk_t;

typedef enum { DIR_OPEN, DIR_DRAINING, DIR_SHUTTING, DIR_SHUT } wan_dir_state_t;

struct wan_pair;

typedef struct {
  struct wan_pair *pair;
  uv_tcp_t *src, *dst;
  wan_chunk_t *head, *tail;
  size_t queued;      /* bytes in the queue plus in writes not yet completed */
  bool reading;
  wan_dir_state_t state;
  uv_timer_t timer;
} wan_dir_t;

typedef struct wan_pair {
  uv_tcp_t a, b; /* a: accepted; b: to the target */
  uv_connect_t connect;
  bool connected, closing;
  int handles_open;
  wan_dir_t ab, ba;
} wan_pair_t;

typedef struct {
  uv_write_t req;
  wan_dir_t *dir;
  wan_chunk_t *chunk;
} wan_write_t;

static uint64_t g_delay_ms;
static uv_loop_t *g_loop;

static void pair_close(wan_pair_t *p);
static void dir_pump(wan_dir_t *d);

/* ---- closing ---- */

static void on_handle_closed(uv_handle_t *h) {
  wan_pair_t *p = h->data;
  if (--p->handles_open > 0) return;
  wan_dir_t *dirs[2] = {&p->ab, &p->ba};
  for (int k = 0; k < 2; k++)
    while (dirs[k]->head) {
      wan_chunk_t *c = dirs[k]->head;
      dirs[k]->head = c->next;
      free(c);
    }
  free(p);
}

static void pair_close(wan_pair_t *p) {
  if (p->closing) return;
  p->closing = true;
  uv_handle_t *hs[4] = {(uv_handle_t *)&p->a, (uv_handle_t *)&p->b, (uv_handle_t *)&p->ab.timer,
                        (uv_handle_t *)&p->ba.timer};
  for (int k = 0; k < 4; k++) {
    hs[k]->data = p;
    uv_close(hs[k], on_handle_closed);
  }
}

/* ---- one direction ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  wan_chunk_t *c = malloc(sizeof *c + suggested);
  *buf = uv_buf_init(c ? c->data : NULL, c ? (unsigned)suggested : 0);
}

static wan_dir_t *dir_of_src(uv_stream_t *s) {
  wan_pair_t *p = s->data;
  return (uv_tcp_t *)s == &p->a ? &p->ab : &p->ba;
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  wan_dir_t *d = req->data;
  free(req);
  if (status == UV_ECANCELED) return; /* the pair is being closed */
  d->state = DIR_SHUT;
  if (status < 0 || (d->pair->ab.state == DIR_SHUT && d->pair->ba.state == DIR_SHUT)) pair_close(d->pair);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  wan_dir_t *d = dir_of_src(s);
  wan_chunk_t *c = buf->base ? (wan_chunk_t *)(buf->base - offsetof(wan_chunk_t, data)) : NULL;
  if (n <= 0) {
    free(c);
    if (n == 0) return;
    if (n != UV_EOF || d->pair->closing) return pair_close(d->pair);
    uv_read_stop(s);
    d->reading = false;
    d->state = DIR_DRAINING;
    return dir_pump(d);
  }
  uv_update_time(g_loop);
  c->next = NULL;
  c->len = (size_t)n;
  c->due_ms = uv_now(g_loop) + g_delay_ms;
  if (d->tail) d->tail->next = c;
  else d->head = c;
  d->tail = c;
  d->queued += c->len;
  if (d->queued > WAN_QUEUE_BYTES_MAX && d->reading) {
    uv_read_stop(s);
    d->reading = false;
  }
  dir_pump(d);
}

static void on_written(uv_write_t *req, int status) {
  wan_write_t *w = (wan_write_t *)req;
  wan_dir_t *d = w->dir;
  d->queued -= w->chunk->len;
  free(w->chunk);
  free(w);
  if (status < 0 || d->pair->closing) return pair_close(d->pair);
  if (!d->reading && d->state == DIR_OPEN && d->queued < WAN_QUEUE_BYTES_MAX / 2) {
    d->reading = uv_read_start((uv_stream_t *)d->src, on_alloc, on_read) == 0;
    if (!d->reading) return pair_close(d->pair);
  }
  dir_pump(d);
}

static void on_timer(uv_timer_t *t) { dir_pump(t->data); }

/* Writes every chunk that is due and re-arms the timer for the next one; once
 * a draining direction has written everything, shuts its write side down. */
static void dir_pump(wan_dir_t *d) {
  wan_pair_t *p = d->pair;
  if (p->closing || !p->connected) return;
  uv_update_time(g_loop);
  uint64_t now = uv_now(g_loop);
  while (d->head && d->head->due_ms <= now) {
    wan_chunk_t *c = d->head;
    d->head = c->next;
    if (!d->head) d->tail = NULL;
    wan_write_t *w = malloc(sizeof *w);
    if (!w) {
      d->queued -= c->len;
      free(c);
      return pair_close(p);
    }
    w->dir = d;
    w->chunk = c;
    uv_buf_t b = uv_buf_init(c->data, (unsigned)c->len);
    if (uv_write(&w->req, (uv_stream_t *)d->dst, &b, 1, on_written) != 0) {
      d->queued -= c->len;
      free(c);
      free(w);
      return pair_close(p);
    }
  }
  if (d->head) {
    uv_timer_start(&d->timer, on_timer, d->head->due_ms - now, 0);
    return;
  }
  if (d->state != DIR_DRAINING || d->queued != 0) return;
  uv_shutdown_t *req = malloc(sizeof *req);
  if (!req) return pair_close(p);
  req->data = d;
  d->state = DIR_SHUTTING;
  if (uv_shutdown(req, (uv_stream_t *)d->dst, on_shutdown) != 0) {
    free(req);
    pair_close(p);
  }
}

/* ---- pairs ---- */

static void on_connected(uv_connect_t *req, int status) {
  wan_pair_t *p = req->data;
  if (status < 0 || p->closing) return pair_close(p);
  p->connected = true;
  uv_tcp_nodelay(&p->b, 1);
  p->ba.reading = uv_read_start((uv_stream_t *)&p->b, on_alloc, on_read) == 0;
  if (!p->ba.reading) return pair_close(p);
  dir_pump(&p->ab);
}

static void dir_init(wan_pair_t *p, wan_dir_t *d, uv_tcp_t *src, uv_tcp_t *dst) {
  d->pair = p;
  d->src = src;
  d->dst = dst;
  d->state = DIR_OPEN;
  uv_timer_init(g_loop, &d->timer);
  d->timer.data = d;
}

static void on_accept(uv_stream_t *server, int status) {
  if (status < 0) return;
  wan_map_t *m = server->data;
  wan_pair_t *p = calloc(1, sizeof *p);
  if (!p) return;
  uv_tcp_init(g_loop, &p->a);
  uv_tcp_init(g_loop, &p->b);
  p->a.data = p->b.data = p;
  dir_init(p, &p->ab, &p->a, &p->b);
  dir_init(p, &p->ba, &p->b, &p->a);
  p->handles_open = 4;
  if (uv_accept(server, (uv_stream_t *)&p->a) != 0) return pair_close(p);
  uv_tcp_nodelay(&p->a, 1);
  p->ab.reading = uv_read_start((uv_stream_t *)&p->a, on_alloc, on_read) == 0;
  struct sockaddr_in addr;
  p->connect.data = p;
  if (!p->ab.reading || uv_ip4_addr(m->target_host, m->target_port, &addr) != 0 ||
      uv_tcp_connect(&p->connect, &p->b, (const struct sockaddr *)&addr, on_connected) != 0)
    pair_close(p);
}

/* ---- main ---- */

static void on_signal(uv_signal_t *h, int sig) {
  (void)sig;
  uv_stop(h->loop);
}

static int map_parse(const char *s, int *lport, wan_map_t *m) {
  char host[WAN_HOST_BYTES];
  int n = 0;
  if (sscanf(s, "%d:%63[^:]:%d%n", lport, host, &m->target_port, &n) != 3 || s[n] || *lport < 1 ||
      *lport > 65535 || m->target_port < 1 || m->target_port > 65535)
    return -1;
  snprintf(m->target_host, sizeof m->target_host, "%s", host);
  return 0;
}

int main(int argc, char **argv) {
  static wan_map_t maps[WAN_MAPS_MAX];
  int lports[WAN_MAPS_MAX];
  size_t n_maps = 0;
  const char *listen_host = "127.0.0.1";
  long delay = -1;
  static const struct option opts[] = {{"delay-ms", required_argument, 0, 'd'},
                                       {"map", required_argument, 0, 'm'},
                                       {"listen-host", required_argument, 0, 'l'},
                                       {0, 0, 0, 0}};
  for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
    if (c == 'd') delay = strtol(optarg, NULL, 10);
    else if (c == 'l') listen_host = optarg;
    else if (c == 'm' && n_maps < WAN_MAPS_MAX && map_parse(optarg, &lports[n_maps], &maps[n_maps]) == 0) n_maps++;
    else goto usage;
  }
  if (delay < 0 || delay > WAN_DELAY_MS_MAX || !n_maps || optind != argc) goto usage;
  g_delay_ms = (uint64_t)delay;
  g_loop = uv_default_loop();
  signal(SIGPIPE, SIG_IGN);
  for (size_t i = 0; i < n_maps; i++) {
    struct sockaddr_in addr;
    uv_tcp_init_ex(g_loop, &maps[i].server, AF_INET);
    maps[i].server.data = &maps[i];
    /* A relay restarted on the same ports finds the last run's connections in
     * TIME_WAIT there; this libuv does not set SO_REUSEADDR by itself. */
    uv_os_fd_t fd;
    int one = 1, rc = uv_fileno((uv_handle_t *)&maps[i].server, &fd);
    if (!rc) rc = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ? UV_EINVAL : 0;
    if (!rc) rc = uv_ip4_addr(listen_host, lports[i], &addr);
    if (!rc) rc = uv_tcp_bind(&maps[i].server, (const struct sockaddr *)&addr, 0);
    if (!rc) rc = uv_listen((uv_stream_t *)&maps[i].server, 128, on_accept);
    if (rc) {
      fprintf(stderr, "wanrelay: cannot listen on %s:%d: %s\n", listen_host, lports[i], uv_strerror(rc));
      return 1;
    }
  }
  uv_signal_t sigs[2];
  uv_signal_init(g_loop, &sigs[0]);
  uv_signal_init(g_loop, &sigs[1]);
  uv_signal_start(&sigs[0], on_signal, SIGTERM);
  uv_signal_start(&sigs[1], on_signal, SIGINT);
  fprintf(stderr, "wanrelay: %zu links, %ld ms each way\n", n_maps, delay);
  uv_run(g_loop, UV_RUN_DEFAULT);
  return 0;
usage:
  fprintf(stderr, "usage: wanrelay --delay-ms D --map LISTEN_PORT:TARGET_HOST:TARGET_PORT [--map ...] "
                  "[--listen-host H]\n");
  return 2;
}
