// SPDX-License-Identifier: MIT
/*
 * tpctl: read and write the tracing plane's baggage from the command line.
 * Usage in tools/tpctl.8 and Documentation/tpctl.rst.
 *
 * Exit status: 0 success, 1 runtime error, 2 usage error; `run` exits 126
 * or 127 when it cannot execute the command, like env(1).
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tpctl.h"
#include "version.h"

#define EXIT_USAGE		2
#define EXIT_CANNOT_EXEC	126
#define EXIT_NOT_FOUND		127

/* ---- messages ------------------------------------------------------------- */

/*
 * One line on stderr, whatever the arguments it quotes hold: control
 * bytes are written as \xNN, and @hint (NULL: none) ends the same line.
 */
static void vmessage(const char *hint, const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	fputs("tpctl: ", stderr);
	for (const unsigned char *p = (const unsigned char *)buf; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(stderr, "\\x%02x", *p);
		else
			fputc(*p, stderr);
	}
	if (hint)
		fprintf(stderr, " (%s)", hint);
	fputc('\n', stderr);
}

/* A runtime error: one line on stderr; returns the exit status. */
__attribute__((format(printf, 1, 2)))
static int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(NULL, fmt, ap);
	va_end(ap);
	return EXIT_FAILURE;
}

__attribute__((format(printf, 1, 2), noreturn))
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("try 'tpctl --help'", fmt, ap);
	va_end(ap);
	exit(EXIT_USAGE);
}

/* Reports what getopt_long() refused ('?' or ':') as a usage error. */
__attribute__((noreturn))
static void option_error(int c, char *const argv[])
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		usage_error("option '%s' needs an argument", arg);
	if (optopt && strncmp(arg, "--", 2) != 0)
		usage_error("unknown option '-%c'", optopt);
	usage_error("invalid option '%s'", arg);
}

static const char help_main[] =
	"Usage: tpctl [--help | --version] COMMAND [ARG...]\n"
	"\n"
	"Read and write the baggage that the tracingplane kernel module carries\n"
	"with every task.\n"
	"\n"
	"Commands:\n"
	"  get    [--pid N | --tid N] [--json | --w3c]    print a task's baggage\n"
	"  set    [--pid N | --tid N] ASSIGNMENT...        change keys of a task's baggage\n"
	"  merge  [--pid N | --tid N] [--w3c TEXT] [ASSIGNMENT...]\n"
	"                                                 merge into a task's baggage\n"
	"  clear  [--pid N | --tid N]                     drop a task's baggage\n"
	"  run    [-b ASSIGNMENT]... [--w3c TEXT] [--on-read=merge|replace|ignore]\n"
	"         [--] CMD [ARG...]                       run CMD with more baggage\n"
	"  status                                         module version, limits, counters\n"
	"  net    [on | off]                              baggage over TCP in this network\n"
	"                                                 namespace: show or switch\n"
	"\n"
	"Without --pid or --tid a command acts on tpctl itself, whose baggage is\n"
	"the one it inherited from its caller.\n"
	"\n"
	"ASSIGNMENT is one of\n"
	"  KEY=VALUE            KEY holds the string VALUE (replacing what it held)\n"
	"  KEY+=VALUE           add the string VALUE to the set KEY\n"
	"  KEY:TYPE=VALUE       TYPE is string, int, uint or bytes (hex)\n"
	"  KEY:TYPE+=VALUE      add to a set of TYPE\n"
	"  KEY:counter+=N       add N to the counter KEY\n"
	"  KEY:taint            set the taint flag KEY\n"
	"\n"
	"Run 'tpctl COMMAND --help' for a command's options; see tpctl(8).\n"
	"Exit status: 0 success, 1 error, 2 usage error.\n";

static const char help_get[] =
	"Usage: tpctl get [--pid N | --tid N] [--json | --w3c]\n"
	"\n"
	"Print the baggage of tpctl itself (inherited from its caller), of process N\n"
	"(its main thread) or of thread N.  One KEY=VALUE line per value, in key\n"
	"order: sets as repeated keys, counters as their sum, taints as KEY=true,\n"
	"nested bags as PARENT.CHILD=VALUE, bytes as 0x and hex; '%', control\n"
	"characters (and '=' in keys) as %XX.  An empty baggage prints nothing.\n"
	"\n"
	"  -p, --pid N   process N, resolved in tpctl's pid namespace\n"
	"  -t, --tid N   thread N\n"
	"  -j, --json    one JSON object (sets as arrays, nested bags as objects)\n"
	"  -w, --w3c     a W3C 'baggage' header value (top-level keys only)\n"
	"  -h, --help    this help\n"
	"\n"
	"A read policy other than the default, merge, is shown after the baggage:\n"
	"as the line '# read-policy: POLICY', or with --json as a second JSON\n"
	"object on its own line, {\"read_policy\":\"POLICY\"}.\n"
	"\n"
	"Reading another user's process needs CAP_SYS_PTRACE.\n";

static const char help_set[] =
	"Usage: tpctl set [--pid N | --tid N] ASSIGNMENT...\n"
	"\n"
	"Read the baggage, apply the assignments in order and write it back: keys\n"
	"not named keep their values.  See 'tpctl --help' for ASSIGNMENT.\n"
	"\n"
	"  -p, --pid N   process N (needs CAP_SYS_ADMIN)\n"
	"  -t, --tid N   thread N (needs CAP_SYS_ADMIN)\n"
	"  -h, --help    this help\n"
	"\n"
	"Without --pid or --tid the change lasts only as long as tpctl itself;\n"
	"use 'tpctl run' to start a program with baggage.\n";

