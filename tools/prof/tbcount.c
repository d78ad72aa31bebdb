// SPDX-License-Identifier: GPL-2.0
/*
 * A QEMU TCG plugin that counts the instructions the guest executes, per
 * translated block: for tools/prof/profile, which turns the counts into
 * instructions per function with the guest's /proc/kallsyms.
 *
 * Each block translated gets a counter that the generated code itself
 * increments (an inline add, no call out of the guest's code), so the
 * profile costs little and, under -icount, changes no guest time.  At
 * exit the plugin writes one line per block executed:
 *
 *	<guest virtual address, hex> <instructions in the block> <executions>
 *
 * A block run again after being retranslated has a line per translation;
 * a block left early (an exception) counts whole.  Argument: out=FILE.
 *
 * Markers: when the guest executes "xchg %bx,%bx" (66 87 db, a no-op,
 * the marker of other emulators too; tools/prof/mark), the counting
 * window opens at the first and closes at the second: what was executed
 * before or after (boot, loading a module, arming probes) is left out.
 * Without markers, everything is counted.
 *
 * Debian ships QEMU without its plugin header, so the part of the plugin
 * API used here (stable since QEMU 4.2, plugin version 1 in 7.2) is
 * declared below.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_tb_trans_cb)(qemu_plugin_id_t id,
					struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb)(qemu_plugin_id_t id, void *data);
typedef void (*qemu_plugin_vcpu_udata_cb)(unsigned int vcpu, void *data);
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS };

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
					   qemu_plugin_tb_trans_cb cb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
				    qemu_plugin_udata_cb cb, void *data);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb,
					      enum qemu_plugin_op op,
					      void *ptr, uint64_t imm);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb,
						 size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
					    qemu_plugin_vcpu_udata_cb cb,
					    enum qemu_plugin_cb_flags flags,
					    void *data);

#define TB_EXPORT __attribute__((visibility("default")))

TB_EXPORT int qemu_plugin_version = 1;

struct tb_count {
	uint64_t vaddr;
	uint64_t insns;
	uint64_t runs;		/* incremented by the guest's code */
	uint64_t opened;	/* runs when the window opened */
	uint64_t closed;	/* runs when it closed */
};

/* Blocks are never freed: a counter must outlive its translation. */
static struct tb_count **tb_counts;
static size_t tb_used, tb_cap;
static const char *tb_out;

static const unsigned char tb_marker[] = { 0x66, 0x87, 0xdb };
static enum { TB_ALL, TB_OPEN, TB_CLOSED } tb_window = TB_ALL;

/* A marker: the window opens, then closes; later markers change nothing. */
static void tb_mark(unsigned int vcpu, void *data)
{
	size_t i;

	(void)vcpu;
	(void)data;
	if (tb_window == TB_CLOSED)
		return;
	for (i = 0; i < tb_used; i++) {
		if (tb_window == TB_ALL)
			tb_counts[i]->opened = tb_counts[i]->runs;
		else
			tb_counts[i]->closed = tb_counts[i]->runs;
	}
	tb_window = tb_window == TB_ALL ? TB_OPEN : TB_CLOSED;
}

static void tb_find_markers(struct qemu_plugin_tb *tb, size_t insns)
{
	size_t i;

	for (i = 0; i < insns; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);

		if (qemu_plugin_insn_size(insn) == sizeof(tb_marker) &&
		    !memcmp(qemu_plugin_insn_data(insn), tb_marker,
			    sizeof(tb_marker)))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, tb_mark,
							       QEMU_PLUGIN_CB_NO_REGS,
							       NULL);
	}
}

static void tb_translated(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	struct tb_count *c;

	(void)id;
	if (tb_used == tb_cap) {
		size_t cap = tb_cap ? tb_cap * 2 : 65536;
		struct tb_count **more = realloc(tb_counts, cap * sizeof(*more));

		if (!more)
			return;		/* this block goes uncounted */
		tb_counts = more;
		tb_cap = cap;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->vaddr = qemu_plugin_tb_vaddr(tb);
	c->insns = qemu_plugin_tb_n_insns(tb);
	/* Translated after the window closed: nothing to count. */
	c->opened = tb_window == TB_CLOSED ? UINT64_MAX : 0;
	tb_counts[tb_used++] = c;
	tb_find_markers(tb, c->insns);
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
						 &c->runs, 1);
}

static void tb_write(qemu_plugin_id_t id, void *data)
{
	FILE *f = fopen(tb_out, "w");
	size_t i;

	(void)id;
	(void)data;
	if (!f) {
		fprintf(stderr, "tbcount: %s: %s\n", tb_out, strerror(errno));
		return;
	}
	for (i = 0; i < tb_used; i++) {
		struct tb_count *c = tb_counts[i];
		uint64_t runs;

		if (c->opened == UINT64_MAX)
			continue;
		runs = (tb_window == TB_CLOSED ? c->closed : c->runs) - c->opened;
		if (runs)
			fprintf(f, "%llx %llu %llu\n",
				(unsigned long long)c->vaddr,
				(unsigned long long)c->insns,
				(unsigned long long)runs);
	}
	if (fclose(f))
		fprintf(stderr, "tbcount: %s: %s\n", tb_out, strerror(errno));
}

TB_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const void *info,
				  int argc, char **argv)
{
	int i;

	(void)info;
	for (i = 0; i < argc; i++)
		if (!strncmp(argv[i], "out=", 4))
			tb_out = argv[i] + 4;
	if (!tb_out || !*tb_out) {
		fprintf(stderr, "tbcount: no out=FILE argument\n");
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, tb_translated);
	qemu_plugin_register_atexit_cb(id, tb_write, NULL);
	return 0;
}
