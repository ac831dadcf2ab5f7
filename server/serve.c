/* serve.c - `oaibatch serve`: flags, start-up, signals, shared helpers. */
#include "oaibatch.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/str.h"
#include "db.h"
#include "engine.h"
#include "http.h"
#include "serve.h"
#include "srv.h"
#include "webhook.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void srv_log(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* one event a line: a control byte from outside (a request's URL
     * decoded by the HTTP library, an upstream's error text) is shown as
     * \xNN, never written, so nothing can forge a line of its own */
    char shown[4 * sizeof line];
    size_t n = 0;
    for (const unsigned char *c = (const unsigned char *)line; *c; c++) {
        if (*c < 0x20 || *c == 0x7f)
            n += (size_t)snprintf(shown + n, sizeof shown - n, "\\x%02x",
                                  *c);
        else
            shown[n++] = (char)*c;
    }
    shown[n] = '\0';
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    pthread_mutex_lock(&log_lock);
    fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ serve: %s\n",
            tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
            tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, shown);
    pthread_mutex_unlock(&log_lock);
}

struct srv_db *srv_long_db_begin(srv *s, struct srv_db **side)
{
    *side = NULL;
    if (srv_db_shared(s->db))
        return srv_db_open_side(s->db, side) == SQLITE_OK ? *side : NULL;
    pthread_mutex_lock(&s->db_lock);
    return s->db;
}

void srv_long_db_end(srv *s, struct srv_db *side)
{
    if (side) {
        srv_db_close(side);
        pthread_mutex_lock(&s->db_lock);
    }
}

static pthread_mutex_t rng_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long long rng_state;

static unsigned long long rng_next(void)
{
    pthread_mutex_lock(&rng_lock);
    if (!rng_state) {
        int fd = open("/dev/urandom", O_RDONLY);
        if (fd >= 0) {
            if (read(fd, &rng_state, sizeof rng_state) != sizeof rng_state)
                rng_state = 0;
            close(fd);
        }
        rng_state ^= (unsigned long long)time(NULL) * 0x9E3779B97F4A7C15ULL ^
                     (unsigned long long)getpid();
        if (!rng_state)
            rng_state = 88172645463325252ULL;
    }
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    unsigned long long v = rng_state * 2685821657736338717ULL;
    pthread_mutex_unlock(&rng_lock);
    return v;
}

/* The data folder's node id (DATA/node-id: letters and digits), into
 * id (n bytes); "" when there is none. */
static void read_node_id(const char *data_dir, char *id, size_t n)
{
    id[0] = '\0';
    char *p = oab__sprintf("%s/node-id", data_dir);
    char *t = NULL;
    size_t len = 0;
    if (p && oab__read_file(p, &t, &len) == OAB_OK) {
        size_t k = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrst"
                             "uvwxyz0123456789");
        if (k && k < n && (k == len || t[k] == '\n')) {
            memcpy(id, t, k);
            id[k] = '\0';
        }
    }
    free(t);
    free(p);
}

/* Gives the data folder a node id of its own once (with the folder
 * locked): random, so that two machines of one host name and one data
 * path (containers made alike, say) are two nodes, not one whose
 * fencing each would take for its own. -1 (logged) when it cannot be
 * written. */
static int ensure_node_id(const char *data_dir)
{
    char id[40];
    read_node_id(data_dir, id, sizeof id);
    if (id[0])
        return 0;
    srv_random_id(id, sizeof id, "", 20);
    char *p = oab__sprintf("%s/node-id", data_dir);
    char line[48];
    int n = snprintf(line, sizeof line, "%s\n", id);
    int rc = p && oab__write_file_atomic(p, line, (size_t)n) == OAB_OK ? 0
                                                                       : -1;
    if (rc)
        srv_log("--data: cannot write %s", p ? p : data_dir);
    free(p);
    return rc;
}

