// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "tracingplane": get, set, merge or clear the
 * baggage of the calling task or of another one, and report status.  The
 * contract is include/uapi/linux/tracingplane.h; every command, attribute,
 * errno and message is documented in Documentation/netlink.rst.
 */

#include <linux/cred.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/coredump.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/module.h>
#include <linux/tracingplane.h>
#include <net/genetlink.h>

#include "atom.h"
#include "limits.h"
#include "netlink.h"
#include "netns.h"
#include "stats.h"
#include "task.h"
#include "tcp.h"
#include "transit.h"
#include "version.h"

static struct genl_family tp_nl_family;

/* Attributes of other commands or of replies only: unknown here, as ever. */
#define TP_NL_UNKNOWN(first, last)					\
	[first ... last] = {						\
		.type = NLA_REJECT, .reject_message = "Unknown attribute type", \
	}

/* The attributes that name a task, which every per-task request takes. */
#define TP_NL_TARGET							\
	[TRACINGPLANE_A_PID] = { .type = NLA_U32 },			\
	[TRACINGPLANE_A_TID] = { .type = NLA_U32 },			\
	[TRACINGPLANE_A_START_TIME] = { .type = NLA_U64 }

static const struct nla_policy tp_nl_target_policy[TRACINGPLANE_A_START_TIME + 1] = {
	TP_NL_TARGET,
	TP_NL_UNKNOWN(TRACINGPLANE_A_TID + 1, TRACINGPLANE_A_START_TIME - 1),
};

static const struct nla_policy tp_nl_bag_policy[TRACINGPLANE_A_START_TIME + 1] = {
	TP_NL_TARGET,
	[TRACINGPLANE_A_BAGGAGE] = { .type = NLA_BINARY,
				     .len = TP_LIMIT_MAX_BYTES_MAX },
	TP_NL_UNKNOWN(TRACINGPLANE_A_BAGGAGE + 1, TRACINGPLANE_A_NO_TRIM - 1),
	[TRACINGPLANE_A_NO_TRIM] = { .type = NLA_FLAG },
};

static const struct nla_policy tp_nl_read_policy_policy[TRACINGPLANE_A_START_TIME + 1] = {
	TP_NL_TARGET,
	[TRACINGPLANE_A_READ_POLICY] = NLA_POLICY_MAX(NLA_U8, TRACINGPLANE_READ_MAX),
	TP_NL_UNKNOWN(TRACINGPLANE_A_READ_POLICY + 1, TRACINGPLANE_A_START_TIME - 1),
};

/* The attribute naming another task: PID, TID, or NULL for the caller. */
static struct nlattr *tp_nl_target_attr(struct genl_info *info)
{
	return info->attrs[TRACINGPLANE_A_PID] ?: info->attrs[TRACINGPLANE_A_TID];
}

/* An extack message that starts with the name of the target attribute. */
#define tp_nl_target_err(info, attr, msg) do {				\
	if ((attr) == (info)->attrs[TRACINGPLANE_A_PID])		\
		NL_SET_ERR_MSG_ATTR((info)->extack, (attr), "pid: " msg); \
	else								\
		NL_SET_ERR_MSG_ATTR((info)->extack, (attr), "tid: " msg); \
} while (0)

/*
 * Is @task the one the request's START_TIME, if any, says started then?
 * De_thread() gives a thread that execs the leader's start time, so a
 * process keeps its own across exec.  Asked only once the caller may
 * read or change @task: it would otherwise learn start times that a GET
 * would not tell it.
 */
static bool tp_nl_started_then(struct genl_info *info,
			       const struct task_struct *task)
{
	struct nlattr *attr = info->attrs[TRACINGPLANE_A_START_TIME];

	if (!attr || nla_get_u64(attr) == task->start_boottime)
		return true;
	NL_SET_ERR_MSG_ATTR(info->extack, attr,
			    "start_time: not when the task with this number started: the task named exited, and its number was reused");
	return false;
}

/*
 * The task a request acts on, with a reference: the caller, the
 * thread-group leader named by PID or the thread named by TID, both
 * resolved in the caller's pid namespace.
 */
static struct task_struct *tp_nl_target(struct genl_info *info)
{
	struct nlattr *attr = tp_nl_target_attr(info);
	struct task_struct *task = NULL;
	enum pid_type type;
	u32 nr;

