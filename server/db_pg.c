/* db_pg.c - the server's state in PostgreSQL (libpq): the same statements
 * as db.c's SQLite ones, for several `serve` processes sharing one
 * database. The schema is created and migrated here under an advisory
 * lock (so nodes starting together do not race), its version kept in
 * oab_schema.
 *
 * A broken connection is reconnected with backoff (0.1 s doubling to
 * 2 s): a statement outside a transaction is tried again once on the new
 * connection; inside one the transaction is lost, so the statement and
 * COMMIT fail and the caller does the whole transaction again (the engine
 * keeps its finished lines pending until a commit succeeds, so nothing is
 * lost or written twice). */
#include "oaibatch.h"
#include <cjson/cJSON.h>
#include "util/buf.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/str.h"
#include "db_int.h"
#include "srv.h"

#include <libpq-fe.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The migrations, in order: the schema's version is how many ran. Add
 * a migration at the end; never change one that shipped. */
static const char *const MIGRATIONS[] = {
    /* 1: the tables of db.c's SQLite schema */
    "CREATE TABLE files("
    " seq bigserial PRIMARY KEY, id text UNIQUE NOT NULL,"
    " owner text NOT NULL, purpose text, filename text, bytes bigint,"
    " created_at bigint, expires_at bigint, path text NOT NULL);"
    "CREATE TABLE batches("
    " seq bigserial PRIMARY KEY, id text UNIQUE NOT NULL,"
    " owner text NOT NULL, endpoint text, model text, input_file_id text,"
    " completion_window text, status text NOT NULL, output_file_id text,"
    " error_file_id text, created_at bigint, in_progress_at bigint,"
    " expires_at bigint, finalizing_at bigint, completed_at bigint,"
    " failed_at bigint, expired_at bigint, cancelling_at bigint,"
    " cancelled_at bigint, total bigint DEFAULT 0,"
    " n_completed bigint DEFAULT 0, n_failed bigint DEFAULT 0,"
    " input_tokens bigint DEFAULT 0, cached_tokens bigint DEFAULT 0,"
    " output_tokens bigint DEFAULT 0, reasoning_tokens bigint DEFAULT 0,"
    " metadata text, errors text, input_path text,"
    " out_bytes bigint DEFAULT 0, err_bytes bigint DEFAULT 0,"
    " out_expires bigint DEFAULT 0);"
    "CREATE INDEX batches_owner ON batches(owner, seq);"
    "CREATE INDEX files_owner ON files(owner, seq);"
    "CREATE TABLE lines("
    " batch_seq bigint NOT NULL, idx bigint NOT NULL, custom_id text,"
    " off bigint, len bigint, state integer DEFAULT 0,"
    " lease_node text, lease_until timestamptz, epoch bigint DEFAULT 0,"
    " PRIMARY KEY(batch_seq, idx));"
    "CREATE INDEX lines_pending ON lines(batch_seq, idx) WHERE state = 0;"
    /* a finished line's output or error line (kind 1 / 2), written in
     * the transaction that marks the line done */
    "CREATE TABLE results("
    " batch_seq bigint NOT NULL, idx bigint NOT NULL,"
    " kind smallint NOT NULL, body text NOT NULL,"
    " PRIMARY KEY(batch_seq, kind, idx));"
    "ALTER TABLE batches ADD COLUMN final_node text,"
    " ADD COLUMN final_until timestamptz;"
    "CREATE INDEX batches_active ON batches(seq) WHERE status IN"
    " ('validating','in_progress','finalizing','cancelling');"
    /* files' bodies, in chunks of SRV_PG_CHUNK bytes */
    "CREATE TABLE file_chunks("
    " file_id text NOT NULL REFERENCES files(id) ON DELETE CASCADE,"
    " n integer NOT NULL, data bytea NOT NULL,"
    " PRIMARY KEY(file_id, n));"
    "CREATE TABLE deliveries("
    " seq bigserial PRIMARY KEY, event_id text NOT NULL,"
    " msg_id text NOT NULL, url text NOT NULL, body text NOT NULL,"
    " created_at bigint NOT NULL, next_at double precision NOT NULL,"
    " attempts bigint DEFAULT 0, state integer DEFAULT 0,"
    " last_status bigint DEFAULT 0);"
    "CREATE INDEX deliveries_due ON deliveries(state, next_at);",
    /* 2: the enqueued-token limit's count, Anthropic's batches */
    "ALTER TABLE batches ADD COLUMN enqueued_tokens bigint DEFAULT 0;"
    "CREATE TABLE anth_batches("
    " batch_id text PRIMARY KEY, n_requests bigint, n_refused bigint,"
    " refused_path text);",
    /* 3: a delivery attempt is one node's (a lease): before, every
     * node's webhook thread could post the same event */
    ("ALTER TABLE deliveries ADD COLUMN lease_node text,"
     " ADD COLUMN lease_until timestamptz;"),
    /* 4: the stored names of files gone (deleted, expired) and of other
     * nodes' caches to drop, which each node reads to remove its copies:
     * before, a copy stayed in every other node's data folder */
    ("CREATE TABLE files_gone(seq bigserial PRIMARY KEY,"
     " name text NOT NULL, gone_at timestamptz NOT NULL DEFAULT now());"),
    /* 5: a line's lease is its node's: a claim holds while the node's
     * row here is renewed (one row a node, every third of a lease).
     * Before, every leased line was renewed, a scan of all pending lines
     * (150 ms for a million). Webhook deliveries are held the same way;
     * lines.lease_until and deliveries.lease_until are no longer used */
    ("CREATE TABLE nodes(name text PRIMARY KEY,"
     " alive_until timestamptz NOT NULL);"),
    /* 6: where a deleted (or expired) file was in the list, so that
     * GET /files?after=ID finds the next page once ID is gone (a loop
     * that lists a page, deletes it and asks for the next one stopped
     * after the first page) */
    ("CREATE TABLE files_deleted(id text PRIMARY KEY, owner text NOT NULL,"
     " seq bigint NOT NULL, gone_at bigint NOT NULL);"
     "CREATE FUNCTION oab_files_deleted_keep() RETURNS trigger"
     " LANGUAGE plpgsql AS $$ BEGIN"
     " INSERT INTO files_deleted(id, owner, seq, gone_at)"
     " VALUES (OLD.id, OLD.owner, OLD.seq,"
     " extract(epoch FROM now())::bigint) ON CONFLICT (id) DO NOTHING;"
     " RETURN OLD; END $$;"
     "CREATE TRIGGER files_deleted_keep AFTER DELETE ON files"
     " FOR EACH ROW EXECUTE FUNCTION oab_files_deleted_keep();"),
};
#define N_MIGRATIONS ((int)(sizeof MIGRATIONS / sizeof MIGRATIONS[0]))

/* A claim's lease: a node renews its leases every third of it while it
 * runs; a node that dies or stalls loses them after it. Lines claimed at
 * once are what the engine asks (its window); OAB_PG_CLAIM caps them
 * (tests: small claims spread a batch over nodes). Lines claimed and not
 * started are never sent twice: a node dying only delays them by the
 * lease. Both can be set for tests and tuning. */
#define SRV_PG_LEASE_S 30
#define SRV_PG_CLAIM 512
#define SRV_PG_CHUNK (1 << 20)   /* file bytes per chunk row */

static double lease_s(void)
{
    const char *v = getenv("OAB_PG_LEASE_S");
    double d = v ? strtod(v, NULL) : 0;
    return d >= 1 ? d : SRV_PG_LEASE_S;
}

static int claim_max(void)
{
    const char *v = getenv("OAB_PG_CLAIM");
    long n = v ? strtol(v, NULL, 10) : 0;
    return n >= 1 && n <= 100000 ? (int)n : SRV_PG_CLAIM;
}

/* The advisory lock key of the migrations ("oab" + issue 15). */
#define MIGRATE_LOCK "7303042015"

/* ---------------------------------------------------------------- */
/* parameters and results                                             */
/* ---------------------------------------------------------------- */

#define MAX_PARAMS 12

typedef struct pgp {
    int n;
    const char *v[MAX_PARAMS];
    char num[MAX_PARAMS][32];
} pgp;

static void p_int(pgp *p, long long v)
{
    snprintf(p->num[p->n], sizeof p->num[p->n], "%lld", v);
    p->v[p->n] = p->num[p->n];
    p->n++;
}

static void p_dbl(pgp *p, double v)
{
    snprintf(p->num[p->n], sizeof p->num[p->n], "%.17g", v);
    p->v[p->n] = p->num[p->n];
    p->n++;
}

/* NULL binds SQL NULL. */
static void p_text(pgp *p, const char *t)
{
    p->v[p->n++] = t;
}

static const char *res_text(const srv_row *r, int col)
{
    return PQgetisnull(r->p, r->row, col) ? NULL
                                          : PQgetvalue(r->p, r->row, col);
}

static long long res_i64(const srv_row *r, int col)
{
    const char *t = res_text(r, col);
    return t ? strtoll(t, NULL, 10) : 0;
}

/* A column as text ("" for NULL) or a number. */
static const char *col_s(PGresult *res, int row, int col)
{
    return PQgetvalue(res, row, col);
}

static long long col_i(PGresult *res, int row, int col)
{
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* ---------------------------------------------------------------- */
/* the connection                                                     */
/* ---------------------------------------------------------------- */

/* A log line, at most one per 5 s per handle (an outage retried many
 * times a second does not flood the log; the others are counted). */
static void pg_log(srv_db *h, const char *what, const char *msg)
{
    double now = oab__now();
    if (h->log_at != 0 && now - h->log_at < 5) {
        h->log_skipped++;
        return;
    }
    char line[512];
    snprintf(line, sizeof line, "%s", msg ? msg : "");
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == ' '))
        line[--n] = 0;
    if (h->log_skipped)
        srv_log("postgresql: (%lu more failures)", h->log_skipped);
    srv_log("postgresql (%s): %s", what, line);
    h->log_at = now;
    h->log_skipped = 0;
}