char *srv_node_name(const srv_config *c)
{
    char host[64] = "", cwd[512] = "", id[40];
    if (gethostname(host, sizeof host) != 0)
        host[0] = 0;
    host[sizeof host - 1] = 0;
    if (c->data_dir[0] != '/' && !getcwd(cwd, sizeof cwd))
        cwd[0] = 0;
    read_node_id(c->data_dir, id, sizeof id);
    /* the id to tell nodes apart (first: a name is cut at 255 bytes),
     * the host and folder to read in a log */
    return oab__sprintf("%s%s%s:%s%s%s", host, id[0] ? "#" : "", id, cwd,
                        cwd[0] ? "/" : "", c->data_dir);
}

void srv_random_id(char *out, size_t n, const char *prefix, size_t nrand)
{
    static const char al[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t p = strlen(prefix);
    if (p + nrand + 1 > n)
        nrand = n > p + 1 ? n - p - 1 : 0;
    memcpy(out, prefix, p);
    unsigned long long r = 0;
    for (size_t i = 0; i < nrand; i++) {
        if (i % 10 == 0)
            r = rng_next();
        out[p + i] = al[r % 62];
        r /= 62;
    }
    out[p + nrand] = '\0';
}

void srv_owner_tag(const char *key, char *out)
{
    if (!key || !*key) {
        out[0] = '\0';
        return;
    }
    /* two FNV-1a passes with different seeds: a tag, not the key */
    unsigned long long h1 = 1469598103934665603ULL, h2 = 0x84222325cbf29ce4ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h1 = (h1 ^ *p) * 1099511628211ULL;
        h2 = (h2 ^ (unsigned)(*p + 77)) * 1099511628211ULL;
    }
    snprintf(out, 17, "%08llx%08llx", h1 & 0xffffffffULL, h2 >> 32);
}

int srv_priority(const char *v)
{
    if (!v || !strcmp(v, "normal"))
        return SRV_PRIO_NORMAL;
    if (!strcmp(v, "high"))
        return SRV_PRIO_HIGH;
    if (!strcmp(v, "low"))
        return SRV_PRIO_LOW;
    return -1;
}

int srv_fail_knob(srv *s)
{
    if (s->cfg.fail_429 <= 0 && s->cfg.fail_500 <= 0)
        return 0;
    unsigned long long n = atomic_fetch_add(&s->counter, 1);
    unsigned long long h = (n + 1) * 0x9E3779B97F4A7C15ULL;
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 29;
    double u = (double)(h >> 11) / 9007199254740992.0;
    if (u < s->cfg.fail_429)
        return 429;
    if (u < s->cfg.fail_429 + s->cfg.fail_500)
        return 500;
    return 0;
}

