/* metrics.c — a small thread-safe registry of counters, gauges and histograms,
 * rendered in the Prometheus text exposition format.
 *
 * Updates are on hot paths (every HTTP request, every committed tx), so they
 * are lock-free C11 atomics. Gauges and sums are doubles kept as their bit
 * pattern in a 64-bit atomic and moved with compare-and-swap. Histogram
 * buckets are stored non-cumulative and summed while rendering, so a rendering
 * that races with observations is still monotonic across buckets and its
 * _count always equals its +Inf bucket.
 *
 * Registration and rendering take the registry mutex; a registered metric is
 * never moved or freed before api_metrics_free, so handles need no lock.
 */
#include "api/api.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

enum metric_kind { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

struct api_metric {
  enum metric_kind kind;
  char name[API_METRIC_NAME_BYTES_MAX + 1];
  char labels[API_METRIC_LABELS_BYTES_MAX + 1];
  char help[API_METRIC_HELP_BYTES_MAX + 1];
  _Atomic uint64_t count; /* counter value */
  _Atomic uint64_t bits;  /* gauge value / histogram sum, as double bits */
  size_t n_bounds;
  double bounds[API_METRIC_BUCKETS_MAX];
  _Atomic uint64_t buckets[API_METRIC_BUCKETS_MAX + 1]; /* last one is +Inf */
};

struct api_metrics {
  pthread_mutex_t mu;
  size_t n;
  api_metric_t *items[API_METRICS_MAX];
};

/* ---------------------------------------------------------------- doubles */

static uint64_t double_bits(double v) {
  uint64_t u;
  memcpy(&u, &v, sizeof u);
  return u;
}

static double bits_double(uint64_t u) {
  double v;
  memcpy(&v, &u, sizeof v);
  return v;
}

static void atomic_double_add(_Atomic uint64_t *a, double delta) {
  uint64_t old = atomic_load(a);
  while (!atomic_compare_exchange_weak(a, &old, double_bits(bits_double(old) + delta))) {
  }
}

/* Shortest of %.15g/%.17g that reads back as v; Prometheus spellings for
 * infinities and NaN. */
static void format_double(char *out, size_t out_len, double v) {
  if (isnan(v)) {
    snprintf(out, out_len, "NaN");
  } else if (isinf(v)) {
    snprintf(out, out_len, v > 0 ? "+Inf" : "-Inf");
  } else {
    snprintf(out, out_len, "%.15g", v);
    if (strtod(out, NULL) != v) snprintf(out, out_len, "%.17g", v);
  }
}

/* ---------------------------------------------------------------- validation */

static bool is_alpha_(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool name_valid(const char *name) {
  size_t len = name ? strnlen(name, API_METRIC_NAME_BYTES_MAX + 1) : 0;
  if (len == 0 || len > API_METRIC_NAME_BYTES_MAX) return false;
  for (size_t i = 0; i < len; i++) {
    char c = name[i];
    if (!(is_alpha_(c) || c == ':' || (i > 0 && is_digit(c)))) return false;
  }
  return true;
}

/* labels: empty, or name="value"(,name="value")* with no '"', '\\' or '\n'
 * inside values. Written as a small loop over the two states of one pair. */
static bool labels_valid(const char *labels) {
  size_t len = strnlen(labels, API_METRIC_LABELS_BYTES_MAX + 1);
  if (len > API_METRIC_LABELS_BYTES_MAX) return false;
  size_t i = 0;
  while (i < len) {
    size_t start = i;
    while (i < len && (is_alpha_(labels[i]) || (i > start && is_digit(labels[i])))) i++;
    if (i == start || i + 1 >= len || labels[i] != '=' || labels[i + 1] != '"') return false;
    i += 2;
    while (i < len && labels[i] != '"') {
      if (labels[i] == '\\' || labels[i] == '\n') return false;
      i++;
    }
    if (i >= len) return false; /* unterminated value */
    i++;                        /* closing quote */
    if (i < len) {
      if (labels[i] != ',' || i + 1 >= len) return false;
      i++;
    }
  }
  return true;
}

static bool help_valid(const char *help) {
  size_t len = strnlen(help, API_METRIC_HELP_BYTES_MAX + 1);
  if (len > API_METRIC_HELP_BYTES_MAX) return false;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)help[i];
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

static bool bounds_valid(const double *bounds, size_t n) {
  if (n > API_METRIC_BUCKETS_MAX || (n > 0 && !bounds)) return false;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(bounds[i])) return false;
    if (i > 0 && !(bounds[i] > bounds[i - 1])) return false;
  }
  return true;
}

