/* help.c - the help text of every subcommand (the command table in
 * commands.c points at them). docs/cli.md quotes these texts verbatim
 * (tests/test_cli.py compares them). */
#include "commands.h"

/* The option lines of the options that several commands share. */
#define HELP_SUBMIT_OPTIONS                                                   \
    "  --metadata KEY=VALUE   batch metadata (repeatable, at most 14; keys\n" \
    "                         up to 64 characters, not oaibatch_...)\n" \
    "  --endpoint PATH        the batch's endpoint (default: the lines' url;\n" \
    "                         checked against it before anything is sent)\n" \
    "  --force                a new job even if this file was submitted\n" \
    "  --max-lines N          at most N lines per part, exactly (default:\n" \
    "                         the API's 50000 less a 2% margin, 49000)\n" \
    "  --max-bytes N          at most N bytes per part, exactly (default\n" \
    "                         200000000 less 2%; above 200000000 warns)\n" \
    "  --dry-run              show the parts (lines, bytes, first and last\n" \
    "                         input line); send nothing\n" \
    "  --output-expires-after SECONDS\n"                                      \
    "                         the output files expire after SECONDS (3600\n" \
    "                         to 2592000)\n"                                  \
    "  --delete-inputs-after  once the job completed, delete the input\n"    \
    "                         files it uploaded\n"                          \
    "  --max-cost USD         refuse the job (exit 4, nothing sent) when its\n" \
    "                         estimated cost may be above USD, or a model\n" \
    "                         has no price\n" \
    "  --enqueued-token-limit N\n"                                           \
    "                         queue under the provider's limit of N input\n" \
    "                         tokens enqueued for the model: parts cut to\n" \
    "                         fit, started while they fit together, a part\n" \
    "                         refused with token_limit_exceeded sent again\n" \
    "                         later; the queue is in the journal (run the\n" \
    "                         same command again to resume it)\n" \
    "  --tier N               the limit of OpenAI usage tier N (1-5) for the\n" \
    "                         model, from the published tables (docs/guide.md)\n"

#define HELP_WAIT_OPTIONS                                                     \
    "  --interval SECONDS     first poll interval (default 5)\n"              \
    "  --max-interval SECONDS longest poll interval (default 60)\n"           \
    "  --cancel-on-interrupt  on Ctrl-C, cancel the unfinished batches\n"     \
    "  --timeout SECONDS      stop waiting after SECONDS (exit 3)\n"          \
    "  --cancel-on-timeout    then cancel the unfinished batches\n"

