/* schema_validate.c - JSON Schema (draft 2020-12) validation of parsed
 * instances: the keywords OpenAI's structured outputs use and the common
 * rest (see validate() below). Patterns and $ref targets are resolved once
 * when the schema is made (oab__schema_prepare), so validation only reads
 * the schema and may run from several threads at once. */
#define _POSIX_C_SOURCE 200809L
#define PCRE2_CODE_UNIT_WIDTH 8

#include "oaibatch.h"
#include "core/schema.h"
#include "core/schema_int.h"
#include "util/buf.h"
#include "util/compat.h"
#include "util/err.h"
#include "util/json.h"
#include "util/str.h"
#include "util/limits.h"
#include <math.h>
#include <pcre2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Node tables (sorted by node address)                                 */
/* ------------------------------------------------------------------ */

static int cmp_regex(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const oab__regex *)a)->node;
    uintptr_t y = (uintptr_t)((const oab__regex *)b)->node;
    return x < y ? -1 : x > y;
}

static const oab__regex *find_entry(const oab__regex *tab, size_t n,
                                    const cJSON *node)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tab[mid].node == node)
            return &tab[mid];
        if ((uintptr_t)tab[mid].node < (uintptr_t)node)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* ECMA-262 patterns through PCRE2                                      */
/* ------------------------------------------------------------------ */

/* ECMA-262 \s: ASCII white space plus Unicode spaces and line ends. */
#define ECMA_SPACE_SET                                                      \
    "\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f"   \
    "\\u205f\\u3000\\ufeff"

/* ECMA-262 long General_Category names -> PCRE2's short ones. */
static const char *const k_gc_names[][2] = {
    {"Letter", "L"}, {"Cased_Letter", "L&"}, {"Uppercase_Letter", "Lu"},
    {"Lowercase_Letter", "Ll"}, {"Titlecase_Letter", "Lt"},
    {"Modifier_Letter", "Lm"}, {"Other_Letter", "Lo"}, {"Mark", "M"},
    {"Combining_Mark", "M"}, {"Nonspacing_Mark", "Mn"},
    {"Spacing_Mark", "Mc"}, {"Enclosing_Mark", "Me"}, {"Number", "N"},
    {"Decimal_Number", "Nd"}, {"digit", "Nd"}, {"Letter_Number", "Nl"},
    {"Other_Number", "No"}, {"Punctuation", "P"}, {"punct", "P"},
    {"Connector_Punctuation", "Pc"}, {"Dash_Punctuation", "Pd"},
    {"Open_Punctuation", "Ps"}, {"Close_Punctuation", "Pe"},
    {"Initial_Punctuation", "Pi"}, {"Final_Punctuation", "Pf"},
    {"Other_Punctuation", "Po"}, {"Symbol", "S"}, {"Math_Symbol", "Sm"},
    {"Currency_Symbol", "Sc"}, {"Modifier_Symbol", "Sk"},
    {"Other_Symbol", "So"}, {"Separator", "Z"}, {"Space_Separator", "Zs"},
    {"Line_Separator", "Zl"}, {"Paragraph_Separator", "Zp"},
    {"Other", "C"}, {"Control", "Cc"}, {"cntrl", "Cc"}, {"Format", "Cf"},
    {"Surrogate", "Cs"}, {"Private_Use", "Co"}, {"Unassigned", "Cn"},
};

/* Writes \p{name} / \P{name} in PCRE2 spelling; name is ECMA's. */
static oab_status put_property(oab__buf *b, char pe, const char *name,
                               size_t n)
{
    static const char *const prefixes[][2] = {
        {"General_Category=", ""}, {"gc=", ""}, {"Script=", ""},
        {"sc=", ""}, {"Script_Extensions=", "scx:"}, {"scx=", "scx:"}};
    const char *add = "";
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t pl = strlen(prefixes[i][0]);
        if (n > pl && strncmp(name, prefixes[i][0], pl) == 0) {
            name += pl;
            n -= pl;
            add = prefixes[i][1];
            break;
        }
    }
    for (size_t i = 0; i < sizeof k_gc_names / sizeof k_gc_names[0]; i++) {
        if (strlen(k_gc_names[i][0]) == n &&
            strncmp(name, k_gc_names[i][0], n) == 0) {
            name = k_gc_names[i][1];
            n = strlen(name);
            break;
        }
    }
    return oab__buf_printf(b, "\\%c{%s%.*s}", pe, add, (int)n, name);
}

/* Rewrites the parts of an ECMA-262 pattern PCRE2 reads differently.
 * PCRE2 is used in UTF mode without UCP, so \d, \w and \b stay ASCII as in
 * ECMA-262; \s is widened to ECMA's set; \uXXXX is handled by ALT_BSUX. */
static char *ecma_translate(const char *src)
{
    oab__buf b = OAB__BUF_INIT;
    int in_class = 0;
    oab_status st = OAB_OK;
    for (const char *p = src; *p && st == OAB_OK; p++) {
        if (*p == '\\' && p[1]) {
            char e = p[1];
            p++;
            if (e == 's')
                st = oab__buf_puts(&b, in_class ? ECMA_SPACE_SET
                                                : "[" ECMA_SPACE_SET "]");
            else if (e == 'S' && !in_class)
                st = oab__buf_puts(&b, "[^" ECMA_SPACE_SET "]");
            else if ((e == 'p' || e == 'P') && p[1] == '{' &&
                     strchr(p + 2, '}')) {
                const char *name = p + 2;
                size_t n = (size_t)(strchr(name, '}') - name);
                st = put_property(&b, e, name, n);
                p = name + n;
            } else if (e == 'u' && p[1] == '{') {
                /* \u{XXXXX} (ECMA 'u' flag form): \x{...} is not there
                 * under ALT_BSUX. A BMP code point becomes \uXXXX (never
                 * a NUL byte in the pattern text: "\u{0}" used to end the
                 * compiled regex there); a higher one its UTF-8 bytes,
                 * which hold no NUL. "\u{}" and over 6 digits stay "\u"
                 * then text, as without the u flag. */
                const char *h = p + 2, *q = h;
                unsigned long cp = 0;
                while (q - h < 7 && oab__hexval((unsigned char)*q) >= 0)
                    cp = cp * 16 + (unsigned long)oab__hexval((unsigned char)*q++);
                if (q > h && q - h <= 6 && *q == '}' && cp <= 0x10FFFF) {
                    if (cp < 0x10000) {
                        st = oab__buf_printf(&b, "\\u%04lx", cp);
                    } else {
                        char u[4];
                        size_t n = oab__utf8_encode(cp, u);
                        st = oab__buf_puts(&b, "\\Q");
                        if (st == OAB_OK)
                            st = oab__buf_append(&b, u, n);
                        if (st == OAB_OK)
                            st = oab__buf_puts(&b, "\\E");
                    }
                    p = q;
                } else {
                    st = oab__buf_append(&b, "\\u", 2);
                }
            } else {
                char two[2] = {'\\', e};
                st = oab__buf_append(&b, two, 2);
            }
            continue;
        }
        if (!in_class && *p == '[') {
            in_class = 1;
            st = oab__buf_putc(&b, '[');
            if (st == OAB_OK && p[1] == '^') {
                st = oab__buf_putc(&b, '^');
                p++;
            }
            continue;
        }
        if (in_class && *p == ']')
            in_class = 0;
        st = oab__buf_putc(&b, *p);
    }
    if (st != OAB_OK) {
        oab__buf_free(&b);
        return NULL;
    }
    return oab__buf_take(&b, NULL);
}