	if (info->attrs[TRACINGPLANE_A_PID] && info->attrs[TRACINGPLANE_A_TID]) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[TRACINGPLANE_A_TID],
				    "tid: not allowed together with pid");
		return ERR_PTR(-EINVAL);
	}
	if (!attr && info->attrs[TRACINGPLANE_A_START_TIME]) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[TRACINGPLANE_A_START_TIME],
				    "start_time: only with pid or tid");
		return ERR_PTR(-EINVAL);
	}
	if (!attr)
		return get_task_struct(current);

	type = attr == info->attrs[TRACINGPLANE_A_PID] ? PIDTYPE_TGID : PIDTYPE_PID;
	nr = nla_get_u32(attr);
	if (nr > 0 && nr <= INT_MAX) {
		rcu_read_lock();
		task = pid_task(find_vpid(nr), type);
		if (task)
			get_task_struct(task);
		rcu_read_unlock();
	}
	if (!task) {
		tp_nl_target_err(info, attr, "no such task in the caller's pid namespace");
		return ERR_PTR(-ESRCH);
	}
	if (task->flags & PF_KTHREAD) {
		put_task_struct(task);
		tp_nl_target_err(info, attr, "kernel threads carry no baggage");
		return ERR_PTR(-EINVAL);
	}
	if (task->flags & PF_EXITING) {
		put_task_struct(task);
		tp_nl_target_err(info, attr, "task is exiting");
		return ERR_PTR(-ESRCH);
	}
	return task;
}

static bool tp_nl_same_ids(const struct cred *cred, const struct cred *tcred)
{
	return uid_eq(cred->uid, tcred->euid) &&
	       uid_eq(cred->uid, tcred->suid) &&
	       uid_eq(cred->uid, tcred->uid) &&
	       gid_eq(cred->gid, tcred->egid) &&
	       gid_eq(cred->gid, tcred->sgid) &&
	       gid_eq(cred->gid, tcred->gid);
}

/*
 * What __ptrace_may_access() asks for PTRACE_MODE_READ_REALCREDS, which
 * modules cannot call.  Capabilities are checked with netlink_ns_capable()
 * so that they must be held both by the caller and by whoever opened the
 * socket.
 */
static bool tp_nl_may_read(struct sk_buff *skb, struct task_struct *task)
{
	const struct cred *tcred;
	struct mm_struct *mm;
	bool ok;

	if (same_thread_group(task, current))
		return true;

	rcu_read_lock();
	tcred = __task_cred(task);
	ok = tp_nl_same_ids(current_cred(), tcred) ||
	     netlink_ns_capable(skb, tcred->user_ns, CAP_SYS_PTRACE);
	rcu_read_unlock();
	if (!ok)
		return false;

	/*
	 * Dumpability after credentials; pairs with commit_creds().  A task
	 * past exit_mm() has no mm but still holds baggage until it is freed:
	 * exit_mm() recorded its dumpability in user_dumpable, as
	 * task_still_dumpable() in kernel/ptrace.c reads it.
	 */
	smp_rmb();
	task_lock(task);
	mm = task->mm;
	if (mm)
		ok = get_dumpable(mm) == SUID_DUMP_USER ||
		     netlink_ns_capable(skb, mm->user_ns, CAP_SYS_PTRACE);
	else
		ok = task->user_dumpable ||
		     netlink_ns_capable(skb, &init_user_ns, CAP_SYS_PTRACE);
	task_unlock(task);
	return ok;
}

static bool tp_nl_may_write(struct sk_buff *skb, struct task_struct *task)
{
	return task == current || netlink_capable(skb, CAP_SYS_ADMIN);
}

/* What a GET reply says of its task besides the baggage. */
struct tp_nl_task_info {
	u64 start_time;
	u8 policy;
};