const char cli_help_main[] =
    "Usage: oaibatch [GLOBAL OPTIONS] COMMAND [ARGS]\n"
    "\n"
    "Run OpenAI Batch API jobs from the shell, with a local journal so that\n"
    "a crash, a Ctrl-C or a second run never loses or double-pays a job.\n"
    "\n"
    "Commands:\n"
    "  validate FILE   check a batch input file; every problem with its line\n"
    "  build INPUT     make a batch input file from prompts\n"
    "  submit FILE     validate, split, upload and create; then wait\n"
    "  status ID       show a job or a batch\n"
    "  wait ID         wait for a job or a batch to finish\n"
    "  cancel ID       cancel a job's batches, or one batch\n"
    "  results ID      write the merged results of a job or a batch\n"
    "  retry ID        resubmit a job's failed, expired or cancelled lines\n"
    "  list            list the batches on the server\n"
    "  jobs            list the jobs in the local journal (rm, prune)\n"
    "  run FILE        submit, wait and write the results in one go\n"
    "  serve           run the local Batch API server\n"
    "  files ACTION    list, get, download or delete files on the server\n"
    "  completion SHELL print a completion script (bash, zsh, fish)\n"
    "  watch           a live table of the unfinished jobs\n"
    "  tokens [FILE]   count the tokens of JSON strings, one per line\n"
    "  estimate FILE   tokens and cost of a batch input file, before sending\n"
    "  delete BATCH    delete an ended Anthropic batch and its results\n"
    "\n"
    "ID is a job id (job_...) from the journal or a batch id (batch_...,\n"
    "msgbatch_... for Anthropic).\n"
    "\n"
    "Global options (before or after the command):\n"
    "  --base-url URL      API base URL (default $OPENAI_BASE_URL, else\n"
    "                      https://api.openai.com/v1)\n"
    "  --api-key-env NAME  read the API key from $NAME, not $OPENAI_API_KEY\n"
    "  --provider P        openai (default) or anthropic: Anthropic's\n"
    "                      Message Batches (default $OAB_PROVIDER; a model\n"
    "                      written anthropic:claude-... in the input chooses\n"
    "                      it too; a job keeps the provider it was made on)\n"
    "  --anthropic-max-tokens N\n"
    "                      Anthropic: max_tokens sent for a line that has no\n"
    "                      max_tokens or max_completion_tokens (default:\n"
    "                      such a line is refused before anything is sent)\n"
    "  --journal PATH      the journal (default\n"
    "                      $XDG_STATE_HOME/oaibatch/journal.db, else\n"
    "                      ~/.local/state/oaibatch/journal.db)\n"
    "  --json              machine-readable output on stdout\n"
    "  -q, --quiet         no progress or information on stderr\n"
    "  --color WHEN        auto (default), always or never\n"
    "  --no-color          the same as --color never\n"
    "  -h, --help          this help; 'oaibatch COMMAND --help' for a command\n"
    "  --version           print the version\n"
    "\n"
    "Environment: OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_ORG_ID,\n"
    "OPENAI_PROJECT_ID, OAB_PROVIDER, ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL\n"
    "(default https://api.anthropic.com), XDG_STATE_HOME, NO_COLOR (no\n"
    "colour when set).\n"
    "\n"
    "Exit codes:\n"
    "  0    success\n"
    "  1    a batch or a line failed (as the command reports)\n"
    "  2    usage error\n"
    "  3    API, network or server error, or no API key\n"
    "  4    the input file failed validation\n"
    "  5    local error (file, journal, unknown id)\n"
    "  130  interrupted (the batches keep running: 'oaibatch wait ID')\n";

const char cli_help_validate[] =
    "Usage: oaibatch validate [OPTIONS] FILE\n"
    "\n"
    "Check a batch input file (JSONL) before it is sent: its format and the\n"
    "fields every request needs. UTF-8 JSON on every line (no byte order\n"
    "mark), custom_id present and unique, method POST, one url and one model\n"
    "for the file, a body object with its model; chat completions need\n"
    "messages (an array of message objects), embeddings an input; no line\n"
    "may ask for stream: true. What only the model can judge (roles, content,\n"
    "the other body fields) is not checked: such a line comes back as an\n"
    "error answer of its own. Every problem is printed with its line number.\n"
    "A file over one batch's limits (50,000 lines, 200 MB) is noted, not\n"
    "refused: submit splits it.\n"
    "Exits 0 when the file is valid, 4 when it is not.\n"
    "FILE '-' reads standard input.\n"
    "\n"
    "Options:\n"
    "  --max-problems N  report at most N problems (default 10000)\n"
    "  --json            print the report as JSON\n";

const char cli_help_build[] =
    "Usage: oaibatch build [OPTIONS] INPUT\n"
    "\n"
    "Make a batch input file (JSONL) from prompts: a text file with one\n"
    "prompt per line (blank lines skipped), or a column of a CSV file (with\n"
    "a header row) or of a JSONL file. A UTF-8 byte order mark at the start\n"
    "of INPUT is skipped. INPUT without a prompt is refused. INPUT '-' reads\n"
    "standard input.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE    write here (default: standard output)\n"
    "  --model NAME         the model of every request (required)\n"
    "  --endpoint KIND      chat (default), responses or embeddings\n"
    "  --system TEXT        system prompt (responses: instructions)\n"
    "  --max-tokens N       most output tokens per request (1 or more)\n"
    "  --temperature X      sampling temperature\n"
    "  --tools FILE         a JSON array of tool definitions\n"
    "  --schema FILE        a JSON Schema the answers must follow\n"
    "  --schema-name NAME   the schema's name (default final_result; only\n"
    "                       with --schema)\n"
    "  --mode MODE          how the schema is sent: native (default), tool or\n"
    "                       prompted (only with --schema)\n"
    "  --no-strict          send the schema as written, not made strict\n"
    "                       (only with --schema)\n"
    "  --format FORMAT      INPUT is text, csv or jsonl (default: by the\n"
    "                       file name's extension, else text)\n"
    "  --column NAME        the prompt column of csv or jsonl (default\n"
    "                       prompt)\n"
    "  --id-column NAME     take each custom_id from this column (a value\n"
    "                       used twice is refused)\n"
    "  --id-prefix TEXT     generated custom_ids are TEXT1, TEXT2, ...\n"
    "                       (default request-)\n";