static const char help_merge[] =
	"Usage: tpctl merge [--pid N | --tid N] [--w3c TEXT] [ASSIGNMENT...]\n"
	"\n"
	"Merge baggage into a task's, as the kernel merges baggage when data flows:\n"
	"a key that already holds a value keeps the smaller one, sets are united,\n"
	"counters and taints combine.  The merged baggage is the W3C 'baggage'\n"
	"header TEXT and the assignments (see 'tpctl --help').\n"
	"\n"
	"  -p, --pid N      process N (needs CAP_SYS_ADMIN)\n"
	"  -t, --tid N      thread N (needs CAP_SYS_ADMIN)\n"
	"  -w, --w3c TEXT   a W3C baggage header value, e.g. 'userId=alice,n=1'\n"
	"  -h, --help       this help\n";

static const char help_clear[] =
	"Usage: tpctl clear [--pid N | --tid N]\n"
	"\n"
	"Drop a task's baggage.\n"
	"\n"
	"  -p, --pid N   process N (needs CAP_SYS_ADMIN)\n"
	"  -t, --tid N   thread N (needs CAP_SYS_ADMIN)\n"
	"  -h, --help    this help\n";

static const char help_run[] =
	"Usage: tpctl run [-b ASSIGNMENT]... [--w3c TEXT] [--on-read=POLICY] [--] CMD [ARG...]\n"
	"\n"
	"Take tpctl's baggage (inherited from its caller), merge the W3C text into\n"
	"it, apply the assignments in order, and execute CMD, which keeps that\n"
	"baggage, as do its children.  See 'tpctl --help' for ASSIGNMENT.\n"
	"\n"
	"  -b, --baggage ASSIGNMENT   an assignment; repeatable\n"
	"  -w, --w3c TEXT             a W3C baggage header value to merge\n"
	"      --on-read=POLICY       what reading a pipe or socket does to CMD's\n"
	"                             baggage: merge (the default: add the data's),\n"
	"                             replace (take the data's instead) or ignore\n"
	"                             (nothing); CMD's children inherit it.\n"
	"                             Without it, CMD keeps tpctl's policy.\n"
	"  -h, --help                 this help\n"
	"\n"
	"Exit status: CMD's; 127 if CMD is not found, 126 if it cannot be run.\n";

static const char help_status[] =
	"Usage: tpctl status\n"
	"\n"
	"Print whether the module is loaded, its version, limits and counters,\n"
	"one 'name: value' per line.  Exits 1 if the module is not loaded.\n";

static const char help_net[] =
	"Usage: tpctl net [on | off]\n"
	"\n"
	"Without an argument, print whether TCP connections of tpctl's network\n"
	"namespace carry baggage ('on' or 'off').  With one, switch them: off,\n"
	"the namespace neither offers nor accepts baggage on new connections and\n"
	"its packets cross no code of the module (Documentation/wire-format.rst).\n"
	"Switching needs CAP_NET_ADMIN in the namespace.\n";

/* Handles -h/--help, shared by every command. */
__attribute__((noreturn))
static void print_help_and_exit(const char *help)
{
	fputs(help, stdout);
	exit(EXIT_SUCCESS);
}

/* ---- arguments ---------------------------------------------------------------- */

struct target {
	enum tpctl_who who;
	pid_t id;
};

static const char *target_name(enum tpctl_who who)
{
	return who == TPCTL_TID ? "tid" : "pid";
}

/*
 * Decimal only, and nothing strto*() would quietly accept around the
 * digits: no blanks, no '+', no "-1" turned into a huge unsigned number.
 */
static bool is_decimal(const char *arg, bool may_be_negative)
{
	if (may_be_negative && arg[0] == '-')
		arg++;
	return *arg && strspn(arg, "0123456789") == strlen(arg);
}

static pid_t parse_id(const char *option, const char *arg)
{
	long val;

	errno = 0;
	val = is_decimal(arg, false) ? strtol(arg, NULL, 10) : 0;
	if (errno || val <= 0 || val > INT32_MAX)
		usage_error("%s: '%s' is not a valid id (1 to %d)", option, arg, INT32_MAX);
	return (pid_t)val;
}

static void set_target(struct target *t, enum tpctl_who who, const char *arg)
{
	if (t->who != TPCTL_SELF)
		usage_error("give at most one of --pid and --tid, once");
	t->who = who;
	t->id = parse_id(who == TPCTL_PID ? "--pid" : "--tid", arg);
}

static uint64_t parse_uint(const char *what, const char *arg)
{
	unsigned long long val = 0;

	errno = 0;
	if (is_decimal(arg, false))
		val = strtoull(arg, NULL, 10);
	if (errno || !is_decimal(arg, false))
		usage_error("%s: '%s' is not an unsigned 64-bit decimal number", what, arg);
	return val;
}