static void usage(FILE *f)
{
    fputs(
        "usage: oaibatch serve [options]\n"
        "A local OpenAI Files + Batches API server.\n\n"
        "  --host ADDR          address to bind (default 127.0.0.1)\n"
        "  --port N             port (default 8089; 0 = pick a free one)\n"
        "  --data DIR           state folder (default ./oaibatch-data)\n"
        "  --db URL             keep the state in PostgreSQL\n"
        "                       (postgresql://...; default $OAB_DB, else\n"
        "                       SQLite in DIR/state.sqlite); several\n"
        "                       servers with one --db share one queue\n"
        "  --upstream URL       OpenAI-compatible base URL (e.g.\n"
        "                       http://127.0.0.1:8000/v1), or builtin:test\n"
        "                       (default) for the built-in test model;\n"
        "                       repeat it for a pool (lines go round robin)\n"
        "  --upstream-weight N  weight of the --upstream just before (default\n"
        "                       1): its share of the lines and of\n"
        "                       --concurrency\n"
        "  --upstream-key KEY   Bearer key sent upstream\n"
        "  --api-key KEY        key clients must send (repeatable; each key\n"
        "                       sees only its own files and batches)\n"
        "  --concurrency N      cap of each upstream's adaptive window of\n"
        "                       requests in flight (default 256; starts at 8)\n"
        "  --latency-tolerance F  cut a window when the upstream's latency\n"
        "                       (one answer's in the first ramp, then the\n"
        "                       smoothed) passes F x its recent lowest\n"
        "                       (default 2; 0 = only 429/503/timeouts cut)\n"
        "  --rpm N              upstream requests per minute (0 = no limit)\n"
        "  --tpm N              upstream tokens per minute (0 = no limit)\n"
        "  --port-file PATH     write the bound port there once listening\n"
        "  --conn-timeout S     close a connection idle (or slow to send its\n"
        "                       header) for S seconds (default 15)\n"
        "  --max-conns-per-ip N open connections per client address\n"
        "                       (default 128; 0 = no limit)\n"
        "  --body-budget BYTES  JSON request bodies held at once, all\n"
        "                       connections together (default 256 MiB;\n"
        "                       past it: 503)\n"        "  --stop-grace S       a batch cancelled or expired waits up to S\n"
        "                       seconds for its requests already sent, whose\n"
        "                       answers go in its output (default 60; 0 =\n"
        "                       drop them at once, as cancelled)\n"
        "test knobs:\n"
        "  --window-seconds N   completion window length (default 24h)\n"
        "  --latency-ms N       added latency of the built-in model\n"
        "  --fail-rate 429:0.1,500:0.05  share of built-in answers failed\n"
        "  --upstream-timeout-ms N  per upstream request (default 600000)\n"
        "  --max-retries N      retries of a line (default 5)\n"
        "  --retry-base-ms N    first backoff delay (default 500)\n"
        "  --max-file-bytes N   upload cap (default 200 MB)\n"
        "  --quiet              no per-request log lines\n"
        "  --fixed-concurrency  each upstream's window stays at --concurrency\n"
        "                       (no adaptation; for comparisons)\n"
        "  --enqueued-token-limit N  fail a batch at validation with\n"
        "                       token_limit_exceeded when the key's batches\n"
        "                       in flight for its model and it would hold\n"
        "                       more than N input tokens (0 = no limit)\n"
        "  --help               this text\n"
        "webhooks and metrics:\n"
        "  --webhook-url URL    POST signed batch.* events there at each\n"
        "                       batch's end (repeatable, up to 8)\n"
        "  --webhook-secret S   whsec_... signing secret (or $OAB_WEBHOOK_SECRET)\n"
        "  --webhook-give-up S  stop retrying an event after S seconds\n"
        "                       (default 86400)\n"
        "  --metrics-public     GET /metrics without an API key\n"
        "  --allow-host NAME    with no --api-key, answer requests for this\n"
        "                       host name too (repeatable; * = any); else\n"
        "                       only addresses and localhost (DNS rebinding)\n",
        f);
}

/* The data folder and its files readable by this user only: folders
 * 0700, state files 0600 (an existing folder is tightened). -1 with a
 * log line when that is not possible. */
