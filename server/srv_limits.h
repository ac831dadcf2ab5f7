/* srv_limits.h - every cap of the local server in one place (the library's
 * own caps live in include/oaibatch.h). Each is a default; some can be
 * changed by a flag of `oaibatch serve` (named beside it). */
#ifndef OAB_SERVER_SRV_LIMITS_H
#define OAB_SERVER_SRV_LIMITS_H

/* ---- configuration ---- */
#define SRV_MAX_KEYS 16                  /* --api-key and --upstream entries */
#define SRV_MAX_CONCURRENCY 4096         /* --concurrency is clamped to this */

/* ---- HTTP front end ---- */
#define SRV_MAX_JSON_BYTES (64u * 1024 * 1024) /* a JSON request body */
#define SRV_MAX_JSON_DEPTH 64            /* nesting of a JSON request body */
#define SRV_CONN_MEMORY (64 * 1024)      /* libmicrohttpd buffer per connection */
#define SRV_CONN_LIMIT 1000              /* open connections in all */
#define SRV_CONN_PER_IP 64               /* --max-conns-per-ip */
#define SRV_CONN_TIMEOUT_S 15            /* --conn-timeout: idle or slow header */
#define SRV_BODY_BUDGET (256ull * 1024 * 1024) /* --body-budget: JSON bodies
                                                  buffered at once */
#define SRV_UPLOAD_CHUNK (64 * 1024)     /* multipart parser buffer */
#define SRV_FIELD_MAX 64                 /* a multipart text field (purpose) */

/* ---- the engine ---- */
#define SRV_PAGE 512                     /* pending lines fetched at once */
#define SRV_CLAIM_MIN 32                 /* shared state: fewest claimed */
#define SRV_READ_CHUNK (256 * 1024)      /* input file read size */
#define SRV_MAX_RESP_BYTES (64u * 1024 * 1024) /* an upstream answer */
#define SRV_SCAN_SECONDS 0.2             /* batches table rescanned */
#define SRV_SWEEP_SECONDS 5.0            /* expired files looked for */
#define SRV_GONE_PAGE 1000               /* copies gone, read at once */
#define SRV_GONE_KEEP (7 * 86400)        /* names gone remembered */
#define SRV_GONE_FORGET_EVERY 3600.0     /* older names gone dropped */
#define SRV_STOP_GRACE_S 60              /* --stop-grace's default */
#define SRV_CURSOR_KEEP (7 * 86400)      /* a deleted file's place in the
                                            list, for ?after= */
#define SRV_GONE_PAGES 20                /* pages of them a sweep reads */
#define SRV_GONE_SETTLE_S 60             /* names gone read again so long */
#define SRV_BATCH_FILE_TTL (30 * 86400)  /* default expiry of purpose=batch */
#define SRV_EXPIRES_MIN 3600             /* expires_after[seconds] range */
#define SRV_EXPIRES_MAX 2592000
#define SRV_DISPATCH_BUDGET 256          /* lines started per loop turn */

/* ---- the built-in test model (one answer) ---- */
#define SRV_TM_MAX_ANSWER_BYTES (4u * 1024 * 1024) /* generated output */
#define SRV_TM_MAX_STEPS 20000           /* schema nodes generated */
#define SRV_TM_MAX_STRING 100000         /* one generated string */
#define SRV_TM_MAX_ITEMS 1000            /* one generated array */
#define SRV_TM_MAX_DEPTH 32              /* schema nesting followed */
#define SRV_TM_MINIMAL_DEPTH 8           /* past it: smallest valid values */
#define SRV_TM_MAX_EMBED_DIMS 8192       /* embeddings `dimensions` */
#define SRV_TM_MAX_EMBED_VALUES (1024 * 1024) /* dimensions x inputs */

/* adaptive concurrency (upstream.c) */
#define SRV_CONCURRENCY_DEFAULT 256      /* --concurrency: window cap */
#define SRV_WINDOW_START 8               /* each upstream's first window */
#define SRV_SLOW_START_STEP 0.5          /* added per answer in slow start
                                            (x1.5 per round trip), until
                                            the window's first cut */
#define SRV_UP_FAILS_OUT 5               /* failures in a row: out */
#define SRV_UP_PROBE_FIRST 1.0           /* seconds out before a probe */
#define SRV_UP_PROBE_MAX 60.0            /* the delay doubles up to this */
#define SRV_UP_WEIGHT_MAX 1000           /* --upstream-weight */
/* latency: the window is cut to SRV_LAT_DECREASE of itself when the
 * latency passes SRV_LAT_TOLERANCE (--latency-tolerance; 0 = off) x the
 * baseline: in slow start one round trip, after it the smoothed round
 * trip (EWMA, SRV_LAT_ALPHA per answer). The first baseline is the mean
 * of the first SRV_LAT_WARMUP answers (all sent at about the start
 * window; no cut before them), then the smoothed value's lowest over the
 * last one to two SRV_LAT_PERIOD seconds */
#define SRV_LAT_TOLERANCE 2.0
#define SRV_LAT_DECREASE 0.8
#define SRV_LAT_ALPHA 0.05
/* ... and only when it is also this many seconds above the baseline: a
 * rise of a few milliseconds is the noise of this server's own loop and
 * of the network, not a model server's queue, and against a fast
 * upstream (round trips of a millisecond, which double with any jitter)
 * cutting on it ratcheted the window down to 2 (each cut lowers the
 * round trip, and so the baseline, its lowest value) */
#define SRV_LAT_MIN_RISE 0.010
#define SRV_LAT_PERIOD 30.0
#define SRV_LAT_WARMUP SRV_WINDOW_START
/* a batch whose expiry is this near (share of its window) runs as high */
#define SRV_DEADLINE_SHARE 0.10

#endif