static PGconn *connect_url(const char *url)
{
    /* the URL as given (libpq takes the last value of a key: the URL's
     * own target_session_attrs wins); a server that takes writes only,
     * so of a URL naming a primary and its standbys the one that is
     * primary now, also after a failover; connect_timeout after the URL
     * so a host that does not answer holds a thread for seconds, not
     * minutes. TCP keepalives (before the URL: its own win) so that a
     * connection whose peer vanished (a host that died, a network
     * split) fails within half a minute instead of the kernel's two
     * hours: a thread waiting on it, the engine's say, while the node's
     * heartbeat on another connection kept its leases, would hold them
     * all that time. Probes are answered by the server's kernel, so a
     * long statement is not cut */
    const char *const keys[] = {"target_session_attrs", "keepalives",
                                "keepalives_idle", "keepalives_interval",
                                "keepalives_count", "dbname",
                                "connect_timeout", "application_name",
                                NULL};
    const char *const vals[] = {"read-write", "1", "10", "5", "3", url, "5",
                                "oaibatch-serve", NULL};
    return PQconnectdbParams(keys, vals, 1);
}

/* 1 when the connection can take a statement. A broken one is
 * reconnected, at most once per backoff period; never inside a
 * transaction (that transaction is gone: the caller starts again). */
static int ready(srv_db *h)
{
    /* a server that became read-only (a primary made a standby, or
     * read-only for a switchover) says so in a ParameterStatus message
     * with its next answer (PostgreSQL 14 on): a handle that only reads
     * would go on reading a state the new primary has moved past */
    if (PQstatus(h->pg) == CONNECTION_OK && !h->reconnect) {
        const char *ro = PQparameterStatus(h->pg,
                                           "default_transaction_read_only");
        const char *hs = PQparameterStatus(h->pg, "in_hot_standby");
        if (!(ro && !strcmp(ro, "on")) && !(hs && !strcmp(hs, "on")))
            return 1;
        h->reconnect = 2;
    }
    if (h->in_tx) {
        h->tx_lost = 1;
        return 0;
    }
    double now = oab__now();
    if (now < h->retry_at)
        return 0;
    if (h->reconnect == 2)
        srv_log("postgresql: the server is read-only now (a standby?):"
                " connecting again");
    h->reconnect = 0;
    PQreset(h->pg);
    h->prepared = 0; /* a new session has none */
    if (PQstatus(h->pg) == CONNECTION_OK) {
        srv_log("postgresql: connected again");
        h->backoff = 0;
        return 1;
    }
    h->backoff = h->backoff <= 0 ? 0.1 : h->backoff * 2;
    if (h->backoff > 2)
        h->backoff = 2;
    h->retry_at = now + h->backoff;
    pg_log(h, "connect", PQerrorMessage(h->pg));
    return 0;
}

/* A failure the same statement may pass on a second try: a broken
 * connection, a serialization failure, a deadlock, or a server that
 * became read-only (a primary turned standby, a pooler's connection to
 * a standby). A failure libpq made itself (no SQLSTATE: the connection
 * lost while sending, which it may not mark bad yet; seen on an idle
 * connection after a failover) and a read-only server are tried again
 * on a new connection, to a server that takes writes. */
static int transient(srv_db *h, PGresult *res)
{
    if (PQstatus(h->pg) != CONNECTION_OK)
        return 1;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE)
                            : NULL;
    if (!state || !strcmp(state, "25006")) {
        h->reconnect = state ? 2 : 1;
        return 1;
    }
    return !strcmp(state, "40001") || !strcmp(state, "40P01");
}

/* The statements run for every few lines, prepared once per connection
 * (parsed and planned once: the claim and the record of finished lines
 * are most of what the database does for a batch). */
enum { PS_CLAIM, PS_DONE, PS_ACTIVE, PS_NONE = -1 };

static void ps_name(char name[16], int ps)
{
    snprintf(name, 16, "oab_ps%d", ps);
}

/* Prepares statement ps (its sql) on h's connection unless it is. NULL
 * when it is ready, else the failed result (PQclear it). */
static PGresult *prepare(srv_db *h, int ps, const char *sql, int nparams)
{
    if (h->prepared & (1u << ps))
        return NULL;
    char name[16];
    ps_name(name, ps);
    PGresult *res = PQprepare(h->pg, name, sql, nparams, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        return res;
    PQclear(res);
    h->prepared |= 1u << ps;
    return NULL;
}

/* Runs sql with the parameters (as prepared statement ps, unless
 * PS_NONE); *out gets the result (PQclear it) when it succeeded. Returns
 * SQLITE_OK or SQLITE_ERROR (logged). */
static int q_full(srv_db *h, int ps, const char *what, const char *sql,
                  const pgp *p, const int *lens, const int *fmts, int rfmt,
                  PGresult **out)
{
    *out = NULL;
    h->failed = 1; /* until it passes (srv_db_failed) */
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!ready(h))
            return SQLITE_ERROR;
        PGresult *res = ps == PS_NONE ? NULL : prepare(h, ps, sql,
                                                       p ? p->n : 0);
        if (!res && ps != PS_NONE) {
            char name[16];
            ps_name(name, ps);
            res = PQexecPrepared(h->pg, name, p ? p->n : 0, p ? p->v : NULL,
                                 lens, fmts, rfmt);
        } else if (!res)
            res = PQexecParams(h->pg, sql, p ? p->n : 0, NULL,
                               p ? p->v : NULL, lens, fmts, rfmt);
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
            *out = res;
            h->failed = 0;
            return SQLITE_OK;
        }
        int again = transient(h, res) && !h->in_tx;
        if (h->in_tx && PQstatus(h->pg) != CONNECTION_OK)
            h->tx_lost = 1;
        pg_log(h, what, res ? PQresultErrorMessage(res)
                            : PQerrorMessage(h->pg));
        PQclear(res);
        if (!again)
            return SQLITE_ERROR;
        h->retry_at = 0; /* reconnect at once, the first time */
    }
    return SQLITE_ERROR;
}

static int q(srv_db *h, const char *what, const char *sql, const pgp *p,
             PGresult **out)
{
    return q_full(h, PS_NONE, what, sql, p, NULL, NULL, 0, out);
}

/* q as prepared statement ps. */
static int qp(srv_db *h, int ps, const char *what, const char *sql,
              const pgp *p, PGresult **out)
{
    return q_full(h, ps, what, sql, p, NULL, NULL, 0, out);
}

/* q for a statement whose result is not read. */
static int q0(srv_db *h, const char *what, const char *sql, const pgp *p)
{
    PGresult *res = NULL;
    int rc = q(h, what, sql, p, &res);
    PQclear(res);
    return rc;
}

/* q that also gives the number of rows the statement changed. */
static int qn(srv_db *h, const char *what, const char *sql, const pgp *p,
              int *changed)
{
    PGresult *res = NULL;
    int rc = q(h, what, sql, p, &res);
    *changed = rc == SQLITE_OK && atoi(PQcmdTuples(res)) > 0;
    PQclear(res);
    return rc;
}

