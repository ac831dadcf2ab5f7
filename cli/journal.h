/* journal.h - the command's local journal (SQLite): every job (a group of
 * one or more batches) with its part files, uploaded file ids and batch
 * ids, written before each network step so that a crash, a Ctrl-C or a
 * second run never orphans or double-pays a job. */
#ifndef OAB_CLI_JOURNAL_H
#define OAB_CLI_JOURNAL_H

#include <stddef.h>

typedef struct journal journal;

/* One batch of a job: a part of the split input, or a retry. */
typedef struct journal_part {
    int idx;                 /* 1-based, in order of creation */
    char *kind;              /* "part" or "retry" */
    char *path;              /* the part's JSONL file (kept locally) */
    long n_lines;
    char *input_lines;       /* input line of each part line, as ranges
                                "1-500,502" */
    char *file_id;           /* NULL until uploaded */
    char *batch_id;          /* NULL until created */
    char *status;            /* last status seen, NULL if none */
    char *anthropic_map;     /* Anthropic: the batch's custom_id map (JSON of
                                oab_anthropic_batch_map), NULL otherwise */
    long long count_total, count_completed, count_failed;
    long long updated_at;
    long long create_started_at; /* Anthropic: when a create was sent
                                    (unix s), 0 if never */
    long long upload_started_at; /* OpenAI: when the part's upload was
                                    first sent (unix s), 0 if never */
} journal_part;

/* 1 when the part is a retry (made by `oaibatch retry`), 0 for a part of
 * the split input. */
int journal_part_is_retry(const journal_part *part);

typedef struct journal_job {
    char *id;                /* "job_" + 16 hex digits */
    long long created_at;
    char *input_path;        /* as given */
    char *fingerprint;       /* sha256 of content + options */
    char *base_url;
    char *endpoint;          /* "/v1/chat/completions" */
    char *model;             /* may be NULL */
    long n_lines;
    char *metadata_json;     /* the user's --metadata as a JSON object */
    char *provider;          /* "openai" or "anthropic"; NULL (a job
                                journaled before providers): openai */
    int settled;             /* every line has a final answer through its
                                retries, though a batch did not complete
                                (as cli_target_settle last found) */
    journal_part *parts;
    size_t n_parts;
} journal_job;

/* Opens (creating the file, its folder and the tables when needed).
 * Returns 0, or -1 with a message in errbuf. */
int journal_open(journal **out, const char *path, char *errbuf, size_t n);
void journal_close(journal *j);
/* The last SQLite error message. */
const char *journal_errmsg(journal *j);
/* The file the journal lives in. */
const char *journal_path(journal *j);

void journal_job_free(journal_job *job);

/* Inserts a job and its parts in one transaction. 0 or -1. */
int journal_job_insert(journal *j, const journal_job *job);
/* 0 found (*out set), 1 not found, -1 error. */
int journal_job_get(journal *j, const char *id, journal_job **out);
/* The newest job with this fingerprint. 0, 1 (none) or -1. */
int journal_job_by_fingerprint(journal *j, const char *fingerprint,
                               journal_job **out);
/* The job that holds a batch. 0 (job_id_out: malloc'd; idx_out), 1, -1. */
int journal_find_batch(journal *j, const char *batch_id, char **job_id_out,
                       int *idx_out);
/* The job's status from the statuses last seen for its parts (no
 * network): the least advanced unfinished one, else "completed" when the
 * job is settled, else the first that is not completed, else
 * "completed". Static text. */
const char *journal_job_status(const journal_job *j);
/* 1 when every part was last seen in a terminal status. */
int journal_job_finished(const journal_job *j);
/* Records whether every line of the job has a final answer through its
 * retries (cli_target_settle found it): journal_job_status then says
 * "completed" once no part runs. 0 or -1. */
int journal_job_set_settled(journal *j, const char *id, int settled);
/* Points the job at another base URL (`jobs move`). 0 or -1. */
int journal_job_set_base_url(journal *j, const char *id, const char *url);
/* Deletes a job and its parts from the journal (not their files). */
int journal_job_delete(journal *j, const char *id);
/* Newest first; limit <= 0 means all. */
int journal_jobs_list(journal *j, int limit, journal_job ***out, size_t *n_out);
void journal_job_list_free(journal_job **jobs, size_t n);

int journal_part_set_file(journal *j, const char *job_id, int idx,
                          const char *file_id);
int journal_part_set_batch(journal *j, const char *job_id, int idx,
                           const char *batch_id);
/* The batch id and, for Anthropic, its custom_id map (may be NULL), in
 * one write. 0 or -1. */
int journal_part_set_batch_map(journal *j, const char *job_id, int idx,
                               const char *batch_id, const char *map_json);
/* Anthropic, before its create: the map the batch will have and the time
 * (so that a process that crashed before journaling the batch id can
 * find the batch on the server and adopt it). 0 or -1. */
int journal_part_set_create_started(journal *j, const char *job_id, int idx,
                                    const char *map_json, long long at);
