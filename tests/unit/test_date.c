/* Dates and timestamps: contract §2 (timestamp form, real days) and §3 (month clamping). */
#include "test_support.h"

static void expect_ymd(date_t d, int y, int m, int dd)
{
    int gy = 0, gm = 0, gd = 0;
    date_to_ymd(d, &gy, &gm, &gd);
    ck_assert_msg(gy == y && gm == m && gd == dd,
                  "day %d is %04d-%02d-%02d, expected %04d-%02d-%02d", (int)d, gy, gm, gd, y, m,
                  dd);
}

static void expect_date_parses(const char *s, date_t expected)
{
    date_t out = 0;
    ck_assert_msg(date_parse(s, strlen(s), &out) == 0, "\"%s\" should parse", s);
    ck_assert_msg(out == expected, "\"%s\" parsed to %d, expected %d", s, (int)out, (int)expected);
}

static void expect_date_rejected(const char *s)
{
    date_t out = 12345;
    ck_assert_msg(date_parse(s, strlen(s), &out) == -1, "\"%s\" should be rejected", s);
}

static int64_t utc_ms(int y, int mo, int d, int h, int mi, int s, int ms)
{
    return (int64_t)ymd(y, mo, d) * MS_PER_DAY + ((int64_t)h * 3600 + mi * 60 + s) * 1000 + ms;
}

static void expect_ts(const char *s, int64_t expected)
{
    int64_t out = 0;
    ck_assert_msg(timestamp_parse(s, strlen(s), &out) == 0, "\"%s\" should parse", s);
    ck_assert_msg(out == expected, "\"%s\" parsed to %lld, expected %lld", s, (long long)out,
                  (long long)expected);
}

static void expect_ts_rejected(const char *s)
{
    int64_t out = 0;
    ck_assert_msg(timestamp_parse(s, strlen(s), &out) == -1, "\"%s\" should be rejected", s);
}

/* ---- day numbers ---- */

START_TEST(test_anchors)
{
    ck_assert_int_eq(ymd(1970, 1, 1), 0);
    ck_assert_int_eq(ymd(1970, 1, 2), 1);
    ck_assert_int_eq(ymd(1969, 12, 31), -1);
    ck_assert_int_eq(ymd(2000, 3, 1), 11017);
    ck_assert_int_eq(ymd(2026, 6, 2), 20606);
    ck_assert_int_eq(ymd(1, 1, 1), DATE_MIN);
    ck_assert_int_eq(ymd(9999, 12, 31), DATE_MAX);
    expect_ymd(0, 1970, 1, 1);
    expect_ymd(-1, 1969, 12, 31);
    expect_ymd(DATE_MIN, 1, 1, 1);
    expect_ymd(DATE_MAX, 9999, 12, 31);
    expect_ymd(11016, 2000, 2, 29);
}
END_TEST

START_TEST(test_round_trip_every_day)
{
    /* Every day of 0001..9999: ymd → day → ymd is the identity and days are consecutive. */
    int py = 0, pm = 12, pd = 31;
    for (date_t d = DATE_MIN; d <= DATE_MAX; d++) {
        int y, m, dd;
        date_to_ymd(d, &y, &m, &dd);
        if (date_from_ymd(y, m, dd) != d)
            ck_abort_msg("day %d → %04d-%02d-%02d → %d", (int)d, y, m, dd,
                         (int)date_from_ymd(y, m, dd));
        int ny = py, nm = pm, nd = pd + 1;
        if (nd > date_days_in_month(ny == 0 ? 1 : ny, nm)) {
            nd = 1;
            if (++nm > 12) {
                nm = 1;
                ny++;
            }
        }
        if (y != ny || m != nm || dd != nd)
            ck_abort_msg("day %d is %04d-%02d-%02d, expected %04d-%02d-%02d", (int)d, y, m, dd, ny,
                         nm, nd);
        py = y;
        pm = m;
        pd = dd;
    }
    ck_assert_int_eq(py, 9999);
}
END_TEST

