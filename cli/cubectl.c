/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cubectl - the command-line client of cubebus (also installed as
 * polycubectl). Parses the command line, sends one request to the broker
 * on the ctl endpoint and prints the reply.
 *
 * Exit status: 0 done, 1 the request failed (broker down, error reply),
 * 2 the command line is wrong.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "cliparse.h"
#include "output.h"

enum { EXIT_DONE = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

static void usage(FILE *f, const char *prog)
{
	const char *u;

	fprintf(f,
		"usage: %s [options] WORD... [add|del|show|set] [WORD...] [KEY=VALUE...]"
		" [flags] [?]\n",
		prog);
	for (unsigned int i = 0; (u = cli_alias_usage(i)); i++)
		fprintf(f, "       %s %s\n", prog, u);
	fprintf(f,
		"\n"
		"Words name the path (/WORD/WORD...); the verb may stand anywhere:\n"
		"  add -> create, del -> delete, show -> read, set -> update;\n"
		"  no verb -> create (runs actions such as 'br1 fdb flush');\n"
		"  a trailing '?' asks for help on the path.\n"
		"KEY=VALUE pairs form the JSON body (a.b=c nests; true/false and\n"
		"integers are typed). Without them, a JSON object piped on stdin is\n"
		"the body of add/set.\n"
		"\n"
		"flags:\n"
		"  -json                 print the reply as JSON\n"
		"  -yaml                 print the reply as YAML\n"
		"  -brief                print only the top-level values\n"
		"  -hide=KEY[,KEY.SUB]   drop these keys from the reply\n"
		"  -force                a port may take over the XDP program or TC filter\n"
		"                        another loaded on its netdev (kept, put back later)\n"
		"options:\n"
		"  --run-dir=DIR         run directory (default $CUBEBUS_RUN_DIR or %s)\n"
		"  --endpoint=ENDPOINT   broker ctl endpoint (default ipc://DIR/ctl.sock)\n"
		"  --timeout=MS          reply timeout (default %d)\n"
		"  --                    the following arguments are all words\n"
		"  -h, --help            this help\n"
		"\n"
		"examples:\n"
		"  %s simplebridge add br1\n"
		"  %s br1 ports add p1 peer=veth1\n"
		"  %s connect br1:p2 sf:sf-p1\n"
		"  %s br1 fdb show -json\n",
		BUS_DEFAULT_RUN_DIR, CLI_DEFAULT_TIMEOUT_MS, prog, prog, prog, prog);
}

static void call_error(const struct cli_cmd *cmd, int r)
{
	switch (r) {
	case -ENOENT: fprintf(stderr, "cubectl: cubebusd is not running (no socket at %s)\n", cmd->endpoint); break;
	case -ECONNREFUSED:
		fprintf(stderr, "cubectl: cubebusd is not running (nothing listens on %s)\n", cmd->endpoint);
		break;
	case -EACCES:
	case -EPERM:
		fprintf(stderr,
			"cubectl: permission denied on %s: run as root or as a member of the group that owns "
			"the run directory\n",
			cmd->endpoint);
		break;
	case -ETIMEDOUT:
		fprintf(stderr, "cubectl: no answer from cubebusd at %s after %d ms\n", cmd->endpoint, cmd->timeout_ms);
		break;
	default: fprintf(stderr, "cubectl: %s: %s\n", cmd->endpoint, strerror(-r)); break;
	}
}

int main(int argc, char **argv)
{
	struct cli_cmd cmd;
	char err[1024];
	char *error = NULL, *body = NULL, *text = NULL;
	int status = 0, rc, r;

	r = cli_parse(argc, argv, STDIN_FILENO, &cmd, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "cubectl: %s\n", err);
		rc = EXIT_USAGE;
		goto out;
	}
	if (cmd.verb == CUBEBUS__VERB__VERB_NONE) {
		usage(stdout, cli_prog_name(argc > 0 ? argv[0] : NULL));
		rc = EXIT_DONE;
		goto out;
	}
	r = bus_call_flags(cmd.endpoint, cmd.verb, cmd.path, cmd.body, cmd.force ? BUS_CALL_FORCE : 0, cmd.timeout_ms,
			   &status, &error, &body);
	if (r < 0) {
		call_error(&cmd, r);
		rc = EXIT_FAILED;
		goto out;
	}
	if (status) {
		fprintf(stderr, "cubectl: %s\n", *error ? error : strerror(status < 0 ? -status : status));
		rc = EXIT_FAILED;
		goto out;
	}
	r = output_render(body, cmd.format, cmd.brief, cmd.hide, &text);
	if (r == -EINVAL) {
		/* Not JSON: show it as it came rather than hide it. */
		fprintf(stderr, "cubectl: the reply is not JSON; printing it as is\n");
		printf("%s\n", body);
		rc = EXIT_FAILED;
		goto out;
	}
	if (r < 0) {
		fprintf(stderr, "cubectl: %s\n", strerror(-r));
		rc = EXIT_FAILED;
		goto out;
	}
	fputs(text, stdout);
	rc = EXIT_DONE;
out:
	if (fflush(stdout) && rc == EXIT_DONE) {
		fprintf(stderr, "cubectl: stdout: %s\n", strerror(errno));
		rc = EXIT_FAILED;
	}
	free(text);
	free(error);
	free(body);
	cli_cmd_clear(&cmd);
	return rc;
}
