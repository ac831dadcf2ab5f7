/* ui.h - the web view at /ui/ (ui.c): the files of server/ui/, embedded
 * into the binary at build time (cmake/embed.cmake writes ui_assets.c). */
#ifndef OAB_SERVER_UI_H
#define OAB_SERVER_UI_H

#include <stddef.h>

typedef struct srv_ui_asset {
    const char *name;            /* "index.html" */
    const char *type;            /* its Content-Type */
    const unsigned char *data;   /* static, len bytes */
    size_t len;
} srv_ui_asset;

/* The table ui_assets.c defines, ending with a NULL name. */
extern const srv_ui_asset SRV_UI_ASSETS[];

/* The file for a request path: "/ui" and "/ui/" give index.html,
 * "/ui/NAME" the file NAME; NULL for anything else. */
const srv_ui_asset *srv_ui_find(const char *url);

#endif
