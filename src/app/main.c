/* amtagvi-adjudicator: one binary, a subcommand each. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    fputs("usage: amtagvi-adjudicator COMMAND [OPTIONS]\n"
          "\n"
          "Adjudicates prior-authorization requests and claim lines for coverage policy\n"
          "IP0625 (Amtagvi / lifileucel).\n"
          "\n"
          "commands:\n"
          "  evaluate [--policy FILE]   judge JSON Lines events from stdin, one determination\n"
          "                             (or rejection) per line on stdout\n"
          "  run [--config FILE]        the worker: Kafka -> judge -> PostgreSQL -> outcomes\n"
          "      [--print-config]       print the effective configuration (secrets masked)\n"
          "  migrate [--config FILE]    apply the SQL migrations (safe to re-run)\n"
          "  produce [--config FILE] [--topic T] [--raw] < events.jsonl\n"
          "                             publish JSON Lines events as Avro, keyed by member_id\n"
          "  retro --from DATE --to DATE [--policy FILE] [--dry-run] [--config FILE]\n"
          "                             re-judge a window of stored events, record what changes\n"
          "  dump --topic T [--config FILE] [--idle-ms MS]\n"
          "                             print a topic's messages as JSON Lines (hex)\n"
          "  dead-letters replay [--reason R] [--topic T] [--since TS] [--limit N]\n"
          "      [--max-replays N] [--dry-run] [--config FILE]\n"
          "                             send dead letters back to their source topic\n"
          "  retention (--older-than-days N | --before DATE) [--mode archive|delete]\n"
          "      [--batch-rows N] [--pause-ms MS] [--dry-run] [--force] [--config FILE]\n"
          "                             archive or delete determinations older than a horizon,\n"
          "                             keeping paid doses and what the judge needs\n"
          "  --help                     this text\n"
          "  --version                  version and policy file revision\n"
          "\n"
          "Configuration: --config FILE (key = value lines), overridden by AMTAGVI_<KEY>\n"
          "environment variables; see `run --print-config`.\n"
          "The policy file is --policy, else policy.file ($AMTAGVI_POLICY_FILE), "
          "else\n" AMTAGVI_DEFAULT_POLICY ".\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        config_t cfg;
        policy_t *p =
            cli_load_config(&cfg, NULL) == 0 ? cli_load_policy(cli_policy_path(NULL, &cfg)) : NULL;
        printf("amtagvi-adjudicator %s (policy %s, file %s)\n", AMTAGVI_VERSION,
               p ? p->policy_id : "?", p ? p->file_version : "unreadable");
        policy_free(p);
        config_free(&cfg);
        return 0;
    }
    if (strcmp(cmd, "evaluate") == 0) return cmd_evaluate(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0) return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "migrate") == 0) return cmd_migrate(argc - 1, argv + 1);
    if (strcmp(cmd, "produce") == 0) return cmd_produce(argc - 1, argv + 1);
    if (strcmp(cmd, "dump") == 0) return cmd_dump(argc - 1, argv + 1);
    if (strcmp(cmd, "retro") == 0) return cmd_retro(argc - 1, argv + 1);
    if (strcmp(cmd, "dead-letters") == 0) return cmd_dead_letters(argc - 1, argv + 1);
    if (strcmp(cmd, "retention") == 0) return cmd_retention(argc - 1, argv + 1);
    fprintf(stderr, "amtagvi-adjudicator: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
