/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cliparse - turns a cubectl (polycubectl-compatible) command line into one
 * bus request: a verb, a path and an optional JSON body.
 *
 *   cubectl [global options] [words...] [add|del|show|set] [words...]
 *           [key=value...] [flags] [?]
 *
 * Pure: never prints, never touches the network. The only input besides
 * argv is the environment (CUBEBUS_RUN_DIR) and, for CREATE/UPDATE/REPLACE
 * without key=value, a JSON body read from stdin_fd when that is a pipe or
 * a regular file.
 */
#ifndef CUBEBUS_CLIPARSE_H
#define CUBEBUS_CLIPARSE_H

#include <stddef.h>

#define CLI_DEFAULT_TIMEOUT_MS 30000
/* a body on stdin: a million blacklist entries are about 21 MiB of JSON */
#define CLI_MAX_STDIN_BODY (48 << 20)

enum cli_format { CLI_FMT_TEXT = 0, CLI_FMT_JSON, CLI_FMT_YAML };

struct cli_cmd {
	int verb; /* CUBEBUS__VERB__*; VERB_NONE: -h/--help was given */
	char path[2048];
	char *body; /* JSON text or NULL; malloc'd */
	enum cli_format format;
	int brief;
	int force;	/* -force: take over what runs on a netdev a port attaches to */
	char hide[512]; /* raw -hide= list or "" */
	char run_dir[512];
	char endpoint[600];
	int timeout_ms;
};

/*
 * Parses argv (argv[0] is the program). Returns 0, or a negative errno and a
 * one-line message in err. stdin_fd is the fd to read a body from (-1: never).
 * On success with cmd->verb == CUBEBUS__VERB__VERB_NONE the caller prints
 * the usage. out is always initialised, so cli_cmd_clear() is always safe.
 */
int cli_parse(int argc, char **argv, int stdin_fd, struct cli_cmd *out, char *err, size_t errlen);
void cli_cmd_clear(struct cli_cmd *cmd); /* frees body */

/* The basename of argv[0] ("cubectl" if argv0 is NULL or empty). */
const char *cli_prog_name(const char *argv0);
/*
 * Usage line of the i-th alias without the program name, e.g.
 * "connect CUBE:PORT CUBE:PORT|NETDEV"; NULL past the last one.
 */
const char *cli_alias_usage(unsigned int i);

#endif