static int migrate(srv_db *h)
{
    PGresult *res = NULL;
    int rc = q0(h, "schema lock", "SELECT pg_advisory_lock(" MIGRATE_LOCK ")",
                NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = q0(h, "schema", "CREATE TABLE IF NOT EXISTS oab_schema("
                         " version integer NOT NULL)", NULL);
    if (rc == SQLITE_OK)
        rc = q(h, "schema", "SELECT COALESCE(max(version), 0)"
                            " FROM oab_schema", NULL, &res);
    int version = rc == SQLITE_OK ? (int)col_i(res, 0, 0) : 0;
    PQclear(res);
    if (rc == SQLITE_OK && version > N_MIGRATIONS) {
        srv_log("postgresql: the schema is version %d, newer than this"
                " server's %d", version, N_MIGRATIONS);
        rc = SQLITE_ERROR;
    }
    for (int v = version; rc == SQLITE_OK && v < N_MIGRATIONS; v++) {
        pgp p = {0};
        p_int(&p, v + 1);
        rc = srv_pg_begin(h);
        if (rc == SQLITE_OK)
            rc = srv_pg_exec(h, MIGRATIONS[v]);
        if (rc == SQLITE_OK)
            rc = q0(h, "schema", "INSERT INTO oab_schema VALUES($1)", &p);
        if (rc == SQLITE_OK)
            rc = srv_pg_commit(h);
        else
            srv_pg_rollback(h);
        if (rc == SQLITE_OK)
            srv_log("postgresql: schema migrated to version %d", v + 1);
    }
    q0(h, "schema unlock", "SELECT pg_advisory_unlock(" MIGRATE_LOCK ")",
       NULL);
    return rc;
}

/* Connects h to url and names it (a random node); no schema work. */
static int connect_as_new(srv_db *h, const char *url)
{
    h->url = oab__strdup(url);
    if (!h->url)
        return SQLITE_NOMEM;
    h->pg = connect_url(url);
    if (!h->pg)
        return SQLITE_NOMEM;
    if (PQstatus(h->pg) != CONNECTION_OK) {
        /* libpq's message names the host, never the password */
        srv_log("postgresql: cannot connect: %s", PQerrorMessage(h->pg));
        return SQLITE_CANTOPEN;
    }
    char host[24] = "";
    if (gethostname(host, sizeof host) != 0)
        host[0] = 0;
    host[sizeof host - 1] = 0;
    char rnd[16];
    srv_random_id(rnd, sizeof rnd, "", 8);
    snprintf(h->node, sizeof h->node, "%s:%ld:%s", host, (long)getpid(),
             rnd);
    q0(h, "settings", "SET client_min_messages = warning", NULL);
    return SQLITE_OK;
}

int srv_pg_open(srv_db *h, const char *url)
{
    int rc = connect_as_new(h, url);
    return rc == SQLITE_OK ? migrate(h) : rc;
}

int srv_pg_open_side(const srv_db *h, srv_db *side)
{
    return connect_as_new(side, h->url);
}

void srv_pg_close(srv_db *h)
{
    PQfinish(h->pg);
    h->pg = NULL;
    free(h->url);
    h->url = NULL;
}

int srv_pg_exec(srv_db *h, const char *sql)
{
    if (!ready(h))
        return SQLITE_ERROR;
    /* PQexec: several statements in one string (the migrations) */
    PGresult *res = PQexec(h->pg, sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? SQLITE_OK
                                                             : SQLITE_ERROR;
    if (rc != SQLITE_OK)
        pg_log(h, "exec", PQerrorMessage(h->pg));
    if (rc != SQLITE_OK && h->in_tx && PQstatus(h->pg) != CONNECTION_OK)
        h->tx_lost = 1;
    PQclear(res);
    return rc;
}

int srv_pg_begin(srv_db *h)
{
    if (h->in_tx)
        srv_pg_rollback(h);
    int rc = q0(h, "begin", "BEGIN", NULL);
    if (rc == SQLITE_OK) {
        h->in_tx = 1;
        h->tx_lost = 0;
    }
    return rc;
}

int srv_pg_commit(srv_db *h)
{
    int rc = SQLITE_ERROR;
    /* a transaction with a failed statement is not committed (COMMIT
     * of one would answer ROLLBACK) */
    if (!h->tx_lost && PQstatus(h->pg) == CONNECTION_OK &&
        PQtransactionStatus(h->pg) == PQTRANS_INTRANS) {
        PGresult *res = PQexec(h->pg, "COMMIT");
        if (PQresultStatus(res) == PGRES_COMMAND_OK &&
            !strcmp(PQcmdStatus(res), "COMMIT"))
            rc = SQLITE_OK;
        else
            pg_log(h, "commit", PQerrorMessage(h->pg));
        PQclear(res);
    }
    h->in_tx = 0;
    if (rc != SQLITE_OK)
        srv_pg_rollback(h);
    return rc;
}

void srv_pg_rollback(srv_db *h)
{
    h->in_tx = 0;
    h->tx_lost = 0;
    if (PQstatus(h->pg) == CONNECTION_OK &&
        PQtransactionStatus(h->pg) != PQTRANS_IDLE)
        PQclear(PQexec(h->pg, "ROLLBACK"));
}

static int file_fetch(srv_db *h, const char *id, const char *path);

/* ---------------------------------------------------------------- */
/* views                                                              */
/* ---------------------------------------------------------------- */

#define NOT_EXPIRED                                                       \
    " AND (expires_at IS NULL OR"                                         \
    " expires_at > extract(epoch FROM now())::bigint)"

static cJSON *view(srv_db *h, const char *sql, const char *id,
                   const char *owner,
                   cJSON *(*fn)(const srv_row *, const char *))
{
    pgp p = {0};
    p_text(&p, id);
    PGresult *res = NULL;
    if (q(h, "view", sql, &p, &res) != SQLITE_OK)
        return NULL;
    cJSON *o = NULL;
    if (PQntuples(res) > 0) {
        srv_row r = {res_text, res_i64, res, 0};
        o = fn(&r, owner); /* NULL too for another owner's row */
    }
    PQclear(res);
    return o;
}

cJSON *srv_pg_batch_json(srv_db *h, const char *id, const char *owner)
{
    return view(h, "SELECT " SRV_BATCH_COLS " FROM batches WHERE id = $1",
                id, owner, srv__batch_view);
}

cJSON *srv_pg_file_json(srv_db *h, const char *id, const char *owner)
{
    return view(h, "SELECT " SRV_FILE_COLS " FROM files WHERE id = $1"
                NOT_EXPIRED, id, owner, srv__file_view);
}

char *srv_pg_file_path(srv_db *h, const char *files_dir, const char *id,
                       const char *owner)
{
    pgp p = {0};
    p_text(&p, id);
    p_text(&p, owner);
    PGresult *res = NULL;
    if (q(h, "file path", "SELECT path FROM files WHERE id = $1 AND"
          " ($2::text IS NULL OR owner = $2)" NOT_EXPIRED, &p, &res) !=
        SQLITE_OK)
        return NULL;
    char *path = NULL;
    if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0) &&
        !strchr(col_s(res, 0, 0), '/'))
        path = oab__sprintf("%s/%s", files_dir, col_s(res, 0, 0));
    PQclear(res);
    return path;
}

int srv_pg_file_local(const srv_db *h, const char *id, const char *path)
{
    /* another node's file: this node's copy is fetched from the chunks
     * (the folder is a cache; the bytes are in the database) */
    if (access(path, F_OK) == 0)
        return 0;
    srv_db side;
    memset(&side, 0, sizeof side);
    int rc = connect_as_new(&side, h->url) == SQLITE_OK
                 ? file_fetch(&side, id, path)
                 : -1;
    srv_pg_close(&side);
    if (rc == -1)
        srv_log("postgresql: the body of %s could not be fetched", id);
    return rc;
}

int srv_pg_list(srv_db *h, int batches, const char *owner,
                const char *purpose, const char *after, int asc, long limit,
                cJSON *data, int *has_more)
{
    *has_more = 0;
    const char *table = batches ? "batches" : "files";
    /* one statement, the objects' columns with it (an object a second
     * statement failed to read was left out of a 200 before); a file
     * past its expires_at is not listed, as it is not answered */
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT %s FROM %s WHERE owner = $1"
             " AND ($2::text IS NULL OR %s = $2)"
             " AND ($3::text IS NULL OR seq %s %s)%s"
             " ORDER BY seq %s LIMIT $4",
             batches ? SRV_BATCH_COLS : SRV_FILE_COLS, table,
             batches ? "id" : "purpose", asc ? ">" : "<",
             /* a file deleted since is where it was (files_deleted) */
             batches ? "(SELECT seq FROM batches WHERE id = $3"
                       " AND owner = $1)"
                     : "COALESCE((SELECT seq FROM files WHERE id = $3"
                       " AND owner = $1), (SELECT seq FROM files_deleted"
                       " WHERE id = $3 AND owner = $1))",
             batches ? "" : NOT_EXPIRED, asc ? "ASC" : "DESC");
    pgp p = {0};
    p_text(&p, owner);
    p_text(&p, batches ? NULL : purpose);
    p_text(&p, after);
    p_int(&p, limit + 1);
    PGresult *res = NULL;
    int rc = q(h, "list", sql, &p, &res);
    if (rc != SQLITE_OK)
        return rc;
    int rows = PQntuples(res);
    for (int i = 0; i < rows && rc == SQLITE_OK; i++) {
        if (i == limit) {
            *has_more = 1;
            break;
        }
        srv_row r = {res_text, res_i64, res, i};
        cJSON *item = batches ? srv__batch_view(&r, NULL)
                              : srv__file_view(&r, NULL);
        if (!item)
            rc = SQLITE_NOMEM; /* the row is the owner's: only memory */
        else
            cJSON_AddItemToArray(data, item);
    }
    PQclear(res);
    return rc;
}

/* ---------------------------------------------------------------- */
/* files                                                              */
/* ---------------------------------------------------------------- */

int srv_pg_file_insert(srv_db *h, const char *id, const char *owner,
                       const char *purpose, const char *filename,
                       long long bytes, long long created_at,
                       const char *path, long long expires_at)
{
    pgp p = {0};
    p_text(&p, id);
    p_text(&p, owner);
    p_text(&p, purpose);
    p_text(&p, filename);
    p_int(&p, bytes);
    p_int(&p, created_at);
    p_text(&p, path);
    if (expires_at)
        p_int(&p, expires_at);
    else
        p_text(&p, NULL);
    return q0(h, "file insert",
              "INSERT INTO files(id, owner, purpose, filename, bytes,"
              " created_at, path, expires_at)"
              " VALUES($1,$2,$3,$4,$5,$6,$7,$8)", &p);
}

/* A name gone, and when: the clock at the moment its number is taken
 * (not the transaction's start, which a wait for a lock could leave far
 * behind), so a sweep knows how long ago a late commit could still land
 * (srv_pg_gone_since). */
#define GONE_INSERT                                                       \
    " INSERT INTO files_gone(name, gone_at)"                              \
    " SELECT path, clock_timestamp() FROM d"

int srv_pg_file_delete(srv_db *h, const char *id, const char *owner,
                       int *deleted)
{
    pgp p = {0};
    p_text(&p, id);
    p_text(&p, owner);
    /* the INSERT's rows are the DELETE's: *deleted says one went */
    return qn(h, "file delete", "WITH d AS (DELETE FROM files WHERE id = $1"
              " AND owner = $2" NOT_EXPIRED " RETURNING path)" GONE_INSERT,
              &p, deleted);
}

int srv_pg_files_known(srv_db *h, const char *const *ids, int n,
                       unsigned char *known)
{
    /* one round trip: the ids as a text[] literal (their characters
     * need no quoting; each is quoted anyway) */
    oab__buf arr = OAB__BUF_INIT;
    int bad = oab__buf_putc(&arr, '{') != 0;
    for (int i = 0; i < n && !bad; i++) {
        known[i] = 0;
        bad = (i && oab__buf_putc(&arr, ',') != 0) ||
              oab__buf_putc(&arr, '"') != 0 ||
              oab__buf_puts(&arr, ids[i]) != 0 ||
              oab__buf_putc(&arr, '"') != 0;
    }
    if (bad || oab__buf_putc(&arr, '}') != 0) { /* (NUL-terminated) */
        oab__buf_free(&arr);
        return SQLITE_NOMEM;
    }
    pgp p = {0};
    p_text(&p, arr.data);
    PGresult *res = NULL;
    int rc = q(h, "files known", "SELECT id FROM files WHERE id ="
               " ANY($1::text[])", &p, &res);
    oab__buf_free(&arr);
    if (rc != SQLITE_OK)
        return rc;
    for (int r = 0; r < PQntuples(res); r++)
        for (int i = 0; i < n; i++)
            if (!strcmp(col_s(res, r, 0), ids[i]))
                known[i] = 1;
    PQclear(res);
    return SQLITE_OK;
}