static int tighten(const char *data_dir, const char *files_dir,
                   const char *dbpath)
{
    const char *dirs[2] = {data_dir, files_dir};
    for (int i = 0; i < 2; i++) {
        struct stat st;
        if (stat(dirs[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
            srv_log("--data: %s is not a folder that can be made", dirs[i]);
            return -1;
        }
        if ((st.st_mode & 077) && chmod(dirs[i], 0700) != 0) {
            srv_log("--data: cannot make %s private (chmod 0700): %s",
                    dirs[i], strerror(errno));
            return -1;
        }
    }
    static const char *const sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char *p = oab__sprintf("%s%s", dbpath, sfx[i]);
        struct stat st;
        if (p && stat(p, &st) == 0 && (st.st_mode & 077) &&
            chmod(p, 0600) != 0) {
            srv_log("--data: cannot make %s private (chmod 0600): %s", p,
                    strerror(errno));
            free(p);
            return -1;
        }
        free(p);
    }
    return 0;
}

/* One server per data folder: an exclusive lock on DATA/serve.lock, held
 * until exit. The fd, or -1 (logged) when another server holds it. */
static int lock_data(const char *data_dir)
{
    char *p = oab__sprintf("%s/serve.lock", data_dir);
    int fd = p ? open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;
    if (fd < 0) {
        srv_log("--data: cannot create %s", p ? p : data_dir);
        free(p);
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        srv_log("--data %s is in use by another oaibatch serve (%s is"
                " locked); stop it or use another folder",
                data_dir, p);
        close(fd);
        free(p);
        return -1;
    }
    free(p);
    return fd;
}

/* What a server killed mid-write left in files_dir: every temporary
 * name there ends in ".tmp" (an upload streaming in, a body fetched
 * from the database, a file written whole then renamed), and no stored
 * name does. Called with the data folder locked (no other server writes
 * there). Removes them; says how many went. */
static void clear_temps(const char *files_dir)
{
    DIR *d = opendir(files_dir);
    if (!d)
        return;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        struct stat st;
        if (len <= 4 || strcmp(de->d_name + len - 4, ".tmp") != 0 ||
            fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        if (unlinkat(dirfd(d), de->d_name, 0) == 0)
            n++;
    }
    closedir(d);
    if (n)
        srv_log("--data: removed %d unfinished temporary file%s (a server"
                " stopped mid-write)", n, n == 1 ? "" : "s");
}

/* A name of the form file ids have ("file-" and letters, digits, '-',
 * '_'; no ".tmp"). */
static int file_id_name(const char *name)
{
    size_t len = strlen(name);
    if (len <= 5 || len >= 64 || strncmp(name, "file-", 5) != 0)
        return 0;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789-_") == len;
}

/* Unlinks the names of ids (n) whose file has no row. 0, or -1 when the
 * database could not say (nothing removed). */
static int drop_unknown(srv_db *db, int dfd, char ids[][64], int n,
                        int *dropped)
{
    const char *p[SRV_KNOWN_MAX] = {0};
    unsigned char known[SRV_KNOWN_MAX] = {0};
    for (int i = 0; i < n; i++)
        p[i] = ids[i];
    if (srv_db_files_known(db, p, n, known) != SQLITE_OK)
        return -1;
    for (int i = 0; i < n; i++)
        if (!known[i] && unlinkat(dfd, ids[i], 0) == 0)
            (*dropped)++;
    return 0;
}

/* Shared state: copies in files_dir that no file names, stored under a
 * file id whose row is not there (a server killed between putting an
 * upload's body in place and committing its row, a finalization whose
 * commit the database lost in a failover, the copy of a file deleted
 * while this node was down longer than the names gone are kept).
 * Called with the data folder locked and before the node serves
 * (nothing of this node writes there now, and no other node writes in
 * this node's folder). A lookup that fails leaves the rest. Says how
 * many went. */
static void clear_orphans(srv_db *db, const char *files_dir)
{
    DIR *d = opendir(files_dir);
    if (!d)
        return;
    char ids[SRV_KNOWN_MAX][64]; /* 16 KiB */
    int n = 0, dropped = 0, bad = 0;
    struct dirent *de;
    while (!bad && (de = readdir(d)) != NULL) {
        struct stat st;
        if (!file_id_name(de->d_name) ||
            fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        memcpy(ids[n++], de->d_name, strlen(de->d_name) + 1); /* < 64 */
        if (n == SRV_KNOWN_MAX) {
            bad = drop_unknown(db, dirfd(d), ids, n, &dropped) != 0;
            n = 0;
        }
    }
    if (!bad && n)
        bad = drop_unknown(db, dirfd(d), ids, n, &dropped) != 0;
    closedir(d);
    if (bad)
        srv_log("--data: cannot tell which bodies in %s no file names now"
                " (the database failed); left", files_dir);
    if (dropped)
        srv_log("--data: removed %d bod%s no file names (a server stopped"
                " between storing and naming it, or the database lost its"
                " row)", dropped, dropped == 1 ? "y" : "ies");
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

static int parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *out = v;
    return 0;
}

static int parse_fail_rate(srv_config *c, const char *s)
{
    char *copy = oab__strdup(s);
    char *save = NULL;
    int ok = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':');
        if (!colon) {
            ok = -1;
            break;
        }
        *colon = '\0';
        double share = strtod(colon + 1, NULL);
        if (strcmp(tok, "429") == 0)
            c->fail_429 = share;
        else if (strcmp(tok, "500") == 0)
            c->fail_500 = share;
        else {
            ok = -1;
            break;
        }
    }
    free(copy);
    return ok;
}