START_TEST(test_leap_years)
{
    ck_assert_int_eq(date_days_in_month(1900, 2), 28);
    ck_assert_int_eq(date_days_in_month(2000, 2), 29);
    ck_assert_int_eq(date_days_in_month(2024, 2), 29);
    ck_assert_int_eq(date_days_in_month(2023, 2), 28);
    ck_assert_int_eq(date_days_in_month(2100, 2), 28);
    ck_assert_int_eq(date_days_in_month(2400, 2), 29);
    ck_assert_int_eq(date_days_in_month(4, 2), 29);
    ck_assert_int_eq(date_days_in_month(2023, 4), 30);
    ck_assert_int_eq(date_days_in_month(2023, 12), 31);
    ck_assert(!date_is_valid_ymd(1900, 2, 29));
    ck_assert(date_is_valid_ymd(2000, 2, 29));
    ck_assert(date_is_valid_ymd(2024, 2, 29));
    ck_assert(!date_is_valid_ymd(2025, 2, 29));
    ck_assert(!date_is_valid_ymd(2100, 2, 29));
    ck_assert_int_eq(ymd(1900, 3, 1) - ymd(1900, 2, 28), 1);
    ck_assert_int_eq(ymd(2000, 3, 1) - ymd(2000, 2, 28), 2);
}
END_TEST

START_TEST(test_is_valid_and_range)
{
    ck_assert(date_is_valid_ymd(1, 1, 1));
    ck_assert(date_is_valid_ymd(9999, 12, 31));
    ck_assert(!date_is_valid_ymd(0, 1, 1));
    ck_assert(!date_is_valid_ymd(10000, 1, 1));
    ck_assert(!date_is_valid_ymd(2024, 0, 10));
    ck_assert(!date_is_valid_ymd(2024, 13, 1));
    ck_assert(!date_is_valid_ymd(2024, 1, 0));
    ck_assert(!date_is_valid_ymd(2024, 1, 32));
    ck_assert(!date_is_valid_ymd(2024, 4, 31));
    ck_assert(date_is_valid_ymd(2024, 4, 30));
    ck_assert(date_in_range(DATE_MIN));
    ck_assert(date_in_range(DATE_MAX));
    ck_assert(date_in_range(0));
    ck_assert(!date_in_range(DATE_MIN - 1));
    ck_assert(!date_in_range(DATE_MAX + 1));
    ck_assert(!date_in_range(DATE_NULL));
}
END_TEST

/* ---- §3: adding months and years clamps to the end of the month ---- */

START_TEST(test_add_months_clamps)
{
    assert_date(date_add_months(ymd(2026, 8, 31), 6), ymd(2027, 2, 28), "2026-08-31 + 6 months");
    assert_date(date_add_months(ymd(2024, 8, 31), 6), ymd(2025, 2, 28), "2024-08-31 + 6 months");
    assert_date(date_add_months(ymd(2023, 8, 31), 6), ymd(2024, 2, 29), "2023-08-31 + 6 months");
    assert_date(date_add_months(ymd(2026, 6, 2), 6), ymd(2026, 12, 2), "2026-06-02 + 6 months");
    assert_date(date_add_months(ymd(2026, 7, 31), 2), ymd(2026, 9, 30), "2026-07-31 + 2 months");
    assert_date(date_add_months(ymd(2026, 11, 15), 6), ymd(2027, 5, 15), "2026-11-15 + 6 months");
    assert_date(date_add_months(ymd(2026, 1, 31), 1), ymd(2026, 2, 28), "2026-01-31 + 1 month");
    assert_date(date_add_months(ymd(2026, 1, 31), 0), ymd(2026, 1, 31), "+ 0 months");
    assert_date(date_add_months(ymd(2024, 3, 31), -1), ymd(2024, 2, 29), "2024-03-31 - 1 month");
    assert_date(date_add_months(ymd(2024, 1, 15), -1), ymd(2023, 12, 15), "2024-01-15 - 1 month");
    assert_date(date_add_months(ymd(2024, 2, 29), -12), ymd(2023, 2, 28), "2024-02-29 - 12");
    assert_date(date_add_months(ymd(2026, 12, 31), 12), ymd(2027, 12, 31), "+ 12 months");
    assert_date(date_add_months(ymd(1969, 8, 31), 6), ymd(1970, 2, 28), "pre-epoch + 6 months");
}
END_TEST