/* ---------------------------------------------------------------- registry */

int api_metrics_new(api_metrics_t **out) {
  *out = NULL;
  api_metrics_t *m = calloc(1, sizeof *m);
  if (!m) return VE_ERR_NOMEM;
  if (pthread_mutex_init(&m->mu, NULL) != 0) {
    free(m);
    return VE_ERR_NOMEM;
  }
  *out = m;
  return VE_OK;
}

void api_metrics_free(api_metrics_t *m) {
  if (!m) return;
  for (size_t i = 0; i < m->n; i++) free(m->items[i]);
  pthread_mutex_destroy(&m->mu);
  free(m);
}

static api_metric_t *find_locked(api_metrics_t *m, const char *name, const char *labels) {
  for (size_t i = 0; i < m->n; i++) {
    if (strcmp(m->items[i]->name, name) == 0 && strcmp(m->items[i]->labels, labels) == 0)
      return m->items[i];
  }
  return NULL;
}

static const api_metric_t *find_family_locked(api_metrics_t *m, const char *name) {
  for (size_t i = 0; i < m->n; i++) {
    if (strcmp(m->items[i]->name, name) == 0) return m->items[i];
  }
  return NULL;
}

static bool same_bounds(const api_metric_t *x, const double *bounds, size_t n) {
  if (x->n_bounds != n) return false;
  for (size_t i = 0; i < n; i++) {
    if (x->bounds[i] != bounds[i]) return false;
  }
  return true;
}

static int metrics_register(api_metrics_t *m, enum metric_kind kind, const char *name,
                            const char *labels, const char *help, const double *bounds,
                            size_t n_bounds, api_metric_t **out) {
  VE_ASSERT(m && out);
  *out = NULL;
  if (!labels) labels = "";
  if (!help) help = "";
  if (!name_valid(name) || !labels_valid(labels) || !help_valid(help)) return VE_ERR_INVALID;
  if (kind == METRIC_HISTOGRAM && !bounds_valid(bounds, n_bounds)) return VE_ERR_INVALID;
  /* "le" is reserved for histogram buckets. */
  if (kind == METRIC_HISTOGRAM && (strncmp(labels, "le=", 3) == 0 || strstr(labels, ",le=")))
    return VE_ERR_INVALID;

  int rc = VE_OK;
  pthread_mutex_lock(&m->mu);
  const api_metric_t *family = find_family_locked(m, name);
  api_metric_t *same = find_locked(m, name, labels);
  if (family && family->kind != kind) {
    rc = VE_ERR_EXISTS;
  } else if (same) {
    if (kind == METRIC_HISTOGRAM && !same_bounds(same, bounds, n_bounds))
      rc = VE_ERR_EXISTS;
    else
      *out = same;
  } else if (m->n >= API_METRICS_MAX) {
    rc = VE_ERR_LIMIT;
  } else {
    api_metric_t *x = calloc(1, sizeof *x);
    if (!x) {
      rc = VE_ERR_NOMEM;
    } else {
      x->kind = kind;
      snprintf(x->name, sizeof x->name, "%s", name);
      snprintf(x->labels, sizeof x->labels, "%s", labels);
      snprintf(x->help, sizeof x->help, "%s", family ? family->help : help);
      x->n_bounds = kind == METRIC_HISTOGRAM ? n_bounds : 0;
      for (size_t i = 0; i < x->n_bounds; i++) x->bounds[i] = bounds[i];
      atomic_init(&x->count, 0);
      atomic_init(&x->bits, double_bits(0.0));
      for (size_t i = 0; i <= API_METRIC_BUCKETS_MAX; i++) atomic_init(&x->buckets[i], 0);
      m->items[m->n++] = x;
      *out = x;
    }
  }
  pthread_mutex_unlock(&m->mu);
  return rc;
}