const char cli_help_submit[] =
    "Usage: oaibatch submit [OPTIONS] FILE\n"
    "\n"
    "Validate FILE, split it when it is over one batch's limits, upload the\n"
    "parts and create one batch per part; print the job id and the batch\n"
    "ids. The job (parts, file ids, batch ids) is written to the journal\n"
    "before every network step, so running the command again after a crash\n"
    "or Ctrl-C carries on where it stopped. Submitting the same file with\n"
    "the same options again re-attaches to its job instead of paying twice,\n"
    "unless --force. Then waits like 'oaibatch wait', unless --no-wait.\n"
    "Before sending it prints the estimate (lines, input tokens, output\n"
    "bound, cost range at batch prices; see 'oaibatch estimate') on stderr.\n"
    "FILE '-' reads standard input.\n"
    "\n"
    "Options:\n"
    "  --no-wait              return once the batches are created\n"
    "  --completion-window W  the completion window (default 24h, the only\n"
    "                         one OpenAI takes)\n"
    HELP_SUBMIT_OPTIONS
    HELP_WAIT_OPTIONS
    "  --json                 print the job as JSON\n";

const char cli_help_status[] =
    "Usage: oaibatch status [OPTIONS] ID\n"
    "\n"
    "Show a job (each of its batches) or one batch as the server has it now,\n"
    "and the actual cost from the usage the batches report (at batch prices;\n"
    "'cost' in the JSON). A part waiting for the enqueued-token limit is\n"
    "'queued'.\n"
    "\n"
    "Options:\n"
    "  --json  print as JSON\n";

const char cli_help_wait[] =
    "Usage: oaibatch wait [OPTIONS] ID\n"
    "\n"
    "Wait until every batch of the job, or the batch, has finished. On a\n"
    "terminal a progress bar shows the counts, the rate and the time so\n"
    "far; a batch that is validating or finalizing is named as such. Ctrl-C\n"
    "stops waiting and leaves the batches running (resume with 'oaibatch\n"
    "wait ID'), unless --cancel-on-interrupt. A poll that fails for a\n"
    "passing reason (no connection, a timeout, HTTP 429 or 5xx) is tried\n"
    "again with the same backoff until the batches end or --timeout runs\n"
    "out, saying once that the server cannot be reached and again when it\n"
    "is back; authentication and other HTTP 4xx errors stop at once.\n"
    "Exits 0 when the job completed (every batch completed, or retries\n"
    "answered every line the first batches did not), 1 when a batch\n"
    "failed, expired or was cancelled, 3 when --timeout ran out.\n"
    "\n"
    "Options:\n"
    HELP_WAIT_OPTIONS
    "  --json                 print the final state as JSON\n";

const char cli_help_cancel[] =
    "Usage: oaibatch cancel [OPTIONS] ID\n"
    "\n"
    "Cancel every unfinished batch of the job, or the batch. Lines already\n"
    "done stay in the results ('oaibatch results ID'). A batch that ends\n"
    "before its cancel comes (the server answers 409) is said to have\n"
    "ended, not taken for an error.\n"
    "\n"
    "Options:\n"
    "  --json  print the state after cancelling as JSON\n";