/* Compiles an ECMA-262 pattern; NULL with a message in msg on error. */
static void *pcre_malloc(PCRE2_SIZE n, void *ud)
{
    return malloc(n);
}

static void pcre_free(void *p, void *ud)
{
    free(p);
}

/* NULL with msg set when the pattern does not compile; NULL with *oom set
 * when memory ran out (the pattern may well be fine). */
static pcre2_code *regex_compile(const char *pattern, char *msg, size_t msgsz,
                                 int *oom)
{
    *oom = 0;
    char *tr = ecma_translate(pattern);
    /* PCRE2 allocates through the library's malloc/free (the code keeps
     * them for its match data), so its memory is that of the library */
    pcre2_general_context *gc =
        tr ? pcre2_general_context_create(pcre_malloc, pcre_free, NULL) : NULL;
    pcre2_compile_context *cc = gc ? pcre2_compile_context_create(gc) : NULL;
    pcre2_general_context_free(gc);
    if (!cc) {
        free(tr);
        *oom = 1;
        snprintf(msg, msgsz, "out of memory");
        return NULL;
    }
    int ec = 0;
    PCRE2_SIZE off = 0;
    uint32_t opts = PCRE2_UTF | PCRE2_ALT_BSUX | PCRE2_ALLOW_EMPTY_CLASS |
                    PCRE2_DOLLAR_ENDONLY | PCRE2_MATCH_INVALID_UTF;
    pcre2_set_newline(cc, PCRE2_NEWLINE_ANYCRLF);
    pcre2_code *code =
        pcre2_compile((PCRE2_SPTR)tr, PCRE2_ZERO_TERMINATED, opts, &ec, &off, cc);
    pcre2_compile_context_free(cc);
    free(tr);
    if (!code && ec == PCRE2_ERROR_HEAP_FAILED)
        *oom = 1;
    if (!code) {
        PCRE2_UCHAR buf[160];
        pcre2_get_error_message(ec, buf, sizeof buf);
        snprintf(msg, msgsz, "%s", (const char *)buf);
    }
    return code;
}

/* 1 match, 0 no match, -1 error, -2 out of memory */
static int regex_search(const pcre2_code *code, const char *s, size_t len)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
    if (!md)
        return -2;
    int rc = pcre2_match(code, (PCRE2_SPTR)s, len, 0, 0, md, NULL);
    pcre2_match_data_free(md);
    if (rc >= 0)
        return 1;
    if (rc == PCRE2_ERROR_NOMEMORY)
        return -2;
    return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* URIs ($id, $ref)                                                     */
/* ------------------------------------------------------------------ */