START_TEST(test_add_years)
{
    assert_date(date_add_years(ymd(2008, 2, 29), 18), ymd(2026, 2, 28), "2008-02-29 + 18 years");
    assert_date(date_add_years(ymd(2008, 2, 29), 16), ymd(2024, 2, 29), "2008-02-29 + 16 years");
    assert_date(date_add_years(ymd(2008, 6, 2), 18), ymd(2026, 6, 2), "2008-06-02 + 18 years");
    assert_date(date_add_years(ymd(1950, 12, 31), 18), ymd(1968, 12, 31), "1950-12-31 + 18");
    assert_date(date_add_years(ymd(2000, 2, 29), 100), ymd(2100, 2, 28), "2000-02-29 + 100");
}
END_TEST

/* ---- §2: a date is a real YYYY-MM-DD day ---- */

START_TEST(test_date_parse_valid)
{
    expect_date_parses("2024-02-29", ymd(2024, 2, 29));
    expect_date_parses("1970-01-01", 0);
    expect_date_parses("1969-12-31", -1);
    expect_date_parses("0001-01-01", DATE_MIN);
    expect_date_parses("9999-12-31", DATE_MAX);
    expect_date_parses("2000-02-29", ymd(2000, 2, 29));
    /* exactly n bytes: what follows n is not looked at */
    date_t out = 0;
    ck_assert_int_eq(date_parse("2026-06-02XYZ", 10, &out), 0);
    ck_assert_int_eq(out, ymd(2026, 6, 2));
}
END_TEST

START_TEST(test_date_parse_rejects)
{
    expect_date_rejected("2025-02-29");
    expect_date_rejected("1900-02-29");
    expect_date_rejected("2024-13-01");
    expect_date_rejected("2024-00-10");
    expect_date_rejected("2024-04-31");
    expect_date_rejected("2024-01-00");
    expect_date_rejected("2024-01-32");
    expect_date_rejected("2024-1-01");
    expect_date_rejected("2024-01-1");
    expect_date_rejected("24-01-01");
    expect_date_rejected("02024-01-01");
    expect_date_rejected("2024-01-01 ");
    expect_date_rejected("2024-01-01x");
    expect_date_rejected("2024-01-01T00:00:00Z");
    expect_date_rejected(" 2024-01-01");
    expect_date_rejected("0000-01-01");
    expect_date_rejected("0000-00-00");
    expect_date_rejected("2024/01/01");
    expect_date_rejected("2024-01+01");
    expect_date_rejected("+024-01-01");
    expect_date_rejected("-024-01-01");
    expect_date_rejected("2024-+1-01");
    expect_date_rejected("2024- 1-01");
    expect_date_rejected("");
    expect_date_rejected("abcd-ef-gh");
    /* a valid date cut short by n */
    date_t out = 0;
    ck_assert_int_eq(date_parse("2024-01-01", 9, &out), -1);
}
END_TEST

/* ---- §2: timestamps YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM) ---- */

START_TEST(test_timestamp_parse_zones)
{
    expect_ts("2026-06-02T14:05:00Z", utc_ms(2026, 6, 2, 14, 5, 0, 0));
    expect_ts("1970-01-01T00:00:00Z", 0);
    expect_ts("2026-06-02T14:05:00+00:00", utc_ms(2026, 6, 2, 14, 5, 0, 0));
    expect_ts("2026-06-02T14:05:00-00:00", utc_ms(2026, 6, 2, 14, 5, 0, 0));
    /* a negative offset moves the UTC day forward */
    expect_ts("2026-06-01T23:30:00-02:00", utc_ms(2026, 6, 2, 1, 30, 0, 0));
    ck_assert_int_eq(date_of_timestamp_ms(ts("2026-06-01T23:30:00-02:00")), ymd(2026, 6, 2));
    /* a positive offset moves it back */
    expect_ts("2026-06-02T03:00:00+05:30", utc_ms(2026, 6, 1, 21, 30, 0, 0));
    ck_assert_int_eq(date_of_timestamp_ms(ts("2026-06-02T03:00:00+05:30")), ymd(2026, 6, 1));
    expect_ts("2026-01-01T00:30:00+01:00", utc_ms(2025, 12, 31, 23, 30, 0, 0));
    expect_ts("2024-02-28T23:00:00-01:00", utc_ms(2024, 2, 29, 0, 0, 0, 0));
    expect_ts("2026-06-02T23:59:59Z", utc_ms(2026, 6, 2, 23, 59, 59, 0));
    expect_ts("1969-12-31T23:59:59Z", -1000);
    expect_ts("0001-01-01T00:00:00Z", (int64_t)DATE_MIN * MS_PER_DAY);
    expect_ts("9999-12-31T23:59:59Z", (int64_t)DATE_MAX * MS_PER_DAY + 86399000);
}
END_TEST

