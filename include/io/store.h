/**
 * @file store.h
 * @brief The PostgreSQL adapter: migrations, history for a batch, and the batch transaction
 * that makes determinations exactly-once (determinations, dead letters and consumer offsets
 * commit together, fenced on the offsets the worker expects).
 */
#ifndef AMTAGVI_STORE_H
#define AMTAGVI_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "determination.h"
#include "engine.h"
#include "record.h"

typedef struct store store_t;

typedef enum {
    STORE_OK = 0,
    STORE_RETRY = 1,    /**< connection or server trouble: reconnect and retry the batch */
    STORE_FENCED = 2,   /**< the offsets moved under us: another worker owns a partition */
    STORE_REJECTED = 3, /**< PostgreSQL refused some rows (data, constraint, size): see the
                             rejections; nothing was written */
} store_status_t;

/** One new determination to insert, with the facts only the worker knows. */
typedef struct {
    const determination_t *det;
    uint64_t fingerprint;
    const void *payload;
    size_t payload_len;
    int64_t received_at_ms;
    int64_t decided_at_ms;
    const char *urgency; /**< PA: "STANDARD"/"EXPEDITED"; claim: NULL */
    const char *topic;
    int32_t partition;
    int64_t offset;
} store_row_t;

/** A message that could not be judged, kept whole with why. */
typedef struct {
    const char *topic;
    int32_t partition;
    int64_t offset;
    const char *reason; /**< the error class: bad_magic, malformed, invalid, rejected, ... */
    const char *error;  /**< what is wrong, naming fields, never quoting values */
    const void *key;
    size_t key_len;
    const void *payload;
    size_t payload_len;
    const char *stage;              /**< decode, validate or store */
    const record_header_t *headers; /**< the original record's */
    size_t n_headers;
    int64_t timestamp_ms; /**< the original record's; -1 if it had none */
    int replay_count;     /**< replays from the dead-letter table it had been through */
    const char *consumer_group, *worker_id;
} store_dead_letter_t;

/** A row of a batch that PostgreSQL refused for its content. */
typedef struct {
    size_t row;      /**< index into the batch's rows */
    char error[256]; /**< SQLSTATE, condition, constraint and column: never the values */
} store_rejection_t;

/** A partition's position as the batch sees it. */
typedef struct {
    const char *topic;
    int32_t partition;
    int64_t expected_next;  /**< what the worker believes the table says (the fence) */
    int64_t new_next;       /**< after this batch */
    int64_t published;      /**< determinations published up to here */
    int64_t high_watermark; /**< the partition's end as last seen (-1: unknown) */
} store_position_t;

/** What a batch did, recorded in worker_batches with it. */
typedef struct {
    int messages, judged, replayed, dead_letters;
    int duration_ms; /**< first message polled -> handed to the store (the store adds the commit) */
} store_batch_stats_t;

store_t *store_new(const char *url, const char *worker_id);
void store_free(store_t *s);

/** @returns the last error message (no PHI). */
const char *store_error(const store_t *s);

/** @brief (Re)connects if needed. @returns STORE_OK or STORE_RETRY. */
store_status_t store_connect(store_t *s);

/** @brief Applies the embedded migrations not yet applied, under an advisory lock. */
store_status_t store_migrate(store_t *s, int *applied);

/**
 * @brief The stored position of a partition, creating it at start_offset when absent.
 */
store_status_t store_position(store_t *s, const char *group, const char *topic, int32_t partition,
                              int64_t start_offset, int64_t *next, int64_t *published);

/**
 * @brief Loads, in one round trip, the stored determinations of the given members and event
 * ids, in stream order, into the engine (engine_load).
 */
store_status_t store_load_history(store_t *s, engine_t *e, const char *const *members,
                                  size_t n_members, const char *const *event_ids,
                                  size_t n_event_ids);

