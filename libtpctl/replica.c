// SPDX-License-Identifier: MIT
/*
 * The replica id of a P-counter component written by this thread.
 *
 * Two tasks that increment the same counter concurrently must never share a
 * component, or the merge (maximum per component) would lose increments.
 * So the id names the calling thread uniquely in space and time:
 *
 *	boot id (16 bytes)		which boot of which machine
 *	pid namespace inode (8, BE)	tids repeat across pid namespaces
 *	tid (4, BE)			which thread at this moment
 *	start time (8, BE)		which incarnation of that tid
 *
 * It is recomputed on every call: a forked child or a new thread must not
 * inherit a cached id from the task it was copied from.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bag_internal.h"

#define BOOT_ID_BYTES	16
#define REPLICA_BYTES	(BOOT_ID_BYTES + 8 + 4 + 8)

_Static_assert(REPLICA_BYTES <= BAG_REPLICA_MAX, "replica id too long");

/* Reads a small /proc file into @buf as a NUL-terminated string. */
static int read_proc(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return (int)n;
	buf[n] = '\0';
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx\n" -> 16 bytes. */
static int boot_id(uint8_t out[BOOT_ID_BYTES])
{
	char text[64];
	size_t nibbles = 0;
	int err = read_proc("/proc/sys/kernel/random/boot_id", text, sizeof(text));

	for (const char *p = text; !err && *p && *p != '\n'; p++) {
		int v = hex_digit(*p);

		if (*p == '-')
			continue;
		if (v < 0 || nibbles >= 2 * BOOT_ID_BYTES)
			return -EIO;
		out[nibbles / 2] = (uint8_t)(nibbles % 2 ? out[nibbles / 2] << 4 | v : v);
		nibbles++;
	}
	return err ? err : (nibbles == 2 * BOOT_ID_BYTES ? 0 : -EIO);
}

/* Field 22 of /proc/thread-self/stat, in clock ticks after boot. */
static int thread_start_time(uint64_t *ticks)
{
	char text[1024], *p, *end;
	int err = read_proc("/proc/thread-self/stat", text, sizeof(text));

	if (err)
		return err;
	/* The command name (field 2) may hold spaces and parentheses. */
	p = strrchr(text, ')');
	if (!p)
		return -EIO;
	/* Fields 3 to 21 come first. */
	for (int field = 3; field <= 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EIO;
		p++;
	}
	errno = 0;
	*ticks = strtoull(p, &end, 10);
	return end == p || errno ? -EIO : 0;
}

int bag_replica_id(uint8_t out[BAG_REPLICA_MAX], size_t *len)
{
	struct stat ns;
	uint64_t start;
	uint32_t tid = (uint32_t)gettid();
	uint8_t *p = out + BOOT_ID_BYTES;
	int err = boot_id(out);

	if (!err)
		err = thread_start_time(&start);
	if (!err && stat("/proc/thread-self/ns/pid", &ns))
		err = -errno;
	if (err)
		return err;
	bag_be64_put(p, (uint64_t)ns.st_ino);
	p += 8;
	for (int i = 3; i >= 0; i--)
		*p++ = (uint8_t)(tid >> (8 * i));
	bag_be64_put(p, start);
	*len = REPLICA_BYTES;
	return 0;
}