const char cli_help_results[] =
    "Usage: oaibatch results [OPTIONS] ID\n"
    "       oaibatch results [OPTIONS] --output-file FILE [--error-file FILE]\n"
    "                        [--input FILE]\n"
    "\n"
    "Write the results of a job (every part and retry merged, a retried\n"
    "line's latest answer winning) or of one batch: output and error files\n"
    "both, the partial results of expired and cancelled batches included,\n"
    "structured output checked against the schema the input lines carry.\n"
    "With --output-file it reads files already on disk; no server needed.\n"
    "-o replaces a regular file atomically (a symlink's target likewise,\n"
    "beside the target); a FIFO, a device or /dev/stdout is written\n"
    "through. A summary goes to stderr, with the actual cost: the usage\n"
    "the answers report at the built-in batch prices. A job or batch that\n"
    "has not finished gets no results (exit 1; -o leaves its file as it\n"
    "was) unless --partial. Exits 1 when a line did not succeed.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE       write here (default: standard output)\n"
    "  --format FORMAT         jsonl (default), csv or table\n"
    "  --only STATUS[,...]     keep only these: succeeded, failed (anything\n"
    "                          but succeeded), http_error, error, expired,\n"
    "                          cancelled, invalid_output, malformed, missing\n"
    "  --in-input-order        order by input line (default: as read)\n"
    "  --raw                   add each response body (jsonl)\n"
    "  --partial               write the lines of the batches that have\n"
    "                          ended, of a job not finished yet (a batch\n"
    "                          has no output file before its end; exits 1)\n"
    "  --output-file FILE      an output file on disk\n"
    "  --error-file FILE       an error file on disk\n"
    "  --input FILE            the input file those results belong to\n";

const char cli_help_retry[] =
    "Usage: oaibatch retry [OPTIONS] ID\n"
    "\n"
    "Resubmit the lines of a job that did not succeed as a new batch, linked\n"
    "to the job in the journal; 'oaibatch results ID' then merges its\n"
    "results into the job's (a line's newest answer wins). Without\n"
    "--failed, --expired, --cancelled, --invalid or --truncated, the first\n"
    "three. Then waits like 'oaibatch wait', unless --no-wait.\n"
    "\n"
    "Options:\n"
    "  --failed               lines that failed: errors, HTTP errors,\n"
    "                         invalid, malformed or missing answers\n"
    "  --expired              lines an expired batch did not run\n"
    "  --cancelled            lines a cancelled batch did not run\n"
    "  --invalid              lines whose structured output failed its\n"
    "                         schema (re-asking)\n"
    "  --truncated            lines whose answer was cut by max_tokens\n"
    "                         (finish_reason length)\n"
    "  --no-wait              return once the batch is created\n"
    HELP_WAIT_OPTIONS
    "  --json                 print the job as JSON\n";

const char cli_help_list[] =
    "Usage: oaibatch list [OPTIONS]\n"
    "\n"
    "List the batches on the server, newest first.\n"
    "\n"
    "Options:\n"
    "  --limit N    how many (default 20, at most 100 per page)\n"
    "  --all        every batch, page after page\n"
    "  --status S   only the batches in status S\n"
    "  --after ID   the page after batch ID\n"
    "  --before ID  the page before batch ID (Anthropic's other cursor)\n"
    "  --json       print as JSON\n";