/* OpenAI, before the part's first upload: the time (so that a process
 * that crashed, or lost the answer, before journaling the file id finds
 * the file on the server by its name). 0 or -1. */
int journal_part_set_upload_started(journal *j, const char *job_id, int idx,
                                    long long at);
int journal_part_set_status(journal *j, const char *job_id, int idx,
                            const char *status, long long total,
                            long long completed, long long failed);
/* Appends a part; its idx becomes one more than the largest (set in
 * part->idx). 0 or -1. */
int journal_part_add(journal *j, const char *job_id, journal_part *part);

/* Named locks between processes sharing the journal (an input being
 * submitted, a job being retried). journal_lock_try takes `name` for
 * this process without waiting: 0 taken (or already ours), 1 held by
 * another process (*holder = the pid it wrote in the journal, 0 when
 * none: a pid of another container or host means nothing here), -1
 * error (journal_errmsg says which file and why). The lock is a flock
 * on JOURNAL-locks/HASH, so the kernel drops it when its holder ends,
 * however it ends, and it holds across PID namespaces and NFS hosts.
 * journal_lock_release drops it if this process holds it (0, or -1
 * when its row could not be deleted: the lock is dropped all the same);
 * journal_close drops every lock still held. */
int journal_lock_try(journal *j, const char *name, long *holder);
int journal_lock_release(journal *j, const char *name);

/* Line-range text: "1-3,7" <-> array. encode returns malloc'd text;
 * decode returns a malloc'd array of *n numbers (NULL on bad text). */
char *journal_ranges_encode(const long *lines, size_t n);
long *journal_ranges_decode(const char *text, size_t *n);

/* ---- line maps ----
 * Where the lines of a part are in the user's input file, kept instead
 * of the part's copy (table line_maps, one row per part). `map` is
 * n_lines entries in the part's line order, each four unsigned LEB128
 * varints and bytes: input line, byte offset, byte length (no newline),
 * custom_id length, then the custom_id. lines_sha256 is over the part's
 * lines, each followed by "\n" (the bytes the copy held). */
typedef struct journal_linemap {
    char *input_path;          /* absolute */
    long long input_size;      /* when the map was made */
    char *input_sha256;        /* of the whole input then */
    char lines_sha256[65];
    long n_lines;
    unsigned char *map;
    size_t map_len;
} journal_linemap;

void journal_linemap_clear(journal_linemap *m);
/* Writes the maps of parts idx[0..n) of a job in one transaction
 * (replacing any). 0 or -1. */
int journal_linemaps_put(journal *j, const char *job_id, const int *idx,
                         const journal_linemap *maps, size_t n);
/* 0 found (*out filled; journal_linemap_clear it), 1 none, -1 error. */
int journal_linemap_get(journal *j, const char *job_id, int idx,
                        journal_linemap *out);
/* 1 when the part has a map, 0 when not, -1 on error. */
int journal_linemap_has(journal *j, const char *job_id, int idx);

/* The default journal path: $XDG_STATE_HOME/oaibatch/journal.db or
 * ~/.local/state/oaibatch/journal.db. malloc'd. */
char *journal_default_path(void);

/* ---- the enqueued-token queue (queue.c) ----
 * A job submitted with --enqueued-token-limit keeps its limit and each
 * part's input tokens here (tables made on first use), so that a resumed
 * run goes on with the same queue. */
/* Records the job's limit and the tokens of its parts 1..n in one
 * transaction. 0 or -1. */
int journal_queue_set(journal *j, const char *job_id, long long limit,
                      const long long *tokens, size_t n);
/* 0 (*limit, *tokens: malloc'd array of *n, indexed by idx - 1), 1 when
 * the job has no queue, -1 error. */
int journal_queue_get(journal *j, const char *job_id, long long *limit,
                      long long **tokens, size_t *n);
/* A part whose batch failed with token_limit_exceeded goes back to the
 * queue: its batch id and status are cleared (status "queued") and its
 * refusal counted, in one transaction. 0 or -1. */
int journal_queue_requeue(journal *j, const char *job_id, int idx);
/* How many times the part was refused (0 when never). */
long journal_queue_refusals(journal *j, const char *job_id, int idx);

/* ---- answers, for --reuse-answers (reuse.c) ----
 * Successful answers by the SHA-256 of their request's canonical body
 * (custom_id aside); one row per hash, the first answer kept. */
typedef struct journal_answer {
    char *job_id, *batch_id;
    long line;               /* the line of the job's input */
    char *record;            /* the result record (compact JSONL text) */
} journal_answer;
/* Adds an answer unless the hash has one. 0 or -1. */
int journal_answer_put(journal *j, const char *hash, const char *job_id,
                       const char *batch_id, long line, const char *record);
/* 0 found (*out filled, free with journal_answer_clear), 1 none, -1. */
int journal_answer_get(journal *j, const char *hash, journal_answer *out);
void journal_answer_clear(journal_answer *a);
/* Begins / commits a write transaction around many journal_answer_put. */
int journal_answers_begin(journal *j);
int journal_answers_commit(journal *j);

#endif
