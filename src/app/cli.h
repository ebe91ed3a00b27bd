/**
 * @file cli.h
 * @brief The amtagvi-adjudicator binary: its subcommands and what they share.
 */
#ifndef AMTAGVI_CLI_H
#define AMTAGVI_CLI_H

#include "config.h"
#include "policy.h"

/** @brief `evaluate`: JSON Lines events on stdin, determinations on stdout. */
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
/** @brief `dead-letters replay`: sends dead letters back to their source topic. */
int cmd_dead_letters(int argc, char **argv);
/** @brief `retention`: archives or deletes determinations older than a horizon, beside the
 * running workers, keeping what the judge needs. */
int cmd_retention(int argc, char **argv);

/**
 * @brief Loads the configuration (defaults, then the file if path is not NULL, then the
 * environment) and sets the log level.
 * @returns 0, or 2 (the exit code of a usage error) after printing the problem; cfg is to be
 * freed with config_free either way.
 */
int cli_load_config(config_t *cfg, const char *path);

/**
 * @brief The policy file to use: the --policy option if given, else the configuration's
 * policy.file (AMTAGVI_POLICY_FILE in the environment), else the one shipped with the build.
 */
const char *cli_policy_path(const char *option, const config_t *cfg);

/** @brief Loads the policy file at path, or prints why it is rejected and returns NULL. */
policy_t *cli_load_policy(const char *path);

#endif
