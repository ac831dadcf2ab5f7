/* cmd_completion.c - `oaibatch completion bash|zsh|fish`: a completion
 * script made from the command table and each command's option table,
 * the same tables the parser and --help go by. */
#include "oaibatch.h"
#include "commands.h"

#include <stdio.h>
#include <string.h>

/* The long options of a table, as "--a --b" (and "-o" for short ones). */
static void print_opts(FILE *f, const cli_opt *o)
{
    for (; o && o->name; o++) {
        fprintf(f, " --%s", o->name);
        if (o->short_name)
            fprintf(f, " -%c", o->short_name);
    }
}

/* " name" for every command. */
static void print_names(FILE *f)
{
    size_t n;
    const cli_command *c = cli_commands(&n);
    for (size_t i = 0; i < n; i++)
        fprintf(f, " %s", c[i].name);
}

static void bash_script(FILE *f)
{
    size_t n;
    const cli_command *c = cli_commands(&n);
    fputs("# bash completion for oaibatch "
          "(source <(oaibatch completion bash))\n"
          "_oaibatch() {\n"
          "    local cur=\"${COMP_WORDS[COMP_CWORD]}\" opts=\"\"\n"
          "    if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
          "        COMPREPLY=($(compgen -W \"help", f);
    print_names(f);
    fputs("\" -- \"$cur\"))\n"
          "        return\n"
          "    fi\n"
          "    if [ \"$COMP_CWORD\" -eq 2 ]; then\n"
          "        case \"${COMP_WORDS[1]}\" in\n", f);
    for (size_t i = 0; i < n; i++)
        if (c[i].actions)
            fprintf(f, "        %s) COMPREPLY=($(compgen -W \"%s\" -- "
                    "\"$cur\")); [[ \"$cur\" == -* ]] || return ;;\n",
                    c[i].name, c[i].actions);
    fputs("        esac\n"
          "    fi\n"
          "    case \"${COMP_WORDS[1]}\" in\n", f);
    for (size_t i = 0; i < n; i++) {
        if (c[i].fn == cmd_completion)
            continue; /* completes a shell name, below */
        fprintf(f, "    %s) opts=\"", c[i].name);
        print_opts(f, c[i].opts);
        fputs("\" ;;\n", f);
    }
    fputs("    completion) COMPREPLY=($(compgen -W \"bash zsh fish\" -- "
          "\"$cur\")); return ;;\n"
          "    esac\n"
          "    opts=\"$opts", f);
    print_opts(f, cli_global_opts);
    fputs("\"\n"
          "    if [[ \"$cur\" == -* ]]; then\n"
          "        COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
          "    else\n"
          "        COMPREPLY=($(compgen -f -- \"$cur\"))\n"
          "    fi\n"
          "}\n"
          "complete -o filenames -F _oaibatch oaibatch\n", f);
}

/* One fish line per option of a table; `cmd` NULL for the global ones. */
static void fish_opts(FILE *f, const char *cmd, const cli_opt *o)
{
    for (; o && o->name; o++) {
        fputs("complete -c oaibatch", f);
        if (cmd)
            fprintf(f, " -n '__fish_seen_subcommand_from %s'", cmd);
        fprintf(f, " -l %s", o->name);
        if (o->short_name)
            fprintf(f, " -s %c", o->short_name);
        fputs(o->has_arg ? " -r\n" : "\n", f);
    }
}

static void fish_script(FILE *f)
{
    size_t n;
    const cli_command *c = cli_commands(&n);
    fputs("# fish completion for oaibatch "
          "(oaibatch completion fish | source)\n"
          "complete -c oaibatch -f -n __fish_use_subcommand -a "
          "'help", f);
    print_names(f);
    fputs("'\n", f);
    fish_opts(f, NULL, cli_global_opts);
    for (size_t i = 0; i < n; i++) {
        fish_opts(f, c[i].name, c[i].opts);
        if (c[i].actions)
            fprintf(f, "complete -c oaibatch -f -n '__fish_seen_subcommand_"
                    "from %s' -a '%s'\n", c[i].name, c[i].actions);
    }
}

int cmd_completion(cli_ctx *ctx, int argc, char **argv)
{
    static const cli_parse_spec spec = {
        "completion", cli_opts_completion, NULL,
        "SHELL", 0
    };
    const char *shell = NULL;
    int rc = cli_parse_args(ctx, &spec, argc, argv, NULL, &shell);
    if (rc >= 0)
        return rc;
    if (!strcmp(shell, "bash")) {
        bash_script(stdout);
    } else if (!strcmp(shell, "zsh")) {
        /* zsh runs the bash script through its bash completion layer */
        fputs("# zsh completion for oaibatch "
              "(source <(oaibatch completion zsh))\n"
              "autoload -U +X bashcompinit && bashcompinit\n", stdout);
        bash_script(stdout);
    } else if (!strcmp(shell, "fish")) {
        fish_script(stdout);
    } else {
        return cli_usage_error("completion", "SHELL is bash, zsh or fish");
    }
    return CLI_EXIT_OK;
}

const cli_opt cli_opts_completion[] = { { NULL, 0, 0, 0 } };