static int64_t parse_int(const char *what, const char *arg)
{
	long long val = 0;

	errno = 0;
	if (is_decimal(arg, true))
		val = strtoll(arg, NULL, 10);
	if (errno || !is_decimal(arg, true))
		usage_error("%s: '%s' is not a signed 64-bit decimal number", what, arg);
	return val;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex text, with or without 0x, to malloc'd bytes (as `get` prints them). */
static uint8_t *parse_hex(const char *what, const char *arg, size_t *len)
{
	const char *hex = strncmp(arg, "0x", 2) == 0 ? arg + 2 : arg;
	size_t n = strlen(hex);
	uint8_t *out;

	if (n % 2)
		usage_error("%s: '%s' is not hex bytes (an even number of digits)", what, arg);
	out = malloc(n / 2 + 1);
	if (!out) {
		fail("out of memory");
		exit(EXIT_FAILURE);
	}
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			usage_error("%s: '%s' is not hex bytes", what, arg);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return out;
}

/* ---- assignments ------------------------------------------------------------ */

enum assign_op {
	OP_SET,		/* KEY=VALUE: a FIRST value */
	OP_ADD,		/* KEY+=VALUE: a SET member, or a counter increment */
	OP_TAINT,	/* KEY:taint */
};

enum assign_type {
	TYPE_STRING,
	TYPE_INT,
	TYPE_UINT,
	TYPE_BYTES,
	TYPE_COUNTER,
};

static const char *const assign_type_names[] = {
	[TYPE_STRING] = "string",
	[TYPE_INT] = "int",
	[TYPE_UINT] = "uint",
	[TYPE_BYTES] = "bytes",
	[TYPE_COUNTER] = "counter",
};

struct assignment {
	const char *text;	/* as given, for messages */
	char *key;
	enum assign_op op;
	enum assign_type type;
	const char *value;	/* STRING */
	int64_t i;		/* INT */
	uint64_t u;		/* UINT and COUNTER */
	uint8_t *bytes;		/* BYTES */
	size_t nbytes;
};

static enum assign_type parse_type(const char *text, const char *name)
{
	for (size_t t = 0; t < sizeof(assign_type_names) / sizeof(assign_type_names[0]); t++)
		if (strcmp(name, assign_type_names[t]) == 0)
			return (enum assign_type)t;
	usage_error("%s: unknown type '%s' (string, int, uint, bytes, counter, taint)",
		    text, name);
}

static void parse_value(struct assignment *a, const char *value)
{
	a->value = value;
	switch (a->type) {
	case TYPE_STRING:
		break;
	case TYPE_INT:
		a->i = parse_int(a->text, value);
		break;
	case TYPE_UINT:
	case TYPE_COUNTER:
		a->u = parse_uint(a->text, value);
		break;
	case TYPE_BYTES:
		a->bytes = parse_hex(a->text, value, &a->nbytes);
		break;
	}
}

/*
 * KEY[:TYPE]=VALUE, KEY[:TYPE]+=VALUE or KEY:taint.  The key is what comes
 * before the last ':' or, without one, before the first '='; so keys given
 * here cannot contain ':' or '=' (W3C keys never do).
 */
static void parse_assignment(const char *text, struct assignment *a)
{
	const char *eq = strchr(text, '=');
	size_t head_len = eq ? (size_t)(eq - text) : strlen(text);
	char *head = strndup(text, head_len), *colon;

	if (!head) {
		fail("out of memory");
		exit(EXIT_FAILURE);
	}
	*a = (struct assignment){ .text = text, .key = head, .op = OP_SET };
	if (eq && head_len && head[head_len - 1] == '+') {
		a->op = OP_ADD;
		head[--head_len] = '\0';
	}
	colon = strrchr(head, ':');
	if (colon) {
		*colon = '\0';
		if (strcmp(colon + 1, "taint") == 0 && eq)
			usage_error("%s: KEY:taint takes no value", text);
		else if (strcmp(colon + 1, "taint") == 0)
			a->op = OP_TAINT;
		else if (eq)
			a->type = parse_type(text, colon + 1);
	}
	if (!eq && a->op != OP_TAINT)
		usage_error("%s: not KEY=VALUE, KEY+=VALUE or KEY:taint", text);
	if (!*head)
		usage_error("%s: empty key", text);
	if (a->type == TYPE_COUNTER && a->op != OP_ADD)
		usage_error("%s: a counter is incremented with KEY:counter+=N", text);
	if (eq)
		parse_value(a, eq + 1);
}

static int apply_set(struct tpctl_bag *bag, const struct assignment *a)
{
	switch (a->type) {
	case TYPE_INT:
		return tpctl_bag_set_int(bag, a->key, a->i);
	case TYPE_UINT:
		return tpctl_bag_set_uint(bag, a->key, a->u);
	case TYPE_BYTES:
		return tpctl_bag_set_bytes(bag, a->key, a->bytes, a->nbytes);
	default:
		return tpctl_bag_set_string(bag, a->key, a->value);
	}
}

static int apply_add(struct tpctl_bag *bag, const struct assignment *a)
{
	switch (a->type) {
	case TYPE_INT:
		return tpctl_bag_add_int(bag, a->key, a->i);
	case TYPE_UINT:
		return tpctl_bag_add_uint(bag, a->key, a->u);
	case TYPE_BYTES:
		return tpctl_bag_add_bytes(bag, a->key, a->bytes, a->nbytes);
	case TYPE_COUNTER:
		return tpctl_bag_counter_add(bag, a->key, a->u);
	default:
		return tpctl_bag_add_string(bag, a->key, a->value);
	}
}

static int apply_assignment(struct tpctl_bag *bag, const struct assignment *a)
{
	switch (a->op) {
	case OP_TAINT:
		return tpctl_bag_taint(bag, a->key);
	case OP_ADD:
		return apply_add(bag, a);
	default:
		return apply_set(bag, a);
	}
}

static const char *assign_error(int err)
{
	switch (err) {
	case -EINVAL:
		return "invalid key (1 to 255 bytes, no NUL) or value";
	case -E2BIG:
		return "value longer than 4096 bytes";
	case -EEXIST:
		return "the key already holds a value of another kind";
	default:
		return strerror(-err);
	}
}

/* Applies @n assignments in order; returns an exit status. */
static int apply_assignments(struct tpctl_bag *bag, const struct assignment *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int err = apply_assignment(bag, &a[i]);

		if (err)
			return fail("%s: %s", a[i].text, assign_error(err));
	}
	return EXIT_SUCCESS;
}

/*
 * Parses every assignment and tries it on an empty bag, so that what the
 * library refuses whatever the baggage (a bad key, a value too long) is a
 * usage error, found before anything changes.
 */
