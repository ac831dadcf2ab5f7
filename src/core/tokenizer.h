/* tokenizer.h - private header of the tokenizer module (tokenizer.c,
 * tokenizer_files.c, tokenizer_models.c, request_tokens.c). Internal. */
#ifndef OAB_CORE_TOKENIZER_H
#define OAB_CORE_TOKENIZER_H

#include "internal.h"

/* The encodings this library knows: name and pre-tokenizer regex. */
typedef struct oab__encoding {
    const char *name;
    const char *pattern;
} oab__encoding;

/* The known encoding called `name`, or NULL. */
const oab__encoding *oab__encoding_find(const char *name);

/* Longest accepted rank file (o200k_base.tiktoken is 3.6 MB). */
#define OAB__RANK_FILE_MAX (64u * 1024 * 1024)
/* Largest accepted rank; tokens are uint32 ids below it. */
#define OAB__RANK_MAX 0x1000000u

#endif