int srv_main(int argc, char **argv)
{
    srv *s = calloc(1, sizeof *s);
    if (!s)
        return 1;
    srv_config *c = &s->cfg;
    c->host = "127.0.0.1";
    c->port = 8089;
    c->data_dir = "./oaibatch-data";
    c->concurrency = SRV_CONCURRENCY_DEFAULT;
    c->latency_tolerance = SRV_LAT_TOLERANCE;
    c->max_file_bytes = OAB_MAX_FILE_BYTES;
    c->max_json_bytes = SRV_MAX_JSON_BYTES;
    c->max_json_depth = SRV_MAX_JSON_DEPTH;
    c->conn_timeout_s = SRV_CONN_TIMEOUT_S;
    c->conns_per_ip = SRV_CONN_PER_IP;
    c->body_budget = SRV_BODY_BUDGET;
    c->upstream_timeout_ms = 600000;
    c->stop_grace_s = SRV_STOP_GRACE_S;
    c->max_retries = 5;
    c->retry_base_ms = 500;
    c->db_url = getenv("OAB_DB");

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n = 0;
#define NEED_VALUE                                                   \
    do {                                                             \
        if (!v) {                                                    \
            fprintf(stderr, "serve: %s needs a value\n", a);         \
            free(s);                                                 \
            return 2;                                                \
        }                                                            \
        i++;                                                         \
    } while (0)
#define NEED_NUM(lo)                                                 \
    do {                                                             \
        NEED_VALUE;                                                  \
        if (parse_long(v, &n) || n < (lo)) {                         \
            fprintf(stderr, "serve: bad value for %s\n", a);         \
            free(s);                                                 \
            return 2;                                                \
        }                                                            \
    } while (0)
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            free(s);
            return 0;
        } else if (!strcmp(a, "--host")) {
            NEED_VALUE;
            c->host = v;
        } else if (!strcmp(a, "--port")) {
            NEED_NUM(0);
            if (n > 65535) {
                fprintf(stderr, "serve: bad port\n");
                free(s);
                return 2;
            }
            c->port = (int)n;
        } else if (!strcmp(a, "--data")) {
            NEED_VALUE;
            c->data_dir = v;
        } else if (!strcmp(a, "--db")) {
            NEED_VALUE;
            c->db_url = v;
        } else if (!strcmp(a, "--upstream")) {
            NEED_VALUE;
            if (strcmp(v, "builtin:test") == 0) {
                c->n_upstreams = 0;
            } else if (c->n_upstreams == SRV_MAX_KEYS ||
                       (strncmp(v, "http://", 7) && strncmp(v, "https://", 8))) {
                fprintf(stderr, "serve: --upstream takes an http(s) base URL"
                                " or builtin:test\n");
                free(s);
                return 2;
            } else {
                c->upstream_weights[c->n_upstreams] = 0; /* 1 until told */
                c->upstreams[c->n_upstreams++] = v;
            }
            c->upstream = c->n_upstreams ? c->upstreams[0] : NULL;
        } else if (!strcmp(a, "--upstream-weight")) {
            NEED_NUM(1);
            if (c->n_upstreams == 0 || n > SRV_UP_WEIGHT_MAX) {
                fprintf(stderr, "serve: --upstream-weight N (1 to %d) follows"
                                " the --upstream URL it weighs\n",
                        SRV_UP_WEIGHT_MAX);
                free(s);
                return 2;
            }
            c->upstream_weights[c->n_upstreams - 1] = (int)n;
        } else if (!strcmp(a, "--upstream-key")) {
            NEED_VALUE;
            c->upstream_key = v;
        } else if (!strcmp(a, "--allow-host")) {
            NEED_VALUE;
            if (c->n_allowed_hosts == SRV_MAX_KEYS || !*v) {
                fprintf(stderr, "serve: bad or too many --allow-host\n");
                free(s);
                return 2;
            }
            c->allowed_hosts[c->n_allowed_hosts++] = v;
        } else if (!strcmp(a, "--api-key")) {
            NEED_VALUE;
            if (c->n_api_keys == SRV_MAX_KEYS || !*v) {
                fprintf(stderr, "serve: bad or too many --api-key\n");
                free(s);
                return 2;
            }
            c->api_keys[c->n_api_keys++] = v;
        } else if (!strcmp(a, "--concurrency")) {
            NEED_NUM(1);
            c->concurrency =
                (int)(n > SRV_MAX_CONCURRENCY ? SRV_MAX_CONCURRENCY : n);
        } else if (!strcmp(a, "--rpm")) {
            NEED_NUM(0);
            c->rpm = n;
        } else if (!strcmp(a, "--tpm")) {
            NEED_NUM(0);
            c->tpm = n;
        } else if (!strcmp(a, "--window-seconds")) {
            NEED_NUM(1);
            c->window_seconds = n;
        } else if (!strcmp(a, "--stop-grace")) {
            NEED_NUM(0);
            c->stop_grace_s = n;
        } else if (!strcmp(a, "--latency-ms")) {
            NEED_NUM(0);
            c->latency_ms = n;
        } else if (!strcmp(a, "--fail-rate")) {
            NEED_VALUE;
            if (parse_fail_rate(c, v)) {
                fprintf(stderr, "serve: bad --fail-rate (429:0.1,500:0.05)\n");
                free(s);
                return 2;
            }
        } else if (!strcmp(a, "--port-file")) {
            NEED_VALUE;
            c->port_file = v;
        } else if (!strcmp(a, "--upstream-timeout-ms")) {
            NEED_NUM(1);
            c->upstream_timeout_ms = n;
        } else if (!strcmp(a, "--max-retries")) {
            NEED_NUM(0);
            c->max_retries = (int)n;
        } else if (!strcmp(a, "--retry-base-ms")) {
            NEED_NUM(0);
            c->retry_base_ms = n;
        } else if (!strcmp(a, "--max-file-bytes")) {
            NEED_NUM(1);
            c->max_file_bytes = (unsigned long long)n;
        } else if (!strcmp(a, "--conn-timeout")) {
            NEED_NUM(1);
            c->conn_timeout_s = (unsigned)(n > 86400 ? 86400 : n);
        } else if (!strcmp(a, "--max-conns-per-ip")) {
            NEED_NUM(0);
            c->conns_per_ip = (unsigned)(n > 100000 ? 100000 : n);
        } else if (!strcmp(a, "--body-budget")) {
            NEED_NUM(1);
            c->body_budget = (unsigned long long)n;
        } else if (!strcmp(a, "--quiet")) {
            c->quiet = 1;
        } else if (!strcmp(a, "--latency-tolerance")) {
            NEED_VALUE;
            char *end;
            double t = strtod(v, &end);
            if (end == v || *end || !(t == 0 || (t > 1 && t <= 100))) {
                fprintf(stderr, "serve: --latency-tolerance takes 0 (off) or"
                                " a number over 1 (e.g. 2)\n");
                free(s);
                return 2;
            }
            c->latency_tolerance = t;
        } else if (!strcmp(a, "--fixed-concurrency")) {
            c->fixed_window = 1;
        } else if (!strcmp(a, "--enqueued-token-limit")) {
            NEED_NUM(0);
            c->enqueued_token_limit = n;
        } else if (!strcmp(a, "--webhook-url")) {
            NEED_VALUE;
            if (c->n_webhook_urls == SRV_MAX_WEBHOOKS ||
                (strncmp(v, "http://", 7) && strncmp(v, "https://", 8))) {
                fprintf(stderr, "serve: --webhook-url takes an http(s) URL"
                                " (at most %d)\n", SRV_MAX_WEBHOOKS);
                free(s);
                return 2;
            }
            c->webhook_urls[c->n_webhook_urls++] = v;
        } else if (!strcmp(a, "--webhook-secret")) {
            NEED_VALUE;
            c->webhook_secret = v;
        } else if (!strcmp(a, "--webhook-give-up")) {
            NEED_NUM(1);
            c->webhook_give_up_s = n;
        } else if (!strcmp(a, "--metrics-public")) {
            c->metrics_public = 1;
        } else {
            fprintf(stderr, "serve: unknown option %s (see --help)\n", a);
            free(s);
            return 2;
        }
