/* fuzz_jsonl_store.c - the server's line storage: the library's JSONL
 * reader with line offsets, fed in chunks; every delivered line must be
 * the input's bytes at its offset, and the custom_id is read as the
 * engine does. */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "util/json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct st {
    oab_jsonl_reader *r;
    const uint8_t *in;
    size_t n;
} st;

static int take(const char *line, size_t len, long lineno, void *ud)
{
    st *s = ud;
    unsigned long long off = oab_jsonl_reader_line_offset(s->r);
    if (off + len > s->n || memcmp(s->in + off, line, len) != 0 ||
        lineno < 1)
        abort();
    cJSON *j = oab__json_parse(line, len);
    (void)oab__json_str(j, "custom_id");
    cJSON_Delete(j);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    st s = {NULL, data, size};
    if (oab_jsonl_reader_new(&s.r, 1 << 20) != OAB_OK)
        return 0;
    size_t chunk = size ? (data[0] % 13) + 1 : 1;
    oab_status rc = OAB_OK;
    for (size_t i = 0; rc == OAB_OK && i < size; i += chunk)
        rc = oab_jsonl_reader_feed(s.r, data + i,
                                   size - i < chunk ? size - i : chunk, take,
                                   &s);
    if (rc == OAB_OK)
        oab_jsonl_reader_finish(s.r, take, &s, NULL);
    oab_jsonl_reader_free(s.r);
    return 0;
}
