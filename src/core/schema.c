/* schema.c - the oab_schema object: parsing, naming and OpenAI's strict
 * rewrite (every object closed, every property required, optional ones
 * made nullable). Validation lives in schema_validate.c. */
#define _POSIX_C_SOURCE 200809L

#include "oaibatch.h"
#include "core/schema.h"
#include "core/schema_int.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/json.h"
#include "util/json_scan.h"
#include "util/str.h"
#include <stdlib.h>
#include <string.h>

#define OAB__SCHEMA_DEFAULT_NAME "final_result"

/* ---- JSON pointer building ---- */

/* Appends "/" + key (escaped per RFC 6901) to the pointer in b. */
oab_status oab__jptr_push(oab__buf *b, const char *key)
{
    if (oab__buf_putc(b, '/') != OAB_OK)
        return OAB_ENOMEM;
    for (const char *p = key; *p; p++) {
        oab_status st;
        if (*p == '~')
            st = oab__buf_append(b, "~0", 2);
        else if (*p == '/')
            st = oab__buf_append(b, "~1", 2);
        else
            st = oab__buf_putc(b, *p);
        if (st != OAB_OK)
            return st;
    }
    return OAB_OK;
}

static oab_status ptr_push_index(oab__buf *b, int i)
{
    return oab__buf_printf(b, "/%d", i);
}

void oab__jptr_pop(oab__buf *b, size_t len)
{
    b->len = len;
    if (b->data)
        b->data[len] = '\0';
}

const char *oab__jptr_show(const oab__buf *b)
{
    return (b->len && b->data) ? b->data : "/";
}

/* ---- strict rewrite ---- */

/* Replaces the member `old` of obj by `item` under the same key
 * (cJSON_ReplaceItemViaPointer alone would leave item without a key).
 * The key is copied with cJSON's allocator first: cJSON 1.7's
 * cJSON_ReplaceItemInObject does not check its own copy of the key and
 * leaves a member without a name when that allocation fails. Returns 0
 * (obj unchanged, item still the caller's) when out of memory. */
static int replace_member(cJSON *obj, cJSON *old, cJSON *item)
{
    size_t n = strlen(old->string) + 1;
    char *key = cJSON_malloc(n);
    if (!key)
        return 0;
    memcpy(key, old->string, n);
    if (item->string && !(item->type & cJSON_StringIsConst))
        cJSON_free(item->string);
    item->string = key;
    item->type &= ~cJSON_StringIsConst;
    return cJSON_ReplaceItemViaPointer(obj, old, item);
}

static int type_is(const cJSON *type, const char *name)
{
    if (cJSON_IsString(type))
        return strcmp(type->valuestring, name) == 0;
    if (cJSON_IsArray(type)) {
        const cJSON *t;
        cJSON_ArrayForEach(t, type) {
            if (cJSON_IsString(t) && strcmp(t->valuestring, name) == 0)
                return 1;
        }
    }
    return 0;
}

/* An object schema: type "object" (alone or in a list), or no type and
 * object keywords. */
static int is_object_schema(const cJSON *node)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(node, "type");
    if (type)
        return type_is(type, "object");
    return cJSON_HasObjectItem(node, "properties") ||
           cJSON_HasObjectItem(node, "additionalProperties");
}

static int in_string_array(const cJSON *arr, const char *s)
{
    const cJSON *it;
    if (!cJSON_IsArray(arr))
        return 0;
    cJSON_ArrayForEach(it, arr) {
        if (cJSON_IsString(it) && strcmp(it->valuestring, s) == 0)
            return 1;
    }
    return 0;
}

/* Whether the schema already accepts null in an obvious way. */
static int accepts_null(const cJSON *prop)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(prop, "type");
    const cJSON *any = cJSON_GetObjectItemCaseSensitive(prop, "anyOf");
    if (type)
        return type_is(type, "null") &&
               !cJSON_HasObjectItem(prop, "enum") &&
               !cJSON_HasObjectItem(prop, "const");
    if (cJSON_IsArray(any) && !cJSON_HasObjectItem(prop, "enum") &&
        !cJSON_HasObjectItem(prop, "const") &&
        !cJSON_HasObjectItem(prop, "$ref") &&
        !cJSON_HasObjectItem(prop, "allOf")) {
        const cJSON *a;
        cJSON_ArrayForEach(a, any) {
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(a, "type");
            if (cJSON_IsString(t) && strcmp(t->valuestring, "null") == 0 &&
                cJSON_GetArraySize(a) == 1)
                return 1;
        }
    }
    return 0;
}