static struct assignment *parse_assignments(char *const texts[], size_t n)
{
	struct assignment *a = calloc(n ? n : 1, sizeof(*a));
	struct tpctl_bag *scratch = tpctl_bag_new();

	if (!a || !scratch) {
		fail("out of memory");
		exit(EXIT_FAILURE);
	}
	for (size_t i = 0; i < n; i++) {
		int err;

		parse_assignment(texts[i], &a[i]);
		err = apply_assignment(scratch, &a[i]);
		if (err == -EINVAL || err == -E2BIG)
			usage_error("%s: %s", texts[i], assign_error(err));
	}
	tpctl_bag_free(scratch);
	return a;
}

static void free_assignments(struct assignment *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].key);
		free(a[i].bytes);
	}
	free(a);
}

static struct tpctl_bag *parse_w3c_option(const char *text)
{
	struct tpctl_bag *bag;
	char err[256];

	if (tpctl_bag_from_w3c(text, &bag, err, sizeof(err)) < 0)
		usage_error("--w3c: %s", err);
	return bag;
}

/* ---- kernel access ------------------------------------------------------------ */

/*
 * Every write of tpctl's is exact: a baggage over the module's limits is
 * refused whole, rather than stored trimmed behind a success.
 */
static struct tpctl *open_or_fail(void)
{
	struct tpctl *h = tpctl_open();

	if (h && tpctl_set_exact(h, 1) == 0)
		return h;
	if (h) {
		fail("%s", tpctl_errmsg(h));
		tpctl_close(h);
		return NULL;
	}
	if (errno == ENOENT)
		fail("module not loaded");
	else
		fail("cannot talk to the tracingplane module: %s", strerror(errno));
	return NULL;
}

/*
 * Reports the handle's last error.  The kernel names the target attribute
 * ("pid: no such task ..."): say which one ("pid 42: no such task ...").
 */
static int fail_op(struct tpctl *h, const struct target *t)
{
	const char *msg = tpctl_errmsg(h);
	const char *name = target_name(t->who);
	size_t n = strlen(name);

	if (t->who != TPCTL_SELF && strncmp(msg, name, n) == 0 && msg[n] == ':')
		return fail("%s %d%s", name, (int)t->id, msg + n);
	return fail("%s", msg);
}

/* ---- get: formatting ----------------------------------------------------------- */

/* One output line of the default format, before sorting. */
struct line {
	char *path;
	char *value;
	size_t seq;	/* keeps a set's members in their order */
};

struct lines {
	struct line *v;
	size_t n, cap;
};

/* Percent-encodes what would break a line (and '=' in keys). */
static void put_text(FILE *out, const void *data, size_t len, bool is_key)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f || p[i] == '%' || (is_key && p[i] == '='))
			fprintf(out, "%%%02X", p[i]);
		else
			fputc(p[i], out);
	}
}

static void put_hex(FILE *out, const void *data, size_t len)
{
	const unsigned char *p = data;

	fputs("0x", out);
	for (size_t i = 0; i < len; i++)
		fprintf(out, "%02x", p[i]);
}

static void put_scalar_text(FILE *out, const struct tpctl_value *v)
{
	switch (v->type) {
	case TPCTL_STRING:
		put_text(out, v->bytes.ptr, v->bytes.len, false);
		break;
	case TPCTL_BYTES:
		put_hex(out, v->bytes.ptr, v->bytes.len);
		break;
	case TPCTL_INT:
		fprintf(out, "%" PRId64, v->i);
		break;
	case TPCTL_UINT:
		fprintf(out, "%" PRIu64, v->u);
		break;
	}
}

static int lines_add(struct lines *lines, const char *path, char *value)
{
	struct line *v = lines->v;
	char *copy = strdup(path);

	if (lines->n == lines->cap) {
		lines->cap = lines->cap ? 2 * lines->cap : 16;
		v = realloc(lines->v, lines->cap * sizeof(*v));
	}
	if (!v || !copy) {
		free(copy);
		free(value);
		return -ENOMEM;
	}
	lines->v = v;
	v[lines->n] = (struct line){ .path = copy, .value = value, .seq = lines->n };
	lines->n++;
	return 0;
}

struct walk {
	struct lines *lines;
	const char *prefix;	/* "parent.child." of the level, "" at the top */
};

static int collect_level(const struct tpctl_bag *bag, struct lines *lines, const char *prefix);

