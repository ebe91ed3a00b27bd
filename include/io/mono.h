/**
 * @file mono.h
 * @brief Milliseconds of CLOCK_MONOTONIC, for the adapters' and the worker's durations and
 * deadlines (never for anything stored: that is wall-clock time).
 */
#ifndef AMTAGVI_MONO_H
#define AMTAGVI_MONO_H

#include <stdint.h>
#include <time.h>

static inline int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