int srv_pg_files_expired(srv_db *h, long long now, int max,
                         int (*fn)(const char *id, const char *path,
                                   void *ud),
                         void *ud)
{
    pgp p = {0};
    p_int(&p, now);
    p_int(&p, max);
    PGresult *res = NULL;
    int rc = q(h, "expired files", "SELECT id, path FROM files WHERE"
               " expires_at IS NOT NULL AND expires_at <= $1 LIMIT $2", &p,
               &res);
    if (rc != SQLITE_OK)
        return rc;
    for (int i = 0; i < PQntuples(res); i++)
        if (fn(col_s(res, i, 0), col_s(res, i, 1), ud))
            break;
    PQclear(res);
    return SQLITE_OK;
}

int srv_pg_file_remove(srv_db *h, const char *id)
{
    pgp p = {0};
    p_text(&p, id);
    return q0(h, "file remove", "WITH d AS (DELETE FROM files WHERE id = $1"
              " RETURNING path)" GONE_INSERT, &p);
}

int srv_pg_local_gone(srv_db *h, const char *name)
{
    pgp p = {0};
    p_text(&p, name);
    return q0(h, "copy gone",
              "WITH d(path) AS (VALUES ($1::text))" GONE_INSERT, &p);
}

int srv_pg_gone_since(srv_db *h, long long *from, long long *settled,
                      int max, int (*fn)(const char *name, void *ud),
                      void *ud)
{
    pgp p = {0};
    p_int(&p, *from);
    p_int(&p, max);
    p_int(&p, SRV_GONE_SETTLE_S);
    PGresult *res = NULL;
    /* a sequence's numbers are taken in order, their transactions commit
     * in any: a name recorded just now may land behind one read already,
     * so the settled position stops at the first recent name */
    int rc = q(h, "copies gone", "SELECT seq, name, gone_at < now() -"
               " make_interval(secs => $3) FROM files_gone WHERE seq > $1"
               " ORDER BY seq LIMIT $2", &p, &res);
    if (rc != SQLITE_OK)
        return rc;
    for (int i = 0; i < PQntuples(res); i++) {
        long long seq = col_i(res, i, 0);
        if (*settled == *from && !strcmp(col_s(res, i, 2), "t"))
            *settled = seq;
        *from = seq;
        if (fn(col_s(res, i, 1), ud))
            break;
    }
    PQclear(res);
    return SQLITE_OK;
}

int srv_pg_cursors_forget(srv_db *h, long long now, long long keep_s)
{
    pgp p = {0};
    p_int(&p, now - keep_s);
    return q0(h, "cursors forget", "DELETE FROM files_deleted WHERE"
              " gone_at < $1", &p);
}

int srv_pg_gone_forget(srv_db *h, long long keep_s)
{
    pgp p = {0};
    p_int(&p, keep_s);
    return q0(h, "copies gone", "DELETE FROM files_gone WHERE gone_at <"
              " now() - make_interval(secs => $1)", &p);
}

/* ---------------------------------------------------------------- */
/* batches                                                            */
/* ---------------------------------------------------------------- */

int srv_pg_batch_insert(srv_db *h, const char *id, const char *owner,
                        const char *endpoint, const char *input_file_id,
                        const char *window, long long created_at,
                        long long expires_at, const char *metadata,
                        long long out_expires)
{
    pgp p = {0};
    p_text(&p, id);
    p_text(&p, owner);
    p_text(&p, endpoint);
    p_text(&p, input_file_id);
    p_text(&p, window);
    p_int(&p, created_at);
    p_int(&p, expires_at);
    p_text(&p, metadata);
    p_int(&p, out_expires);
    return q0(h, "batch insert",
              "INSERT INTO batches(id, owner, endpoint, input_file_id,"
              " completion_window, status, created_at, expires_at, metadata,"
              " out_expires) VALUES($1,$2,$3,$4,$5,'validating',$6,$7,$8,$9)",
              &p);
}

int srv_pg_batch_cancel(srv_db *h, const char *id, long long now,
                        int *changed)
{
    pgp p = {0};
    p_int(&p, now);
    p_text(&p, id);
    return qn(h, "batch cancel",
              "UPDATE batches SET status='cancelling', cancelling_at=$1"
              " WHERE id=$2 AND status IN ('validating','in_progress')", &p,
              changed);
}

/* A statement that must change a row: SQLITE_BUSY when it changed none
 * (another node did it first), so the caller's transaction goes back. */
static int q1(srv_db *h, const char *what, const char *sql, const pgp *p)
{
    int changed = 0;
    int rc = qn(h, what, sql, p, &changed);
    return rc == SQLITE_OK && !changed ? SQLITE_BUSY : rc;
}

int srv_pg_batch_failed(srv_db *h, long long seq, long long now,
                        const char *errors_json, int *failed)
{
    pgp p = {0};
    p_int(&p, now);
    p_text(&p, errors_json);
    p_int(&p, seq);
    /* one node's validation ends it */
    int rc = qn(h, "batch failed", "UPDATE batches SET status='failed',"
                " failed_at=$1, errors=$2 WHERE seq=$3 AND"
                " status='validating'", &p, failed);
    if (rc != SQLITE_OK || *failed)
        return rc;
    pgp c = {0};
    p_text(&c, errors_json);
    p_int(&c, seq);
    return q1(h, "batch errors", "UPDATE batches SET errors=$1 WHERE seq=$2"
              " AND status='cancelling'", &c);
}

int srv_pg_batch_started(srv_db *h, long long seq, long long total,
                         const char *model, long long now)
{
    pgp p = {0};
    p_int(&p, total);
    p_text(&p, model);
    p_int(&p, now);
    p_int(&p, seq);
    /* one node's validation stores the lines (a second one's COPY of
     * the same rows fails, or it finds the batch started) */
    int rc = q1(h, "batch started",
                "UPDATE batches SET total=$1, model=$2, in_progress_at=$3,"
                " out_bytes=0, err_bytes=0,"
                " status=CASE status WHEN 'validating' THEN 'in_progress'"
                " ELSE status END WHERE seq=$4 AND in_progress_at IS NULL"
                " AND status IN ('validating','cancelling')", &p);
    /* the planner learns how many lines there are now (a fresh table
     * looks empty: recording lines would scan it all, each time) */
    if (rc == SQLITE_OK)
        rc = q0(h, "analyze", "ANALYZE lines", NULL);
    return rc;
}

int srv_pg_batch_finalizing(srv_db *h, long long seq, long long now)
{
    pgp p = {0};
    p_int(&p, now);
    p_int(&p, seq);
    p_text(&p, h->node);
    /* fenced like the end: a node whose claim lapsed while it stalled
     * (another node took it, and may have ended the batch) reopens
     * nothing; SQLITE_BUSY, and it leaves the batch to that node */
    return q1(h, "batch finalizing",
              "UPDATE batches SET status='finalizing',"
              " finalizing_at=COALESCE(finalizing_at, $1) WHERE seq=$2"
              " AND final_node=$3 AND status IN ('in_progress','finalizing')",
              &p);
}

int srv_pg_batch_ended(srv_db *h, long long seq, int kind, long long now,
                       const char *out_id, const char *err_id,
                       long long out_bytes, long long err_bytes,
                       long long failed)
{
    static const char *const sql[] = {
        "UPDATE batches SET status='completed', completed_at=$1,"
        " output_file_id=$2, error_file_id=$3, out_bytes=$4, err_bytes=$5,"
        " n_failed=n_failed+$8 WHERE seq=$6 AND final_node=$7"
        " AND status IN ('in_progress','finalizing')",
        "UPDATE batches SET status='cancelled', cancelled_at=$1,"
        " output_file_id=$2, error_file_id=$3, out_bytes=$4, err_bytes=$5,"
        " n_failed=n_failed+$8 WHERE seq=$6 AND final_node=$7"
        " AND status='cancelling'",
        "UPDATE batches SET status='expired', expired_at=$1,"
        " output_file_id=$2, error_file_id=$3, out_bytes=$4, err_bytes=$5,"
        " n_failed=n_failed+$8 WHERE seq=$6 AND final_node=$7"
        " AND status IN ('in_progress','finalizing')"};
    pgp p = {0};
    p_int(&p, now);
    p_text(&p, out_id);
    p_text(&p, err_id);
    p_int(&p, out_bytes);
    p_int(&p, err_bytes);
    p_int(&p, seq);
    /* fenced: only the node holding the finalizer's claim ends it, and
     * only a batch still in the state it claimed it in (a cancel that
     * came meanwhile is ended as a cancel, at the next scan) */
    p_text(&p, h->node);
    p_int(&p, failed);
    return q1(h, "batch ended", sql[kind < 0 || kind > 2 ? 0 : kind], &p);
}

int srv_pg_batch_spools(srv_db *h, long long seq, long long *out_bytes,
                        long long *err_bytes, long long *out_expires)
{
    *out_bytes = *err_bytes = *out_expires = 0;
    pgp p = {0};
    p_int(&p, seq);
    PGresult *res = NULL;
    int rc = q(h, "batch spools", "SELECT out_bytes, err_bytes, out_expires"
               " FROM batches WHERE seq=$1", &p, &res);
    if (rc == SQLITE_OK && PQntuples(res) > 0) {
        *out_bytes = col_i(res, 0, 0);
        *err_bytes = col_i(res, 0, 1);
        *out_expires = col_i(res, 0, 2);
    }
    PQclear(res);
    return rc;
}