#undef NEED_VALUE
#undef NEED_NUM
    }

    int rc = 1;
    struct MHD_Daemon *d = NULL;
    int engine_started = 0;
    char *dbpath = NULL, *where = NULL;
    int lock_fd = -1;
    /* the state is the keys' files: only this user may read it */
    umask(077);
    mkdir(c->data_dir, 0700);
    s->files_dir = oab__sprintf("%s/files", c->data_dir);
    dbpath = oab__sprintf("%s/state.sqlite", c->data_dir);
    where = srv_db_where(c->db_url, c->data_dir);
    mkdir(s->files_dir, 0700);
    pthread_mutex_init(&s->db_lock, NULL);
    pthread_mutex_init(&s->wake_lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    if (oab_global_init() != OAB_OK)
        goto out;
    if (tighten(c->data_dir, s->files_dir, dbpath) != 0 ||
        (lock_fd = lock_data(c->data_dir)) < 0 ||
        ensure_node_id(c->data_dir) != 0)
        goto out;
    clear_temps(s->files_dir);
    if (!where || srv_db_open(where, &s->db) != SQLITE_OK)
        goto out;
    /* shared state only: there the folder is a cache of bodies the
     * database holds; a SQLite node's folder holds the only copy of each
     * body, kept even when no row names it (a state file restored from
     * an older backup, say) */
    if (srv_db_is_pg(where))
        clear_orphans(s->db, s->files_dir);

    /* signals: handled by a flag, checked by this thread */
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    struct sigaction old_int, old_term;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    got_signal = 0;

    if (srv_webhook_start(s) != 0)
        goto restore;
    if (srv_engine_start(s) != 0)
        goto restore;
    engine_started = 1;
    int port = 0;
    d = srv_http_start(s, &port);
    if (!d) {
        srv_log("cannot listen on %s:%d", c->host, c->port);
        goto restore;
    }
    srv_log("listening on http://%s:%d/v1 (data %s, state in %s, upstream"
            " %s%s, %d key%s)",
            c->host, port, c->data_dir,
            srv_db_is_pg(where) ? "PostgreSQL" : "SQLite",
            c->upstream ? c->upstream : "builtin:test",
            c->n_upstreams > 1 ? " and others" : "", c->n_api_keys,
            c->n_api_keys == 1 ? "" : "s");
    if (c->port_file) {
        char num[32];
        int k = snprintf(num, sizeof num, "%d\n", port);
        if (oab__write_file_atomic(c->port_file, num, (size_t)k) != OAB_OK)
            srv_log("cannot write %s", c->port_file);
    }
    while (!got_signal)
        oab__sleep(0.05);
    srv_log("stopping (signal %d)", (int)got_signal);
    rc = 0;
restore:
    /* tells the engine and any forwarding request to give up */
    atomic_store(&s->stop, 1);
    if (d)
        MHD_stop_daemon(d);
    /* the delivery thread first: its attempt is the node's until the
     * engine leaves (then another node may take it over) */
    srv_webhook_join(s);
    if (engine_started)
        srv_engine_join(s);
    srv_webhook_free(s);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
out:
    srv_db_close(s->db);
    if (lock_fd >= 0)
        close(lock_fd);
    free(dbpath);
    free(where);
    free(s->files_dir);
    pthread_mutex_destroy(&s->db_lock);
    pthread_mutex_destroy(&s->wake_lock);
    pthread_cond_destroy(&s->wake);
    free(s);
    oab_global_cleanup();
    return rc;
}