int api_metrics_counter(api_metrics_t *m, const char *name, const char *labels,
                        const char *help, api_metric_t **out) {
  return metrics_register(m, METRIC_COUNTER, name, labels, help, NULL, 0, out);
}

int api_metrics_gauge(api_metrics_t *m, const char *name, const char *labels,
                      const char *help, api_metric_t **out) {
  return metrics_register(m, METRIC_GAUGE, name, labels, help, NULL, 0, out);
}

int api_metrics_histogram(api_metrics_t *m, const char *name, const char *labels,
                          const char *help, const double *bounds, size_t n_bounds,
                          api_metric_t **out) {
  return metrics_register(m, METRIC_HISTOGRAM, name, labels, help, bounds, n_bounds, out);
}

/* ---------------------------------------------------------------- updates */

void api_metric_add(api_metric_t *c, uint64_t n) {
  VE_ASSERT(c && c->kind != METRIC_HISTOGRAM);
  if (c->kind == METRIC_COUNTER)
    atomic_fetch_add(&c->count, n);
  else
    atomic_double_add(&c->bits, (double)n);
}

void api_metric_sub(api_metric_t *g, uint64_t n) {
  VE_ASSERT(g && g->kind == METRIC_GAUGE);
  atomic_double_add(&g->bits, -(double)n);
}

void api_metric_set(api_metric_t *g, double v) {
  VE_ASSERT(g && g->kind == METRIC_GAUGE);
  atomic_store(&g->bits, double_bits(v));
}

void api_metric_observe(api_metric_t *h, double v) {
  VE_ASSERT(h && h->kind == METRIC_HISTOGRAM);
  if (isnan(v)) return;
  size_t i = 0;
  while (i < h->n_bounds && v > h->bounds[i]) i++;
  atomic_fetch_add(&h->buckets[i], 1);
  atomic_double_add(&h->bits, v);
}

double api_metric_value(const api_metric_t *metric) {
  api_metric_t *x = (api_metric_t *)metric; /* atomic loads do not modify */
  switch (x->kind) {
    case METRIC_COUNTER:
      return (double)atomic_load(&x->count);
    case METRIC_GAUGE:
      return bits_double(atomic_load(&x->bits));
    case METRIC_HISTOGRAM: {
      uint64_t total = 0;
      for (size_t i = 0; i <= x->n_bounds; i++) total += atomic_load(&x->buckets[i]);
      return (double)total;
    }
  }
  return 0;
}

/* ---------------------------------------------------------------- rendering */