int srv_pg_batch_set_spools(srv_db *h, long long seq, long long out_bytes,
                            long long err_bytes)
{
    pgp p = {0};
    p_int(&p, out_bytes);
    p_int(&p, err_bytes);
    p_int(&p, seq);
    return q0(h, "batch spools", "UPDATE batches SET out_bytes=$1,"
              " err_bytes=$2 WHERE seq=$3", &p);
}

/* Renews this node's leases: its row in nodes (its lines' and its
 * webhook attempts' lease) and its finalizations. */
static int renew(srv_db *h)
{
    pgp p = {0};
    p_text(&p, h->node);
    p_dbl(&p, lease_s());
    int rc = q0(h, "lease renewal", "INSERT INTO nodes(name, alive_until)"
                " VALUES ($1, now() + make_interval(secs => $2))"
                " ON CONFLICT (name) DO UPDATE"
                " SET alive_until = EXCLUDED.alive_until", &p);
    if (rc == SQLITE_OK)
        /* a row locked is being changed (by this node's end of it, say,
         * deleting a big batch's lines): skipped, not waited for, so the
         * heartbeat never stalls behind the engine */
        rc = q0(h, "lease renewal", "UPDATE batches SET final_until = now()"
                " + make_interval(secs => $2) WHERE seq IN (SELECT seq FROM"
                " batches WHERE final_node = $1 AND status IN"
                " ('in_progress','finalizing','cancelling')"
                " FOR NO KEY UPDATE SKIP LOCKED)", &p);
    return rc;
}

int srv_pg_renew(srv_db *h, double *every)
{
    *every = lease_s() / 3;
    return renew(h);
}

int srv_pg_active(srv_db *h, int (*fn)(const srv_active_row *, void *),
                  void *ud)
{
    PGresult *res = NULL;
    /* metadata is the object the front end checked (string values) */
    int rc = qp(h, PS_ACTIVE, "active batches",
               "SELECT seq, id, status, endpoint, input_file_id, expires_at,"
               " owner, out_bytes, err_bytes, created_at,"
               " metadata::jsonb->>'priority', in_progress_at IS NOT NULL"
               " FROM batches WHERE status IN ('validating','in_progress',"
               "'finalizing','cancelling') ORDER BY seq", NULL, &res);
    if (rc != SQLITE_OK)
        return rc;
    for (int i = 0; i < PQntuples(res); i++) {
        srv_active_row r;
        r.seq = col_i(res, i, 0);
        r.id = col_s(res, i, 1);
        r.status = col_s(res, i, 2);
        r.endpoint = col_s(res, i, 3);
        r.input_file_id = col_s(res, i, 4);
        r.expires_at = col_i(res, i, 5);
        r.owner = col_s(res, i, 6);
        r.out_bytes = col_i(res, i, 7);
        r.err_bytes = col_i(res, i, 8);
        r.created_at = col_i(res, i, 9);
        r.priority = PQgetisnull(res, i, 10) ? NULL : col_s(res, i, 10);
        r.validated = col_s(res, i, 11)[0] == 't';
        if (fn(&r, ud))
            break;
    }
    PQclear(res);
    return SQLITE_OK;
}

/* ---------------------------------------------------------------- */
/* lines                                                              */
/* ---------------------------------------------------------------- */

int srv_pg_lines_delete(srv_db *h, long long seq)
{
    pgp p = {0};
    p_int(&p, seq);
    int rc = q0(h, "lines delete", "DELETE FROM lines WHERE batch_seq=$1",
                &p);
    if (rc == SQLITE_OK)
        rc = q0(h, "results delete", "DELETE FROM results WHERE"
                " batch_seq=$1", &p);
    return rc;
}

int srv_pg_line_stmt(srv_db_stmt *s)
{
    PGresult *res = NULL;
    if (!ready(s->h))
        return SQLITE_ERROR;
    res = PQexec(s->h->pg, "COPY lines(batch_seq, idx, custom_id, off, len)"
                           " FROM STDIN");
    int rc = PQresultStatus(res) == PGRES_COPY_IN ? SQLITE_OK : SQLITE_ERROR;
    if (rc != SQLITE_OK)
        pg_log(s->h, "line copy", PQerrorMessage(s->h->pg));
    PQclear(res);
    return rc;
}

static int copy_flush(srv_db_stmt *s)
{
    if (s->len && PQputCopyData(s->h->pg, s->buf, (int)s->len) != 1)
        s->bad = 1;
    s->len = 0;
    return s->bad ? SQLITE_ERROR : SQLITE_OK;
}

/* Appends t to the COPY buffer in COPY's text format. */
static int copy_add(srv_db_stmt *s, const char *t, int esc)
{
    size_t n = strlen(t);
    if (s->len + 2 * n + 2 > s->cap) {
        size_t cap = s->cap ? s->cap : 65536;
        while (cap < s->len + 2 * n + 2)
            cap *= 2;
        char *b = realloc(s->buf, cap);
        if (!b)
            return SQLITE_NOMEM;
        s->buf = b;
        s->cap = cap;
    }
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (esc && (c == '\\' || c == '\t' || c == '\n' || c == '\r')) {
            s->buf[s->len++] = '\\';
            c = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : c;
        }
        s->buf[s->len++] = c;
    }
    return SQLITE_OK;
}

int srv_pg_line_insert(srv_db_stmt *s, long long seq, long long idx,
                       const char *custom_id, long long off, long long len)
{
    if (s->bad)
        return SQLITE_ERROR;
    char head[64], tail[64];
    snprintf(head, sizeof head, "%lld\t%lld\t", seq, idx);
    snprintf(tail, sizeof tail, "\t%lld\t%lld\n", off, len);
    int rc = copy_add(s, head, 0);
    if (rc == SQLITE_OK)
        rc = copy_add(s, custom_id ? custom_id : "\\N", custom_id != NULL);
    if (rc == SQLITE_OK)
        rc = copy_add(s, tail, 0);
    if (rc == SQLITE_OK && s->len >= 60000)
        rc = copy_flush(s);
    if (rc != SQLITE_OK)
        s->bad = 1;
    return rc;
}

