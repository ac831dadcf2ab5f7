/* core/jsonl_reader.h - the JSONL reader's internal side: the one line
 * splitter of the library. Internal: core layer.
 *
 * The public reader (oab_jsonl_reader_*, include/oaibatch.h) copies each
 * line to give it a NUL and skips blank lines. The raw mode here is the
 * same splitter for callers that need every line and no copy: the
 * validator, which counts blank lines' bytes against the file limit and
 * reads 200 MB in place. Both modes agree on what a line is (bytes up to
 * '\n', without it and a '\r' before it) and what a blank line is
 * (oab__line_blank). */
#ifndef OAB_CORE_JSONL_READER_H
#define OAB_CORE_JSONL_READER_H

#include "oaibatch.h"
#include <stddef.h>

/* 1 when s[0..n) is a blank line: empty, or only spaces, tabs and CRs.
 * Blank lines are not requests (nor results) anywhere in the library. */
int oab__line_blank(const char *s, size_t n);

/* One line, as the raw mode gives it. */
typedef struct oab__line {
    const char *text;   /* without "\n" or "\r\n"; not NUL-terminated;
                           NULL when the line is longer than max_line */
    size_t len;         /* of text (0 when text is NULL) */
    size_t bytes;       /* of the input the line took, its '\n' included */
    long lineno;        /* 1-based, blank lines counted */
    int blank;          /* oab__line_blank */
    int cut_off;        /* the last line, the input ended without '\n' */
} oab__line;

/* Return 0 to go on, non-zero to stop (the feed returns OAB_ESTOPPED). */
typedef int (*oab__line_raw_fn)(const oab__line *line, void *userdata);

/* A reader in raw mode: every line goes to fn, blank ones too; a line
 * that lies whole in a fed chunk is given in place (no copy); a line
 * longer than max_line (0 = OAB__MAX_LINE_BYTES) is not kept but given
 * with text NULL and its byte count (never OAB_ELIMIT). Free with
 * oab_jsonl_reader_free. OAB_EINVAL, OAB_ENOMEM. */
oab_status oab__jsonl_reader_new_raw(oab_jsonl_reader **out,
                                     size_t max_line);
/* As oab_jsonl_reader_feed / _finish for a raw reader; finish gives the
 * last line without '\n' (cut_off set), if any. */
oab_status oab__jsonl_reader_feed_raw(oab_jsonl_reader *r, const void *data,
                                      size_t len, oab__line_raw_fn fn,
                                      void *userdata);
oab_status oab__jsonl_reader_finish_raw(oab_jsonl_reader *r,
                                        oab__line_raw_fn fn, void *userdata);

#endif
