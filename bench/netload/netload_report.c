/* netload_report.c — what a run measured: throughput, latency percentiles,
 * the machine's ceiling, a JSON result and an SVG chart over time.
 *
 * Definitions (also in the JSON, so a reader of the file needs nothing else):
 *   latency of a tx   = committed_ms at the node that received it - the time
 *                       its batch was due (open loop) or sent (as fast as
 *                       accepted);
 *   committed tx/s    = txs committed / (last commit - first due time);
 *   steady tx/s       = the middle 80% of commits / the time they took
 *                       (ramp-up and the tail left out);
 *   ceiling           = cores x Ed25519 verifications/s on one core / validators
 *                       sharing this machine (each validator checks every tx's
 *                       signature once).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "netload.h"

#define SVG_W 960
#define SVG_PANEL_H 230
#define SVG_LEFT 80
#define SVG_RIGHT 30

typedef struct {
  double p50, p95, p99, max, mean;
  size_t n;
} nl_lat_t;

typedef struct {
  double bin_ms;
  size_t n_bins;
  double sub[NL_BINS_MAX], com[NL_BINS_MAX], p50[NL_BINS_MAX], p99[NL_BINS_MAX];
} nl_series_t;

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v[0..n). */
static double pct(const double *v, size_t n, double p) {
  if (!n) return 0;
  size_t k = (size_t)ceil(p / 100.0 * (double)n);
  return v[k ? k - 1 : 0];
}

static size_t node_of(const nl_run_t *r, size_t i) { return (i / r->o->batch) % r->o->n_nodes; }
static double due_of(const nl_run_t *r, size_t i) { return r->sched_ms[i / r->o->batch]; }

/* Latency at follower f (SIZE_MAX: at each tx's own node). Sorts into tmp. */
static nl_lat_t lat_stats(const nl_run_t *r, size_t f, double *tmp) {
  nl_lat_t s = {0};
  double sum = 0;
  for (size_t i = 0; i < r->n_txs; i++) {
    double c = r->commit_ms[f == SIZE_MAX ? node_of(r, i) : f][i];
    if (r->state[i] != NL_TX_ACCEPTED || c == 0) continue;
    tmp[s.n++] = c - due_of(r, i);
    sum += c - due_of(r, i);
  }
  qsort(tmp, s.n, sizeof *tmp, cmp_double);
  s.p50 = pct(tmp, s.n, 50);
  s.p95 = pct(tmp, s.n, 95);
  s.p99 = pct(tmp, s.n, 99);
  s.max = s.n ? tmp[s.n - 1] : 0;
  s.mean = s.n ? sum / (double)s.n : 0;
  return s;
}

/* A bin width from 1-2-5 steps giving at most NL_BINS_SHOWN bins. */
static double bin_width(double span_ms) {
  static const double steps[] = {1, 2, 2.5, 5};
  for (double dec = 100;; dec *= 10)
    for (size_t k = 0; k < 4; k++)
      if (span_ms / (dec * steps[k]) <= NL_BINS_SHOWN) return dec * steps[k];
}

typedef struct {
  uint32_t bin;
  double lat;
} nl_binlat_t;

static int cmp_binlat(const void *a, const void *b) {
  const nl_binlat_t *x = a, *y = b;
  if (x->bin != y->bin) return (x->bin > y->bin) - (x->bin < y->bin);
  return (x->lat > y->lat) - (x->lat < y->lat);
}

/* The admission rate: each batch's accepted txs spread evenly over the time
 * from its first send to the answer that settled it (a POST of 2,000 txs is
 * admitted one tx after another during that time). */
static void admitted_spread(const nl_run_t *r, nl_series_t *s) {
  for (size_t b = 0; b < r->n_batches; b++) {
    size_t lo = b * r->o->batch, hi = lo + r->o->batch < r->n_txs ? lo + r->o->batch : r->n_txs, acc = 0;
    for (size_t i = lo; i < hi; i++) acc += r->state[i] == NL_TX_ACCEPTED;
    double a = r->sent_ms[b] - r->t0_ms, z = r->acked_ms[b] - r->t0_ms;
    if (!acc || z < 0) continue;
    if (a < 0) a = 0;
    if (z - a < 1) z = a + 1;
    for (size_t k = (size_t)(a / s->bin_ms); k < s->n_bins && (double)k * s->bin_ms < z; k++) {
      double lo_t = fmax(a, (double)k * s->bin_ms), hi_t = fmin(z, (double)(k + 1) * s->bin_ms);
      if (hi_t > lo_t) s->sub[k] += (double)acc * (hi_t - lo_t) / (z - a);
    }
  }
}

