/* fuzz_tokenizer.c - the tokenizer on any bytes (the server counts the
 * tokens of every client's batch input under --enqueued-token-limit, the
 * command those of every line it estimates): with o200k_base and
 * cl100k_base, count and encode agree, and what encodes decodes back to
 * the same bytes (byte-pair encoding loses nothing); bytes that are not
 * UTF-8 are refused by both. A first byte of 0xff instead loads the rest
 * as a rank file (a user may name any file), which loads or is refused.
 * The rank files come from $OAB_ENCODINGS_DIR (fuzz/run.sh points it at
 * tests/harness/node/encodings, which scripts/test-deps.sh makes). */
#include "oaibatch.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static oab_tokenizer *toks[2]; /* loaded once, reachable until exit */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static const char *const names[2] = {"o200k_base", "cl100k_base"};
    for (int k = 0; k < 2; k++) {
        oab_error err;
        memset(&err, 0, sizeof err);
        if (oab_tokenizer_load(&toks[k], names[k], NULL, &err) != OAB_OK) {
            /* no silent pass without the rank files */
            fprintf(stderr, "fuzz_tokenizer: %s\n", err.message);
            abort();
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 1 && data[0] == 0xff) {
        oab_tokenizer *t = NULL;
        oab_error err;
        if (oab_tokenizer_load_buffer(&t, "cl100k_base",
                                      (const char *)data + 1, size - 1,
                                      NULL, &err) == OAB_OK &&
            !t)
            abort();
        oab_tokenizer_free(t);
        return 0;
    }
    const char *text = (const char *)data;
    for (int k = 0; k < 2; k++) {
        size_t count = 0, n = 0;
        uint32_t *ids = NULL;
        oab_status sc = oab_tokenizer_count(&count, toks[k], text, size);
        oab_status se = oab_tokenizer_encode(&ids, &n, toks[k], text, size);
        if (sc != se || (se == OAB_OK && count != n))
            abort();
        if (se == OAB_OK) {
            char *back = NULL;
            size_t len = 0;
            if (oab_tokenizer_decode(&back, &len, toks[k], ids, n) != OAB_OK ||
                len != size || (size && memcmp(back, data, size) != 0))
                abort();
            oab_free(back);
        }
        oab_free(ids);
    }
    return 0;
}