int srv_pg_stmt_finish(srv_db_stmt *s)
{
    PGconn *c = s->h->pg;
    if (!s->bad)
        copy_flush(s);
    free(s->buf);
    s->buf = NULL;
    int rc = SQLITE_OK;
    if (PQputCopyEnd(c, s->bad ? "a line could not be stored" : NULL) != 1)
        rc = SQLITE_ERROR;
    PGresult *res;
    while ((res = PQgetResult(c)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            rc = SQLITE_ERROR;
        PQclear(res);
    }
    if (rc != SQLITE_OK || s->bad) {
        pg_log(s->h, "line copy", PQerrorMessage(c));
        rc = SQLITE_ERROR;
        s->h->tx_lost = 1;
    }
    return rc;
}

int srv_pg_lines_pending(srv_db *h, long long seq, long long from, int max,
                         long long *idx, long long *off, long long *len,
                         int *n)
{
    *n = 0;
    pgp p = {0};
    p_int(&p, seq);
    p_int(&p, from);
    p_int(&p, max < claim_max() ? max : claim_max());
    p_text(&p, h->node);
    PGresult *res = NULL;
    /* a claim: the first pending lines nobody holds (or whose holder's
     * lease lapsed: its node's row is not renewed, or gone), skipping
     * rows another node is claiming right now. The live nodes are read
     * once (a hashed subplan), not once a line. Lines this node holds
     * already are taken too: the engine claims from past what it holds,
     * so those are ones it lost (a claim whose answer the connection
     * lost, one asked ahead and dropped), which no other node would take
     * while this one lives */
    int rc = qp(h, PS_CLAIM, "claim lines",
               "WITH c AS (UPDATE lines l SET lease_node = $4,"
               " epoch = l.epoch + 1"
               " FROM (SELECT batch_seq, idx FROM lines WHERE batch_seq = $1"
               " AND EXISTS (SELECT 1 FROM batches WHERE seq = $1 AND"
               " status = 'in_progress' AND final_node IS NULL)"
               " AND idx >= $2 AND state = 0 AND (lease_node IS NULL OR"
               " lease_node = $4 OR lease_node NOT IN (SELECT name FROM nodes"
               " WHERE alive_until >= now())) ORDER BY idx LIMIT $3"
               " FOR UPDATE SKIP LOCKED) f"
               " WHERE l.batch_seq = f.batch_seq AND l.idx = f.idx"
               " RETURNING l.idx, l.off, l.len)"
               " SELECT idx, off, len FROM c ORDER BY idx", &p, &res);
    if (rc != SQLITE_OK)
        return rc;
    for (int i = 0; i < PQntuples(res) && *n < max; i++) {
        idx[*n] = col_i(res, i, 0);
        off[*n] = col_i(res, i, 1);
        len[*n] = col_i(res, i, 2);
        (*n)++;
    }
    PQclear(res);
    return SQLITE_OK;
}

/* n numbers as a PostgreSQL array literal ("{1,2,3}") into b. */
static int int_array(oab__buf *b, const srv_line_done *d, size_t n,
                     int field)
{
    int bad = oab__buf_putc(b, '{') != OAB_OK;
    for (size_t i = 0; i < n && !bad; i++) {
        long long v = field == 0   ? d[i].seq
                      : field == 1 ? d[i].idx
                      : field == 2 ? d[i].state
                      : field == 3 ? d[i].in
                      : field == 4 ? d[i].cached
                      : field == 5 ? d[i].out
                                   : d[i].reasoning;
        bad = oab__buf_printf(b, i ? ",%lld" : "%lld", v) != OAB_OK;
    }
    /* the buffer keeps a NUL after its bytes */
    return bad || oab__buf_putc(b, '}') != OAB_OK ? -1 : 0;
}

/* The lines' texts as a PostgreSQL text[] literal. -1: out of memory
 * (b then holds a prefix, never to be sent: the arrays would no longer
 * line up). */
static int text_array(oab__buf *b, const srv_line_done *d, size_t n)
{
    int bad = oab__buf_putc(b, '{') != OAB_OK;
    for (size_t i = 0; i < n && !bad; i++) {
        if (!d[i].text) { /* NULL: a line whose input could not be read */
            bad = oab__buf_puts(b, i ? ",NULL" : "NULL") != OAB_OK;
            continue;
        }
        const char *t = d[i].text;
        size_t len = d[i].len;
        bad = (i && oab__buf_putc(b, ',') != OAB_OK) ||
              oab__buf_reserve(b, len + len / 8 + 2) != OAB_OK ||
              oab__buf_putc(b, '"') != OAB_OK;
        for (size_t j = 0; j < len && !bad; j++)
            bad = ((t[j] == '"' || t[j] == '\\') &&
                   oab__buf_putc(b, '\\') != OAB_OK) ||
                  oab__buf_putc(b, t[j]) != OAB_OK;
        bad = bad || oab__buf_putc(b, '"') != OAB_OK;
    }
    return bad || oab__buf_putc(b, '}') != OAB_OK ? -1 : 0;
}

int srv_pg_lines_done(srv_db *h, const srv_line_done *d, size_t n)
{
    if (!n)
        return SQLITE_OK;
    /* one statement for all n: the batches' rows locked first (in seq
     * order) and only while running and not being finalized; then the
     * lines still pending and still leased to this node go to their
     * state with their result rows, and only those add to the counts
     * (exactly once, fenced) */
    oab__buf arr[8];
    pgp p = {0};
    int rc = SQLITE_OK;
    for (int f = 0; f < 8; f++) {
        memset(&arr[f], 0, sizeof arr[f]);
        if ((f < 7 ? int_array(&arr[f], d, n, f)
                   : text_array(&arr[f], d, n)) != 0 || !arr[f].data)
            rc = SQLITE_NOMEM;
        p_text(&p, arr[f].data);
    }
    p_text(&p, h->node);
    PGresult *res = NULL;
    if (rc == SQLITE_OK)
        rc = qp(h, PS_DONE, "lines done",
                "WITH d AS (SELECT * FROM unnest($1::bigint[], $2::bigint[],"
                " $3::int[], $4::bigint[], $5::bigint[], $6::bigint[],"
                " $7::bigint[], $8::text[]) AS t(seq, idx, state, i, c, o, r,"
                " body)),"
                /* a batch cancelled takes the answers of requests out
                 * (--stop-grace) until a node claims its finalization */
                " b AS (SELECT seq FROM batches WHERE seq IN"
                " (SELECT seq FROM d) AND status IN ('in_progress',"
                " 'cancelling') AND final_node IS NULL ORDER BY seq"
                " FOR NO KEY UPDATE),"
                " u AS (UPDATE lines l SET state = d.state, lease_node = NULL"
                " FROM d WHERE l.batch_seq = d.seq AND l.idx = d.idx"
                " AND l.state = 0 AND l.lease_node = $9"
                " AND d.seq IN (SELECT seq FROM b)"
                " RETURNING d.*, l.custom_id AS cid),"
                /* a line with no text: its input could not be read on
                 * that node; its error line is written here, from the
                 * custom_id kept (as the finalizer writes a line never
                 * finished; to_json escapes it) */
                " w AS (INSERT INTO results(batch_seq, idx, kind, body)"
                " SELECT seq, idx, state, COALESCE(body,"
                " '{\"id\":\"batch_req_' || substr(md5(random()::text ||"
                " clock_timestamp()::text), 1, 24) || '\",\"custom_id\":' ||"
                " to_json(COALESCE(cid, ''))::text || ',\"response\":null,"
                "\"error\":{\"code\":\"line_unavailable\",\"message\":\""
                SRV_LINE_UNAVAILABLE_MSG "\"}}') FROM u),"
                " s AS (SELECT seq, sum((state = 1)::int) ok,"
                " sum((state = 2)::int) bad, sum(i) i, sum(c) c, sum(o) o,"
                " sum(r) r FROM u GROUP BY seq)"
                " UPDATE batches b SET n_completed = n_completed + s.ok,"
                " n_failed = n_failed + s.bad,"
                " input_tokens = input_tokens + s.i,"
                " cached_tokens = cached_tokens + s.c,"
                " output_tokens = output_tokens + s.o,"
                " reasoning_tokens = reasoning_tokens + s.r"
                " FROM s WHERE b.seq = s.seq", &p, &res);
    PQclear(res);
    for (int f = 0; f < 8; f++)
        oab__buf_free(&arr[f]);
    return rc;
}

int srv_pg_lines_unfinished(srv_db *h, long long seq,
                            int (*fn)(const char *custom_id, void *ud),
                            void *ud)
{
    pgp p = {0};
    p_int(&p, seq);
    PGresult *res = NULL;
    int rc = q(h, "unfinished lines", "SELECT custom_id FROM lines WHERE"
               " batch_seq=$1 AND state=0 ORDER BY idx", &p, &res);
    if (rc != SQLITE_OK)
        return rc;
    for (int i = 0; i < PQntuples(res); i++)
        if (fn(PQgetisnull(res, i, 0) ? NULL : col_s(res, i, 0), ud))
            break;
    PQclear(res);
    return SQLITE_OK;
}

/* ---------------------------------------------------------------- */
/* metrics and webhooks                                               */
/* ---------------------------------------------------------------- */

int srv_pg_batch_stats(srv_db *h, int (*fn)(const srv_batch_stat *, void *),
                       void *ud)
{
    PGresult *res = NULL;
    int rc = q(h, "batch stats",
               "SELECT endpoint, status, count(*), COALESCE(sum(total),0),"
               " COALESCE(sum(n_completed),0), COALESCE(sum(n_failed),0),"
               " COALESCE(sum(input_tokens),0),"
               " COALESCE(sum(output_tokens),0) FROM batches"
               " GROUP BY endpoint, status", NULL, &res);
    if (rc != SQLITE_OK)
        return rc;
    for (int i = 0; i < PQntuples(res); i++) {
        srv_batch_stat b = {col_s(res, i, 0), col_s(res, i, 1),
                            col_i(res, i, 2), col_i(res, i, 3),
                            col_i(res, i, 4), col_i(res, i, 5),
                            col_i(res, i, 6), col_i(res, i, 7)};
        if (fn(&b, ud))
            break;
    }
    PQclear(res);
    return SQLITE_OK;
}

int srv_pg_delivery_insert(srv_db *h, const char *event_id,
                           const char *msg_id, const char *url,
                           const char *body, long long created_at)
{
    pgp p = {0};
    p_text(&p, event_id);
    p_text(&p, msg_id);
    p_text(&p, url);
    p_text(&p, body);
    p_int(&p, created_at);
    p_dbl(&p, (double)created_at);
    return q0(h, "delivery insert",
              "INSERT INTO deliveries(event_id, msg_id, url, body,"
              " created_at, next_at) VALUES($1,$2,$3,$4,$5,$6)", &p);
}

int srv_pg_delivery_next(srv_db *h, srv_delivery *out)
{
    memset(out, 0, sizeof *out);
    PGresult *res = NULL;
    /* several nodes: the first delivery due that no live node is
     * posting, leased to this node (its row in nodes, as its lines: held
     * however long the attempt takes, taken over once the node died or
     * left; one this node held is its own again, its delivery thread
     * posts one at a time); one not due yet is looked at again by the
     * webhook thread's next step */
    pgp p = {0};
    p_text(&p, h->node);
    p_dbl(&p, (double)oab__unix_now());
    int rc = q(h, "delivery next",
               "WITH f AS (SELECT seq FROM deliveries WHERE state = 0"
               " AND next_at <= $2 AND (lease_node IS NULL OR"
               " lease_node = $1 OR lease_node NOT IN (SELECT name FROM"
               " nodes WHERE alive_until >= now())) ORDER BY next_at, seq"
               " LIMIT 1 FOR UPDATE SKIP LOCKED)"
               " UPDATE deliveries d SET lease_node = $1"
               " FROM f WHERE d.seq = f.seq"
               " RETURNING d.seq, d.created_at, d.attempts, d.last_status,"
               " d.next_at, d.event_id, d.msg_id, d.url, d.body", &p, &res);
    if (rc != SQLITE_OK)
        return rc;
    rc = SQLITE_DONE;
    if (PQntuples(res) > 0) {
        rc = SQLITE_ROW;
        out->seq = col_i(res, 0, 0);
        out->created_at = col_i(res, 0, 1);
        out->attempts = col_i(res, 0, 2);
        out->last_status = col_i(res, 0, 3);
        out->next_at = strtod(col_s(res, 0, 4), NULL);
        out->event_id = oab__strdup(col_s(res, 0, 5));
        out->msg_id = oab__strdup(col_s(res, 0, 6));
        out->url = oab__strdup(col_s(res, 0, 7));
        out->body = oab__strdup(col_s(res, 0, 8));
        if (!out->event_id || !out->msg_id || !out->url || !out->body) {
            srv_db_delivery_clear(out);
            rc = SQLITE_NOMEM;
        }
    }
    PQclear(res);
    return rc;
}

int srv_pg_delivery_update(srv_db *h, long long seq, int state,
                           long long attempts, double next_at,
                           long long last_status)
{
    pgp p = {0};
    p_int(&p, state);
    p_int(&p, attempts);
    p_dbl(&p, next_at);
    p_int(&p, last_status);
    p_int(&p, seq);
    p_text(&p, h->node);
    /* fenced: a node whose attempt outlived its lease (it stalled, and
     * another node took the delivery, maybe posted it) changes nothing:
     * its "try again" would undo that node's "delivered" */
    return q0(h, "delivery update",
              "UPDATE deliveries SET state = $1, attempts = $2,"
              " next_at = $3, last_status = $4, lease_node = NULL"
              " WHERE seq = $5 AND lease_node = $6", &p);
}

int srv_pg_deliveries_pending(srv_db *h, long long *n)
{
    *n = 0;
    PGresult *res = NULL;
    int rc = q(h, "deliveries pending", "SELECT count(*) FROM deliveries"
               " WHERE state = 0", NULL, &res);
    if (rc == SQLITE_OK)
        *n = col_i(res, 0, 0);
    PQclear(res);
    return rc;
}

/* ---------------------------------------------------------------- */
/* several nodes: the finalizer, results, files' bodies               */
/* ---------------------------------------------------------------- */

int srv_pg_set_node(srv_db *h, const char *node, int release)
{
    snprintf(h->node, sizeof h->node, "%s", node);
    pgp p = {0};
    p_text(&p, h->node);
    /* the previous run of this node is gone (its data folder's lock is
     * ours): its lines are free for any node now, this one included (its
     * finalizations stay its own, renewed below: a batch whose
     * finalization is claimed records no more lines, and this node ends
     * it) */
    int rc = release ? q0(h, "release claims", "UPDATE lines SET"
                          " lease_node = NULL WHERE lease_node = $1 AND"
                          " state = 0", &p)
                     : SQLITE_OK;
    /* live from now: what this handle claims next is no other node's
     * (the delivery thread claims before the engine first scans) */
    return rc == SQLITE_OK ? renew(h) : rc;
}

int srv_pg_node_leave(srv_db *h)
{
    pgp p = {0};
    p_text(&p, h->node);
    return q0(h, "node leaves", "DELETE FROM nodes WHERE name = $1", &p);
}

int srv_pg_batch_claim_final(srv_db *h, long long seq, int kind, int *won)
{
    static const char *const cond[] = {
        /* completed: no line left pending anywhere; or a finalization
         * begun already (finalizing: no line is recorded any more, the
         * ones left pending go to the error file), which a node that
         * died left */
        (" AND (status = 'finalizing' OR (status = 'in_progress' AND NOT"
         " EXISTS (SELECT 1 FROM lines WHERE batch_seq = $1 AND"
         " state = 0)))"),
        " AND status = 'cancelling'",
        /* expired by the database's clock, the one all nodes share */
        (" AND status IN ('in_progress','finalizing') AND expires_at > 0"
         " AND expires_at <= extract(epoch FROM now())::bigint")};
    char sql[1024];
    snprintf(sql, sizeof sql,
             "UPDATE batches SET final_node = $2, final_until = now() +"
             " make_interval(secs => $3) WHERE seq = $1 AND (final_node IS"
             " NULL OR final_node = $2 OR final_until < now())%s",
             cond[kind < 0 || kind > 2 ? 0 : kind]);
    pgp p = {0};
    p_int(&p, seq);
    p_text(&p, h->node);
    p_dbl(&p, lease_s());
    return qn(h, "finalizer claim", sql, &p, won);
}

int srv_pg_results_write(srv_db *h, long long seq, int k, int fd,
                         long long *len)
{
    *len = 0;
    if (ftruncate(fd, 0) != 0)
        return SQLITE_IOERR;
    if (!ready(h))
        return SQLITE_ERROR;
    pgp p = {0};
    p_int(&p, seq);
    p_int(&p, k ? 2 : 1);
    /* one row at a time (libpq's single-row mode): never the whole
     * file in memory; written out a buffer of about 1 MiB at a time */
    if (!PQsendQueryParams(h->pg, "SELECT body FROM results WHERE"
                           " batch_seq = $1 AND kind = $2 ORDER BY idx",
                           p.n, NULL, p.v, NULL, NULL, 0) ||
        !PQsetSingleRowMode(h->pg)) {
        pg_log(h, "results", PQerrorMessage(h->pg));
        PGresult *r;
        while ((r = PQgetResult(h->pg)) != NULL) /* drain a sent query */
            PQclear(r);
        return SQLITE_ERROR;
    }
    int rc = SQLITE_OK;
    oab__buf b = OAB__BUF_INIT;
    PGresult *res;
    while ((res = PQgetResult(h->pg)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_SINGLE_TUPLE && rc == SQLITE_OK) {
            /* out of memory: a file with a line missing or cut is no
             * file; the finalization is tried again */
            if (oab__buf_append(&b, PQgetvalue(res, 0, 0),
                                (size_t)PQgetlength(res, 0, 0)) != OAB_OK ||
                oab__buf_putc(&b, '\n') != OAB_OK)
                rc = SQLITE_NOMEM;
            else if (b.len >= SRV_PG_CHUNK) {
                if (oab__write_all(fd, b.data, b.len) != 0)
                    rc = SQLITE_IOERR;
                *len += (long long)b.len;
                oab__buf_clear(&b);
            }
        } else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK) {
            pg_log(h, "results", PQresultErrorMessage(res));
            rc = SQLITE_ERROR;
        }
        PQclear(res);
    }
    if (rc == SQLITE_OK && b.len) {
        if (oab__write_all(fd, b.data, b.len) != 0)
            rc = SQLITE_IOERR;
        *len += (long long)b.len;
    }
    oab__buf_free(&b);
    return rc;
}

