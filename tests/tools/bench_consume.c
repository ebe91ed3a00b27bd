/* Anchor for ops/bench: how fast librdkafka alone consumes a topic on this machine, with the
 * worker's consumer settings (rd_kafka_consumer_poll, no processing). Prints one JSON object.
 * usage: bench_consume BROKERS TOPIC EXPECTED_MESSAGES */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

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
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof err);
    rd_kafka_conf_set(conf, "group.id", group, err, sizeof err);
    rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof err);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
    rd_kafka_conf_set(conf, "queued.max.messages.kbytes", "8192", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *t = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(t, argv[2], RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, t);
    rd_kafka_topic_partition_list_destroy(t);
    long n = 0;
    size_t bytes = 0;
    double first = 0, last = 0, deadline = now() + 120;
    while (n < expected && now() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);
        if (!m) continue;
        if (!m->err) {
            if (!n) first = now();
            n++;
            bytes += m->len;
            last = now();
        }
        rd_kafka_message_destroy(m);
    }
    printf("{\"messages\": %ld, \"bytes\": %zu, \"seconds\": %.3f, \"per_s\": %.0f}\n", n, bytes,
           last - first, n > 1 ? (double)(n - 1) / (last - first) : 0.0);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return n == expected ? 0 : 1;
}