/* The memstream text of one value, or NULL. */
static char *value_text(const struct tpctl_entry *e, size_t i)
{
	char *buf = NULL;
	size_t size;
	FILE *out = open_memstream(&buf, &size);

	if (!out)
		return NULL;
	if (e->kind == TPCTL_COUNTER)
		fprintf(out, "%" PRIu64, e->counter);
	else if (e->kind == TPCTL_TAINT)
		fputs("true", out);
	else
		put_scalar_text(out, &e->values[i]);
	if (fclose(out)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int collect_entry(const struct tpctl_entry *e, void *arg)
{
	struct walk *w = arg;
	size_t nlines = e->kind == TPCTL_FIRST || e->kind == TPCTL_SET ? e->nvalues : 1;
	char *path = NULL;
	size_t size;
	FILE *out = open_memstream(&path, &size);
	int err = 0;

	if (!out)
		return -ENOMEM;
	fputs(w->prefix, out);
	put_text(out, e->key, e->key_len, true);
	if (fclose(out))
		return -ENOMEM;

	if (e->kind == TPCTL_BAG) {
		char *child_prefix;

		if (asprintf(&child_prefix, "%s.", path) < 0) {
			err = -ENOMEM;
		} else {
			err = collect_level(e->child, w->lines, child_prefix);
			free(child_prefix);
		}
		free(path);
		return err;
	}
	for (size_t i = 0; i < nlines && !err; i++) {
		char *value = value_text(e, i);

		err = value ? lines_add(w->lines, path, value) : -ENOMEM;
	}
	free(path);
	return err;
}

static int collect_level(const struct tpctl_bag *bag, struct lines *lines, const char *prefix)
{
	struct walk w = { .lines = lines, .prefix = prefix };

	return tpctl_bag_foreach(bag, collect_entry, &w);
}

static int line_cmp(const void *a, const void *b)
{
	const struct line *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

static void lines_free(struct lines *lines)
{
	for (size_t i = 0; i < lines->n; i++) {
		free(lines->v[i].path);
		free(lines->v[i].value);
	}
	free(lines->v);
}

/* The default format: KEY=VALUE lines sorted by path, then a note on overflow. */
static int print_lines(const struct tpctl_bag *bag)
{
	struct lines lines = { 0 };
	int err = collect_level(bag, &lines, "");

	if (err) {
		lines_free(&lines);
		return fail("cannot format the baggage: %s", strerror(-err));
	}
	if (lines.n)	/* qsort() wants a valid array even when empty */
		qsort(lines.v, lines.n, sizeof(*lines.v), line_cmp);
	for (size_t i = 0; i < lines.n; i++)
		printf("%s=%s\n", lines.v[i].path, lines.v[i].value);
	if (tpctl_bag_overflowed(bag))
		puts("# overflowed");
	lines_free(&lines);
	return EXIT_SUCCESS;
}

/* Length of the valid UTF-8 sequence at @p, or 0 if the byte starts none. */
static size_t utf8_len(const unsigned char *p, size_t avail)
{
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	/* No overlong forms, no surrogates, nothing past U+10FFFF. */
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (avail < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/*
 * A JSON string.  Baggage strings are bytes: a byte that is not part of
 * valid UTF-8 becomes the code point of the same value (\u00XX), so the
 * output is always valid JSON.
 */
static void put_json_string(FILE *out, const void *data, size_t len)
{
	const unsigned char *p = data;

	fputc('"', out);
	for (size_t i = 0; i < len;) {
		size_t n = utf8_len(p + i, len - i);

		if (p[i] == '"' || p[i] == '\\')
			fprintf(out, "\\%c", p[i]);
		else if (p[i] == '\n')
			fputs("\\n", out);
		else if (p[i] == '\t')
			fputs("\\t", out);
		else if (n == 0 || p[i] < 0x20 || p[i] == 0x7f)
			fprintf(out, "\\u%04x", p[i]);
		else
			fwrite(p + i, 1, n, out);
		i += n ? n : 1;
	}
	fputc('"', out);
}

static void put_json_scalar(FILE *out, const struct tpctl_value *v)
{
	switch (v->type) {
	case TPCTL_STRING:
		put_json_string(out, v->bytes.ptr, v->bytes.len);
		break;
	case TPCTL_BYTES:
		fputc('"', out);
		put_hex(out, v->bytes.ptr, v->bytes.len);
		fputc('"', out);
		break;
	default:
		put_scalar_text(out, v);
		break;
	}
}

struct json_level {
	FILE *out;
	bool first;
};

static int put_json_level(FILE *out, const struct tpctl_bag *bag);

static int put_json_entry(const struct tpctl_entry *e, void *arg)
{
	struct json_level *lvl = arg;
	FILE *out = lvl->out;

	fputs(lvl->first ? "" : ",", out);
	lvl->first = false;
	put_json_string(out, e->key, e->key_len);
	fputc(':', out);
	switch (e->kind) {
	case TPCTL_FIRST:
		put_json_scalar(out, &e->values[0]);
		return 0;
	case TPCTL_SET:
		for (size_t i = 0; i < e->nvalues; i++) {
			fputs(i ? "," : "[", out);
			put_json_scalar(out, &e->values[i]);
		}
		fputs(e->nvalues ? "]" : "[]", out);
		return 0;
	case TPCTL_COUNTER:
		fprintf(out, "%" PRIu64, e->counter);
		return 0;
	case TPCTL_TAINT:
		fputs("true", out);
		return 0;
	case TPCTL_BAG:
		return put_json_level(out, e->child);
	}
	return -EINVAL;
}

/*
 * Keys in the order tpctl_bag_foreach() gives them: JSON objects are
 * unordered, and that order is stable.
 */
static int put_json_level(FILE *out, const struct tpctl_bag *bag)
{
	struct json_level lvl = { .out = out, .first = true };
	int err;

	fputc('{', out);
	err = tpctl_bag_foreach(bag, put_json_entry, &lvl);
	fputc('}', out);
	return err;
}

static void warn_if_overflowed(const struct tpctl_bag *bag)
{
	if (tpctl_bag_overflowed(bag))
		fputs("tpctl: warning: the baggage overflowed: atoms were dropped at a limit\n",
		      stderr);
}

static int print_json(const struct tpctl_bag *bag)
{
	int err = put_json_level(stdout, bag);

	if (err)
		return fail("cannot format the baggage: %s", strerror(-err));
	putchar('\n');
	warn_if_overflowed(bag);
	return EXIT_SUCCESS;
}

static int print_w3c(const struct tpctl_bag *bag)
{
	char *text;
	int err = tpctl_bag_to_w3c(bag, &text);

	if (err == -E2BIG)
		return fail("the baggage exceeds W3C's limits (%d members, %d bytes)",
			    TPCTL_W3C_MAX_MEMBERS, TPCTL_W3C_MAX_BYTES);
	if (err)
		return fail("cannot format the baggage as W3C: %s", strerror(-err));
	if (*text)
		puts(text);
	free(text);
	warn_if_overflowed(bag);
	return EXIT_SUCCESS;
}

/* ---- read policy ----------------------------------------------------------------- */

static const char *const policy_names[] = {
	[TPCTL_READ_MERGE] = "merge",
	[TPCTL_READ_REPLACE] = "replace",
	[TPCTL_READ_IGNORE] = "ignore",
};

static const char *policy_name(enum tpctl_read_policy policy)
{
	if ((size_t)policy < sizeof(policy_names) / sizeof(policy_names[0]))
		return policy_names[policy];
	return "unknown";
}

static enum tpctl_read_policy parse_policy(const char *arg)
{
	for (size_t i = 0; i < sizeof(policy_names) / sizeof(policy_names[0]); i++)
		if (strcmp(arg, policy_names[i]) == 0)
			return (enum tpctl_read_policy)i;
	usage_error("--on-read: '%s' is not merge, replace or ignore", arg);
}

/* After the baggage, and only when not the default: old parsers see no change. */
static void print_policy(enum tpctl_read_policy policy, bool json)
{
	if (policy == TPCTL_READ_MERGE)
		return;
	if (json)
		printf("{\"read_policy\":\"%s\"}\n", policy_name(policy));
	else
		printf("# read-policy: %s\n", policy_name(policy));
}

/* ---- commands ------------------------------------------------------------------- */

#define TARGET_OPTIONS \
	{ "pid", required_argument, NULL, 'p' }, \
	{ "tid", required_argument, NULL, 't' }, \
	{ "help", no_argument, NULL, 'h' }

/* Handles an option every targeting command shares; false if not one. */
static bool target_option(int c, struct target *t, const char *help)
{
	switch (c) {
	case 'p':
		set_target(t, TPCTL_PID, optarg);
		return true;
	case 't':
		set_target(t, TPCTL_TID, optarg);
		return true;
	case 'h':
		print_help_and_exit(help);
	}
	return false;
}

/* Parses the options of a command that takes only a target. */
static struct target parse_target_only(int argc, char *argv[], const char *help)
{
	static const struct option opts[] = { TARGET_OPTIONS, { 0 } };
	struct target t = { TPCTL_SELF, 0 };
	int c;

	while ((c = getopt_long(argc, argv, "+:p:t:h", opts, NULL)) != -1)
		if (!target_option(c, &t, help))
			option_error(c, argv);
	if (optind < argc)
		usage_error("%s: unexpected argument '%s'", argv[0], argv[optind]);
	return t;
}

enum get_format { FORMAT_LINES, FORMAT_JSON, FORMAT_W3C };

static int cmd_get(int argc, char *argv[])
{
	static const struct option opts[] = {
		TARGET_OPTIONS,
		{ "json", no_argument, NULL, 'j' },
		{ "w3c", no_argument, NULL, 'w' },
		{ 0 }
	};
	enum get_format format = FORMAT_LINES;
	struct target t = { TPCTL_SELF, 0 };
	enum tpctl_read_policy policy;
	struct tpctl_bag *bag;
	struct tpctl *h;
	int c, status;

	while ((c = getopt_long(argc, argv, "+:p:t:jwh", opts, NULL)) != -1) {
		if (target_option(c, &t, help_get))
			continue;
		if (c != 'j' && c != 'w')
			option_error(c, argv);
		if (format != FORMAT_LINES)
			usage_error("give at most one of --json and --w3c");
		format = c == 'j' ? FORMAT_JSON : FORMAT_W3C;
	}
	if (optind < argc)
		usage_error("get: unexpected argument '%s'", argv[optind]);

	h = open_or_fail();
	if (!h)
		return EXIT_FAILURE;
	if (tpctl_get(h, t.who, t.id, &bag) < 0) {
		status = fail_op(h, &t);
		tpctl_close(h);
		return status;
	}
	if (tpctl_get_read_policy(h, t.who, t.id, &policy) < 0) {
		status = fail_op(h, &t);
		tpctl_close(h);
		tpctl_bag_free(bag);
		return status;
	}
	tpctl_close(h);
	status = format == FORMAT_JSON ? print_json(bag) :
		 format == FORMAT_W3C ? print_w3c(bag) : print_lines(bag);
	if (status == EXIT_SUCCESS && format != FORMAT_W3C)
		print_policy(policy, format == FORMAT_JSON);
	tpctl_bag_free(bag);
	return status;
}

/*
 * Reads @t's baggage, applies @a and writes it back, to the very task it
 * read: if @t exits in between and its number goes to another task, the
 * write fails (the pin).
 */
static int update_baggage(struct tpctl *h, const struct target *t,
			  const struct assignment *a, size_t n)
{
	struct tpctl_bag *bag;
	int status;

	if (t->who != TPCTL_SELF && tpctl_pin(h, t->who, t->id) < 0)
		return fail_op(h, t);
	if (tpctl_get(h, t->who, t->id, &bag) < 0)
		return fail_op(h, t);
	status = apply_assignments(bag, a, n);
	if (status == EXIT_SUCCESS && tpctl_set(h, t->who, t->id, bag) < 0)
		status = fail_op(h, t);
	tpctl_bag_free(bag);
	return status;
}

static int cmd_set(int argc, char *argv[])
{
	static const struct option opts[] = { TARGET_OPTIONS, { 0 } };
	struct target t = { TPCTL_SELF, 0 };
	struct assignment *a;
	struct tpctl *h;
	size_t n;
	int c, status;

	while ((c = getopt_long(argc, argv, "+:p:t:h", opts, NULL)) != -1)
		if (!target_option(c, &t, help_set))
			option_error(c, argv);
	if (optind == argc)
		usage_error("set: missing KEY=VALUE");
	n = (size_t)(argc - optind);
	a = parse_assignments(argv + optind, n);

	h = open_or_fail();
	status = h ? update_baggage(h, &t, a, n) : EXIT_FAILURE;
	tpctl_close(h);
	free_assignments(a, n);
	return status;
}

/* The baggage `merge` merges: the W3C text's, then the assignments. */
static int merge_baggage(struct tpctl *h, const struct target *t, const char *w3c,
			 const struct assignment *a, size_t n)
{
	struct tpctl_bag *bag = w3c ? parse_w3c_option(w3c) : tpctl_bag_new();
	int status;

	if (!bag)
		return fail("out of memory");
	status = apply_assignments(bag, a, n);
	if (status == EXIT_SUCCESS && tpctl_merge(h, t->who, t->id, bag) < 0)
		status = fail_op(h, t);
	tpctl_bag_free(bag);
	return status;
}

static int cmd_merge(int argc, char *argv[])
{
	static const struct option opts[] = {
		TARGET_OPTIONS,
		{ "w3c", required_argument, NULL, 'w' },
		{ 0 }
	};
	struct target t = { TPCTL_SELF, 0 };
	const char *w3c = NULL;
	struct assignment *a;
	struct tpctl *h;
	size_t n;
	int c, status;

	while ((c = getopt_long(argc, argv, "+:p:t:w:h", opts, NULL)) != -1) {
		if (target_option(c, &t, help_merge))
			continue;
		if (c != 'w')
			option_error(c, argv);
		if (w3c)
			usage_error("give --w3c once");
		w3c = optarg;
	}
	if (!w3c && optind == argc)
		usage_error("merge: give --w3c TEXT or KEY=VALUE");
	n = (size_t)(argc - optind);
	a = parse_assignments(argv + optind, n);
	if (w3c)
		tpctl_bag_free(parse_w3c_option(w3c));	/* a usage error before any change */

	h = open_or_fail();
	status = h ? merge_baggage(h, &t, w3c, a, n) : EXIT_FAILURE;
	tpctl_close(h);
	free_assignments(a, n);
	return status;
}

static int cmd_clear(int argc, char *argv[])
{
	struct target t = parse_target_only(argc, argv, help_clear);
	struct tpctl *h = open_or_fail();
	int status = EXIT_SUCCESS;

	if (!h)
		return EXIT_FAILURE;
	if (tpctl_clear(h, t.who, t.id) < 0)
		status = fail_op(h, &t);
	tpctl_close(h);
	return status;
}

/*
 * Gives tpctl itself the baggage, and the read policy (@policy < 0: the
 * one it has), that CMD is to inherit.
 */
static int prepare_run_baggage(struct tpctl_bag *w3c, const struct assignment *a, size_t n,
			       int policy)
{
	const struct target self = { TPCTL_SELF, 0 };
	struct tpctl *h = open_or_fail();
	struct tpctl_bag *bag;
	int status, err;

	if (!h)
		return EXIT_FAILURE;
	if (tpctl_get(h, TPCTL_SELF, 0, &bag) < 0) {
		status = fail_op(h, &self);
		tpctl_close(h);
		return status;
	}
	err = w3c ? tpctl_bag_merge(bag, w3c) : 0;
	status = err ? fail("--w3c: cannot merge: %s", strerror(-err)) :
		 apply_assignments(bag, a, n);
	if (status == EXIT_SUCCESS && tpctl_set(h, TPCTL_SELF, 0, bag) < 0)
		status = fail_op(h, &self);
	if (status == EXIT_SUCCESS && policy >= 0 &&
	    tpctl_set_read_policy(h, TPCTL_SELF, 0, (enum tpctl_read_policy)policy) < 0)
		status = fail_op(h, &self);
	tpctl_bag_free(bag);
	/* Closed before exec: libmnl's socket is not close-on-exec. */
	tpctl_close(h);
	return status;
}

static int cmd_run(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "baggage", required_argument, NULL, 'b' },
		{ "w3c", required_argument, NULL, 'w' },
		{ "on-read", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char **texts = calloc((size_t)argc, sizeof(*texts));
	struct tpctl_bag *w3c = NULL;
	struct assignment *a;
	int c, status, err, policy = -1;
	size_t n = 0;

	if (!texts)
		return fail("out of memory");
	while ((c = getopt_long(argc, argv, "+:b:w:h", opts, NULL)) != -1) {
		if (c == 'h')
			print_help_and_exit(help_run);
		else if (c == 'b')
			texts[n++] = optarg;
		else if (c == 'w' && !w3c)
			w3c = parse_w3c_option(optarg);
		else if (c == 'w')
			usage_error("give --w3c once");
		else if (c == 'r' && policy < 0)
			policy = (int)parse_policy(optarg);
		else if (c == 'r')
			usage_error("give --on-read once");
		else
			option_error(c, argv);
	}
	if (optind == argc)
		usage_error("run: missing the command to run");
	a = parse_assignments(texts, n);

	status = prepare_run_baggage(w3c, a, n, policy);
	tpctl_bag_free(w3c);
	free_assignments(a, n);
	free(texts);
	if (status != EXIT_SUCCESS)
		return status;

	execvp(argv[optind], argv + optind);
	err = errno;
	fail("%s: %s", argv[optind], err == ENOENT ? "command not found" : strerror(err));
	return err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
}

static void print_transit_status(const struct tpctl_transit_status *ts)
{
	printf("max_ranges: %" PRIu32 "\n"
	       "live_pipes: %" PRIu64 "\n"
	       "live_ranges: %" PRIu64 "\n"
	       "live_skb_tags: %" PRIu64 "\n"
	       "range_merges: %" PRIu64 "\n"
	       "overapprox: %" PRIu64 "\n"
	       "probe_misses: %" PRIu64 "\n",
	       ts->max_ranges, ts->live_pipes, ts->live_ranges, ts->live_skb_tags,
	       ts->range_merges, ts->overapprox, ts->probe_misses);
}

/* Nothing from a module that carries no baggage over TCP. */
static void print_tcp_status(const struct tpctl_tcp_status *t)
{
	if (t->net_enabled < 0)
		return;
	printf("tcp_net: %s\n"
	       "tcp_negotiated: %" PRIu64 "\n"
	       "tcp_opts_sent: %" PRIu64 "\n"
	       "tcp_opts_rcvd: %" PRIu64 "\n"
	       "tcp_bytes_sent: %" PRIu64 "\n"
	       "tcp_splits: %" PRIu64 "\n"
	       "tcp_trims: %" PRIu64 "\n"
	       "tcp_malformed: %" PRIu64 "\n"
	       "tcp_overflows: %" PRIu64 "\n"
	       "tcp_live_conns: %" PRIu64 "\n",
	       t->net_enabled ? "on" : "off", t->negotiated, t->opts_sent,
	       t->opts_rcvd, t->bytes_sent, t->splits, t->trims, t->malformed,
	       t->overflows, t->live_conns);
}

static int print_status(const struct tpctl_status *st)
{
	printf("module: loaded\n"
	       "version: %s\n"
	       "max_bytes: %" PRIu32 "\n"
	       "mem_cap: %" PRIu64 "\n"
	       "live_bags: %" PRIu64 "\n"
	       "live_bytes: %" PRIu64 "\n"
	       "live_tasks: %" PRIu64 "\n"
	       "trims: %" PRIu64 "\n"
	       "alloc_fails: %" PRIu64 "\n",
	       st->version, st->max_bytes, st->mem_cap, st->live_bags, st->live_bytes,
	       st->live_tasks, st->trims, st->alloc_fails);
	return EXIT_SUCCESS;
}

static int cmd_status(int argc, char *argv[])
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	const struct target self = { TPCTL_SELF, 0 };
	struct tpctl_transit_status ts;
	struct tpctl_tcp_status tcp;
	struct tpctl_status st;
	struct tpctl *h;
	int c, status;

	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		if (c != 'h')
			option_error(c, argv);
		print_help_and_exit(help_status);
	}
	if (optind < argc)
		usage_error("status: unexpected argument '%s'", argv[optind]);

	h = open_or_fail();
	if (!h)
		return EXIT_FAILURE;
	status = tpctl_status(h, &st) < 0 ? fail_op(h, &self) : print_status(&st);
	if (status == EXIT_SUCCESS) {
		if (tpctl_transit_status(h, &ts) < 0)
			status = fail_op(h, &self);
		else
			print_transit_status(&ts);
	}
	if (status == EXIT_SUCCESS) {
		if (tpctl_tcp_status(h, &tcp) < 0)
			status = fail_op(h, &self);
		else
			print_tcp_status(&tcp);
	}
	tpctl_close(h);
	return status;
}

static int cmd_net(int argc, char *argv[])
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
	const struct target self = { TPCTL_SELF, 0 };
	struct tpctl_tcp_status tcp;
	struct tpctl *h;
	int c, on = -1, status = EXIT_SUCCESS;

	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		if (c != 'h')
			option_error(c, argv);
		print_help_and_exit(help_net);
	}
	if (optind < argc) {
		if (!strcmp(argv[optind], "on"))
			on = 1;
		else if (!strcmp(argv[optind], "off"))
			on = 0;
		else
			usage_error("net: '%s' is not on or off", argv[optind]);
		if (optind + 1 < argc)
			usage_error("net: unexpected argument '%s'", argv[optind + 1]);
	}

	h = open_or_fail();
	if (!h)
		return EXIT_FAILURE;
	if (on >= 0 && tpctl_net_set(h, on) < 0)
		status = fail_op(h, &self);
	else if (on < 0 && tpctl_tcp_status(h, &tcp) < 0)
		status = fail_op(h, &self);
	else if (on < 0 && tcp.net_enabled < 0)
		status = fail("this module carries no baggage over TCP");
	else if (on < 0)
		puts(tcp.net_enabled ? "on" : "off");
	tpctl_close(h);
	return status;
}

static const struct command {
	const char *name;
	int (*run)(int argc, char *argv[]);
} commands[] = {
	{ "get", cmd_get },
	{ "set", cmd_set },
	{ "merge", cmd_merge },
	{ "clear", cmd_clear },
	{ "run", cmd_run },
	{ "status", cmd_status },
	{ "net", cmd_net },
};

/* Runs the command named by argv[0] with its own arguments. */
static int dispatch(int argc, char *argv[])
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[0], commands[i].name) == 0) {
			optind = 0;	/* a fresh getopt scan of the command's arguments */
			return commands[i].run(argc, argv);
		}
	}
	usage_error("unknown command '%s'", argv[0]);
}

int main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	int c;

	opterr = 0;	/* option_error() says it on one line, the tpctl way */
	while ((c = getopt_long(argc, argv, "+:hV", opts, NULL)) != -1) {
		if (c == 'h')
			print_help_and_exit(help_main);
		if (c != 'V')
			option_error(c, argv);
		if (optind < argc)
			usage_error("--version: unexpected argument '%s'", argv[optind]);
		printf("tpctl %s\n", TP_VERSION);
		return EXIT_SUCCESS;
	}
	if (optind == argc)
		usage_error("missing command");
	return dispatch(argc - optind, argv + optind);
}