int srv_pg_file_store(srv_db *h, const char *id, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        srv_log("postgresql (file store): cannot read %s", path);
        return SQLITE_IOERR;
    }
    char *chunk = malloc(SRV_PG_CHUNK);
    int rc = chunk ? SQLITE_OK : SQLITE_NOMEM;
    for (int n = 0; rc == SQLITE_OK; n++) {
        size_t got = 0;
        while (got < SRV_PG_CHUNK) {
            ssize_t r = read(fd, chunk + got, SRV_PG_CHUNK - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                rc = SQLITE_IOERR;
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        if (rc != SQLITE_OK || (got == 0 && n > 0))
            break;
        pgp p = {0};
        p_text(&p, id);
        p_int(&p, n);
        p.v[p.n++] = chunk;
        const int lens[3] = {0, 0, (int)got};
        const int fmts[3] = {0, 0, 1}; /* the bytes as they are */
        PGresult *res = NULL;
        rc = q_full(h, PS_NONE, "file store", "INSERT INTO file_chunks(file_id, n,"
                    " data) VALUES($1, $2, $3)", &p, lens, fmts, 0, &res);
        PQclear(res);
        if (got < SRV_PG_CHUNK)
            break;
    }
    free(chunk);
    close(fd);
    return rc;
}

/* Whether file id has its row (1), has none (0), or -1 (logged). */
static int file_exists(srv_db *h, const char *id, long long *bytes)
{
    pgp p = {0};
    p_text(&p, id);
    PGresult *res = NULL;
    if (q(h, "file fetch", "SELECT bytes FROM files WHERE id = $1", &p,
          &res) != SQLITE_OK)
        return -1;
    int n = PQntuples(res);
    if (n > 0 && bytes)
        *bytes = col_i(res, 0, 0);
    PQclear(res);
    return n > 0;
}

/* Fetches file id's body from its chunks into path (a temporary name,
 * then renamed: a reader never sees half of it). The row's size and
 * every chunk are read in one snapshot, so a file deleted meanwhile is
 * read whole or not at all (read chunk by chunk, a delete between two
 * reads looked like the end: a cut body was kept and served). A file
 * deleted by the time its copy is in place loses the copy again (a
 * delete that commits after that look is a name gone, which the sweep
 * reads). 0 (the body at path, or the file gone: nothing at path), -1
 * (could not be fetched now, logged), or -2 (the stored body is damaged:
 * in one snapshot its chunks do not add up to the row's size, which no
 * retry mends; logged). */
static int file_fetch(srv_db *h, const char *id, const char *path)
{
    char rnd[16];
    srv_random_id(rnd, sizeof rnd, "", 12);
    char *tmp = oab__sprintf("%s.fetch-%s.tmp", path, rnd);
    int fd = tmp ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)
                 : -1;
    long long want = -1, got = 0;
    int bad = fd < 0 || srv_pg_begin_read(h) != SQLITE_OK, gone = 0;
    int damaged = 0;
    if (!bad) {
        int e = file_exists(h, id, &want);
        bad = e < 0;
        gone = e == 0;
    }
    for (int n = 0; !bad && !gone; n++) {
        pgp p = {0};
        p_text(&p, id);
        p_int(&p, n);
        PGresult *res = NULL;
        if (q_full(h, PS_NONE, "file fetch", "SELECT data FROM file_chunks WHERE"
                   " file_id = $1 AND n = $2", &p, NULL, NULL, 1, &res) !=
            SQLITE_OK) {
            bad = 1;
            break;
        }
        int rows = PQntuples(res);
        if (rows > 0) {
            size_t len = (size_t)PQgetlength(res, 0, 0);
            got += (long long)len;
            if (oab__write_all(fd, PQgetvalue(res, 0, 0), len) != 0)
                bad = 1;
        }
        PQclear(res);
        if (rows == 0)
            break; /* the end (none at all: no body stored) */
    }
    srv_pg_rollback(h); /* the snapshot, read only */
    if (!bad && !gone && got != want) {
        srv_log("postgresql: the stored body of %s has %lld bytes, its row"
                " says %lld", id, got, want);
        bad = damaged = 1;
    }
    if (fd >= 0 && (fsync(fd) != 0 || close(fd) != 0))
        bad = 1;
    if (!bad && !gone && rename(tmp, path) != 0)
        bad = 1;
    if ((bad || gone) && tmp)
        unlink(tmp);
    free(tmp);
    if (!bad && !gone) {
        int e = file_exists(h, id, NULL);
        if (e == 0)
            unlink(path);
        bad = e < 0;
    }
    return damaged ? -2 : bad ? -1 : 0;
}

