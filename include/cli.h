/**
 * @file cli.h
 * @brief Subcommands of the amtagvi-adjudicator binary.
 */
#ifndef AMTAGVI_CLI_H
#define AMTAGVI_CLI_H

#include <stdio.h>

#include "policy.h"

/** @brief `evaluate`: JSON Lines events on in, determinations on out (contract §9). */
int cmd_evaluate(int argc, char **argv);

/** @brief `run`: the Kafka worker. */
int cmd_run(int argc, char **argv);
/** @brief `migrate`: applies the embedded SQL migrations. */
int cmd_migrate(int argc, char **argv);
/** @brief `produce`: JSON Lines (or raw) -> Avro -> the events topic. */
int cmd_produce(int argc, char **argv);
/** @brief `retro`: re-judges a window of stored events and records what would change. */
int cmd_retro(int argc, char **argv);
/** @brief `dump`: prints a topic's messages as JSON Lines, hex-encoded. */
int cmd_dump(int argc, char **argv);

/**
 * @brief The policy file to use: --policy, else $AMTAGVI_POLICY_FILE, else the one shipped
 * with the build. Loads it or prints the problem and returns NULL.
 */
policy_t *cli_load_policy(const char *path_option);

/** @brief The policy file path cli_load_policy would read for that option. */
const char *cli_policy_path(const char *path_option);

/** @brief One structured log line on stderr: {"ts":..., "level":..., "msg":..., extra}. */
void cli_log(const char *level, const char *msg, const char *extra_json_fields);

#endif
