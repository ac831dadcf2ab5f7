/* ui.c - finds the embedded file of the web view for a request path. */
#include "ui.h"

#include <string.h>

const srv_ui_asset *srv_ui_find(const char *url)
{
    if (strncmp(url, "/ui", 3) != 0)
        return NULL;
    const char *name = url + 3;
    if (!*name || !strcmp(name, "/"))
        name = "index.html";
    else if (*name == '/')
        name++;
    else
        return NULL;
    for (const srv_ui_asset *a = SRV_UI_ASSETS; a->name; a++)
        if (!strcmp(a->name, name))
            return a;
    return NULL;
}
