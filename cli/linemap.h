/* linemap.h - a part's lines read from the user's input through the
 * journal's line map (journal_linemap_*), so that the journal keeps no
 * copy of a part once its batch exists.
 *
 * The order that keeps every step safe against a kill: the part's copy
 * is written (split) and journaled; the map is made from the copy and
 * the input, checked line by line against the copy, and committed
 * (crash point "map"); the copy is uploaded and its batch created and
 * journaled; only then is the copy removed (crash point "release"). A
 * part with a map is read through it; one without is read from its
 * copy, which is never removed before the map exists. */
#ifndef OAB_CLI_LINEMAP_H
#define OAB_CLI_LINEMAP_H

#include "cli.h"
#include "journal.h"

/* Makes and commits the maps of the job's parts that have a copy and
 * no map (one pass over the input, which must be a regular file named
 * by an absolute path, and match each copy), then removes the copies of
 * the parts that have a map and a batch. Also brings a journal written
 * before maps to this form. Problems leave the copies as they are
 * (nothing is lost; nothing is printed). */
void cli_linemap_settle(cli_ctx *ctx, const journal_job *job);

/* Reads the lines of a part in its order: fn(line, len, k, ud) with k
 * its 1-based line in the part, line NUL-terminated. Through the map
 * when the part has one (the input's size and the lines' hash are
 * checked: a changed input is an error naming the file), else from the
 * copy. A stop by fn is not an error. Exit code (errors printed). */
int cli_part_read(cli_ctx *ctx, const journal_job *job,
                  const journal_part *part, oab_line_fn fn, void *ud);

/* A file holding the part's lines, for the results decoder: a
 * temporary one made through the map (*tmp set: remove and free it),
 * else the copy; *path NULL when the part has neither. Exit code. */
int cli_part_file(cli_ctx *ctx, const journal_job *job,
                  const journal_part *part, const char **path, char **tmp);

#endif