static void series_build(const nl_run_t *r, double t_end, nl_series_t *s) {
  memset(s, 0, sizeof *s);
  s->bin_ms = bin_width(t_end - r->t0_ms);
  s->n_bins = (size_t)((t_end - r->t0_ms) / s->bin_ms) + 1;
  if (s->n_bins > NL_BINS_MAX) s->n_bins = NL_BINS_MAX;
  nl_binlat_t *bl = calloc(r->n_txs ? r->n_txs : 1, sizeof *bl);
  size_t n = 0;
  for (size_t i = 0; i < r->n_txs; i++) {
    if (r->state[i] != NL_TX_ACCEPTED) continue;
    double c = r->commit_ms[node_of(r, i)][i];
    if (c == 0) continue;
    size_t bc = (size_t)fmax(0, (c - r->t0_ms) / s->bin_ms);
    if (bc >= s->n_bins) continue;
    s->com[bc] += 1;
    if (bl) bl[n++] = (nl_binlat_t){(uint32_t)bc, c - due_of(r, i)};
  }
  admitted_spread(r, s);
  if (bl) qsort(bl, n, sizeof *bl, cmp_binlat);
  for (size_t i = 0, j; bl && i < n; i = j) {
    for (j = i; j < n && bl[j].bin == bl[i].bin; j++) {}
    size_t cnt = j - i;
    s->p50[bl[i].bin] = bl[i + (size_t)ceil(0.50 * (double)cnt) - 1].lat;
    s->p99[bl[i].bin] = bl[i + (size_t)ceil(0.99 * (double)cnt) - 1].lat;
  }
  for (size_t b = 0; b < s->n_bins; b++) {
    s->sub[b] *= 1000.0 / s->bin_ms;
    s->com[b] *= 1000.0 / s->bin_ms;
  }
  free(bl);
}

/* ---- SVG ---- */

static double nice_max(double v) {
  if (v <= 0) return 1;
  double e = pow(10, floor(log10(v)));
  for (double m = 1; m <= 10; m += m < 2 ? 1 : m < 5 ? 3 : 5)
    if (v <= m * e) return m * e;
  return 10 * e;
}

/* One polyline of y[0..n) (NaN-free; skip points where skip[i]). */
static void svg_line(FILE *f, const nl_series_t *s, const double *y, double ymax, double top, const char *color,
                     const char *dash, int only_nonzero) {
  double plot_w = SVG_W - SVG_LEFT - SVG_RIGHT, plot_h = SVG_PANEL_H - 60;
  fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\"%s points=\"", color, dash);
  for (size_t b = 0; b < s->n_bins; b++) {
    if (only_nonzero && y[b] == 0) continue;
    double x = SVG_LEFT + plot_w * ((double)b + 0.5) / (double)s->n_bins;
    double v = y[b] > ymax ? ymax : y[b];
    fprintf(f, "%.1f,%.1f ", x, top + plot_h - plot_h * v / ymax);
  }
  fputs("\"/>\n", f);
}