/* Makes the property schema `prop` (a member of `props`) accept null. */
static oab_status make_nullable(cJSON *props, cJSON *prop)
{
    if (!cJSON_IsObject(prop) || accepts_null(prop))
        return OAB_OK;
    cJSON *type = cJSON_GetObjectItemCaseSensitive(prop, "type");
    if (type && !cJSON_HasObjectItem(prop, "const") &&
        (cJSON_IsString(type) || cJSON_IsArray(type))) {
        if (cJSON_IsString(type)) {
            cJSON *list = cJSON_CreateArray();
            cJSON *t = cJSON_CreateString(type->valuestring);
            cJSON *n = cJSON_CreateString("null");
            if (!list || !t || !n) {
                cJSON_Delete(list);
                cJSON_Delete(t);
                cJSON_Delete(n);
                return OAB_ENOMEM;
            }
            cJSON_AddItemToArray(list, t);
            cJSON_AddItemToArray(list, n);
            if (!replace_member(prop, type, list)) {
                cJSON_Delete(list);
                return OAB_ENOMEM;
            }
        } else if (!type_is(type, "null")) {
            cJSON *n = cJSON_CreateString("null");
            if (!n || !cJSON_AddItemToArray(type, n)) {
                cJSON_Delete(n);
                return OAB_ENOMEM;
            }
        }
        cJSON *en = cJSON_GetObjectItemCaseSensitive(prop, "enum");
        if (cJSON_IsArray(en)) {
            int has_null = 0;
            const cJSON *e;
            cJSON_ArrayForEach(e, en) {
                if (cJSON_IsNull(e))
                    has_null = 1;
            }
            if (!has_null) {
                cJSON *n = cJSON_CreateNull();
                if (!n || !cJSON_AddItemToArray(en, n)) {
                    cJSON_Delete(n);
                    return OAB_ENOMEM;
                }
            }
        }
        return OAB_OK;
    }
    /* no usable type ($ref, anyOf, const, enum alone): wrap it */
    cJSON *wrap = cJSON_CreateObject();
    cJSON *any = cJSON_CreateArray();
    cJSON *copy = cJSON_Duplicate(prop, 1);
    cJSON *nul = cJSON_CreateObject();
    if (!wrap || !any || !copy || !nul ||
        !cJSON_AddStringToObject(nul, "type", "null")) {
        cJSON_Delete(wrap);
        cJSON_Delete(any);
        cJSON_Delete(copy);
        cJSON_Delete(nul);
        return OAB_ENOMEM;
    }
    cJSON_AddItemToArray(any, copy);
    cJSON_AddItemToArray(any, nul);
    if (!cJSON_AddItemToObject(wrap, "anyOf", any)) { /* copies the key */
        cJSON_Delete(wrap);
        cJSON_Delete(any);
        return OAB_ENOMEM;
    }
    if (!replace_member(props, prop, wrap)) {
        cJSON_Delete(wrap);
        return OAB_ENOMEM;
    }
    return OAB_OK;
}

static oab_status strictify(cJSON *node, oab__buf *path, oab_error *err);

static oab_status strictify_member(cJSON *node, const char *key,
                                   oab__buf *path, oab_error *err)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(node, key);
    if (!v)
        return OAB_OK;
    size_t mark = path->len;
    oab_status st = oab__jptr_push(path, key);
    if (st == OAB_OK)
        st = strictify(v, path, err);
    oab__jptr_pop(path, mark);
    return st;
}

/* key -> array of schemas (is_map 0), or object of named schemas
 * ($defs, definitions: is_map 1); each member made strict in turn. */
static oab_status strictify_each(cJSON *node, const char *key, int is_map,
                                 oab__buf *path, oab_error *err)
{
    cJSON *coll = cJSON_GetObjectItemCaseSensitive(node, key);
    if (is_map ? !cJSON_IsObject(coll) : !cJSON_IsArray(coll))
        return OAB_OK;
    size_t mark = path->len;
    oab_status st = oab__jptr_push(path, key);
    size_t mark2 = path->len;
    int i = 0;
    cJSON *it;
    cJSON_ArrayForEach(it, coll) {
        if (st != OAB_OK)
            break;
        st = is_map ? oab__jptr_push(path, it->string ? it->string : "")
                    : ptr_push_index(path, i++);
        if (st == OAB_OK)
            st = strictify(it, path, err);
        oab__jptr_pop(path, mark2);
    }
    oab__jptr_pop(path, mark);
    return st;
}

