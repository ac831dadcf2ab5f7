#!/usr/bin/env python3
"""Writes docs/cli.md and docs/oaibatch.1 from the help texts of the built
command, so that the reference matches --help word for word.

Usage: python3 cli/gen_docs.py BUILD/cli/oaibatch docs/
"""
import os
import subprocess
import sys

CLI = sys.argv[1]
DOCS = sys.argv[2]
COMMANDS = ["validate", "build", "submit", "status", "wait", "cancel",
            "results", "retry", "list", "jobs", "run", "files", "completion", "watch",
            "tokens", "estimate", "delete"]
def h(*a):
    return subprocess.run([CLI, *a, "--help"], capture_output=True, text=True).stdout
def block(*a):
    return "```text\n" + h(*a) + "```\n"
notes = {
"validate": """`--json` prints:

```json
{"file": "in.jsonl", "valid": false, "lines": 4, "bytes": 612,
 "url": "/v1/chat/completions", "model": "gpt-4o-mini",
 "over_batch_limits": false,
 "problems": [{"line": 2, "code": "invalid_json_line", "message": "...", "param": null}],
 "problems_total": 1}
```
""",
"build": """Examples:

```sh
oaibatch build prompts.txt --model gpt-4o-mini --system "Answer briefly." -o in.jsonl
oaibatch build questions.csv --column question --id-column id --model gpt-4o-mini \\
    --schema answer.schema.json --mode tool -o in.jsonl
oaibatch build docs.jsonl --column text --endpoint embeddings --model text-embedding-3-small
```

`--tools FILE` takes either the API's form
(`[{"type": "function", "function": {"name", "description", "parameters"}}]`)
or the short form (`[{"name", "description", "parameters"}]`).
""",
"submit": """What is written to the journal, and when:

1. the job (file fingerprint, endpoint, model, metadata) and its parts
   (each part's file under the journal's folder, `parts/JOB/`, and the
   input line of each of its lines), before anything is sent;
2. the time each part's upload is first sent, then its file id, as soon
   as the upload returns;
3. each part's batch id, as soon as the create returns.

Each part is uploaded as `JOB.partNNN.jsonl` (a retry as
`JOB.retryNNN.jsonl`): files carry no metadata, so the name is how the
part's file is found again. Run the same command again after a crash or
Ctrl-C and it carries on: a part with a file id is not uploaded again; a
part whose upload was sent but whose file id never reached the journal
(a crash in between, or a timeout, a reset or a 5xx that lost the
answer, which `submit` checks at once) takes the file of that name and
size uploaded since then, and deletes any other copy of it, instead of
uploading a second one. An upload the library had to send more than
once (after a 5xx or a timeout, whose try may have been stored too) is
followed by the same look, and the other copies are deleted. A server
with no `GET /files` (a gateway answering 404) gets the part uploaded
again, with a warning. A part with a file id but no
batch id is first looked for on the server (a batch made from that file,
in case the crash came between the create and the journal write) and
created only if there is none. A create is never sent twice blind: the
library tries it again only when the server surely did not take it (no
connection, 408, 429); after a timeout, a reset or a 5xx, `submit` looks
for the part's batch on the server at once and takes it if it exists,
else says the create failed (run again: the same look comes first).
Each batch carries the metadata `oaibatch_job` and `oaibatch_part`
besides yours.

The fingerprint is the SHA-256 of the file's bytes, the base URL, the
endpoint, the completion window, the metadata and the split limits.

Several processes may share the journal. Submitting (or `run`ning) the
same input from several at once ends in one job: the first takes the
input's lock (taken before any upload) and makes the job; the others
wait for it, re-attach, print the same job id and exit as it does. A
lock is an `flock` on a file in `JOURNAL-locks/` (named by a hash of
the fingerprint or job id, removed on release): the kernel drops it
when its process ends, even by `kill -9`, and it holds between
processes that do not see each other (containers sharing the journal's
folder, hosts sharing it over NFS with working locks). The journal's
`locks` table only names the holder's pid in the "waiting for" message.
`retry` holds the job's lock until its batch exists: a second
retry at the same time finds that retry running and follows it instead
of sending its lines again.

Prints the job id, then one batch id per line (with `--json`, the
status document of `oaibatch status --json`).
""",
"status": """`--json` prints (the same document for `wait`, `cancel`, `submit --json`,
`retry --json`):

```json
{"job": {"id": "job_5f0c...", "created_at": 1764042000, "input_path": "in.jsonl",
         "endpoint": "/v1/chat/completions", "model": "gpt-4o-mini", "lines": 120000,
         "base_url": "https://api.openai.com/v1", "fingerprint": "9c1e...",
         "metadata": {"team": "search"}},
 "status": "in_progress",
 "batches": [{"part": 1, "kind": "part", "lines": 49000, "file_id": "file-...",
              "batch_id": "batch_...", "status": "completed",
              "request_counts": {"total": 49000, "completed": 48990, "failed": 10},
              "output_file_id": "file-...", "error_file_id": "file-...",
              "endpoint": "/v1/chat/completions", "created_at": 1764042005,
              "errors": []}]}
```

For a batch that is not in the journal, `job` is null and the batch's
`part` and `lines` are null, `kind` is `"batch"`. `kind` is `"retry"` for
batches made by `oaibatch retry`. A part not yet uploaded has status
`not_uploaded`; uploaded but not created, `not_created`. The job's
`status` is the least advanced status of its batches while any is
unfinished, then `completed` when all completed, else the first other
final status.
""",
"wait": """Without a terminal (or with `--quiet` off and output redirected), each
change of a batch's status is printed as one line on stderr instead of
the bar. The poll interval starts at `--interval` and grows by half each
time up to `--max-interval`.

A retry part that has no batch (its upload or create failed, or a crash
cut `retry` short) is started first, under the job's lock, as `retry`
would; a first part with no batch (its job is queued, or `submit` was
cut short) is left to `submit`, which resumes it with the job's options.
""",
"results": """Each JSONL line:

```json
{"custom_id": "request-7", "status": "succeeded", "input_line": 7,
 "status_code": 200, "output": "...", "parsed": {"answer": "..."},
 "invalid_reason": null, "finish_reason": "stop", "tool_calls": [...],
 "error": null, "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25},
 "batch_id": "batch_...", "request_id": "req_..."}
```

`parsed` and `invalid_reason` appear when the line asked for structured
output; `tool_calls` when the model called tools; `embedding` (one
input) or `embeddings` (several) for embeddings; `body` with `--raw`.
`status` is one of succeeded, http_error, error, expired, cancelled,
invalid_output, malformed, missing. `error` holds the code and message
wherever the line kept them (top-level `error`, or
`response.body.error` of an HTTP error).

CSV columns: custom_id, input_line, status, status_code, output, parsed,
error_code, error_message, finish_reason, prompt_tokens,
completion_tokens, total_tokens, batch_id.

Merging (a job with retries) and `--in-input-order` keep in memory each
line's custom_id and a few numbers, not the line: the lines wait in a
temporary file in `$TMPDIR` (else `/tmp`), deleted as soon as it is made
(nothing is left behind, even after `kill -9`), which needs as much room
as the results. If that folder fills up, the command says so and exits
5; `-o` then leaves no file.
""",
"retry": """A retry part left without its batch by an earlier `retry` (a failed
upload or create) is started first, then followed like a running retry.

The retry file holds the original lines (from the job's part files kept
next to the journal) and is recorded as a part of kind `retry`, with the
input line of each of its lines, so `results --in-input-order` puts the
new answers where the old ones were.
""",
"list": """`--json` prints the Batch objects as the server sent them, in an array.
""",
"jobs": """`--json` prints an array of `{"id", "created_at", "input_path", "lines",
"endpoint", "status", "batches": [{"part", "kind", "lines", "file_id",
"batch_id", "status"}]}`, from the journal alone (no network).

`jobs rm` first looks on the server for the batch of any part whose
create may have been sent but has no batch in the journal (a crash
between the create and the journal write: OpenAI, a part with an
uploaded file; Anthropic, a part whose create was sent, found as
`submit` finds it), so that `--cancel` cancels it rather than leave
it running with no job that knows it. It refuses at once (exit 1), and
removes nothing, while another oaibatch holds one of the job's locks:
submitting its input (until every part has its batch) or starting a
retry of it.
""",
}
out = []
out.append("""# `oaibatch`: command reference

The command-line face of the library: every Batch API task from a shell,
with a local journal (SQLite) so that a crash, a Ctrl-C or a second run
never orphans or double-pays a job. The help texts below are what
`oaibatch --help` and `oaibatch COMMAND --help` print, word for word (a
test compares them).

Output for people goes to stdout; progress and diagnostics go to stderr.
Colour and progress bars appear only on a terminal, and no colour when
`NO_COLOR` is set or `TERM=dumb` (unless `--color always`). `--json` output is stable: fields are only ever
added.

## Overview

""")
out.append(block())
out.append("""
A typical session:

```sh
oaibatch build prompts.txt --model gpt-4o-mini -o in.jsonl
oaibatch validate in.jsonl
oaibatch submit in.jsonl --no-wait          # prints job_... and batch_...
oaibatch wait job_5f0c2a1b9d8e7f60          # Ctrl-C is safe: the batch keeps running
oaibatch results job_5f0c2a1b9d8e7f60 --in-input-order -o results.jsonl
oaibatch retry job_5f0c2a1b9d8e7f60 --failed --expired
oaibatch results job_5f0c2a1b9d8e7f60 --in-input-order -o results.jsonl
```

or all in one: `oaibatch run in.jsonl -o results.jsonl`.

""")
for c in COMMANDS:
    out.append("## oaibatch %s\n\n" % c)
    out.append(block(c))
    if c in notes:
        out.append("\n" + notes[c])
    out.append("\n")