static int tp_nl_reply_bag(struct genl_info *info, struct tp_bag *bag,
			   const struct tp_nl_task_info *ti)
{
	size_t len = tp_bag_size(bag);
	struct sk_buff *msg;
	struct nlattr *attr;
	void *hdr;

	msg = genlmsg_new(nla_total_size(len) + nla_total_size(sizeof(u8)) +
			  nla_total_size_64bit(sizeof(u64)), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &tp_nl_family, 0, info->genlhdr->cmd);
	if (!hdr || nla_put_u8(msg, TRACINGPLANE_A_READ_POLICY, ti->policy) ||
	    nla_put_u64_64bit(msg, TRACINGPLANE_A_START_TIME, ti->start_time,
			      TRACINGPLANE_A_PAD))
		goto err_free;
	if (bag) {
		attr = nla_reserve(msg, TRACINGPLANE_A_BAGGAGE, len);
		if (!attr)
			goto err_free;
		tp_bag_serialize(bag, nla_data(attr), len);
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static int tp_nl_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct tp_nl_task_info ti;
	struct task_struct *task;
	struct tp_bag *bag;
	int err;

	task = tp_nl_target(info);
	if (IS_ERR(task))
		return PTR_ERR(task);
	/*
	 * Check and read under exec_update_lock, as mm_access() does, so a
	 * setuid exec cannot slip between them and let the old credentials
	 * read the new program's baggage.
	 */
	if (down_read_killable(&task->signal->exec_update_lock)) {
		put_task_struct(task);
		NL_SET_ERR_MSG(info->extack, "interrupted by a fatal signal");
		return -EINTR;
	}
	if (!tp_nl_may_read(skb, task)) {
		up_read(&task->signal->exec_update_lock);
		put_task_struct(task);
		tp_nl_target_err(info, tp_nl_target_attr(info),
				 "reading another task's baggage needs CAP_SYS_PTRACE, or the same uids and gids and a dumpable target");
		return -EPERM;
	}
	if (!tp_nl_started_then(info, task)) {
		up_read(&task->signal->exec_update_lock);
		put_task_struct(task);
		return -ESRCH;
	}
	bag = tp_task_get(task, &ti.policy);
	ti.start_time = task->start_boottime;
	up_read(&task->signal->exec_update_lock);
	put_task_struct(task);

	err = tp_nl_reply_bag(info, bag, &ti);
	tp_bag_put(bag);
	return err;
}

/* Parses the required BAGGAGE attribute into *@bag (NULL when empty). */
static int tp_nl_parse_bag(struct genl_info *info, struct tp_bag **bag)
{
	struct nlattr *attr = info->attrs[TRACINGPLANE_A_BAGGAGE];
	int err;

	if (GENL_REQ_ATTR_CHECK(info, TRACINGPLANE_A_BAGGAGE)) {
		NL_SET_ERR_MSG(info->extack, "baggage: attribute is required");
		return -EINVAL;
	}

	err = tp_bag_deserialize(nla_data(attr), nla_len(attr), GFP_KERNEL, bag);
	switch (err) {
	case TP_ATOM_OK:
		return 0;
	case TP_ATOM_ENOMEM:
		atomic_long_inc(&tp_stats.alloc_fails);
		return -ENOMEM;
	case TP_ATOM_ETRUNCATED:
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "baggage: an atom runs past the end");
		break;
	case TP_ATOM_EVARINT:
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "baggage: malformed, overlong or non-canonical length varint");
		break;
	case TP_ATOM_EUNSORTED:
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "baggage: atoms not strictly increasing");
		break;
	default:
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "baggage: not a valid serialized baggage");
		break;
	}
	return -EINVAL;
}

/* What SET and MERGE apply: the request's baggage, trimmed or exact. */
struct tp_nl_change {
	struct tp_bag *bag;
	bool exact;	/* NO_TRIM: as it is or not at all */
};

/*
 * Gives *@new @bag (whose reference it takes) under the limits, never
 * trimmed below @floor bytes.
 */
static int tp_nl_limit(struct tp_bag *bag, const struct tp_nl_change *c,
		       size_t floor, struct tp_bag **new)
{
	int err = c->exact ? tp_limit_check(bag, floor) :
			     tp_limit_apply(&bag, floor, GFP_KERNEL);

	if (err) {
		tp_bag_put(bag);
		return err;
	}
	*new = bag;
	return 0;
}

static int tp_nl_set_update(struct tp_bag *old, void *arg, struct tp_bag **new)
{
	const struct tp_nl_change *c = arg;

	return tp_nl_limit(tp_bag_get(c->bag), c, 0, new);
}

static int tp_nl_merge_update(struct tp_bag *old, void *arg,
			      struct tp_bag **new)
{
	const struct tp_nl_change *c = arg;
	struct tp_bag *merged;

