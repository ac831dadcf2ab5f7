/* range.h - the Range header of GET /v1/files/{id}/content (range.c,
 * RFC 9110 section 14): I/O-free, so it is unit-tested and fuzzed. */
#ifndef OAB_SERVER_RANGE_H
#define OAB_SERVER_RANGE_H

#include <stdint.h>

enum {
    SRV_RANGE_NONE = 0,   /* no header, another unit, or a header that is
                             not valid: answer 200 with the whole file */
    SRV_RANGE_ONE = 1,    /* one satisfiable range: 206 [start, start+len) */
    SRV_RANGE_MANY = 2,   /* several ranges: answered 200 with the whole
                             file (RFC 9110 lets a server ignore Range) */
    SRV_RANGE_UNSAT = -1  /* not satisfiable: 416, Content-Range bytes */
};

/* Reads `header` (may be NULL) for a file of `size` bytes. For
 * SRV_RANGE_ONE, *start and *len say which bytes. */
int srv_range_parse(const char *header, uint64_t size, uint64_t *start,
                    uint64_t *len);

#endif
