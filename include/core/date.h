/**
 * @file date.h
 * @brief Civil dates as days since 1970-01-01, with PostgreSQL-style month clamping.
 *
 * Pure functions, no clock. Valid dates span 0001-01-01 .. 9999-12-31 (what both a JSON
 * `YYYY-MM-DD` and PostgreSQL's `date` can say without ambiguity).
 */
#ifndef AMTAGVI_DATE_H
#define AMTAGVI_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Days since 1970-01-01 (proleptic Gregorian). */
typedef int32_t date_t;

/** Marks an absent (null) date. */
#define DATE_NULL INT32_MIN

/** 0001-01-01 and 9999-12-31 as day numbers. */
#define DATE_MIN (-719162)
#define DATE_MAX 2932896

#define MS_PER_DAY 86400000LL

/** @brief Day number of a civil date; no validation. */
date_t date_from_ymd(int y, int m, int d);

/** @brief Splits a day number into year, month (1-12) and day (1-31). */
void date_to_ymd(date_t days, int *y, int *m, int *d);

/** @returns true when y-m-d is a real calendar day within 0001..9999. */
bool date_is_valid_ymd(int y, int m, int d);

/** @returns true when the day number lies within 0001-01-01 .. 9999-12-31. */
bool date_in_range(date_t days);

/** @returns the number of days of a month (leap years included). */
int date_days_in_month(int y, int m);

/**
 * @brief Adds whole months, clamping the day to the end of the target month, as PostgreSQL's
 * `date + interval 'N months'` does (2026-08-31 + 6 months = 2027-02-28).
 */
date_t date_add_months(date_t days, int months);

/** @brief date_add_months(days, 12 * years): 2008-02-29 + 18 years = 2026-02-28. */
date_t date_add_years(date_t days, int years);

/**
 * @brief Parses exactly `YYYY-MM-DD` (n bytes, no NUL needed).
 * @returns 0 and sets *out, or -1 if the text is not a real day.
 */
int date_parse(const char *s, size_t n, date_t *out);

/**
 * @brief Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)` into UTC milliseconds since
 * the epoch (fraction truncated to milliseconds).
 * @returns 0 on success, -1 if the text is not of that form or its UTC day is outside
 *          0001-01-01 .. 9999-12-31.
 */
int timestamp_parse(const char *s, size_t n, int64_t *out_ms);

/** @brief The UTC calendar day of a millisecond timestamp (floor division). */
date_t date_of_timestamp_ms(int64_t ms);

/**
 * @brief Writes `YYYY-MM-DD` plus NUL into buf (at least 12 bytes); a year above 9999 (an
 * authorization ending in 10000) is written with five digits. @returns the length (10 or 11).
 */
int date_format(date_t days, char *buf);

/** @brief Writes `YYYY-MM-DDTHH:MM:SS.mmmZ` plus NUL into buf (at least 25 bytes). */
int timestamp_format(int64_t ms, char *buf);

#endif