static int has_scheme(const char *u)
{
    const char *p = u;
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
        return 0;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
           (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.')
        p++;
    return *p == ':';
}

/* Removes "." and ".." segments from a path (RFC 3986 5.2.4). */
static void remove_dots(char *path)
{
    size_t len = strlen(path);
    char *out = malloc(len + 2);
    if (!out)
        return; /* keep the path as it is */
    size_t o = 0;
    const char *in = path;
    int lead = *in == '/';
    if (lead)
        in++;
    while (1) {
        const char *end = strchr(in, '/');
        size_t n = end ? (size_t)(end - in) : strlen(in);
        int last = end == NULL;
        if (n == 1 && in[0] == '.') {
            /* drop */
        } else if (n == 2 && in[0] == '.' && in[1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--; /* the '/' before the dropped segment */
        } else {
            if (o > 0 || lead)
                out[o++] = '/';
            memcpy(out + o, in, n);
            o += n;
            in += n;
            if (last)
                break;
            in++;
            continue;
        }
        /* after "." or "..": a directory remains */
        in += n;
        if (last) {
            out[o++] = '/';
            break;
        }
        in++;
    }
    if (lead && (o == 0 || out[0] != '/')) {
        memmove(out + 1, out, o);
        out[0] = '/';
        o++;
    }
    out[o] = '\0';
    memcpy(path, out, o + 1);
    free(out);
}

/* Resolves ref against base (RFC 3986, enough for schema $id/$ref). */
static char *uri_resolve(const char *base, const char *ref)
{
    if (has_scheme(ref) || !*base)
        return oab__strdup(ref);
    size_t blen = strcspn(base, "#");
    if (ref[0] == '#' || !*ref)
        return oab__sprintf("%.*s%s", (int)blen, base, ref);
    /* split base into scheme:, //authority, path */
    const char *colon = strchr(base, ':');
    size_t slen = has_scheme(base) && colon ? (size_t)(colon - base) + 1 : 0;
    const char *rest = base + slen;
    size_t alen = 0;
    if (rest[0] == '/' && rest[1] == '/')
        alen = 2 + strcspn(rest + 2, "/?#");
    const char *path = rest + alen;
    size_t plen = strcspn(path, "?#");
    if (ref[0] == '/' && ref[1] == '/')
        return oab__sprintf("%.*s%s", (int)slen, base, ref);
    char *merged;
    if (ref[0] == '/') {
        merged = oab__strdup(ref);
    } else {
        const char *slash = NULL;
        for (size_t i = 0; i < plen; i++)
            if (path[i] == '/')
                slash = path + i;
        if (slash)
            merged = oab__sprintf("%.*s%s", (int)(slash - path + 1), path, ref);
        else if (alen)
            merged = oab__sprintf("/%s", ref);
        else
            merged = oab__strdup(ref);
    }
    if (!merged)
        return NULL;
    /* keep query/fragment of ref out of dot removal */
    size_t mpath = strcspn(merged, "?#");
    char keep = merged[mpath];
    merged[mpath] = '\0';
    char *tail = keep ? oab__strdup(merged + mpath + 1) : NULL;
    remove_dots(merged);
    char *out;
    out = keep ? oab__sprintf("%.*s%.*s%s%c%s", (int)slen, base, (int)alen,
                              rest, merged, keep, tail ? tail : "")
               : oab__sprintf("%.*s%.*s%s", (int)slen, base, (int)alen, rest,
                              merged);
    free(tail);
    free(merged);
    return out;
}

/* ------------------------------------------------------------------ */
/* Preparation: patterns and references                                 */
/* ------------------------------------------------------------------ */

typedef struct named {
    char *uri;
    const cJSON *node;
} named;

typedef struct pending_ref {
    const cJSON *node;
    char *uri;      /* resolved, with fragment */
    char *where;    /* schema pointer, for errors */
} pending_ref;

typedef struct prep {
    oab__regex *tab;
    size_t n, cap;
    named *res;
    size_t nres, capres;
    pending_ref *refs;
    size_t nrefs, caprefs;
    oab_error *err;
} prep;

static oab_status tab_add(prep *p, const cJSON *node, void *code)
{
    oab__regex *t = oab__grow(p->tab, &p->cap, p->n, sizeof *t, 16);
    if (!t)
        return OAB_ENOMEM;
    p->tab = t;
    p->tab[p->n].node = node;
    p->tab[p->n].code = code;
    p->n++;
    return OAB_OK;
}

static oab_status res_add(prep *p, char *uri, const cJSON *node)
{
    if (!uri)
        return OAB_ENOMEM;
    named *t = oab__grow(p->res, &p->capres, p->nres, sizeof *t, 8);
    if (!t) {
        free(uri);
        return OAB_ENOMEM;
    }
    p->res = t;
    p->res[p->nres].uri = uri;
    p->res[p->nres].node = node;
    p->nres++;
    return OAB_OK;
}

static oab_status ref_add(prep *p, const cJSON *node, char *uri, char *where)
{
    if (!uri || !where) {
        free(uri);
        free(where);
        return OAB_ENOMEM;
    }
    pending_ref *t = oab__grow(p->refs, &p->caprefs, p->nrefs, sizeof *t, 8);
    if (!t) {
        free(uri);
        free(where);
        return OAB_ENOMEM;
    }
    p->refs = t;
    p->refs[p->nrefs].node = node;
    p->refs[p->nrefs].uri = uri;
    p->refs[p->nrefs].where = where;
    p->nrefs++;
    return OAB_OK;
}

static oab_status compile_at(prep *p, const cJSON *node, const char *pattern,
                             const oab__buf *where)
{
    char msg[200];
    int oom;
    pcre2_code *code = regex_compile(pattern, msg, sizeof msg, &oom);
    if (!code && oom)
        return OAB_ENOMEM;
    if (!code)
        return oab__err(p->err, OAB_ESCHEMA, 0,
                        "%s: invalid regular expression: %s", oab__jptr_show(where),
                        msg);
    oab_status st = tab_add(p, node, code);
    if (st != OAB_OK)
        pcre2_code_free(code);
    return st;
}

static int is_value_keyword(const char *k)
{
    return strcmp(k, "enum") == 0 || strcmp(k, "const") == 0 ||
           strcmp(k, "default") == 0 || strcmp(k, "examples") == 0 ||
           strcmp(k, "required") == 0 || strcmp(k, "dependentRequired") == 0;
}

static int is_map_keyword(const char *k)
{
    return strcmp(k, "properties") == 0 ||
           strcmp(k, "patternProperties") == 0 || strcmp(k, "$defs") == 0 ||
           strcmp(k, "definitions") == 0 ||
           strcmp(k, "dependentSchemas") == 0;
}

static oab_status walk(prep *p, const cJSON *node, const char *base,
                       oab__buf *where);

static oab_status walk_any(prep *p, const cJSON *v, const char *base,
                           oab__buf *where)
{
    if (cJSON_IsObject(v))
        return walk(p, v, base, where);
    if (cJSON_IsArray(v)) {
        size_t mark = where->len;
        int i = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, v) {
            oab_status st = oab__buf_printf(where, "/%d", i++);
            if (st == OAB_OK)
                st = walk_any(p, it, base, where);
            oab__jptr_pop(where, mark);
            if (st != OAB_OK)
                return st;
        }
    }
    return OAB_OK;
}

static oab_status walk(prep *p, const cJSON *node, const char *base,
                       oab__buf *where)
{
    oab_status st = OAB_OK;
    char *mybase = NULL;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(node, "$id");
    if (cJSON_IsString(id)) {
        char *u = uri_resolve(base, id->valuestring);
        if (!u)
            return OAB_ENOMEM;
        u[strcspn(u, "#")] = '\0';
        mybase = u;
        base = mybase;
        st = res_add(p, oab__strdup(base), node);
    }
    const cJSON *anchor = cJSON_GetObjectItemCaseSensitive(node, "$anchor");
    if (st == OAB_OK && cJSON_IsString(anchor))
        st = res_add(p, oab__sprintf("%s#%s", base, anchor->valuestring), node);
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(node, "$ref");
    if (st == OAB_OK && cJSON_IsString(ref)) {
        size_t mark = where->len;
        st = oab__buf_puts(where, "/$ref");
        if (st == OAB_OK)
            st = ref_add(p, ref, uri_resolve(base, ref->valuestring),
                         oab__strdup(where->data));
        oab__jptr_pop(where, mark);
    }
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(node, "pattern");
    if (st == OAB_OK && cJSON_IsString(pat)) {
        size_t mark = where->len;
        st = oab__buf_puts(where, "/pattern");
        if (st == OAB_OK)
            st = compile_at(p, pat, pat->valuestring, where);
        oab__jptr_pop(where, mark);
    }
    const cJSON *pp = cJSON_GetObjectItemCaseSensitive(node, "patternProperties");
    if (st == OAB_OK && cJSON_IsObject(pp)) {
        size_t mark = where->len;
        const cJSON *m;
        cJSON_ArrayForEach(m, pp) {
            if (!cJSON_IsObject(m) && !cJSON_IsBool(m))
                continue; /* not a schema; never used as a pattern */
            st = oab__buf_puts(where, "/patternProperties");
            if (st == OAB_OK)
                st = oab__jptr_push(where, m->string);
            if (st == OAB_OK)
                st = compile_at(p, m, m->string, where);
            oab__jptr_pop(where, mark);
            if (st != OAB_OK)
                break;
        }
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, node) {
        if (st != OAB_OK)
            break;
        if (!m->string || is_value_keyword(m->string))
            continue;
        if (!cJSON_IsObject(m) && !cJSON_IsArray(m))
            continue;
        size_t mark = where->len;
        st = oab__jptr_push(where, m->string);
        if (st == OAB_OK && is_map_keyword(m->string) && cJSON_IsObject(m)) {
            size_t mark2 = where->len;
            const cJSON *sub;
            cJSON_ArrayForEach(sub, m) {
                st = oab__jptr_push(where, sub->string);
                if (st == OAB_OK && cJSON_IsObject(sub))
                    st = walk(p, sub, base, where);
                oab__jptr_pop(where, mark2);
                if (st != OAB_OK)
                    break;
            }
        } else if (st == OAB_OK) {
            st = walk_any(p, m, base, where);
        }
        oab__jptr_pop(where, mark);
    }
    free(mybase);
    return st;
}

/* Evaluates a JSON pointer (already %-decoded) from node (core/schema.h). */
const cJSON *oab__json_pointer(const cJSON *node, const char *ptr)
{
    if (!*ptr)
        return node;
    if (*ptr != '/')
        return NULL;
    const char *p = ptr;
    char tok[512];
    while (node && *p == '/') {
        p++;
        size_t n = 0;
        while (*p && *p != '/') {
            char c = *p++;
            if (c == '~' && *p == '0') {
                c = '~';
                p++;
            } else if (c == '~' && *p == '1') {
                c = '/';
                p++;
            }
            if (n + 1 >= sizeof tok)
                return NULL;
            tok[n++] = c;
        }
        tok[n] = '\0';
        if (cJSON_IsObject(node)) {
            node = cJSON_GetObjectItemCaseSensitive(node, tok);
        } else if (cJSON_IsArray(node)) {
            char *end = NULL;
            long idx = strtol(tok, &end, 10);
            if (!n || *end || idx < 0 || (n > 1 && tok[0] == '0'))
                return NULL;
            node = cJSON_GetArrayItem(node, (int)idx);
        } else {
            return NULL;
        }
    }
    return node;
}

/* The node uri points to, or NULL (with *oom set when memory ran out). */
static const cJSON *resolve_uri(const prep *p, const char *uri, int *oom)
{
    *oom = 0;
    size_t ulen = strcspn(uri, "#");
    const char *frag = uri[ulen] == '#' ? uri + ulen + 1 : "";
    const cJSON *resource = NULL;
    for (size_t i = 0; i < p->nres; i++) {
        if (strlen(p->res[i].uri) == ulen &&
            memcmp(p->res[i].uri, uri, ulen) == 0) {
            resource = p->res[i].node;
            break;
        }
    }
    if (!*frag)
        return resource;
    if (*frag == '/') {
        if (!resource)
            return NULL;
        char *dec = malloc(strlen(frag) + 1);
        if (!dec) {
            *oom = 1;
            return NULL;
        }
        size_t n = 0;
        for (const char *f = frag; *f; f++) {
            int hi = *f == '%' ? oab__hexval((unsigned char)f[1]) : -1;
            int lo = hi >= 0 ? oab__hexval((unsigned char)f[2]) : -1;
            if (lo >= 0) {
                dec[n++] = (char)(hi * 16 + lo);
                f += 2;
            } else {
                dec[n++] = *f;
            }
        }
        dec[n] = '\0';
        const cJSON *t = oab__json_pointer(resource, dec);
        free(dec);
        return t;
    }
    for (size_t i = 0; i < p->nres; i++) {
        if (strcmp(p->res[i].uri, uri) == 0)
            return p->res[i].node;
    }
    return NULL;
}

static void prep_free_temp(prep *p)
{
    for (size_t i = 0; i < p->nres; i++)
        free(p->res[i].uri);
    free(p->res);
    for (size_t i = 0; i < p->nrefs; i++) {
        free(p->refs[i].uri);
        free(p->refs[i].where);
    }
    free(p->refs);
}

/* The table s->regex holds two kinds of entries, keyed by node: a "$ref"
 * string member (code = the target schema node) and a "pattern" string or
 * a patternProperties member (code = the pcre2 code). A node is never
 * both: a "$ref" member belongs to a schema object, a pattern entry is
 * named "pattern" or sits in a patternProperties map, and is_ref_node()
 * tells them apart by name; a patternProperties member named "$ref" is an
 * object (a schema), never a string. */

oab_status oab__schema_prepare(oab_schema *s, oab_error *err)
{
    prep p;
    memset(&p, 0, sizeof p);
    p.err = err;
    s->regex = NULL;
    s->n_regex = 0;
    oab_status st = OAB_OK;
    if (cJSON_IsObject(s->root)) {
        oab__buf where = OAB__BUF_INIT;
        st = res_add(&p, oab__strdup(""), s->root);
        if (st == OAB_OK)
            st = walk(&p, s->root, "", &where);
        oab__buf_free(&where);
        for (size_t i = 0; st == OAB_OK && i < p.nrefs; i++) {
            int oom;
            const cJSON *t = resolve_uri(&p, p.refs[i].uri, &oom);
            if (oom) {
                st = OAB_ENOMEM;
                break;
            }
            if (!t || (!cJSON_IsObject(t) && !cJSON_IsBool(t))) {
                st = oab__err(err, OAB_ESCHEMA, 0,
                              "%s: cannot resolve \"%.200s\" (only references "
                              "inside the schema are supported)",
                              p.refs[i].where, p.refs[i].uri);
                break;
            }
            /* cast: the table stores targets as opaque pointers */
            st = tab_add(&p, p.refs[i].node, (void *)(uintptr_t)t);
        }
    }
    prep_free_temp(&p);
    if (st == OAB_ENOMEM)
        oab__err(err, OAB_ENOMEM, 0, "schema: out of memory");
    s->regex = p.tab;
    s->n_regex = p.n;
    if (st != OAB_OK) {
        oab__schema_release(s);
        return st;
    }
    if (s->n_regex > 1)
        qsort(s->regex, s->n_regex, sizeof *s->regex, cmp_regex);
    return OAB_OK;
}

static int is_ref_node(const cJSON *node)
{
    return node->string && strcmp(node->string, "$ref") == 0 &&
           cJSON_IsString(node);
}

void oab__schema_release(oab_schema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_regex; i++) {
        if (!is_ref_node(s->regex[i].node))
            pcre2_code_free((pcre2_code *)s->regex[i].code);
    }
    free(s->regex);
    s->regex = NULL;
    s->n_regex = 0;
}

