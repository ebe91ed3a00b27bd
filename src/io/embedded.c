#include <string.h>

#include "embedded.h"

const char *amtagvi_schema_text(const char *name)
{
    for (int i = 0; amtagvi_schema_files[i].name; i++)
        if (strcmp(amtagvi_schema_files[i].name, name) == 0) return amtagvi_schema_files[i].text;
    return NULL;
}
