/* Civil-date arithmetic after Howard Hinnant's days_from_civil / civil_from_days: exact over
 * the whole proleptic Gregorian range, no tables, no libc time functions (which depend on the
 * process time zone). */
#include "date.h"

date_t date_from_ymd(int y, int m, int d)
{
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153u * (unsigned)(m + (m > 2 ? -3 : 9)) + 2u) / 5u + (unsigned)d - 1u;
    const unsigned doe = yoe * 365u + yoe / 4u - yoe / 100u + doy;
    return (date_t)(era * 146097 + (int)doe - 719468);
}

void date_to_ymd(date_t days, int *y, int *m, int *d)
{
    const int z = days + 719468;
    const int era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460u + doe / 36524u - doe / 146096u) / 365u;
    const unsigned doy = doe - (365u * yoe + yoe / 4u - yoe / 100u);
    const unsigned mp = (5u * doy + 2u) / 153u;
    const unsigned dd = doy - (153u * mp + 2u) / 5u + 1u;
    const int mm = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)yoe + era * 400 + (mm <= 2);
    *m = mm;
    *d = (int)dd;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int date_days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

bool date_is_valid_ymd(int y, int m, int d)
{
    return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= date_days_in_month(y, m);
}

bool date_in_range(date_t days)
{
    return days >= DATE_MIN && days <= DATE_MAX;
}

date_t date_add_months(date_t days, int months)
{
    int y, m, d;
    date_to_ymd(days, &y, &m, &d);
    int total = y * 12 + (m - 1) + months;
    int ny = total >= 0 ? total / 12 : -((-total + 11) / 12);
    int nm = total - ny * 12 + 1;
    int dim = date_days_in_month(ny, nm);
    return date_from_ymd(ny, nm, d > dim ? dim : d);
}

date_t date_add_years(date_t days, int years)
{
    return date_add_months(days, years * 12);
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int date_parse(const char *s, size_t n, date_t *out)
{
    if (n != 10 || s[4] != '-' || s[7] != '-') return -1;
    int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
    if (y < 0 || m < 0 || d < 0 || !date_is_valid_ymd(y, m, d)) return -1;
    *out = date_from_ymd(y, m, d);
    return 0;
}

int timestamp_parse(const char *s, size_t n, int64_t *out_ms)
{
    date_t day;
    if (n < 20 || date_parse(s, 10, &day) != 0 || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return -1;
    int hh = digits(s + 11, 2), mi = digits(s + 14, 2), ss = digits(s + 17, 2);
    if (hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 59) return -1;
    size_t i = 19;
    int ms = 0;
    if (s[i] == '.') {
        size_t start = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (i - start < 3) ms = ms * 10 + (s[i] - '0');
            i++;
        }
        if (i == start) return -1;
        for (size_t k = i - start; k < 3; k++) ms *= 10;
    }
    int offset_min = 0;
    if (i < n && s[i] == 'Z') {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        if (n - i != 6 || s[i + 3] != ':') return -1;
        int oh = digits(s + i + 1, 2), om = digits(s + i + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59) return -1;
        offset_min = (oh * 60 + om) * (s[i] == '+' ? 1 : -1);
        i += 6;
    } else {
        return -1;
    }
    if (i != n) return -1;
    int64_t t = (int64_t)day * MS_PER_DAY + ((int64_t)hh * 3600 + mi * 60 + ss) * 1000 + ms -
                (int64_t)offset_min * 60000;
    /* The offset can move the UTC day out of 0001..9999 ("0001-01-01T00:00:00+01:00"): the
     * decision date must be a day the rest of the system can state. */
    if (!date_in_range(date_of_timestamp_ms(t))) return -1;
    *out_ms = t;
    return 0;
}

date_t date_of_timestamp_ms(int64_t ms)
{
    int64_t q = ms / MS_PER_DAY;
    if (ms % MS_PER_DAY < 0) q--;
    return (date_t)q;
}

int date_format(date_t days, char *buf)
{
    int y, m, d;
    date_to_ymd(days, &y, &m, &d);
    /* Input dates are 0001..9999, but an authorization decided in late 9999 ends in year 10000:
     * such years are written in full (PostgreSQL reads "10000-06-30") rather than wrapped. */
    int o = 0;
    if (y > 9999) buf[o++] = (char)('0' + y / 10000 % 10);
    buf[o++] = (char)('0' + y / 1000 % 10);
    buf[o++] = (char)('0' + y / 100 % 10);
    buf[o++] = (char)('0' + y / 10 % 10);
    buf[o++] = (char)('0' + y % 10);
    buf[o++] = '-';
    buf[o++] = (char)('0' + m / 10);
    buf[o++] = (char)('0' + m % 10);
    buf[o++] = '-';
    buf[o++] = (char)('0' + d / 10);
    buf[o++] = (char)('0' + d % 10);
    buf[o] = '\0';
    return o;
}

int timestamp_format(int64_t ms, char *buf)
{
    date_t day = date_of_timestamp_ms(ms);
    int64_t rem = ms - (int64_t)day * MS_PER_DAY;
    date_format(day, buf);
    unsigned secs = (unsigned)(rem / 1000), milli = (unsigned)(rem % 1000);
    unsigned parts[3] = {secs / 3600, secs / 60 % 60, secs % 60};
    char *w = buf + 10;
    *w++ = 'T';
    for (int i = 0; i < 3; i++) {
        if (i) *w++ = ':';
        *w++ = (char)('0' + parts[i] / 10);
        *w++ = (char)('0' + parts[i] % 10);
    }
    *w++ = '.';
    *w++ = (char)('0' + milli / 100);
    *w++ = (char)('0' + milli / 10 % 10);
    *w++ = (char)('0' + milli % 10);
    *w++ = 'Z';
    *w = '\0';
    return 24;
}