/* ------------------------------------------------------------------ */
/* Validation                                                           */
/* ------------------------------------------------------------------ */

typedef struct vctx {
    const oab_schema *s;
    oab__buf path;     /* JSON pointer of the instance being checked */
    char msg[512];     /* first failure, "" while none */
    size_t msg_depth;  /* path length when msg was written */
    oab_status fatal;  /* ENOMEM or ESCHEMA: stop */
    int depth;
} vctx;

static void failv(vctx *c, const char *fmt, ...) OAB__PRINTF(2, 3);

static void failv(vctx *c, const char *fmt, ...)
{
    if (c->msg[0])
        return;
    int n = snprintf(c->msg, sizeof c->msg, "%s: ", oab__jptr_show(&c->path));
    if (n < 0 || (size_t)n >= sizeof c->msg)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg + n, sizeof c->msg - (size_t)n, fmt, ap);
    va_end(ap);
    c->msg_depth = c->path.len;
}

static int is_integer_value(double d)
{
    return isfinite(d) && floor(d) == d;
}

static const char *kind_of(const cJSON *v)
{
    if (cJSON_IsNull(v))
        return "null";
    if (cJSON_IsBool(v))
        return "boolean";
    if (cJSON_IsNumber(v))
        return is_integer_value(v->valuedouble) ? "integer" : "number";
    if (cJSON_IsString(v))
        return "string";
    if (cJSON_IsArray(v))
        return "array";
    if (cJSON_IsObject(v))
        return "object";
    return "unknown";
}

