/**
 * @file policy_file.h
 * @brief Reads the policy data file (the core parses it: policy_load_text).
 */
#ifndef AMTAGVI_POLICY_FILE_H
#define AMTAGVI_POLICY_FILE_H

#include <stddef.h>

#include "policy.h"

/**
 * @brief Reads and validates the policy file at path (at most 1 MiB).
 * @returns the policy, or NULL with err naming the file and the key that is wrong.
 */
policy_t *policy_load_file(const char *path, char *err, size_t errlen);

#endif