/* ---------------------------------------------------------------- */
/* the enqueued-token limit, Anthropic's batches, a batch's lines     */
/* ---------------------------------------------------------------- */

int srv_pg_enqueued_sum(srv_db *h, const char *owner, const char *model,
                        long long seq, long long *sum)
{
    *sum = 0;
    pgp p = {0};
    p_text(&p, owner);
    p_text(&p, model);
    p_int(&p, seq);
    PGresult *res = NULL;
    int rc = q(h, "enqueued sum", "SELECT COALESCE(sum(enqueued_tokens), 0)"
               " FROM batches WHERE owner = $1 AND model IS NOT DISTINCT"
               " FROM $2::text AND seq <> $3 AND status IN"
               " ('validating','in_progress','finalizing')", &p, &res);
    if (rc == SQLITE_OK)
        *sum = col_i(res, 0, 0);
    PQclear(res);
    return rc;
}

int srv_pg_batch_set_enqueued(srv_db *h, long long seq, long long tokens)
{
    pgp p = {0};
    p_int(&p, tokens);
    p_int(&p, seq);
    return q0(h, "batch enqueued tokens", "UPDATE batches SET"
              " enqueued_tokens = $1 WHERE seq = $2", &p);
}

int srv_pg_anth_insert(srv_db *h, const char *batch_id, long long n_requests,
                       long long n_refused, const char *refused_path)
{
    pgp p = {0};
    p_text(&p, batch_id);
    p_int(&p, n_requests);
    p_int(&p, n_refused);
    p_text(&p, refused_path);
    return q0(h, "anthropic batch insert", "INSERT INTO anth_batches("
              "batch_id, n_requests, n_refused, refused_path)"
              " VALUES($1, $2, $3, $4)", &p);
}

int srv_pg_anth_get(srv_db *h, const char *batch_id, long long *n_requests,
                    long long *n_refused, char **refused_path)
{
    *refused_path = NULL;
    pgp p = {0};
    p_text(&p, batch_id);
    PGresult *res = NULL;
    int rc = q(h, "anthropic batch", "SELECT n_requests, n_refused,"
               " refused_path FROM anth_batches WHERE batch_id = $1", &p,
               &res);
    if (rc == SQLITE_OK && PQntuples(res) == 0) {
        rc = SQLITE_DONE;
    } else if (rc == SQLITE_OK) {
        rc = SQLITE_ROW;
        *n_requests = col_i(res, 0, 0);
        *n_refused = col_i(res, 0, 1);
        if (!PQgetisnull(res, 0, 2) && *col_s(res, 0, 2) &&
            !(*refused_path = oab__strdup(col_s(res, 0, 2))))
            rc = SQLITE_NOMEM;
    }
    PQclear(res);
    return rc;
}

int srv_pg_anth_delete(srv_db *h, const char *batch_id)
{
    static const char *const sql[] = {
        "DELETE FROM lines WHERE batch_seq IN (SELECT seq FROM batches"
        " WHERE id = $1)",
        "DELETE FROM results WHERE batch_seq IN (SELECT seq FROM batches"
        " WHERE id = $1)",
        "DELETE FROM batches WHERE id = $1",
        "DELETE FROM anth_batches WHERE batch_id = $1",
    };
    int rc = SQLITE_OK;
    for (size_t i = 0; rc == SQLITE_OK && i < sizeof sql / sizeof *sql; i++) {
        pgp p = {0};
        p_text(&p, batch_id);
        rc = q0(h, "anthropic batch delete", sql[i], &p);
    }
    return rc;
}

/* A running batch's finished lines are rows of results here, not spools:
 * the lengths are 0 (srv_pg_results_lines lists those rows). */
int srv_pg_batch_seq_spools(srv_db *h, const char *id, long long *seq,
                            long long *out_bytes, long long *err_bytes)
{
    *seq = -1;
    *out_bytes = *err_bytes = 0;
    pgp p = {0};
    p_text(&p, id);
    PGresult *res = NULL;
    int rc = q(h, "batch seq", "SELECT seq FROM batches WHERE id = $1", &p,
               &res);
    if (rc == SQLITE_OK && PQntuples(res) > 0)
        *seq = col_i(res, 0, 0);
    PQclear(res);
    return rc;
}

int srv_pg_lines_waiting(srv_db *h, long long seq, long long after, int max,
                         const char *match,
                         int (*fn)(long long idx, const char *custom_id,
                                   void *ud),
                         void *ud)
{
    pgp p = {0};
    p_int(&p, seq);
    p_int(&p, after);
    if (max >= 0)
        p_int(&p, max);
    else
        p_text(&p, NULL); /* LIMIT NULL: all (a negative one is an error) */
    p_text(&p, match);
    PGresult *res = NULL;
    int rc = q(h, "waiting lines", "SELECT idx, custom_id FROM lines WHERE"
               " batch_seq = $1 AND idx > $2 AND state = 0 AND"
               " ($4::text IS NULL OR strpos(custom_id, $4) > 0)"
               " ORDER BY idx LIMIT $3", &p, &res);
    for (int i = 0; rc == SQLITE_OK && i < PQntuples(res); i++)
        if (fn(col_i(res, i, 0), PQgetisnull(res, i, 1) ? ""
                                                        : col_s(res, i, 1),
               ud))
            break;
    PQclear(res);
    return rc;
}

/* ---------------------------------------------------------------- */
/* one snapshot of a running batch's lines                            */
/* ---------------------------------------------------------------- */

int srv_pg_begin_read(srv_db *h)
{
    if (h->in_tx)
        srv_pg_rollback(h);
    /* READ COMMITTED (the default) takes a snapshot per statement: the
     * results and the pending lines read after them could miss a line
     * finished in between, or show it twice */
    int rc = q0(h, "begin read",
                "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", NULL);
    if (rc == SQLITE_OK) {
        h->in_tx = 1;
        h->tx_lost = 0;
    }
    return rc;
}

int srv_pg_results_lines(srv_db *h, long long seq, int k, long long after,
                         int max, const char *match,
                         int (*fn)(long long idx, const char *line,
                                   size_t len, void *ud),
                         void *ud)
{
    if (!ready(h))
        return SQLITE_ERROR;
    pgp p = {0};
    p_int(&p, seq);
    p_int(&p, k ? 2 : 1);
    p_int(&p, after);
    if (max >= 0)
        p_int(&p, max);
    else
        p_text(&p, NULL);
    /* the filter on the line's custom_id (the lines row), so LIMIT
     * counts only the lines that match */
    if (match)
        p_text(&p, match);
    const char *sql =
        match ? "SELECT r.idx, r.body FROM results r JOIN lines l"
                " ON l.batch_seq = r.batch_seq AND l.idx = r.idx"
                " WHERE r.batch_seq = $1 AND r.kind = $2 AND r.idx > $3"
                " AND strpos(l.custom_id, $5) > 0 ORDER BY r.idx LIMIT $4"
              : "SELECT idx, body FROM results WHERE batch_seq = $1"
                " AND kind = $2 AND idx > $3 ORDER BY idx LIMIT $4";
    /* one row at a time (libpq's single-row mode): a page of large
     * answers is never in memory at once */
    if (!PQsendQueryParams(h->pg, sql, p.n, NULL, p.v, NULL, NULL, 0) ||
        !PQsetSingleRowMode(h->pg)) {
        pg_log(h, "results lines", PQerrorMessage(h->pg));
        PGresult *res;
        while ((res = PQgetResult(h->pg)) != NULL) /* drain a sent query */
            PQclear(res);
        if (PQstatus(h->pg) != CONNECTION_OK)
            h->tx_lost = 1;
        return SQLITE_ERROR;
    }
    int rc = SQLITE_OK, stop = 0;
    PGresult *res;
    while ((res = PQgetResult(h->pg)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_SINGLE_TUPLE) {
            if (rc == SQLITE_OK && !stop)
                stop = fn(col_i(res, 0, 0), PQgetvalue(res, 0, 1),
                          (size_t)PQgetlength(res, 0, 1), ud);
        } else if (st != PGRES_TUPLES_OK) {
            pg_log(h, "results lines", PQresultErrorMessage(res));
            rc = SQLITE_ERROR;
        }
        PQclear(res);
    }
    if (rc != SQLITE_OK && PQstatus(h->pg) != CONNECTION_OK)
        h->tx_lost = 1;
    return rc;
}

/* ---- one node validates a batch ---- */

int srv_pg_batch_take_validation(srv_db *h, long long seq, int *won)
{
    /* the batch's row stays locked until the caller's transaction ends:
     * another node skips it meanwhile, and after the commit it is no
     * longer validating. A cancelled batch another node is finalizing
     * is not taken: its lines would be recorded after that node wrote
     * its error file (its claim waits for this lock, so a validation
     * begun first ends first) */
    pgp p = {0};
    p_int(&p, seq);
    p_text(&p, h->node);
    PGresult *res = NULL;
    int rc = q(h, "validation claim",
               "SELECT 1 FROM batches WHERE seq = $1 AND status IN"
               " ('validating','cancelling') AND in_progress_at IS NULL"
               " AND (final_node IS NULL OR final_node = $2"
               " OR final_until < now()) FOR UPDATE SKIP LOCKED", &p, &res);
    if (rc != SQLITE_OK)
        return rc;
    *won = PQntuples(res) > 0;
    PQclear(res);
    return SQLITE_OK;
}