static oab_status strictify_object(cJSON *node, oab__buf *path,
                                   oab_error *err)
{
    cJSON *ap = cJSON_GetObjectItemCaseSensitive(node, "additionalProperties");
    if (ap && !cJSON_IsFalse(ap))
        return oab__err(err, OAB_ESCHEMA, 0,
                        "%s: additionalProperties must be false in strict mode",
                        oab__jptr_show(path));
    cJSON *props = cJSON_GetObjectItemCaseSensitive(node, "properties");
    if (props && !cJSON_IsObject(props))
        return oab__err(err, OAB_ESCHEMA, 0, "%s/properties: must be an object",
                        path->len ? path->data : "");
    if (props) {
        const cJSON *old_req = cJSON_GetObjectItemCaseSensitive(node, "required");
        size_t mark = path->len;
        oab_status st = oab__jptr_push(path, "properties");
        size_t mark2 = path->len;
        cJSON *req = cJSON_CreateArray();
        if (!req)
            st = OAB_ENOMEM;
        cJSON *p = props->child;
        while (p && st == OAB_OK) {
            cJSON *next = p->next; /* p may be replaced */
            const char *key = p->string ? p->string : "";
            st = oab__jptr_push(path, key);
            if (st == OAB_OK)
                st = strictify(p, path, err);
            oab__jptr_pop(path, mark2);
            if (st == OAB_OK) {
                cJSON *s = cJSON_CreateString(key);
                if (!s || !cJSON_AddItemToArray(req, s)) {
                    cJSON_Delete(s);
                    st = OAB_ENOMEM;
                }
            }
            /* last: this may replace p (and free its key) */
            if (st == OAB_OK && !in_string_array(old_req, key))
                st = make_nullable(props, p);
            p = next;
        }
        oab__jptr_pop(path, mark);
        if (st != OAB_OK) {
            cJSON_Delete(req);
            return st;
        }
        cJSON *cur = cJSON_GetObjectItemCaseSensitive(node, "required");
        if (cur) {
            if (!replace_member(node, cur, req)) {
                cJSON_Delete(req);
                return OAB_ENOMEM;
            }
        } else if (!cJSON_AddItemToObject(node, "required", req)) {
            cJSON_Delete(req);
            return OAB_ENOMEM;
        }
    }
    if (!ap && !cJSON_AddFalseToObject(node, "additionalProperties"))
        return OAB_ENOMEM;
    return OAB_OK;
}

static oab_status strictify(cJSON *node, oab__buf *path, oab_error *err)
{
    if (!cJSON_IsObject(node))
        return OAB_OK;
    oab_status st = OAB_OK;
    if (is_object_schema(node))
        st = strictify_object(node, path, err);
    if (st == OAB_OK) {
        cJSON *items = cJSON_GetObjectItemCaseSensitive(node, "items");
        if (cJSON_IsArray(items))
            st = strictify_each(node, "items", 0, path, err);
        else
            st = strictify_member(node, "items", path, err);
    }
    if (st == OAB_OK)
        st = strictify_each(node, "prefixItems", 0, path, err);
    if (st == OAB_OK)
        st = strictify_each(node, "anyOf", 0, path, err);
    if (st == OAB_OK)
        st = strictify_each(node, "allOf", 0, path, err);
    if (st == OAB_OK)
        st = strictify_each(node, "oneOf", 0, path, err);
    if (st == OAB_OK)
        st = strictify_member(node, "not", path, err);
    if (st == OAB_OK)
        st = strictify_each(node, "$defs", 1, path, err);
    if (st == OAB_OK)
        st = strictify_each(node, "definitions", 1, path, err);
    return st;
}

static int root_is_object(const cJSON *root)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
    if (type)
        return cJSON_IsString(type) && strcmp(type->valuestring, "object") == 0;
    return cJSON_HasObjectItem(root, "properties");
}

/* ---- object ---- */

