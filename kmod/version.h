/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* The project version, shared by the module (STATUS) and tpctl --version. */
#ifndef TP_VERSION_H
#define TP_VERSION_H

#define TP_VERSION "0.1.0"

#endif /* TP_VERSION_H */
