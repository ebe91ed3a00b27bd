/* Anchor for ops/bench: how fast the Kafka adapter alone consumes a topic on this machine, with
 * the worker's consumer configuration (kafka_consumer_poll, no processing). Prints one JSON
 * object.
 * usage: bench_consume BROKERS TOPIC EXPECTED_MESSAGES */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "config.h"
#include "kafka.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_consume BROKERS TOPIC EXPECTED\n");
        return 2;
    }
    long expected = atol(argv[3]);
    char err[512], group[64];
    snprintf(group, sizeof group, "bench-consume-%ld", (long)time(NULL));
    config_t cfg;
    kafka_consumer_t *c = NULL;
    if (config_load(&cfg, NULL, err, sizeof err) != 0 ||
        config_set(&cfg, "brokers", argv[1], err, sizeof err) != 0 ||
        !(c = kafka_consumer_new(&cfg, group, NULL, err, sizeof err)) ||
        kafka_consumer_subscribe(c, argv[2], err, sizeof err) != 0) {
        fprintf(stderr, "bench_consume: %s\n", err);
        kafka_consumer_free(c);
        config_free(&cfg);
        return 1;
    }
    long n = 0;
    size_t bytes = 0;
    double first = 0, last = 0, deadline = now() + 120;
    while (n < expected && now() < deadline) {
        kafka_message_t m;
        kafka_poll_t r = kafka_consumer_poll(c, 500, &m);
        if (r == KAFKA_POLL_FATAL) break;
        if (r == KAFKA_POLL_MESSAGE) {
            if (!n) first = now();
            n++;
            bytes += m.value_len;
            last = now();
        }
        kafka_message_release(&m);
    }
    printf("{\"messages\": %ld, \"bytes\": %zu, \"seconds\": %.3f, \"per_s\": %.0f}\n", n, bytes,
           last - first, n > 1 ? (double)(n - 1) / (last - first) : 0.0);
    kafka_consumer_free(c);
    config_free(&cfg);
    return n == expected ? 0 : 1;
}
