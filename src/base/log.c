/* log.c — stderr logger with wall-clock timestamps (the only clock read in base). */
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static enum ve_log_level g_level = VE_LOG_INFO;

void ve_log_set_level(enum ve_log_level level) { g_level = level; }
enum ve_log_level ve_log_get_level(void) { return g_level; }

void ve_log(enum ve_log_level level, const char *module, const char *fmt, ...) {
  if (level < g_level) return;
  static const char *names[] = {"debug", "info", "warn", "error"};
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char line[1024];
  int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %-9s ",
                   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                   tm.tm_sec, ts.tv_nsec / 1000000, names[level], module);
  va_list ap;
  va_start(ap, fmt);
  if (n > 0 && (size_t)n < sizeof line) vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
  va_end(ap);
  fprintf(stderr, "%s\n", line);
}
