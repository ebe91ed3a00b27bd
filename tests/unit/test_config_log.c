/* Configuration masking and structured logs: secrets never printed, log lines always JSON. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "test_support.h"

static void masked(const char *url, const char *expected)
{
    char *m = config_mask_url(url);
    ck_assert_str_eq(m, expected);
    free(m);
}

START_TEST(masks_every_password_form)
{
    masked("postgresql://u:secret@h:5432/db", "postgresql://u:****@h:5432/db");
    masked("postgres://u:secret@h/db?sslmode=verify-full&password=s2",
           "postgres://u:****@h/db?sslmode=verify-full&password=****");
    masked("postgresql://u@h/db?password=s2", "postgresql://u@h/db?password=****");
    masked("postgresql://h/db", "postgresql://h/db");
    masked("host=h password=secret dbname=x", "host=h password=**** dbname=x");
    masked("host=h password='two words' dbname=x", "host=h password=**** dbname=x");
    masked("host=h password = spaced dbname=x", "host=h password = **** dbname=x");
    masked("password='it\\'s' host=h", "password=**** host=h");
    masked("host=h user=u", "host=h user=u");
}
END_TEST

START_TEST(print_config_masks_secrets)
{
    config_t c;
    char err[256];
    setenv("AMTAGVI_DATABASE_URL", "host=h password='top secret'", 1);
    setenv("AMTAGVI_KAFKA_SASL_PASSWORD", "kafkasecret", 1);
    ck_assert_int_eq(config_load(&c, NULL, err, sizeof err), 0);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    config_print(&c, f);
    fclose(f);
    ck_assert_ptr_null(strstr(text, "secret"));
    ck_assert_ptr_nonnull(strstr(text, "kafka.sasl.password = ****"));
    free(text);
    config_free(&c);
    unsetenv("AMTAGVI_DATABASE_URL");
    unsetenv("AMTAGVI_KAFKA_SASL_PASSWORD");
}
END_TEST

START_TEST(kafka_options_from_the_environment)
{
    config_t c;
    char err[256];
    setenv("AMTAGVI_KAFKA_SECURITY_PROTOCOL", "SASL_SSL", 1);
    setenv("AMTAGVI_KAFKA_SSL_CA_LOCATION", "/etc/ca.pem", 1);
    setenv("AMTAGVI_KAFKA_PORT", "25092", 1); /* ops/stack.sh env: no librdkafka property */
    ck_assert_int_eq(config_load(&c, NULL, err, sizeof err), 0);
    size_t found = 0;
    for (size_t i = 0; i < c.n_passthrough; i++) {
        if (strcmp(c.passthrough_keys[i], "security.protocol") == 0) {
            ck_assert_str_eq(c.passthrough_values[i], "SASL_SSL");
            found++;
        }
        if (strcmp(c.passthrough_keys[i], "ssl.ca.location") == 0) {
            ck_assert_str_eq(c.passthrough_values[i], "/etc/ca.pem");
            found++;
        }
        ck_assert_str_ne(c.passthrough_keys[i], "port");
    }
    ck_assert_int_eq(found, 2);
    config_free(&c);
    unsetenv("AMTAGVI_KAFKA_SECURITY_PROTOCOL");
    unsetenv("AMTAGVI_KAFKA_SSL_CA_LOCATION");
    unsetenv("AMTAGVI_KAFKA_PORT");
}
END_TEST

START_TEST(rejects_bad_values)
{
    config_t c;
    char err[256];
    setenv("AMTAGVI_BATCH_MAX_MESSAGES", "0", 1);
    ck_assert_int_ne(config_load(&c, NULL, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "batch.max.messages"));
    config_free(&c);
    unsetenv("AMTAGVI_BATCH_MAX_MESSAGES");
    ck_assert_int_eq(config_load(&c, NULL, err, sizeof err), 0);
    ck_assert_int_ne(config_set(&c, "no.such.key", "1", err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "no.such.key"));
    config_free(&c);
}
END_TEST

START_TEST(log_lines_stay_json)
{
    /* Capture stderr in a file while logging hostile texts. */
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    FILE *tmp = tmpfile();
    dup2(fileno(tmp), STDERR_FILENO);
    log_at(LOG_ERROR, "database \"down\"", "\"error\":\"%s\",\"n\":%d,\"big\":%lld,\"z\":%zu",
           "ERROR:  relation \"consumer_offsets\" does not exist\nLINE 1: INSERT\t\\x", 7,
           (long long)1 << 40, (size_t)3);
    log_at(LOG_WARN, "plain", NULL);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(tmp);
    char line[4096];
    int lines = 0;
    while (fgets(line, sizeof line, tmp)) {
        json_error_t e;
        json_t *j = json_loads(line, 0, &e);
        ck_assert_msg(j != NULL, "not JSON: %s (%s)", line, e.text);
        if (lines == 0) {
            ck_assert_str_eq(json_string_value(json_object_get(j, "msg")), "database \"down\"");
            ck_assert_str_eq(json_string_value(json_object_get(j, "error")),
                             "ERROR:  relation \"consumer_offsets\" does not exist\nLINE 1: "
                             "INSERT\t\\x");
            ck_assert_int_eq(json_integer_value(json_object_get(j, "n")), 7);
            ck_assert_int_eq(json_integer_value(json_object_get(j, "big")), (long long)1 << 40);
        }
        json_decref(j);
        lines++;
    }
    fclose(tmp);
    ck_assert_int_eq(lines, 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config_log");
    TCase *tc = tcase_create("all");
    tcase_add_test(tc, masks_every_password_form);
    tcase_add_test(tc, print_config_masks_secrets);
    tcase_add_test(tc, kafka_options_from_the_environment);
    tcase_add_test(tc, rejects_bad_values);
    tcase_add_test(tc, log_lines_stay_json);
    suite_add_tcase(s, tc);
    return support_run(s);
}
