/* log.h — leveled logging to stderr. Never log secrets. Deterministic modules may
 * log (it has no effect on their outputs) but must not read the clock to do so:
 * timestamps are added here, outside them. */
#ifndef VECHE_BASE_LOG_H
#define VECHE_BASE_LOG_H

enum ve_log_level { VE_LOG_DEBUG = 0, VE_LOG_INFO = 1, VE_LOG_WARN = 2, VE_LOG_ERROR = 3, VE_LOG_OFF = 4 };

void ve_log_set_level(enum ve_log_level level);
enum ve_log_level ve_log_get_level(void);
void ve_log(enum ve_log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define VE_DEBUG(mod, ...) ve_log(VE_LOG_DEBUG, mod, __VA_ARGS__)
#define VE_INFO(mod, ...) ve_log(VE_LOG_INFO, mod, __VA_ARGS__)
#define VE_WARN(mod, ...) ve_log(VE_LOG_WARN, mod, __VA_ARGS__)
#define VE_ERROR(mod, ...) ve_log(VE_LOG_ERROR, mod, __VA_ARGS__)

#endif