const char cli_help_jobs[] =
    "Usage: oaibatch jobs [OPTIONS]\n"
    "       oaibatch jobs rm [--cancel] [--delete-files] JOB\n"
    "       oaibatch jobs prune --older-than DURATION [--delete-files]\n"
    "       oaibatch jobs move JOB --to URL\n"
    "\n"
    "List the jobs in the local journal, newest first, with the status last\n"
    "seen for each batch ('oaibatch status ID' asks the server).\n"
    "'jobs rm JOB' removes a job and its part files from the journal; it\n"
    "refuses while the job's batches are running, unless --cancel (which\n"
    "cancels them first). 'jobs prune' removes every finished job created\n"
    "longer ago than DURATION (30d, 12h, 15m, 45s); a job another oaibatch\n"
    "is using is left (exit 1), the others still go.\n"
    "With --delete-files, rm and prune first delete what the server keeps\n"
    "of the job: the input files it uploaded and its batches' output and\n"
    "error files (Anthropic: its batches, results and all). rm --cancel\n"
    "then waits for the cancelled batches to end, as their output files\n"
    "come last. A job with something not deleted stays in the journal\n"
    "(exit 3): the same command again deletes the rest.\n"
    "A job's commands go to the server it was submitted to, whatever\n"
    "--base-url says; 'jobs move JOB --to URL' re-points it, once every one\n"
    "of its batches is found there (a local server restarted on another\n"
    "port, a gateway that moved).\n"
    "\n"
    "Options:\n"
    "  --limit N              how many (default 20, 0 for all)\n"
    "  --refresh              ask the server about unfinished jobs first\n"
    "  --cancel               rm: cancel the running batches first\n"
    "  --delete-files         rm, prune: delete the job's files on the\n"
    "                         server first\n"
    "  --older-than DURATION  prune: the age of the jobs to remove\n"
    "  --to URL               move: the base URL the job's batches are at\n"
    "  --interval SECONDS     rm --cancel --delete-files: first poll\n"
    "                         interval (default 5)\n"
    "  --max-interval SECONDS longest poll interval (default 60)\n"
    "  --timeout SECONDS      stop waiting after SECONDS (exit 3)\n"
    "  --json                 print as JSON\n";

const char cli_help_files[] =
    "Usage: oaibatch files list [--purpose P] [--limit N] [--after ID]\n"
    "       oaibatch files get ID\n"
    "       oaibatch files download ID [--error] [-o FILE]\n"
    "       oaibatch files delete ID\n"
    "\n"
    "The files behind batches on the server. 'list' shows one page of them,\n"
    "newest first (--json: the File objects). ID is a file id (file-...)\n"
    "or, for download, a batch id: its raw output file, or with --error its\n"
    "error file, as the provider wrote it. 'get' shows a file's name,\n"
    "purpose and size (--json: the File object). 'delete' deletes one; a\n"
    "404 to a try sent again after a lost answer is that first try's\n"
    "deletion (exit 0).\n"
    "\n"
    "Options:\n"
    "  --purpose P        list: only files of purpose P (batch,\n"
    "                     batch_output, ...)\n"
    "  --limit N          list: at most N files, 1 to 10000 (default: the\n"
    "                     server's, 10000)\n"
    "  --after ID         list: the page after file ID\n"
    "  -o, --output FILE  download: write here (default: standard output)\n"
    "  --error            download: the batch's error file\n"
    "  --json             list, get: print the File objects\n";

const char cli_help_run[] =
    "Usage: oaibatch run [OPTIONS] FILE\n"
    "\n"
    "Submit FILE, wait for it and write its results: submit, wait and\n"
    "results in one go. Ctrl-C leaves the job running; 'oaibatch results\n"
    "ID' gets the results later. Exits 0 when every line succeeded, 1 when\n"
    "a line did not.\n"
    "FILE '-' reads standard input.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE      write the results here (default: standard\n"
    "                         output)\n"
    "  --reask N              up to N rounds of re-asking: the lines whose\n"
    "                         structured output failed its schema or was cut\n"
    "                         by max_tokens are sent again (as 'retry\n"
    "                         --invalid --truncated'); each round says how\n"
    "                         many it fixed\n"
    "  --reuse-answers        do not send a line whose request (custom_id\n"
    "                         aside) has a successful answer in the journal\n"
    "                         from a run with this option; its result is\n"
    "                         that answer, with reused_from {job, batch,\n"
    "                         line}\n"
    "  --format FORMAT        jsonl (default), csv or table\n"
    "  --only STATUS[,...]    keep only these results (as in results)\n"
    "  --in-input-order       order the results by input line\n"
    "  --raw                  add each response body (jsonl)\n"
    HELP_SUBMIT_OPTIONS
    HELP_WAIT_OPTIONS;

const char cli_help_serve[] =
    "Usage: oaibatch serve [OPTIONS]\n"
    "\n"
    "Run the local Batch API server (Files and Batches over HTTP, lines run\n"
    "against an upstream model server). Its options: 'oaibatch serve\n"
    "--help'.\n";

