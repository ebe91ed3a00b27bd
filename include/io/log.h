/**
 * @file log.h
 * @brief Structured JSON log lines on stderr. Callers pass event ids and codes, never PHI
 * (names, birth dates, diagnoses, payloads).
 */
#ifndef AMTAGVI_LOG_H
#define AMTAGVI_LOG_H

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level_t;

/** @brief Sets the threshold from "debug", "info", "warn" or "error". */
void log_set_level(const char *name);

/**
 * @brief Writes {"ts":...,"level":...,"msg":...,<fields>} where fields is a printf-style format
 * producing JSON members (`"event_id":"%s","partition":%d`) or NULL. Every %s argument is
 * JSON-escaped by the logger, so error texts from libpq or librdkafka are safe to pass.
 * Conversions: %s %.*s %d %u %ld %lld %zu %%.
 */
void log_at(log_level_t level, const char *msg, const char *fields_fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