/**
 * @brief The batch transaction: checks every partition's offset equals expected_next (else
 * STORE_FENCED and nothing is written), COPYs the new determinations, inserts dead letters,
 * and moves the offsets, then commits.
 *
 * When PostgreSQL refuses the determinations for their content (a data exception, a
 * constraint, a program limit: SQLSTATE classes 22, 23 but unique violations, 54), the batch
 * is rolled back and the refused rows are found by bisection in a probe transaction that is
 * rolled back too: STORE_REJECTED with each refused row in rejected (room for n_rows) and
 * *n_rejected set. The caller dead-letters those events and commits the rest again.
 */
store_status_t store_commit_batch(store_t *s, const char *group, const store_row_t *rows,
                                  size_t n_rows, const store_dead_letter_t *dead, size_t n_dead,
                                  const store_position_t *positions, size_t n_positions,
                                  const store_batch_stats_t *stats, store_rejection_t *rejected,
                                  size_t *n_rejected);

/** @brief Records that everything below published is on the outcomes topic. */
store_status_t store_mark_published(store_t *s, const char *group, const char *topic,
                                    int32_t partition, int64_t published);

/** Callback for each stored determination or dead letter to republish. */
typedef int (*store_republish_cb)(void *ctx, const determination_t *d,
                                  const store_dead_letter_t *dl, int64_t decided_at_ms,
                                  const char *topic, int32_t partition, int64_t offset);

/**
 * @brief Calls cb for every determination and dead letter with source offset in
 * [from, to) of the partition, in offset order (republish after a crash).
 */
store_status_t store_republish(store_t *s, const char *topic, int32_t partition, int64_t from,
                               int64_t to, store_republish_cb cb, void *ctx);

/* ---- dead letters ---- */

/** Which dead letters `dead-letters replay` takes. */
typedef struct {
    const char *reason; /**< NULL: any */
    const char *topic;  /**< NULL: any source topic */
    const char *since;  /**< received at or after this timestamp (PostgreSQL syntax); NULL: any */
    int max_replays;    /**< the loop guard: rows with replay_count >= this are only counted */
    long limit;         /**< at most this many rows (0: no limit) */
} store_replay_filter_t;

/** Called for each dead letter to replay; a non-zero return stops the walk. */
typedef int (*store_replay_cb)(void *ctx, const store_dead_letter_t *dl);

/**
 * @brief Calls cb, in received order, for every dead letter not yet replayed that matches the
 * filter and is under the loop guard; counts in *held those that match but that the guard holds
 * back (replayed max_replays times already and failed again).
 */
store_status_t store_replay_candidates(store_t *s, const store_replay_filter_t *f,
                                       store_replay_cb cb, void *ctx, long *held);

/** @brief Records that a dead letter was replayed (replayed_at = now()). */
store_status_t store_mark_replayed(store_t *s, const char *topic, int32_t partition,
                                   int64_t offset);

/* ---- retro-review ---- */

/** One stored event of an affected member, valid until the next store_retro_fetch. */
typedef struct {
    const char *event_id;
    const char *member_id;
    event_kind_t kind;
    const void *payload; /**< the Confluent-framed Avro message as consumed */
    size_t payload_len;
    date_t decision_date;
    outcome_t outcome;
    const char *criteria;          /**< trace */
    const char *reasons_csv;       /**< "A,B" */
    const char *reversed_event_id; /**< as stored (contract §10); NULL when none */
} retro_row_t;

typedef struct {
    const char *event_id, *member_id, *kind;
    date_t decision_date;
    const char *old_outcome, *new_outcome;
    const char *old_reasons_csv, *new_reasons_csv;
    const char *finding;
    /** reversed_event_id stored and re-judged (NULL: none), on every finding. */
    const char *old_reversed_event_id, *new_reversed_event_id;
} retro_finding_row_t;

typedef struct {
    int64_t members, events_replayed, events_in_window, changed, paid_now_denied, denied_now_paid,
        undecodable;
    int64_t reversals_changed; /**< events in the window whose re-judged reversal differs */
} retro_counts_t;

