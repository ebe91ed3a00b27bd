/* What the subcommands share: configuration and policy loading. */
#include "cli.h"

#include <stdio.h>

#include "log.h"
#include "policy_file.h"

int cli_load_config(config_t *cfg, const char *path)
{
    char err[512];
    if (config_load(cfg, path, err, sizeof err) != 0) {
        fprintf(stderr, "amtagvi-adjudicator: configuration: %s\n", err);
        return 2;
    }
    log_set_level(cfg->log_level);
    return 0;
}

const char *cli_policy_path(const char *option, const config_t *cfg)
{
    if (option && *option) return option;
    if (cfg && cfg->policy_file && *cfg->policy_file) return cfg->policy_file;
    return AMTAGVI_DEFAULT_POLICY;
}

policy_t *cli_load_policy(const char *path)
{
    char err[512];
    policy_t *p = policy_load_file(path, err, sizeof err);
    if (!p) fprintf(stderr, "amtagvi-adjudicator: policy file rejected: %s\n", err);
    return p;
}
