/**
 * @file json_event.h
 * @brief The JSON form of events (contract §2, §9) and of determinations (§8).
 *
 * The reader is a strict single-pass JSON parser specialised to the event shape: strings are
 * unescaped in place inside the caller's line buffer, so decoding allocates nothing and the
 * event borrows the line. It rejects exactly what contract §2 rejects.
 */
#ifndef AMTAGVI_JSON_EVENT_H
#define AMTAGVI_JSON_EVENT_H

#include <stddef.h>

#include "buf.h"
#include "determination.h"
#include "event.h"
#include "policy.h"

/**
 * @brief Parses one JSON Lines record into *out. The line is modified in place and must stay
 * alive while the event is used; it needs no NUL terminator.
 * @returns 0, or -1 with the reason in err: it names the field and the problem and quotes
 * nothing of the line (no value or length: PHI).
 */
int json_event_parse(char *line, size_t len, event_t *out, char *err, size_t errlen);

/** @brief Appends a JSON string literal (quoted, escaped) to out. */
int json_append_string(buf_t *out, const char *s);

/**
 * @brief Appends the determination as one JSON object (no newline) with the §8 keys in the
 * golden examples' order; messages come from the policy.
 */
int json_append_determination(buf_t *out, const determination_t *d, const policy_t *p);

/** @brief Appends an event in its JSON Lines form (no newline), every field present. */
int json_append_event(buf_t *out, const event_t *ev);

#endif