static int type_matches(const char *t, const cJSON *v)
{
    if (strcmp(t, "null") == 0)
        return cJSON_IsNull(v);
    if (strcmp(t, "boolean") == 0)
        return cJSON_IsBool(v);
    if (strcmp(t, "number") == 0)
        return cJSON_IsNumber(v);
    if (strcmp(t, "integer") == 0)
        return cJSON_IsNumber(v) && is_integer_value(v->valuedouble);
    if (strcmp(t, "string") == 0)
        return cJSON_IsString(v);
    if (strcmp(t, "array") == 0)
        return cJSON_IsArray(v);
    if (strcmp(t, "object") == 0)
        return cJSON_IsObject(v);
    return 0;
}

static int json_equal(const cJSON *a, const cJSON *b)
{
    if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
        return a->valuedouble == b->valuedouble;
    if (cJSON_IsNull(a) || cJSON_IsNull(b))
        return cJSON_IsNull(a) && cJSON_IsNull(b);
    if (cJSON_IsBool(a) || cJSON_IsBool(b))
        return cJSON_IsBool(a) && cJSON_IsBool(b) &&
               cJSON_IsTrue(a) == cJSON_IsTrue(b);
    if (cJSON_IsString(a) || cJSON_IsString(b))
        return cJSON_IsString(a) && cJSON_IsString(b) &&
               strcmp(a->valuestring, b->valuestring) == 0;
    if (cJSON_IsArray(a) && cJSON_IsArray(b)) {
        const cJSON *x = a->child, *y = b->child;
        for (; x && y; x = x->next, y = y->next)
            if (!json_equal(x, y))
                return 0;
        return !x && !y;
    }
    if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
        if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
            return 0;
        const cJSON *x;
        cJSON_ArrayForEach(x, a) {
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
            if (!y || !json_equal(x, y))
                return 0;
        }
        return 1;
    }
    return 0;
}

static size_t utf8_length(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

static int is_multiple(double x, double m)
{
    if (!(m > 0) || !isfinite(x))
        return 0;
    if (is_integer_value(x) && is_integer_value(m) && fabs(m) < 9e15 &&
        fabs(x) < 9e15)
        return fmod(x, m) == 0;
    double q = x / m;
    if (!isfinite(q))
        return 0;
    double r = nearbyint(q);
    return fabs(q - r) <= 1e-9 * fmax(1.0, fabs(r));
}

static void type_list_text(const cJSON *type, char *out, size_t n)
{
    out[0] = '\0';
    if (cJSON_IsString(type)) {
        snprintf(out, n, "%s", type->valuestring);
        return;
    }
    int total = cJSON_GetArraySize(type), i = 0;
    size_t used = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, type) {
        const char *sep = i == 0 ? "" : i == total - 1 ? " or " : ", ";
        int w = snprintf(out + used, n - used, "%s%s", sep,
                         cJSON_IsString(t) ? t->valuestring : "?");
        if (w < 0 || (size_t)w >= n - used)
            return;
        used += (size_t)w;
        i++;
    }
}

static int validate(vctx *c, const cJSON *schema, const cJSON *inst);

/* Validates inst at path + "/" + key. */
static int validate_at_key(vctx *c, const cJSON *schema, const cJSON *inst,
                           const char *key)
{
    size_t mark = c->path.len;
    if (oab__jptr_push(&c->path, key) != OAB_OK) {
        c->fatal = OAB_ENOMEM;
        return 0;
    }
    int ok = validate(c, schema, inst);
    oab__jptr_pop(&c->path, mark);
    return ok;
}

static int validate_at_index(vctx *c, const cJSON *schema, const cJSON *inst,
                             int idx)
{
    size_t mark = c->path.len;
    if (oab__buf_printf(&c->path, "/%d", idx) != OAB_OK) {
        c->fatal = OAB_ENOMEM;
        return 0;
    }
    int ok = validate(c, schema, inst);
    oab__jptr_pop(&c->path, mark);
    return ok;
}

/* Runs a subschema for a combinator: message kept only in *msg. */
static int try_branch(vctx *c, const cJSON *schema, const cJSON *inst,
                      char *msg, size_t msgsz, size_t *msg_depth)
{
    char saved[sizeof c->msg];
    size_t saved_depth = c->msg_depth;
    memcpy(saved, c->msg, sizeof saved);
    c->msg[0] = '\0';
    int ok = validate(c, schema, inst);
    if (!ok && msg) {
        snprintf(msg, msgsz, "%s", c->msg);
        *msg_depth = c->msg_depth;
    }
    memcpy(c->msg, saved, sizeof saved);
    c->msg_depth = saved_depth;
    return ok;
}

static void fail_copy(vctx *c, const char *msg, size_t depth)
{
    if (c->msg[0])
        return;
    snprintf(c->msg, sizeof c->msg, "%s", msg);
    c->msg_depth = depth;
}