const char cli_help_completion[] =
    "Usage: oaibatch completion bash|zsh|fish\n"
    "\n"
    "Print a shell completion script for oaibatch, made from the same\n"
    "command and option tables as --help. Load it with\n"
    "'source <(oaibatch completion bash)' (or zsh), or\n"
    "'oaibatch completion fish | source'.\n";

const char cli_help_tokens[] =
    "Usage: oaibatch tokens [OPTIONS] [FILE|-]\n"
    "\n"
    "Count tokens the way OpenAI's tiktoken does. Every line of FILE (or of\n"
    "standard input) is a JSON string; one count per line is printed, in\n"
    "order (empty lines are skipped). Special tokens such as <|endoftext|>\n"
    "count as plain text. A line that is not a JSON string stops the count\n"
    "with FILE:LINE.\n"
    "\n"
    "Options:\n"
    "  --encoding NAME   o200k_base (default) or cl100k_base\n"
    "  --model MODEL     the encoding of MODEL (gpt-4o, gpt-4, ...)\n"
    "  --encodings DIR   where NAME.tiktoken is (default $OAB_ENCODINGS_DIR,\n"
    "                    else ~/.local/share/oaibatch/encodings, else the\n"
    "                    installed share/oaibatch/encodings)\n"
    "  --ids             print each line's token ids as a JSON array\n"
    "  --threads N       count on N threads, 1 to 8 (default: the machine's\n"
    "                    CPUs, at most 8); the output is the same for every N\n";

const char cli_help_estimate[] =
    "Usage: oaibatch estimate [OPTIONS] FILE\n"
    "\n"
    "Estimate what a batch input file (JSONL) will use and cost, before it\n"
    "is sent: per model and in total, the lines, the input tokens (counted\n"
    "as OpenAI's tiktoken does, with the documented per-message rules), an\n"
    "upper bound of the output tokens (max_completion_tokens, max_tokens or\n"
    "max_output_tokens of each line, else the model's own limit), and the\n"
    "cost at batch prices: from input only to input plus the output bound.\n"
    "A line that cannot be read stops the estimate with FILE:LINE.\n"
    "\n"
    "Options:\n"
    "  --prices FILE               the price table (default: the built-in\n"
    "                              one, data/prices.tsv; see docs/tokens.md)\n"
    "  --expect-output-tokens N    also an expected cost, at N output\n"
    "                              tokens a line (at most its bound)\n"
    "  --encoding NAME             the encoding of models not known to the\n"
    "                              tokenizer (default: such a line is an\n"
    "                              error)\n"
    "  --encodings DIR             where the rank files are (see 'tokens')\n"
    "  --threads N                 count on N threads, 1 to 8 (default: the\n"
    "                              machine's CPUs, at most 8); the result is\n"
    "                              the same for every N\n"
    "  --json                      machine-readable output\n";

const char cli_help_watch[] =
    "Usage: oaibatch watch [OPTIONS]\n"
    "\n"
    "A live table of the journal's unfinished jobs and their batches:\n"
    "status, done/total, failed, rate and ETA, refreshed every few seconds\n"
    "(the statuses are written to the journal as they are seen); a part\n"
    "waiting for the enqueued-token limit shows as queued. On a\n"
    "terminal the table is redrawn in place; q leaves. Off a terminal the\n"
    "table is printed at each refresh, and the command ends once every job\n"
    "has finished. A job whose server cannot be read is shown as last seen\n"
    "and counts as unfinished (watch goes on; --once exits 3).\n"
    "\n"
    "Options:\n"
    "  --interval SECONDS  time between refreshes (default 5)\n"
    "  --once              show the table once and leave\n";

const char cli_help_delete[] =
    "Usage: oaibatch delete BATCH\n"
    "\n"
    "Delete an Anthropic batch that has ended, with its results (Anthropic\n"
    "only: OpenAI's batches cannot be deleted). A batch of a journal job\n"
    "goes to the provider and server the job was made on; the job stays in\n"
    "the journal ('oaibatch jobs rm JOB').\n";