static void svg_axes(FILE *f, const nl_series_t *s, double ymax, double top, const char *ylabel) {
  double plot_w = SVG_W - SVG_LEFT - SVG_RIGHT, plot_h = SVG_PANEL_H - 60, span_s = s->bin_ms * (double)s->n_bins / 1000;
  fprintf(f, "<rect x=\"%d\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#888\"/>\n", SVG_LEFT,
          top, plot_w, plot_h);
  for (int k = 0; k <= 4; k++) {
    double y = top + plot_h - plot_h * k / 4;
    fprintf(f, "<line x1=\"%d\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", SVG_LEFT, SVG_LEFT + plot_w,
            y, y);
    fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", SVG_LEFT - 6, y + 4, ymax * k / 4);
  }
  double tick = nice_max(span_s / 8);
  for (double t = 0; t <= span_s + 1e-9; t += tick)
    fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%g</text>\n", SVG_LEFT + plot_w * t / span_s,
            top + plot_h + 16, t);
  fprintf(f, "<text x=\"18\" y=\"%.0f\" transform=\"rotate(-90 18 %.0f)\" text-anchor=\"middle\">%s</text>\n",
          top + plot_h / 2, top + plot_h / 2, ylabel);
  fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">seconds since the first submission</text>\n",
          SVG_LEFT + plot_w / 2, top + plot_h + 32);
}

static void svg_write(const nl_run_t *r, const nl_series_t *s, const char *title, const char *subtitle) {
  FILE *f = fopen(r->o->svg_path, "w");
  if (!f) {
    fprintf(stderr, "netload: cannot write %s\n", r->o->svg_path);
    return;
  }
  double ymax_t = 0, ymax_l = 0;
  for (size_t b = 0; b < s->n_bins; b++) {
    ymax_t = fmax(ymax_t, fmax(s->sub[b], s->com[b]));
    ymax_l = fmax(ymax_l, s->p99[b]);
  }
  ymax_t = nice_max(ymax_t);
  ymax_l = nice_max(ymax_l);
  int h = 70 + 2 * SVG_PANEL_H;
  fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" "
             "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", SVG_W, h);
  fprintf(f, "<text x=\"%d\" y=\"22\" font-size=\"15\" font-weight=\"bold\">%s</text>\n", SVG_LEFT, title);
  fprintf(f, "<text x=\"%d\" y=\"42\">%s</text>\n", SVG_LEFT, subtitle);
  double top1 = 60, top2 = 60 + SVG_PANEL_H;
  svg_axes(f, s, ymax_t, top1, "tx/s");
  svg_line(f, s, s->sub, ymax_t, top1, "#999", " stroke-dasharray=\"4 3\"", 0);
  svg_line(f, s, s->com, ymax_t, top1, "#1f5fbf", "", 0);
  fprintf(f, "<text x=\"%d\" y=\"%.0f\" fill=\"#1f5fbf\">committed</text><text x=\"%d\" y=\"%.0f\" fill=\"#777\">"
             "admitted (each POST spread over its duration)</text>\n", SVG_LEFT + 10, top1 + 16, SVG_LEFT + 90, top1 + 16);
  svg_axes(f, s, ymax_l, top2, "latency ms");
  svg_line(f, s, s->p99, ymax_l, top2, "#c0392b", "", 1);
  svg_line(f, s, s->p50, ymax_l, top2, "#2e8b57", "", 1);
  fprintf(f, "<text x=\"%d\" y=\"%.0f\" fill=\"#2e8b57\">p50 of txs committed in the bin</text><text x=\"%d\" "
             "y=\"%.0f\" fill=\"#c0392b\">p99</text>\n</svg>\n", SVG_LEFT + 10, top2 + 16, SVG_LEFT + 230, top2 + 16);
  fclose(f);
}

/* ---- JSON ---- */

