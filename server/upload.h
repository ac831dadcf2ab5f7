/* upload.h - checks of a multipart/form-data upload that libmicrohttpd's
 * parser does not make (upload.c, I/O-free, fuzzed): the boundary of the
 * Content-Type, and that the body ends with the closing delimiter
 * ("--boundary--"), so a body cut short is refused, not stored. */
#ifndef OAB_SERVER_UPLOAD_H
#define OAB_SERVER_UPLOAD_H

#include <stddef.h>

#define SRV_BOUNDARY_MAX 70 /* RFC 2046 */

typedef struct srv_mp_tail {
    char delim[SRV_BOUNDARY_MAX + 8]; /* "--" boundary "--" */
    size_t dlen;
    char tail[SRV_BOUNDARY_MAX + 16]; /* the body's last bytes */
    size_t tlen;
} srv_mp_tail;

/* 1 when content_type is multipart/form-data with a valid boundary (then
 * t is set up to watch the body), 0 otherwise (another media type, such
 * as application/x-www-form-urlencoded, or no usable boundary). */
int srv_mp_begin(srv_mp_tail *t, const char *content_type);
/* Feeds body bytes in any chunking. */
void srv_mp_feed(srv_mp_tail *t, const char *data, size_t len);
/* 1 when the body fed so far ends with the closing delimiter (optionally
 * followed by CRLF / whitespace, the epilogue RFC 2046 allows to be
 * empty). */
int srv_mp_complete(const srv_mp_tail *t);
/* 1 when the field value data[0..len) equals s byte for byte (a NUL or
 * anything after s makes it differ). */
int srv_field_is(const char *data, size_t len, const char *s);

#endif