	if (tp_bag_merge(old, c->bag, GFP_KERNEL, &merged)) {
		atomic_long_inc(&tp_stats.alloc_fails);
		return -ENOMEM;
	}
	/* Others' load at a full cap must not shrink what the task holds. */
	return tp_nl_limit(merged, c, max(tp_bag_size(old), tp_bag_size(c->bag)),
			   new);
}

static int tp_nl_clear_update(struct tp_bag *old, void *arg,
			      struct tp_bag **new)
{
	*new = NULL;
	return 0;
}

/*
 * Applies @update to the target's baggage, with @bag (consumed) and
 * @exact as its struct tp_nl_change.
 */
static int tp_nl_write(struct sk_buff *skb, struct genl_info *info,
		       int (*update)(struct tp_bag *old, void *arg,
				     struct tp_bag **new),
		       struct tp_bag *bag, bool exact)
{
	struct tp_nl_change change = { .bag = bag, .exact = exact };
	struct task_struct *task;
	int err;

	task = tp_nl_target(info);
	if (IS_ERR(task)) {
		err = PTR_ERR(task);
		goto out_bag;
	}
	if (!tp_nl_may_write(skb, task)) {
		tp_nl_target_err(info, tp_nl_target_attr(info),
				 "changing another task's baggage needs CAP_SYS_ADMIN");
		err = -EPERM;
		goto out_task;
	}
	if (!tp_nl_started_then(info, task)) {
		err = -ESRCH;
		goto out_task;
	}

	err = tp_task_update(task, update, &change, bag);
	if (err == -ESRCH)
		tp_nl_target_err(info, tp_nl_target_attr(info), "task is exiting");
	/* Only an exact SET or MERGE, which has BAGGAGE, fails so. */
	else if (exact && err == -E2BIG)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[TRACINGPLANE_A_BAGGAGE],
				    "baggage: the result would be larger than max_bytes; nothing changed");
	else if (exact && err == -ENOSPC)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[TRACINGPLANE_A_BAGGAGE],
				    "baggage: the result would be larger than mem_cap leaves; nothing changed");
out_task:
	put_task_struct(task);
out_bag:
	tp_bag_put(bag);
	return err;
}

/*
 * May the result be trimmed, or must it be taken whole or not at all?
 * SET and MERGE only: the other commands' attrs stop before NO_TRIM.
 */
static bool tp_nl_exact(struct genl_info *info)
{
	return nla_get_flag(info->attrs[TRACINGPLANE_A_NO_TRIM]);
}

static int tp_nl_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct tp_bag *bag;
	int err;

	err = tp_nl_parse_bag(info, &bag);
	if (err)
		return err;
	return tp_nl_write(skb, info, tp_nl_set_update, bag, tp_nl_exact(info));
}

static int tp_nl_merge_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct tp_bag *bag;
	int err;

	err = tp_nl_parse_bag(info, &bag);
	if (err)
		return err;
	return tp_nl_write(skb, info, tp_nl_merge_update, bag, tp_nl_exact(info));
}

static int tp_nl_clear_doit(struct sk_buff *skb, struct genl_info *info)
{
	return tp_nl_write(skb, info, tp_nl_clear_update, NULL, false);
}

static int tp_nl_set_read_policy_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct task_struct *task;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, TRACINGPLANE_A_READ_POLICY)) {
		NL_SET_ERR_MSG(info->extack, "read_policy: attribute is required");
		return -EINVAL;
	}
	task = tp_nl_target(info);
	if (IS_ERR(task))
		return PTR_ERR(task);
	if (!tp_nl_may_write(skb, task)) {
		tp_nl_target_err(info, tp_nl_target_attr(info),
				 "changing another task's read policy needs CAP_SYS_ADMIN");
		err = -EPERM;
	} else if (!tp_nl_started_then(info, task)) {
		err = -ESRCH;
	} else {
		err = tp_task_set_read_policy(task,
				nla_get_u8(info->attrs[TRACINGPLANE_A_READ_POLICY]));
		if (err == -ESRCH)
			tp_nl_target_err(info, tp_nl_target_attr(info),
					 "task is exiting");
	}
	put_task_struct(task);
	return err;
}

static int tp_nl_put_count(struct sk_buff *msg, int type, long count)
{
	/* Live counts can dip below zero for an instant under races. */
	return nla_put_u64_64bit(msg, type, max(count, 0L), TRACINGPLANE_A_PAD);
}