static const pcre2_code *find_regex(const vctx *c, const cJSON *node)
{
    const oab__regex *e = find_entry(c->s->regex, c->s->n_regex, node);
    return e ? (const pcre2_code *)e->code : NULL;
}

static int match_pattern(vctx *c, const cJSON *node, const char *pattern,
                         const char *s, size_t len)
{
    const pcre2_code *code = find_regex(c, node);
    if (code)
        return regex_search(code, s, len);
    /* not prepared (should not happen): compile for this call only */
    char msg[160];
    int oom;
    pcre2_code *tmp = regex_compile(pattern, msg, sizeof msg, &oom);
    if (!tmp)
        return oom ? -2 : -1;
    int r = regex_search(tmp, s, len);
    pcre2_code_free(tmp);
    return r;
}

static int validate_object(vctx *c, const cJSON *schema, const cJSON *inst)
{
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
    const cJSON *pprops =
        cJSON_GetObjectItemCaseSensitive(schema, "patternProperties");
    const cJSON *addl =
        cJSON_GetObjectItemCaseSensitive(schema, "additionalProperties");
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(schema, "required");
    const cJSON *kw;

    if (cJSON_IsArray(req)) {
        const cJSON *r;
        cJSON_ArrayForEach(r, req) {
            if (cJSON_IsString(r) &&
                !cJSON_GetObjectItemCaseSensitive(inst, r->valuestring)) {
                size_t mark = c->path.len;
                if (oab__jptr_push(&c->path, r->valuestring) != OAB_OK) {
                    c->fatal = OAB_ENOMEM;
                    return 0;
                }
                failv(c, "required property is missing");
                oab__jptr_pop(&c->path, mark);
                return 0;
            }
        }
    }
    int count = cJSON_GetArraySize(inst);
    kw = cJSON_GetObjectItemCaseSensitive(schema, "minProperties");
    if (cJSON_IsNumber(kw) && count < kw->valuedouble) {
        failv(c, "expected at least %g properties, got %d", kw->valuedouble,
              count);
        return 0;
    }
    kw = cJSON_GetObjectItemCaseSensitive(schema, "maxProperties");
    if (cJSON_IsNumber(kw) && count > kw->valuedouble) {
        failv(c, "expected at most %g properties, got %d", kw->valuedouble,
              count);
        return 0;
    }
    kw = cJSON_GetObjectItemCaseSensitive(schema, "dependentRequired");
    if (cJSON_IsObject(kw)) {
        const cJSON *dep;
        cJSON_ArrayForEach(dep, kw) {
            if (!cJSON_GetObjectItemCaseSensitive(inst, dep->string) ||
                !cJSON_IsArray(dep))
                continue;
            const cJSON *r;
            cJSON_ArrayForEach(r, dep) {
                if (cJSON_IsString(r) &&
                    !cJSON_GetObjectItemCaseSensitive(inst, r->valuestring)) {
                    failv(c, "property \"%.100s\" requires property \"%.100s\"",
                          dep->string, r->valuestring);
                    return 0;
                }
            }
        }
    }
    kw = cJSON_GetObjectItemCaseSensitive(schema, "dependentSchemas");
    if (cJSON_IsObject(kw)) {
        const cJSON *dep;
        cJSON_ArrayForEach(dep, kw) {
            if (cJSON_GetObjectItemCaseSensitive(inst, dep->string) &&
                !validate(c, dep, inst))
                return 0;
        }
    }
    const cJSON *pnames = cJSON_GetObjectItemCaseSensitive(schema, "propertyNames");
    const cJSON *m;
    cJSON_ArrayForEach(m, inst) {
        const char *key = m->string ? m->string : "";
        int matched = 0;
        if (pnames) {
            cJSON *name = cJSON_CreateString(key);
            if (!name) {
                c->fatal = OAB_ENOMEM;
                return 0;
            }
            int ok = validate_at_key(c, pnames, name, key);
            cJSON_Delete(name);
            if (!ok)
                return 0;
        }
        if (cJSON_IsObject(props)) {
            const cJSON *ps = cJSON_GetObjectItemCaseSensitive(props, key);
            if (ps) {
                matched = 1;
                if (!validate_at_key(c, ps, m, key))
                    return 0;
            }
        }
        if (cJSON_IsObject(pprops)) {
            const cJSON *pp;
            cJSON_ArrayForEach(pp, pprops) {
                if (!cJSON_IsObject(pp) && !cJSON_IsBool(pp))
                    continue;
                int r = match_pattern(c, pp, pp->string, key, strlen(key));
                if (r == -2) {
                    c->fatal = OAB_ENOMEM;
                    return 0;
                }
                if (r < 0) {
                    c->fatal = OAB_ESCHEMA;
                    failv(c, "patternProperties \"%.100s\" cannot be used",
                          pp->string);
                    return 0;
                }
                if (r) {
                    matched = 1;
                    if (!validate_at_key(c, pp, m, key))
                        return 0;
                }
            }
        }
        if (!matched && addl) {
            if (cJSON_IsFalse(addl)) {
                size_t mark = c->path.len;
                if (oab__jptr_push(&c->path, key) != OAB_OK) {
                    c->fatal = OAB_ENOMEM;
                    return 0;
                }
                failv(c, "property is not allowed (additionalProperties is false)");
                oab__jptr_pop(&c->path, mark);
                return 0;
            }
            if (!validate_at_key(c, addl, m, key))
                return 0;
        }
    }
    return 1;
}