/** @brief Records a new run (committed at once, status running). */
store_status_t store_retro_create_run(store_t *s, date_t from, date_t to, const char *file_version,
                                      const char *sha256, int64_t *run_id);

/**
 * @brief Opens a snapshot of every stored event of the members with an event decided in
 * [from, to], ordered by member then stream position, and counts them.
 */
store_status_t store_retro_open(store_t *s, date_t from, date_t to, int64_t *events,
                                int64_t *members);

/** @brief Fetches up to max rows (*n = 0 at the end). */
store_status_t store_retro_fetch(store_t *s, retro_row_t *rows, size_t max, size_t *n);

store_status_t store_retro_add_findings(store_t *s, int64_t run_id, const retro_finding_row_t *rows,
                                        size_t n);

/** @brief Ends the snapshot; with run_id > 0 records counts and status, then commits. */
store_status_t store_retro_close(store_t *s, int64_t run_id, const retro_counts_t *c, bool ok);

/* ---- retention ---- */

/** What a retention run does with a determination it removes. */
typedef enum {
    RETENTION_ARCHIVE = 0, /**< moved to determinations_archive in the same transaction */
    RETENTION_DELETE = 1,  /**< deleted */
} retention_mode_t;

/** What a run found, before removing anything (store_retention_plan). */
typedef struct {
    int64_t max_seq;        /**< rows numbered above it were written during the run: left alone */
    int64_t paid_doses;     /**< live billed APPROVED claim lines older than the horizon */
    int64_t authorizations; /**< approvals still valid at the horizon, or matched by a kept line */
    int64_t reversals;      /**< voids and replacements of a line that keeps a row */
    int64_t reversed_lines; /**< rows a remaining void or replacement names (reversed_event_id) */
    int64_t kept;           /**< all of the above (a row counted once) */
    int64_t removable;      /**< rows older than the horizon that will go */
} retention_plan_t;

/**
 * @brief Starts a run: takes the retention lock (one run per database; the session holds it
 * until store_retention_finish or store_free) and records the run (status running).
 * @returns STORE_OK, STORE_FENCED when another run holds the lock, or STORE_RETRY.
 */
store_status_t store_retention_begin(store_t *s, date_t horizon, retention_mode_t mode,
                                     bool dry_run, int64_t *run_id);

/**
 * @brief Decides what stays: waits a moment for the batches being written (a SHARE lock,
 * given up after lock_timeout_ms and tried again, so the workers' next batches wait at most
 * that long) to fix the last row number the run may touch, then rebuilds retention_keep with
 * the rows older than the horizon that the judge needs (docs/DECISIONS.md "Retention") and
 * counts what will go. A dry run's retention_keep is rolled back.
 */
store_status_t store_retention_plan(store_t *s, int64_t run_id, date_t horizon, bool dry_run,
                                    int lock_timeout_ms, retention_plan_t *plan);

/**
 * @brief One batch, one transaction: removes (archive: moves) up to batch_rows removable rows,
 * the oldest decision dates first from *cursor (DATE_NULL: the beginning), and records the
 * progress in retention_runs in the same transaction. Sets *removed (0: nothing left) and
 * advances *cursor.
 */
store_status_t store_retention_batch(store_t *s, int64_t run_id, date_t horizon,
                                     retention_mode_t mode, int64_t max_seq, int batch_rows,
                                     date_t *cursor, int64_t *removed);

/**
 * @brief Ends a run with status "finished", "interrupted" or "failed" and releases the lock.
 */
store_status_t store_retention_finish(store_t *s, int64_t run_id, const char *status);

/**
 * @brief The current retention horizon (retention_horizon(): determinations decided before it
 * may have been removed), or DATE_NULL when nothing was ever removed or the database predates
 * migration 008.
 */
store_status_t store_retention_horizon(store_t *s, date_t *horizon);

/** @brief Records on a retro run the horizon its window was compared with. */
store_status_t store_retro_note_horizon(store_t *s, int64_t run_id, date_t horizon,
                                        bool before_horizon);

#endif
