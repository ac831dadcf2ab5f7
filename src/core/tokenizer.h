/* core/tokenizer.h - private header of the tokenizer module (tokenizer.c,
 * tokenizer_files.c, tokenizer_models.c, request_tokens.c). Internal. */
#ifndef OAB_CORE_TOKENIZER_H
#define OAB_CORE_TOKENIZER_H

#include "oaibatch.h"

#include <stddef.h>

/* The encodings this library knows: name and pre-tokenizer regex. */
typedef struct oab__encoding {
    const char *name;
    const char *pattern;
    int ascii_kind; /* OAB__ASCII_*: which hand-run form of the pattern */
} oab__encoding;

#define OAB__ASCII_O200K 1
#define OAB__ASCII_CL100K 2

/* pretokenize_ascii.c: the end of the pattern's match at i (u[i] is
 * ASCII) when only ASCII characters decide it: 1 with *end set; 0 when a
 * non-ASCII character takes part (ask PCRE2). */
int oab__pretok_ascii(const oab__encoding *enc, const unsigned char *u,
                      size_t len, size_t i, size_t *end);

/* For tests: 0 turns the ASCII fast path off, so that every match comes
 * from PCRE2 (the differential test compares the two). */
void oab__tokenizer_set_fast_path(oab_tokenizer *t, int on);

/* The known encoding called `name`, or NULL. */
const oab__encoding *oab__encoding_find(const char *name);
/* OAB_OK for a known encoding, else OAB_EINVAL with err saying so. */
oab_status oab__encoding_check(const char *name, oab_error *err);

/* Longest accepted rank file (o200k_base.tiktoken is 3.6 MB). */
#define OAB__RANK_FILE_MAX (64u * 1024 * 1024)
/* Largest accepted rank; tokens are uint32 ids below it. */
#define OAB__RANK_MAX 0x1000000u

#endif