START_TEST(test_timestamp_parse_fractions)
{
    const int64_t base = utc_ms(2026, 6, 2, 14, 5, 0, 0);
    expect_ts("2026-06-02T14:05:00.5Z", base + 500);
    expect_ts("2026-06-02T14:05:00.12Z", base + 120);
    expect_ts("2026-06-02T14:05:00.123Z", base + 123);
    expect_ts("2026-06-02T14:05:00.1239Z", base + 123);
    expect_ts("2026-06-02T14:05:00.999999Z", base + 999);
    expect_ts("2026-06-02T14:05:00.123456789Z", base + 123);
    expect_ts("2026-06-02T14:05:00.000001Z", base);
    expect_ts("2026-06-02T14:05:00.0000000000000000000001Z", base);
    expect_ts("2026-06-02T14:05:00.250+02:00", base - 2 * 3600000 + 250);
}
END_TEST

START_TEST(test_timestamp_parse_rejects)
{
    expect_ts_rejected("2026-06-02T14:05:00");
    expect_ts_rejected("2026-06-02T14:05:00.123");
    expect_ts_rejected("2026-06-02T24:00:00Z");
    expect_ts_rejected("2026-06-02T23:60:00Z");
    expect_ts_rejected("2026-06-02t14:05:00Z");
    expect_ts_rejected("2026-06-02T14:05:00z");
    expect_ts_rejected("2026-06-02 14:05:00Z");
    expect_ts_rejected("2026-06-02T14:05Z");
    expect_ts_rejected("2026-06-02T14:05:00.Z");
    expect_ts_rejected("2026-06-02T14:05:00+0200");
    expect_ts_rejected("2026-06-02T14:05:00+02");
    expect_ts_rejected("2026-06-02T14:05:00+2:00");
    expect_ts_rejected("2026-06-02T14:05:00+02:0");
    expect_ts_rejected("2026-06-02T14:05:00+02:60");
    expect_ts_rejected("2026-06-02T14:05:00 +02:00");
    expect_ts_rejected("2026-06-02T14:05:00+02:00Z");
    expect_ts_rejected("2026-06-02T14:05:00Z ");
    expect_ts_rejected("2026-06-02T14:05:00ZZ");
    expect_ts_rejected("2026-06-02T4:05:00Z");
    expect_ts_rejected("2026-02-30T14:05:00Z");
    expect_ts_rejected("2025-02-29T00:00:00Z");
    expect_ts_rejected("0000-01-01T00:00:00Z");
    expect_ts_rejected("2026-06-02");
    expect_ts_rejected("");
    expect_ts_rejected("2026-06-02T14:05:00,5Z");
    /* cut short by n */
    int64_t out = 0;
    ck_assert_int_eq(timestamp_parse("2026-06-02T14:05:00Z", 19, &out), -1);
}
END_TEST

