// SPDX-License-Identifier: GPL-2.0
/*
 * tools/prof/mark: executes the marker of tools/prof/tbcount.c once.  In a
 * VM profiled by tools/prof/profile, the first run opens the counting
 * window and the second closes it; anywhere else it does nothing.
 */
int main(void)
{
	/* 66 87 db: a no-op that the plugin watches for. */
	__asm__ volatile(".byte 0x66, 0x87, 0xdb" ::: "memory");
	return 0;
}