static void cpu_model(char *out, size_t len) {
  snprintf(out, len, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[256];
  while (f && fgets(line, sizeof line, f)) {
    char *c = strchr(line, ':');
    if (strncmp(line, "model name", 10) || !c) continue;
    snprintf(out, len, "%s", c + 2);
    out[strcspn(out, "\n")] = 0;
    break;
  }
  if (f) fclose(f);
}

/* Rounded to 0.1 (ms, tx/s): the clocks involved tick in milliseconds. */
static double r1(double x) { return round(x * 10) / 10; }

static json_t *lat_json(const nl_lat_t *l) {
  return json_pack("{s:I, s:f, s:f, s:f, s:f, s:f}", "committed", (json_int_t)l->n, "p50_ms", r1(l->p50), "p95_ms",
                   r1(l->p95), "p99_ms", r1(l->p99), "max_ms", r1(l->max), "mean_ms", r1(l->mean));
}

static json_t *series_json(const nl_series_t *s) {
  json_t *t = json_array(), *sub = json_array(), *com = json_array(), *p50 = json_array(), *p99 = json_array();
  for (size_t b = 0; b < s->n_bins; b++) {
    json_array_append_new(t, json_real(s->bin_ms * (double)b / 1000));
    json_array_append_new(sub, json_integer((json_int_t)lround(s->sub[b])));
    json_array_append_new(com, json_integer((json_int_t)lround(s->com[b])));
    json_array_append_new(p50, json_integer((json_int_t)lround(s->p50[b])));
    json_array_append_new(p99, json_integer((json_int_t)lround(s->p99[b])));
  }
  return json_pack("{s:f, s:o, s:o, s:o, s:o, s:o}", "bin_ms", s->bin_ms, "t_s", t, "admitted_tx_per_s", sub,
                   "committed_tx_per_s", com, "p50_ms", p50, "p99_ms", p99);
}

static json_t *config_json(const nl_run_t *r) {
  const nl_opts_t *o = r->o;
  json_t *nodes = json_array();
  for (size_t f = 0; f < r->n_follow; f++) {
    char a[96];
    snprintf(a, sizeof a, "%s:%u", r->follow[f].host, r->follow[f].port);
    json_array_append_new(nodes, json_string(a));
  }
  return json_pack("{s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:s, s:f, s:I}", "count", (json_int_t)o->count,
                   "submit_nodes", (json_int_t)o->n_nodes, "followed", nodes, "batch", (json_int_t)o->batch,
                   "conns_per_node", (json_int_t)o->conns, "signers_per_node", (json_int_t)o->signers,
                   "docs_percent", (json_int_t)o->docs_percent, "mode",
                   o->rate > 0 ? "open loop, fixed rate" : "as fast as accepted", "rate_tx_per_s", o->rate,
                   "validators_on_machine", (json_int_t)o->validators);
}

static json_t *rejects_json(const nl_run_t *r) {
  json_t *j = json_object();
  for (size_t k = 0; k < NL_REJECT_KINDS; k++)
    if (atomic_load(&r->reject_codes[k]))
      json_object_set_new(j, nl_reject_names[k], json_integer((json_int_t)atomic_load(&r->reject_codes[k])));
  return j;
}

int nl_report(const nl_run_t *r) {
  const nl_opts_t *o = r->o;
  double *tmp = calloc(r->n_txs ? r->n_txs : 1, sizeof *tmp);
  if (!tmp) return 1;
  /* own-node commits: count, last commit, steady window */
  size_t n_com = 0;
  double last = r->t0_ms, last_ack = r->t0_ms;
  for (size_t i = 0; i < r->n_txs; i++) {
    double c = r->commit_ms[node_of(r, i)][i];
    if (r->state[i] == NL_TX_ACCEPTED && c != 0) tmp[n_com++] = c;
  }
  for (size_t b = 0; b < r->n_batches; b++) last_ack = fmax(last_ack, r->acked_ms[b]);
  qsort(tmp, n_com, sizeof *tmp, cmp_double);
  if (n_com) last = tmp[n_com - 1];
  double t10 = pct(tmp, n_com, 10), t90 = pct(tmp, n_com, 90);
  double tps = n_com ? (double)n_com / ((last - r->t0_ms) / 1000) : 0;
  double steady = t90 > t10 ? 0.8 * (double)n_com / ((t90 - t10) / 1000) : tps;
  double ceiling = (double)r->cores * r->verify_per_s / (double)o->validators;
  size_t acc = atomic_load(&r->accepted);
  nl_lat_t own = lat_stats(r, SIZE_MAX, tmp);
  json_t *per = json_array();
  for (size_t f = 0; f < r->n_follow; f++) {
    nl_lat_t l = lat_stats(r, f, tmp);
    char a[96];
    snprintf(a, sizeof a, "%s:%u", r->follow[f].host, r->follow[f].port);
    json_t *lj = lat_json(&l);
    json_object_set_new(lj, "node", json_string(a));
    json_object_set_new(lj, "role", json_string(f < o->n_nodes ? "submitted to" : "watched"));
    json_object_set_new(lj, "blocks_without_commit_time", json_integer((json_int_t)atomic_load(&r->null_times[f])));
    json_object_set_new(lj, "blocks", json_integer((json_int_t)r->blocks[f]));
    json_object_set_new(lj, "blocks_with_our_txs", json_integer((json_int_t)r->blocks_ours[f]));
    /* from the first to the last block holding txs of this run */
    json_object_set_new(lj, "mean_block_interval_ms",
                        json_real(r->blocks_ours[f] > 1 ? r1((r->blocks_last_ms[f] - r->blocks_first_ms[f]) /
                                                             (double)(r->blocks_ours[f] - 1))
                                                        : 0.0));
    json_array_append_new(per, lj);
  }
  free(tmp);
  nl_series_t *s = malloc(sizeof *s);
  if (!s) return 1;
  series_build(r, fmax(last, last_ack), s);
  char cpu[160];
  cpu_model(cpu, sizeof cpu);
  json_t *machine = json_pack("{s:I, s:s, s:f, s:f}", "cores", (json_int_t)r->cores, "cpu", cpu,
                              "ed25519_tx_verify_per_s_per_core", r1(r->verify_per_s),
                              "key_subgroup_checks_per_s_per_core", r1(r->pk_valid_per_s));
  json_t *res = json_pack(
      "{s:I, s:I, s:I, s:o, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:o, s:f, s:f}", "accepted", (json_int_t)acc,
      "rejected", (json_int_t)atomic_load(&r->rejected), "committed", (json_int_t)n_com, "rejected_by_code",
      rejects_json(r), "batch_retries", (json_int_t)atomic_load(&r->retries), "http_errors",
      (json_int_t)atomic_load(&r->http_errors), "sign_seconds", r1(r->sign_s), "submit_seconds",
      r1((last_ack - r->t0_ms) / 1000), "duration_seconds", r1((last - r->t0_ms) / 1000), "committed_tx_per_s",
      r1(tps), "steady_tx_per_s", r1(steady), "ceiling_tx_per_s", r1(ceiling), "achieved_over_ceiling",
      round(tps / ceiling * 1000) / 1000, "latency", lat_json(&own), "max_schedule_lag_ms", r1(r->max_lag_ms),
      "submitted_tx_per_s", acc ? r1((double)acc / ((last_ack - r->t0_ms) / 1000)) : 0.0);
  json_object_set_new(res, "netload_cpu_seconds", json_real(r1(r->client_cpu_s)));
  json_object_set_new(res, "busy_retries", json_integer((json_int_t)atomic_load(&r->busy_retries)));
  json_t *out = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:s}", "label", o->label ? o->label : "", "machine", machine,
                          "config", config_json(r), "result", res, "per_node", per, "series", series_json(s),
                          "definitions",
                          "latency = committed_ms on the node that received the tx - due time of its batch (open "
                          "loop) or send time; committed_tx_per_s = committed / (last commit - first due); "
                          "steady = middle 80% of commits / their time; ceiling = cores x Ed25519 tx verifications/s "
                          "per core / validators on this machine");
  char *text = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  if (text && !o->out_path) puts(text);
  if (text && o->out_path) {
    FILE *f = fopen(o->out_path, "w");
    if (f) {
      fputs(text, f);
      fputc('\n', f);
      fclose(f);
    } else {
      fprintf(stderr, "netload: cannot write %s\n", o->out_path);
    }
  }
  free(text);
  if (o->svg_path) {
    char title[256], sub[320];
    snprintf(title, sizeof title, "%s", o->label ? o->label : "veche netload");
    snprintf(sub, sizeof sub,
             "%zu txs, %.0f tx/s committed (steady %.0f), p50 %.0f ms, p99 %.0f ms; "
             "ceiling %.0f tx/s, achieved %.2f of it",
             n_com, tps, steady, own.p50, own.p99, ceiling, tps / ceiling);
    svg_write(r, s, title, sub);
  }
  json_decref(out);
  free(s);
  return n_com == r->n_txs ? 0 : 1;
}