static int validate_array(vctx *c, const cJSON *schema, const cJSON *inst)
{
    int count = cJSON_GetArraySize(inst);
    const cJSON *kw = cJSON_GetObjectItemCaseSensitive(schema, "minItems");
    if (cJSON_IsNumber(kw) && count < kw->valuedouble) {
        failv(c, "expected at least %g items, got %d", kw->valuedouble, count);
        return 0;
    }
    kw = cJSON_GetObjectItemCaseSensitive(schema, "maxItems");
    if (cJSON_IsNumber(kw) && count > kw->valuedouble) {
        failv(c, "expected at most %g items, got %d", kw->valuedouble, count);
        return 0;
    }
    const cJSON *prefix = cJSON_GetObjectItemCaseSensitive(schema, "prefixItems");
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(schema, "items");
    if (cJSON_IsArray(items) && !prefix) { /* older drafts' tuple form */
        prefix = items;
        items = NULL;
    }
    int nprefix = cJSON_IsArray(prefix) ? cJSON_GetArraySize(prefix) : 0;
    const cJSON *ps = nprefix ? prefix->child : NULL;
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, inst) {
        if (i < nprefix) {
            if (!validate_at_index(c, ps, it, i))
                return 0;
            ps = ps->next;
        } else if (items && !cJSON_IsArray(items)) {
            if (cJSON_IsFalse(items)) {
                size_t mark = c->path.len;
                oab__buf_printf(&c->path, "/%d", i);
                failv(c, "item is not allowed (at most %d items)", nprefix);
                oab__jptr_pop(&c->path, mark);
                return 0;
            }
            if (!validate_at_index(c, items, it, i))
                return 0;
        }
        i++;
    }
    kw = cJSON_GetObjectItemCaseSensitive(schema, "uniqueItems");
    if (cJSON_IsTrue(kw)) {
        int a = 0;
        for (const cJSON *x = inst->child; x; x = x->next, a++) {
            int b = a + 1;
            for (const cJSON *y = x->next; y; y = y->next, b++) {
                if (json_equal(x, y)) {
                    failv(c, "items %d and %d are equal (uniqueItems)", a, b);
                    return 0;
                }
            }
        }
    }
    const cJSON *contains = cJSON_GetObjectItemCaseSensitive(schema, "contains");
    if (contains) {
        int found = 0;
        cJSON_ArrayForEach(it, inst) {
            if (try_branch(c, contains, it, NULL, 0, NULL))
                found++;
            if (c->fatal)
                return 0;
        }
        const cJSON *minc = cJSON_GetObjectItemCaseSensitive(schema, "minContains");
        const cJSON *maxc = cJSON_GetObjectItemCaseSensitive(schema, "maxContains");
        double lo = cJSON_IsNumber(minc) ? minc->valuedouble : 1;
        if (found < lo) {
            failv(c, "expected at least %g matching item(s) (contains), got %d",
                  lo, found);
            return 0;
        }
        if (cJSON_IsNumber(maxc) && found > maxc->valuedouble) {
            failv(c, "expected at most %g matching items (contains), got %d",
                  maxc->valuedouble, found);
            return 0;
        }
    }
    return 1;
}

static int validate_string(vctx *c, const cJSON *schema, const cJSON *inst)
{
    const char *s = inst->valuestring;
    size_t blen = strlen(s);
    const cJSON *kwmin = cJSON_GetObjectItemCaseSensitive(schema, "minLength");
    const cJSON *kwmax = cJSON_GetObjectItemCaseSensitive(schema, "maxLength");
    if (cJSON_IsNumber(kwmin) || cJSON_IsNumber(kwmax)) {
        size_t n = utf8_length(s);
        if (cJSON_IsNumber(kwmin) && (double)n < kwmin->valuedouble) {
            failv(c, "expected at least %g characters, got %zu",
                  kwmin->valuedouble, n);
            return 0;
        }
        if (cJSON_IsNumber(kwmax) && (double)n > kwmax->valuedouble) {
            failv(c, "expected at most %g characters, got %zu",
                  kwmax->valuedouble, n);
            return 0;
        }
    }
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(schema, "pattern");
    if (cJSON_IsString(pat)) {
        int r = match_pattern(c, pat, pat->valuestring, s, blen);
        if (r == -2) {
            c->fatal = OAB_ENOMEM;
            return 0;
        }
        if (r < 0) {
            c->fatal = OAB_ESCHEMA;
            failv(c, "pattern \"%.100s\" cannot be used", pat->valuestring);
            return 0;
        }
        if (!r) {
            failv(c, "does not match pattern \"%.200s\"", pat->valuestring);
            return 0;
        }
    }
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(schema, "format");
    if (cJSON_IsString(fmt) && oab__schema_check_format(fmt->valuestring, s, blen) == 0) {
        failv(c, "not a valid %.40s", fmt->valuestring);
        return 0;
    }
    return 1;
}

static int validate_number(vctx *c, const cJSON *schema, const cJSON *inst)
{
    double x = inst->valuedouble;
    const cJSON *kw = cJSON_GetObjectItemCaseSensitive(schema, "minimum");
    if (cJSON_IsNumber(kw) && x < kw->valuedouble) {
        failv(c, "%.17g is less than the minimum %.17g", x, kw->valuedouble);
        return 0;
    }
    kw = cJSON_GetObjectItemCaseSensitive(schema, "maximum");
    if (cJSON_IsNumber(kw) && x > kw->valuedouble) {
        failv(c, "%.17g is greater than the maximum %.17g", x, kw->valuedouble);
        return 0;
    }
    kw = cJSON_GetObjectItemCaseSensitive(schema, "exclusiveMinimum");
    if (cJSON_IsNumber(kw) && x <= kw->valuedouble) {
        failv(c, "%.17g must be greater than %.17g", x, kw->valuedouble);
        return 0;
    }
    kw = cJSON_GetObjectItemCaseSensitive(schema, "exclusiveMaximum");
    if (cJSON_IsNumber(kw) && x >= kw->valuedouble) {
        failv(c, "%.17g must be less than %.17g", x, kw->valuedouble);
        return 0;
    }
    kw = cJSON_GetObjectItemCaseSensitive(schema, "multipleOf");
    if (cJSON_IsNumber(kw) && !is_multiple(x, kw->valuedouble)) {
        failv(c, "%.17g is not a multiple of %.17g", x, kw->valuedouble);
        return 0;
    }
    return 1;
}

