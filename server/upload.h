/* upload.h - checks of a multipart/form-data upload that libmicrohttpd's
 * parser does not make (upload.c, I/O-free, fuzzed): the boundary of the
 * Content-Type, and that the body reaches its closing delimiter
 * (CRLF "--boundary--"), so a body cut short is refused, not stored. What
 * follows the closing delimiter is the epilogue (RFC 2046 5.1.1: any
 * text, ignored); libmicrohttpd 0.9.75's parser fails on any byte there,
 * and the OpenAI Node SDK v4 always sends "\r\n\r\n" after it, so the
 * server passes the parser only the bytes up to the closing delimiter. */
#ifndef OAB_SERVER_UPLOAD_H
#define OAB_SERVER_UPLOAD_H

#include <stddef.h>

#define SRV_BOUNDARY_MAX 70 /* RFC 2046 */

typedef struct srv_mp_tail {
    char delim[SRV_BOUNDARY_MAX + 8]; /* CR LF "--" boundary "--" */
    size_t dlen;
    size_t matched; /* bytes of delim matched at the end of what was fed */
    int closed;     /* the closing delimiter has been fed */
} srv_mp_tail;

/* 1 when content_type is multipart/form-data with a valid boundary (then
 * t is set up to watch the body), 0 otherwise (another media type, such
 * as application/x-www-form-urlencoded, or no usable boundary). */
int srv_mp_begin(srv_mp_tail *t, const char *content_type);
/* Feeds body bytes in any chunking; returns how many of them belong to
 * the body before the epilogue (to hand to the multipart parser): len
 * until the closing delimiter, then the bytes up to its end, then 0. */
size_t srv_mp_feed(srv_mp_tail *t, const char *data, size_t len);
/* 1 when the body fed so far holds the closing delimiter. */
int srv_mp_complete(const srv_mp_tail *t);
/* 1 when the field value data[0..len) equals s byte for byte (a NUL or
 * anything after s makes it differ). */
int srv_field_is(const char *data, size_t len, const char *s);

#endif