out.append("""## oaibatch serve

The local server (Files and Batches API over HTTP); its options are
those of `oaibatch serve --help`, its own reference. It runs until SIGINT
or SIGTERM.

## The journal

`$XDG_STATE_HOME/oaibatch/journal.db`, else
`~/.local/state/oaibatch/journal.db`, or `--journal PATH`. Its tables:
`jobs` (id, created_at, input_path, fingerprint, base_url, endpoint,
model, n_lines, metadata_json, provider, settled: every line answered
through retries, as `status` last found), `parts` (job_id, idx, kind,
path, n_lines, input_lines, file_id, batch_id, status, counts,
updated_at, anthropic_map, create_started_at, upload_started_at),
`line_maps` (where each part's lines are in the input) and `locks`.
Part files live in `parts/JOB/` beside the journal. The journal never
holds an API key, nor a user name and password given in the base URL (`https://user:secret@gateway/v1` is
kept, printed and fingerprinted as `https://gateway/v1`; a later
command given the URL with them uses them). A journal made by an older
`oaibatch` gets the newer columns (`provider`, `settled`, `anthropic_map`,
`create_started_at`, `upload_started_at`) when it is first opened; its
jobs read as OpenAI's. `jobs move` changes a job's `base_url`, nothing
else.

## Anthropic

`--provider anthropic` (or `OAB_PROVIDER=anthropic`, or a model written
`anthropic:claude-...` in the input) sends the same OpenAI chat lines to
Anthropic's Message Batches (`ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`):
`submit`, `run`, `status`, `wait`, `cancel`, `results`, `retry`, `list` and
`delete` work as for OpenAI; the job remembers its provider, so later
commands on it need no option. Every line is translated before anything
is sent (a line Anthropic cannot take is named with its field, exit 4);
parts are split at 100,000 requests and an eighth under 256 MB; there is
no upload (a part's lines go inline in the create). custom_ids Anthropic
refuses are sent as generated ids, and the map is journaled with the
batch id, so results read back with your ids in any later process.
Anthropic has no files: `files` exits 2, and `--metadata`,
`--output-expires-after` and a completion window other than 24h are
refused (exit 2). See docs/providers.md.

## Testing knobs

- `OAB_CLI_CRASH_AFTER=map|upload-answer|upload|create|release`: end the
  process with exit code 99 right after the parts' line maps are
  committed (their copies still there), after a part's upload has
  answered and before its file id is journaled, after a part's upload is
  journaled, after a batch
  is created and before its id is journaled, or after the first copy of
  a part is removed (its batch journaled) (used by tests/cli to check
  that a second run resumes without uploading or paying twice, and that
  results still map every line).
- `OAB_CLI_STATUS_EVERY=SECONDS`: when standard error is not a terminal,
  how often a wait prints its status line (done/total, rate, ETA) when
  nothing changed (default 120; fractions allowed).
- `OAB_CLI_MAX_RETRIES=N`: HTTP retries of the client (default: the
  library's).
""")
with open(os.path.join(DOCS, "cli.md"), "w") as f:
    f.write("".join(out))


def roff(text):
    lines = []
    for line in text.rstrip("\n").split("\n"):
        line = line.replace("\\", "\\e").replace("-", "\\-")
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


man = [".TH OAIBATCH 1 \"\" \"oaibatch\" \"User Commands\"",
       ".SH NAME",
       "oaibatch \\- run OpenAI Batch API jobs from the shell, with a journal",
       ".SH SYNOPSIS",
       ".B oaibatch",
       "[\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]",
       ".SH DESCRIPTION",
       ".nf", roff(h()), ".fi"]
for c in COMMANDS:
    man += [".SH COMMAND: %s" % c.upper(), ".nf", roff(h(c)), ".fi"]
man += [".SH FILES",
        "$XDG_STATE_HOME/oaibatch/journal.db (else",
        "~/.local/state/oaibatch/journal.db): the journal of jobs.",
        ".SH SEE ALSO",
        "docs/cli.md in the source tree."]
with open(os.path.join(DOCS, "oaibatch.1"), "w") as f:
    f.write("\n".join(man) + "\n")