START_TEST(test_date_of_timestamp)
{
    ck_assert_int_eq(date_of_timestamp_ms(0), 0);
    ck_assert_int_eq(date_of_timestamp_ms(MS_PER_DAY - 1), 0);
    ck_assert_int_eq(date_of_timestamp_ms(MS_PER_DAY), 1);
    ck_assert_int_eq(date_of_timestamp_ms(-1), -1);
    ck_assert_int_eq(date_of_timestamp_ms(-MS_PER_DAY), -1);
    ck_assert_int_eq(date_of_timestamp_ms(-MS_PER_DAY - 1), -2);
    ck_assert_int_eq(date_of_timestamp_ms(ts("1969-07-20T20:17:40Z")), ymd(1969, 7, 20));
    ck_assert_int_eq(date_of_timestamp_ms(ts("1900-01-01T00:00:00Z")), ymd(1900, 1, 1));
    ck_assert_int_eq(date_of_timestamp_ms(ts("1899-12-31T23:59:59.999Z")), ymd(1899, 12, 31));
    ck_assert_int_eq(date_of_timestamp_ms(ts("0001-01-01T00:00:00.001Z")), DATE_MIN);
    ck_assert_int_eq(date_of_timestamp_ms(ts("2026-06-02T14:05:00Z")), ymd(2026, 6, 2));
}
END_TEST

START_TEST(test_format)
{
    char buf[32];
    ck_assert_int_eq(date_format(ymd(2024, 2, 29), buf), 10);
    ck_assert_str_eq(buf, "2024-02-29");
    date_format(DATE_MIN, buf);
    ck_assert_str_eq(buf, "0001-01-01");
    date_format(DATE_MAX, buf);
    ck_assert_str_eq(buf, "9999-12-31");
    date_format(-1, buf);
    ck_assert_str_eq(buf, "1969-12-31");
    timestamp_format(ts("2026-06-01T23:30:00.25-02:00"), buf);
    ck_assert_str_eq(buf, "2026-06-02T01:30:00.250Z");
    timestamp_format(-1, buf);
    ck_assert_str_eq(buf, "1969-12-31T23:59:59.999Z");
    timestamp_format(0, buf);
    ck_assert_str_eq(buf, "1970-01-01T00:00:00.000Z");
    /* format and parse agree */
    for (date_t d = DATE_MIN; d <= DATE_MAX; d += 997) {
        date_t back = 0;
        date_format(d, buf);
        ck_assert_int_eq(date_parse(buf, 10, &back), 0);
        ck_assert_int_eq(back, d);
    }
}
END_TEST

START_TEST(test_edge_years)
{
    char buf[16];
    /* An authorization decided in late 9999 ends in year 10000: written in full, not wrapped. */
    date_t end = date_add_months(date_from_ymd(9999, 12, 31), 6);
    ck_assert_int_eq(date_format(end, buf), 11);
    ck_assert_str_eq(buf, "10000-06-30");
    /* An offset must not move the UTC day outside 0001..9999. */
    int64_t ms;
    ck_assert_int_ne(timestamp_parse("0001-01-01T00:00:00+01:00", 25, &ms), 0);
    ck_assert_int_ne(timestamp_parse("9999-12-31T23:00:00-01:00", 25, &ms), 0);
    ck_assert_int_eq(timestamp_parse("0001-01-01T01:00:00+01:00", 25, &ms), 0);
    ck_assert_int_eq(date_of_timestamp_ms(ms), DATE_MIN);
}
END_TEST

static Suite *date_suite(void)
{
    Suite *s = suite_create("date");
    TCase *tc = tcase_create("days");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_anchors);
    tcase_add_test(tc, test_round_trip_every_day);
    tcase_add_test(tc, test_leap_years);
    tcase_add_test(tc, test_is_valid_and_range);
    tcase_add_test(tc, test_add_months_clamps);
    tcase_add_test(tc, test_add_years);
    tcase_add_test(tc, test_edge_years);
    suite_add_tcase(s, tc);

    tc = tcase_create("parse");
    tcase_add_test(tc, test_date_parse_valid);
    tcase_add_test(tc, test_date_parse_rejects);
    tcase_add_test(tc, test_timestamp_parse_zones);
    tcase_add_test(tc, test_timestamp_parse_fractions);
    tcase_add_test(tc, test_timestamp_parse_rejects);
    tcase_add_test(tc, test_date_of_timestamp);
    tcase_add_test(tc, test_format);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return support_run(date_suite());
}