static int tp_nl_status_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &tp_nl_family, 0, info->genlhdr->cmd);
	if (!hdr ||
	    nla_put_string(msg, TRACINGPLANE_A_STATUS_VERSION, TP_VERSION) ||
	    nla_put_u32(msg, TRACINGPLANE_A_STATUS_MAX_BYTES, tp_limit_max_bytes()) ||
	    nla_put_u64_64bit(msg, TRACINGPLANE_A_STATUS_MEM_CAP,
			      tp_limit_mem_cap(), TRACINGPLANE_A_PAD) ||
	    tp_nl_put_count(msg, TRACINGPLANE_A_STATUS_LIVE_BAGS,
			    tp_counter_read(&tp_atom_live_bags)) ||
	    tp_nl_put_count(msg, TRACINGPLANE_A_STATUS_LIVE_BYTES,
			    tp_counter_read(&tp_atom_live_bytes)) ||
	    tp_nl_put_count(msg, TRACINGPLANE_A_STATUS_LIVE_TASKS,
			    tp_task_count()) ||
	    tp_nl_put_count(msg, TRACINGPLANE_A_STATUS_TRIMS,
			    atomic_long_read(&tp_stats.trims)) ||
	    tp_nl_put_count(msg, TRACINGPLANE_A_STATUS_ALLOC_FAILS,
			    atomic_long_read(&tp_stats.alloc_fails)) ||
	    tp_transit_nl_status(msg) ||
	    tp_tcp_nl_status(msg, genl_info_net(info))) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static const struct nla_policy tp_nl_net_policy[TRACINGPLANE_A_NET_ENABLED + 1] = {
	[TRACINGPLANE_A_NET_ENABLED] = NLA_POLICY_MAX(NLA_U8, 1),
};

/*
 * Per-command strict policies.  resv_start_op is left at 0, so the core
 * rejects unknown attributes, and STATUS, without a policy, takes none.
 */
static const struct genl_ops tp_nl_ops[] = {
	{
		.cmd = TRACINGPLANE_CMD_GET,
		.doit = tp_nl_get_doit,
		.policy = tp_nl_target_policy,
		.maxattr = ARRAY_SIZE(tp_nl_target_policy) - 1,
	},
	{
		.cmd = TRACINGPLANE_CMD_SET,
		.doit = tp_nl_set_doit,
		.policy = tp_nl_bag_policy,
		.maxattr = ARRAY_SIZE(tp_nl_bag_policy) - 1,
	},
	{
		.cmd = TRACINGPLANE_CMD_MERGE,
		.doit = tp_nl_merge_doit,
		.policy = tp_nl_bag_policy,
		.maxattr = ARRAY_SIZE(tp_nl_bag_policy) - 1,
	},
	{
		.cmd = TRACINGPLANE_CMD_CLEAR,
		.doit = tp_nl_clear_doit,
		.policy = tp_nl_target_policy,
		.maxattr = ARRAY_SIZE(tp_nl_target_policy) - 1,
	},
	{
		.cmd = TRACINGPLANE_CMD_STATUS,
		.doit = tp_nl_status_doit,
	},
	{
		.cmd = TRACINGPLANE_CMD_NET_SET,
		.doit = tp_netns_nl_set,
		.policy = tp_nl_net_policy,
		.maxattr = ARRAY_SIZE(tp_nl_net_policy) - 1,
	},
	{
		.cmd = TRACINGPLANE_CMD_SET_READ_POLICY,
		.doit = tp_nl_set_read_policy_doit,
		.policy = tp_nl_read_policy_policy,
		.maxattr = ARRAY_SIZE(tp_nl_read_policy_policy) - 1,
	},
};

static struct genl_family tp_nl_family __ro_after_init = {
	.name = TRACINGPLANE_GENL_NAME,
	.version = TRACINGPLANE_GENL_VERSION,
	.maxattr = TRACINGPLANE_A_MAX,
	.netnsok = true,
	.parallel_ops = true,
	.module = THIS_MODULE,
	.ops = tp_nl_ops,
	.n_ops = ARRAY_SIZE(tp_nl_ops),
};

int tp_netlink_init(void)
{
	return genl_register_family(&tp_nl_family);
}

void tp_netlink_exit(void)
{
	genl_unregister_family(&tp_nl_family);
}

MODULE_ALIAS_GENL_FAMILY(TRACINGPLANE_GENL_NAME);