static int validate_combinators(vctx *c, const cJSON *schema,
                                const cJSON *inst)
{
    const cJSON *kw = cJSON_GetObjectItemCaseSensitive(schema, "allOf");
    if (cJSON_IsArray(kw)) {
        const cJSON *sub;
        cJSON_ArrayForEach(sub, kw) {
            if (!validate(c, sub, inst))
                return 0;
        }
    }
    kw = cJSON_GetObjectItemCaseSensitive(schema, "anyOf");
    if (cJSON_IsArray(kw)) {
        char best[sizeof c->msg] = "", msg[sizeof c->msg];
        size_t best_depth = 0, d = 0;
        int ok = 0;
        const cJSON *sub;
        cJSON_ArrayForEach(sub, kw) {
            if (try_branch(c, sub, inst, msg, sizeof msg, &d)) {
                ok = 1;
                break;
            }
            if (c->fatal)
                return 0;
            if (!best[0] || d > best_depth) {
                memcpy(best, msg, sizeof best);
                best_depth = d;
            }
        }
        if (!ok) {
            if (best[0])
                fail_copy(c, best, best_depth);
            else
                failv(c, "matches none of the anyOf schemas");
            return 0;
        }
    }
    kw = cJSON_GetObjectItemCaseSensitive(schema, "oneOf");
    if (cJSON_IsArray(kw)) {
        char best[sizeof c->msg] = "", msg[sizeof c->msg];
        size_t best_depth = 0, d = 0;
        int n_ok = 0, first = -1, i = 0;
        const cJSON *sub;
        cJSON_ArrayForEach(sub, kw) {
            if (try_branch(c, sub, inst, msg, sizeof msg, &d)) {
                n_ok++;
                if (first < 0) {
                    first = i;
                } else {
                    failv(c, "matches more than one of the oneOf schemas "
                             "(%d and %d)", first, i);
                    return 0;
                }
            } else if (!best[0] || d > best_depth) {
                memcpy(best, msg, sizeof best);
                best_depth = d;
            }
            if (c->fatal)
                return 0;
            i++;
        }
        if (n_ok == 0) {
            if (best[0])
                fail_copy(c, best, best_depth);
            else
                failv(c, "matches none of the oneOf schemas");
            return 0;
        }
    }
    kw = cJSON_GetObjectItemCaseSensitive(schema, "not");
    if (kw) {
        int ok = try_branch(c, kw, inst, NULL, 0, NULL);
        if (c->fatal)
            return 0;
        if (ok) {
            failv(c, "must not match the \"not\" schema");
            return 0;
        }
    }
    kw = cJSON_GetObjectItemCaseSensitive(schema, "if");
    if (kw) {
        int ok = try_branch(c, kw, inst, NULL, 0, NULL);
        if (c->fatal)
            return 0;
        const cJSON *next = cJSON_GetObjectItemCaseSensitive(schema,
                                                             ok ? "then" : "else");
        if (next && !validate(c, next, inst))
            return 0;
    }
    return 1;
}

static int validate_body(vctx *c, const cJSON *schema, const cJSON *inst)
{
    if (cJSON_IsBool(schema)) {
        if (cJSON_IsTrue(schema))
            return 1;
        failv(c, "no value is allowed here (false schema)");
        return 0;
    }
    if (!cJSON_IsObject(schema))
        return 1; /* not a schema: nothing to check */

    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(schema, "$ref");
    if (cJSON_IsString(ref)) {
        const oab__regex *e = find_entry(c->s->regex, c->s->n_regex, ref);
        if (!e) {
            c->fatal = OAB_ESCHEMA;
            failv(c, "unresolved $ref \"%.200s\"", ref->valuestring);
            return 0;
        }
        if (!validate(c, (const cJSON *)e->code, inst))
            return 0;
    }

    const cJSON *type = cJSON_GetObjectItemCaseSensitive(schema, "type");
    if (type) {
        int ok = 0;
        if (cJSON_IsString(type)) {
            ok = type_matches(type->valuestring, inst);
        } else if (cJSON_IsArray(type)) {
            const cJSON *t;
            cJSON_ArrayForEach(t, type) {
                if (cJSON_IsString(t) && type_matches(t->valuestring, inst)) {
                    ok = 1;
                    break;
                }
            }
        } else {
            ok = 1;
        }
        if (!ok) {
            char want[200];
            type_list_text(type, want, sizeof want);
            failv(c, "expected %s, got %s", want, kind_of(inst));
            return 0;
        }
    }
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(schema, "enum");
    if (cJSON_IsArray(en)) {
        int ok = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, en) {
            if (json_equal(e, inst)) {
                ok = 1;
                break;
            }
        }
        if (!ok) {
            char *want = oab__json_print(en);
            failv(c, "value is not one of %.300s", want ? want : "the enum");
            free(want);
            return 0;
        }
    }
    const cJSON *cn = cJSON_GetObjectItemCaseSensitive(schema, "const");
    if (cn && !json_equal(cn, inst)) {
        char *want = oab__json_print(cn);
        failv(c, "value must be %.300s", want ? want : "the const value");
        free(want);
        return 0;
    }
    if (cJSON_IsNumber(inst) && !validate_number(c, schema, inst))
        return 0;
    if (cJSON_IsString(inst) && !validate_string(c, schema, inst))
        return 0;
    if (cJSON_IsArray(inst) && !validate_array(c, schema, inst))
        return 0;
    if (cJSON_IsObject(inst) && !validate_object(c, schema, inst))
        return 0;
    return validate_combinators(c, schema, inst);
}

static int validate(vctx *c, const cJSON *schema, const cJSON *inst)
{
    if (c->fatal)
        return 0;
    if (++c->depth > OAB__SCHEMA_MAX_DEPTH) {
        c->fatal = OAB_ESCHEMA;
        c->msg[0] = '\0';
        failv(c, "schema nesting is deeper than %d (a $ref cycle?)",
              OAB__SCHEMA_MAX_DEPTH);
        c->depth--;
        return 0;
    }
    int ok = validate_body(c, schema, inst);
    c->depth--;
    return ok && !c->fatal;
}

oab_status oab__schema_validate_json(const oab_schema *s, const cJSON *instance,
                                     oab_error *err)
{
    oab__err_clear(err);
    if (!s || !instance)
        return oab__err(err, OAB_EINVAL, 0, "schema validation: NULL argument");
    vctx c;
    memset(&c, 0, sizeof c);
    c.s = s;
    if (oab__buf_reserve(&c.path, 64) != OAB_OK)
        return oab__err(err, OAB_ENOMEM, 0, "schema validation: out of memory");
    c.path.data[0] = '\0';
    int ok = validate(&c, s->root, instance);
    oab__buf_free(&c.path);
    if (c.fatal == OAB_ENOMEM)
        return oab__err(err, OAB_ENOMEM, 0, "schema validation: out of memory");
    if (c.fatal)
        return oab__err(err, c.fatal, 0, "%s", c.msg);
    if (!ok)
        return oab__err(err, OAB_EVALIDATION, 0, "%s",
                        c.msg[0] ? c.msg : "/: invalid");
    return OAB_OK;
}

oab_status oab_schema_validate(const oab_schema *s, const char *instance_json,
                               size_t len, oab_error *err)
{
    oab__err_clear(err);
    if (!s || !instance_json)
        return oab__err(err, OAB_EINVAL, 0, "schema validation: NULL argument");
    cJSON *j = NULL;
    oab_status pst = oab__json_parse_st(&j, instance_json, len);
    if (pst != OAB_OK)
        return oab__err(err, pst, 0, "%s",
                        pst == OAB_ENOMEM ? "schema validation: out of memory"
                                          : "the value is not valid JSON");
    oab_status st = oab__schema_validate_json(s, j, err);
    cJSON_Delete(j);
    return st;
}