static int buf_printf(ve_buf_t *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int buf_printf(ve_buf_t *out, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  /* Every line we render is bounded well below 1024 by the name, label and
   * help limits; a longer one is a broken invariant. */
  VE_ASSERT(n >= 0 && (size_t)n < sizeof line);
  return ve_buf_append(out, line, (size_t)n);
}

static const char *kind_name(enum metric_kind k) {
  switch (k) {
    case METRIC_COUNTER:
      return "counter";
    case METRIC_GAUGE:
      return "gauge";
    case METRIC_HISTOGRAM:
      return "histogram";
  }
  return "untyped";
}

/* HELP text escapes '\' as "\\" (newlines are refused at registration). */
static int render_help(ve_buf_t *out, const api_metric_t *x) {
  char esc[2 * API_METRIC_HELP_BYTES_MAX + 1];
  size_t j = 0;
  for (const char *p = x->help; *p; p++) {
    if (*p == '\\') esc[j++] = '\\';
    esc[j++] = *p;
  }
  esc[j] = 0;
  VE_TRY(ve_buf_append(out, "# HELP ", 7));
  VE_TRY(ve_buf_append(out, x->name, strlen(x->name)));
  VE_TRY(ve_buf_append(out, " ", 1));
  VE_TRY(ve_buf_append(out, esc, j));
  return buf_printf(out, "\n# TYPE %s %s\n", x->name, kind_name(x->kind));
}

/* "{labels}" or "" — with an extra label appended when given. */
static void label_set(char *out, size_t out_len, const char *labels, const char *extra) {
  if (!labels[0] && !extra)
    out[0] = 0;
  else if (!extra)
    snprintf(out, out_len, "{%s}", labels);
  else if (!labels[0])
    snprintf(out, out_len, "{%s}", extra);
  else
    snprintf(out, out_len, "{%s,%s}", labels, extra);
}

static int render_histogram(ve_buf_t *out, const api_metric_t *x) {
  char lset[API_METRIC_LABELS_BYTES_MAX + 64], num[40], le[48];
  uint64_t cum = 0;
  for (size_t i = 0; i <= x->n_bounds; i++) {
    cum += atomic_load(&((api_metric_t *)x)->buckets[i]);
    format_double(num, sizeof num, i < x->n_bounds ? x->bounds[i] : INFINITY);
    snprintf(le, sizeof le, "le=\"%s\"", num);
    label_set(lset, sizeof lset, x->labels, le);
    VE_TRY(buf_printf(out, "%s_bucket%s %" PRIu64 "\n", x->name, lset, cum));
  }
  label_set(lset, sizeof lset, x->labels, NULL);
  format_double(num, sizeof num, bits_double(atomic_load(&((api_metric_t *)x)->bits)));
  VE_TRY(buf_printf(out, "%s_sum%s %s\n", x->name, lset, num));
  return buf_printf(out, "%s_count%s %" PRIu64 "\n", x->name, lset, cum);
}

static int render_one(ve_buf_t *out, const api_metric_t *x) {
  char lset[API_METRIC_LABELS_BYTES_MAX + 64], num[40];
  label_set(lset, sizeof lset, x->labels, NULL);
  switch (x->kind) {
    case METRIC_COUNTER:
      return buf_printf(out, "%s%s %" PRIu64 "\n", x->name, lset,
                        atomic_load(&((api_metric_t *)x)->count));
    case METRIC_GAUGE:
      format_double(num, sizeof num, bits_double(atomic_load(&((api_metric_t *)x)->bits)));
      return buf_printf(out, "%s%s %s\n", x->name, lset, num);
    case METRIC_HISTOGRAM:
      return render_histogram(out, x);
  }
  return VE_OK;
}

static int render_locked(const api_metrics_t *m, ve_buf_t *out) {
  for (size_t i = 0; i < m->n; i++) {
    const api_metric_t *x = m->items[i];
    bool seen = false;
    for (size_t j = 0; j < i && !seen; j++) seen = strcmp(m->items[j]->name, x->name) == 0;
    if (seen) continue; /* rendered with its family already */
    VE_TRY(render_help(out, x));
    for (size_t j = i; j < m->n; j++) {
      if (strcmp(m->items[j]->name, x->name) == 0) VE_TRY(render_one(out, m->items[j]));
    }
  }
  return VE_OK;
}

int api_metrics_render(const api_metrics_t *m, ve_buf_t *out) {
  VE_ASSERT(m && out);
  api_metrics_t *mm = (api_metrics_t *)m; /* the lock is not part of the value */
  pthread_mutex_lock(&mm->mu);
  int rc = render_locked(m, out);
  pthread_mutex_unlock(&mm->mu);
  return rc;
}