static int name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n < 1 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* Line and column (1-based) of byte offset `off` in text. */
static void line_col(const char *text, size_t off, long *line, long *col)
{
    long l = 1, c = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

static oab_status parse_schema_text(cJSON **out, const char *text,
                                    oab_error *err)
{
    size_t len = strlen(text);
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    size_t off = 0;
    if (j) {
        const char *p = end;
        while (p && p < text + len &&
               (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
            p++;
        if (p && p < text + len) {
            cJSON_Delete(j);
            j = NULL;
            off = (size_t)(p - text);
        }
    } else if (end && end >= text && end <= text + len) {
        off = (size_t)(end - text);
    }
    if (!j && oab__json_check(text, len, NULL) == OAB_OK)
        return oab__err(err, OAB_ENOMEM, 0, "schema: out of memory");
    if (!j) {
        long line, col;
        line_col(text, off, &line, &col);
        return oab__err(err, OAB_EJSON, line,
                        "schema: invalid JSON at line %ld, column %ld", line,
                        col);
    }
    *out = j;
    return OAB_OK;
}

static oab_status schema_make(oab_schema **out, const char *name,
                              const char *description, cJSON *root,
                              int strict, oab_error *err)
{
    oab_schema *s = calloc(1, sizeof *s);
    if (!s)
        return oab__err(err, OAB_ENOMEM, 0, "schema: out of memory");
    s->strict = strict ? 1 : 0;
    s->name = oab__strdup(name ? name : OAB__SCHEMA_DEFAULT_NAME);
    if (description)
        s->description = oab__strdup(description);
    s->json = oab__json_print(root);
    if (!s->name || (description && !s->description) || !s->json) {
        free(s->name);
        free(s->description);
        free(s->json);
        free(s);
        return oab__err(err, OAB_ENOMEM, 0, "schema: out of memory");
    }
    s->root = root;
    oab_status st = oab__schema_prepare(s, err);
    if (st != OAB_OK) {
        s->root = NULL; /* the caller keeps root on failure */
        oab_schema_free(s);
        return st;
    }
    *out = s;
    return OAB_OK;
}

/* Keeps the path of the first string holding U+0000 (oab__json_each_nul). */
static int first_nul(const char *path, void *ud)
{
    char **out = ud;
    *out = oab__strdup(*path ? path : "(the root)");
    return 1;
}

oab_status oab_schema_new(oab_schema **out, const char *name,
                          const char *description, const char *json_schema,
                          int strict, oab_error *err)
{
    oab__err_clear(err);
    if (!out)
        return oab__err(err, OAB_EINVAL, 0, "schema: out is NULL");
    *out = NULL;
    if (name && !name_ok(name))
        return oab__err(err, OAB_EINVAL, 0,
                        "schema name \"%.64s%s\": use 1 to 64 letters, digits, "
                        "'_' or '-'",
                        name, strlen(name) > 64 ? "..." : "");
    if (!json_schema)
        return oab__err(err, OAB_EINVAL, 0, "schema: JSON Schema text is NULL");
    cJSON *root = NULL;
    oab_status st = parse_schema_text(&root, json_schema, err);
    if (st != OAB_OK)
        return st;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return oab__err(err, OAB_ESCHEMA, 0,
                        "schema: the JSON Schema must be a JSON object");
    }
    char *nul = NULL;
    st = oab__json_each_nul(json_schema, strlen(json_schema), first_nul,
                            &nul);
    if (st == OAB_ENOMEM || nul) {
        cJSON_Delete(root);
        if (!nul)
            return oab__err(err, OAB_ENOMEM, 0, "schema: out of memory");
        st = oab__err(err, OAB_ESCHEMA, 0,
                      "schema: the string at %s holds \\u0000 (U+0000),"
                      " which the schema cannot keep (a parsed JSON string"
                      " ends there); in a pattern write \\\\x00 instead",
                      nul);
        free(nul);
        return st;
    }
    if (strict) {
        if (!root_is_object(root)) {
            cJSON_Delete(root);
            return oab__err(err, OAB_ESCHEMA, 0,
                            "/: strict schemas must have an object at the root "
                            "(\"type\": \"object\")");
        }
        oab__buf path = OAB__BUF_INIT;
        st = strictify(root, &path, err);
        oab__buf_free(&path);
        if (st != OAB_OK) {
            cJSON_Delete(root);
            if (st == OAB_ENOMEM)
                return oab__err(err, OAB_ENOMEM, 0, "schema: out of memory");
            return st;
        }
    }
    st = schema_make(out, name, description, root, strict, err);
    if (st != OAB_OK)
        cJSON_Delete(root);
    return st;
}

oab_status oab__schema_wrap(oab_schema **out, const char *name, cJSON *root,
                            oab_error *err)
{
    oab__err_clear(err);
    if (!out || !root)
        return oab__err(err, OAB_EINVAL, 0, "schema: NULL argument");
    *out = NULL;
    return schema_make(out, name, NULL, root, 0, err);
}

void oab_schema_free(oab_schema *s)
{
    if (!s)
        return;
    oab__schema_release(s);
    cJSON_Delete(s->root);
    free(s->name);
    free(s->description);
    free(s->json);
    free(s);
}

const char *oab_schema_name(const oab_schema *s)
{
    return s ? s->name : NULL;
}

const char *oab_schema_description(const oab_schema *s)
{
    return s ? s->description : NULL;
}

int oab_schema_strict(const oab_schema *s)
{
    return s ? s->strict : 0;
}

const char *oab_schema_json(const oab_schema *s)
{
    return s ? s->json : NULL;
}

const cJSON *oab__schema_root(const oab_schema *s)
{
    return s ? s->root : NULL;
}
