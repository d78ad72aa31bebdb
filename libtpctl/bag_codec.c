// SPDX-License-Identifier: MIT
/*
 * Typed bag <-> atoms (Documentation/baggage-format.rst).
 *
 * Every atom is self-contained: format byte, then an element
 *	varint key length | key | kind byte | body
 * where the body of a BAG element is again an element, one level deeper.
 * Decoding is a pure function of the atom *set*, so whatever order the
 * kernel's union interleaves atoms in, the typed result is the same.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "atom.h"
#include "bag_internal.h"

int bag_atom_errno(int err)
{
	switch (err) {
	case TP_ATOM_OK:
		return 0;
	case TP_ATOM_ENOMEM:
		return -ENOMEM;
	case TP_ATOM_ETOOBIG:
		return -E2BIG;
	default:
		return -EINVAL;
	}
}

/* ---- element grammar ------------------------------------------------------ */

static bool scalar_well_formed(const uint8_t *body, size_t len)
{
	if (len < 1)
		return false;
	switch (body[0]) {
	case BAG_T_STRING:
	case BAG_T_BYTES:
		return len - 1 <= BAG_VALUE_MAX;
	case BAG_T_INT:
	case BAG_T_UINT:
		return len == 9;
	default:
		return false;
	}
}

/* Classifies the body after the kind byte; info->kind and kind_off are set. */
static void body_classify(const uint8_t *body, size_t len, unsigned int depth,
			  struct bag_elem_info *info)
{
	struct bag_elem_info inner;
	size_t head = info->kind_off + 1;	/* bytes before the body */

	info->policy = BAG_KEEP_ALL;
	info->group_len = head;
	switch (info->kind) {
	case BAG_K_FIRST:
		info->well_formed = scalar_well_formed(body, len);
		info->policy = BAG_KEEP_MIN;
		break;
	case BAG_K_SET:
		info->well_formed = scalar_well_formed(body, len);
		break;
	case BAG_K_COUNTER:
		info->well_formed = len >= 1 && body[0] >= 1 && body[0] <= BAG_REPLICA_MAX &&
				    len == 1u + body[0] + 8;
		info->policy = BAG_KEEP_MAX;
		info->group_len = head + (len ? 1u + body[0] : 0);
		break;
	case BAG_K_TAINT:
		info->well_formed = len == 0;
		break;
	case BAG_K_BAG:
		info->well_formed = depth < BAG_DEPTH_MAX &&
				    bag_elem_parse(body, len, depth + 1, &inner) &&
				    inner.well_formed;
		if (info->well_formed) {
			info->policy = inner.policy;
			info->group_len = head + inner.group_len;
		}
		break;
	case BAG_K_PROPS:
		info->well_formed = len >= 1 && len <= BAG_VALUE_MAX && !memchr(body, 0, len);
		info->policy = BAG_KEEP_MIN;
		break;
	default:
		info->well_formed = false;
		break;
	}
}

bool bag_elem_parse(const uint8_t *elem, size_t len, unsigned int depth,
		    struct bag_elem_info *info)
{
	u32 key_len;
	int n = tp_varint_get(elem, len, &key_len);

	/* A key is 1..255 bytes without NUL (the API takes C strings)... */
	if (n <= 0 || key_len < 1 || key_len > BAG_KEY_MAX)
		return false;
	/* ...and is followed by at least a kind byte. */
	if ((size_t)n + key_len >= len || memchr(elem + n, 0, key_len))
		return false;
	info->key = elem + n;
	info->key_len = key_len;
	info->kind_off = n + key_len;
	info->kind = elem[info->kind_off];
	body_classify(elem + info->kind_off + 1, len - info->kind_off - 1, depth, info);
	return true;
}

static bool same_key(const struct bag_elem_info *a, const struct bag_elem_info *b)
{
	return a->key_len == b->key_len && !memcmp(a->key, b->key, a->key_len);
}

/* ---- normalization -------------------------------------------------------- */

struct span {
	const uint8_t *p;
	size_t len;
};

/*
 * Drops every well-formed atom that another well-formed atom of its group
 * dominates: all but the smallest FIRST value or properties, all but the
 * largest value of a counter replica.  Whether an atom is dominated depends
 * only on atoms of its own group, which sit next to each other in sorted
 * order, so normalizing before or after a union gives the same result.
 */
static size_t normalize(struct span *atoms, size_t n)
{
	struct span min_group = { 0 }, max_group = { 0 };
	size_t out = 0, max_at = 0;

	for (size_t i = 0; i < n; i++) {
		struct span a = atoms[i], group;
		struct bag_elem_info info;

		if (a.len == 0 || a.p[0] != BAG_FORMAT_V1 ||
		    !bag_elem_parse(a.p + 1, a.len - 1, 1, &info) || !info.well_formed ||
		    info.policy == BAG_KEEP_ALL) {
			atoms[out++] = a;
			continue;
		}
		group = (struct span){ a.p, 1 + info.group_len };
		if (info.policy == BAG_KEEP_MIN) {
			if (min_group.len == group.len && !memcmp(min_group.p, group.p, group.len))
				continue;
			min_group = group;
		} else {
			/* Same-group counter atoms have equal length: later is larger. */
			if (max_group.len == group.len && !memcmp(max_group.p, group.p, group.len)) {
				memmove(atoms + max_at, atoms + max_at + 1,
					(out - max_at - 1) * sizeof(*atoms));
				out--;
			}
			max_group = group;
			max_at = out;
		}
		atoms[out++] = a;
	}
	return out;
}

/* ---- decode --------------------------------------------------------------- */

static int decode_level(struct tpctl_bag *bag, const struct span *elems, size_t n);

static int keep_opaque(struct tpctl_bag *bag, struct span e)
{
	return bag_bytes_append(&bag->opaque, &bag->nopaque, e.p, e.len);
}

/* The key's kind: the smallest kind byte among its well-formed values. */
static uint8_t run_kind(const struct span *run, size_t n, unsigned int depth)
{
	for (size_t i = 0; i < n; i++) {
		struct bag_elem_info info;

		bag_elem_parse(run[i].p, run[i].len, depth, &info);
		if (info.well_formed && info.kind >= BAG_K_FIRST && info.kind <= BAG_K_BAG)
			return info.kind;
	}
	return 0;
}

/* Hands the bodies of a key's BAG elements, well-formed or not, to its child. */
static int decode_child(struct bag_node *node, const struct span *run, size_t n,
			unsigned int depth)
{
	struct span *bodies = malloc(n * sizeof(*bodies));
	size_t nbodies = 0;
	int err = -ENOMEM;

	node->child = bag_level_new(depth + 1);
	node->entry.child = node->child;
	if (bodies && node->child) {
		for (size_t i = 0; i < n; i++) {
			struct bag_elem_info info;
			size_t skip;

			bag_elem_parse(run[i].p, run[i].len, depth, &info);
			if (info.kind != BAG_K_BAG)
				continue;
			skip = info.kind_off + 1;
			bodies[nbodies++] = (struct span){ run[i].p + skip, run[i].len - skip };
		}
		err = decode_level(node->child, bodies, nbodies);
	}
	free(bodies);
	return err;
}

/* Adds one element of a key whose kind is already decided. */
static int decode_elem(struct tpctl_bag *bag, struct bag_node *node, uint8_t kind,
		       struct span e, const struct bag_elem_info *info)
{
	const uint8_t *body = e.p + info->kind_off + 1;
	size_t len = e.len - info->kind_off - 1;

	if (info->kind == BAG_K_BAG && kind == BAG_K_BAG)
		return 0;	/* went to the child */
	if (!info->well_formed || (info->kind != kind && info->kind != BAG_K_PROPS))
		return keep_opaque(bag, e);
	switch (info->kind) {
	case BAG_K_FIRST:
	case BAG_K_SET:
		return bag_node_add_value(node, body, len);
	case BAG_K_COUNTER:
		return bag_node_add_component(node, body + 1, body[0],
					      bag_be64_get(body + 1 + body[0]));
	case BAG_K_PROPS:
		return bag_node_set_props(node, body, len);
	default:
		return 0;	/* TAINT: presence is the value */
	}
}

/* Decodes the run of elements sharing one key. */
static int decode_key(struct tpctl_bag *bag, const struct span *run, size_t n)
{
	struct bag_elem_info info;
	struct bag_node *node;
	uint8_t kind = run_kind(run, n, bag->depth);
	int err = 0;

	if (!kind) {
		for (size_t i = 0; i < n && !err; i++)
			err = keep_opaque(bag, run[i]);
		return err;
	}
	bag_elem_parse(run[0].p, run[0].len, bag->depth, &info);
	node = bag_node_new(info.key, info.key_len, (enum tpctl_kind)kind);
	if (!node)
		return -ENOMEM;
	if (kind == BAG_K_BAG)
		err = decode_child(node, run, n, bag->depth);
	for (size_t i = 0; i < n && !err; i++) {
		bag_elem_parse(run[i].p, run[i].len, bag->depth, &info);
		err = decode_elem(bag, node, kind, run[i], &info);
	}
	if (!err)
		err = bag_level_insert(bag, node);
	if (err)
		bag_node_free(node);
	return err;
}

static int decode_level(struct tpctl_bag *bag, const struct span *elems, size_t n)
{
	size_t i = 0;
	int err = 0;

	while (i < n && !err) {
		struct bag_elem_info first, next;
		size_t j = i + 1;

		if (!bag_elem_parse(elems[i].p, elems[i].len, bag->depth, &first)) {
			err = keep_opaque(bag, elems[i++]);
			continue;
		}
		/* A key's elements share a prefix, so they are adjacent. */
		while (j < n && bag_elem_parse(elems[j].p, elems[j].len, bag->depth, &next) &&
		       same_key(&first, &next))
			j++;
		err = decode_key(bag, elems + i, j - i);
		i = j;
	}
	return err;
}

/* Splits normalized atoms into foreign ones and format-1 elements. */
static int decode_top(struct tpctl_bag *bag, struct span *atoms, size_t n)
{
	size_t nelems = 0;
	int err = 0;

	for (size_t i = 0; i < n && !err; i++) {
		if (atoms[i].len && atoms[i].p[0] == BAG_FORMAT_V1)
			atoms[nelems++] = (struct span){ atoms[i].p + 1, atoms[i].len - 1 };
		else
			err = bag_bytes_append(&bag->foreign, &bag->nforeign,
					       atoms[i].p, atoms[i].len);
	}
	return err ? err : decode_level(bag, atoms, nelems);
}

int tpctl_bag_decode(const void *buf, size_t len, struct tpctl_bag **out)
{
	struct tp_bag *blob = NULL;
	struct tpctl_bag *bag;
	struct span *atoms = NULL;
	struct tp_atom_iter it;
	size_t n = 0;
	u32 alen;
	int err;

	if (!out || (!buf && len))
		return -EINVAL;
	err = bag_atom_errno(tp_bag_deserialize(buf, len, GFP_KERNEL, &blob));
	if (err)
		return err;
	bag = bag_level_new(1);
	atoms = malloc((tp_bag_count(blob) + 1) * sizeof(*atoms));
	if (!bag || !atoms) {
		err = -ENOMEM;
		goto out;
	}
	tp_atom_iter_init(&it, blob);
	while (tp_atom_iter_next(&it, &atoms[n].p, &alen))
		atoms[n++].len = alen;
	err = decode_top(bag, atoms, normalize(atoms, n));
out:
	free(atoms);
	tp_bag_put(blob);
	if (err) {
		bag_level_free(bag);
		return err;
	}
	*out = bag;
	return 0;
}

/* ---- encode --------------------------------------------------------------- */

struct atom_list {
	struct bag_bytes *atoms;
	size_t n;
	size_t cap;
};

/* The bytes in front of a level's elements: format byte, then parents' keys. */
struct prefix {
	uint8_t buf[1 + BAG_DEPTH_MAX * (TP_VARINT_MAX_BYTES + BAG_KEY_MAX + 1)];
	size_t len;
};

struct piece {
	const void *p;
	size_t len;
};

/* Appends the atom made of the prefix followed by the pieces. */
static int emit(struct atom_list *list, const struct prefix *pre,
		const struct piece *pieces, size_t n)
{
	size_t len = pre->len, off = pre->len;
	uint8_t *atom;

	if (list->n == list->cap) {
		size_t cap = list->cap ? 2 * list->cap : 16;
		struct bag_bytes *grown = realloc(list->atoms, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		list->atoms = grown;
		list->cap = cap;
	}
	for (size_t i = 0; i < n; i++)
		len += pieces[i].len;
	atom = malloc(len ? len : 1);	/* the overflow marker is empty */
	if (!atom)
		return -ENOMEM;
	memcpy(atom, pre->buf, pre->len);
	for (size_t i = 0; i < n; i++) {
		memcpy(atom + off, pieces[i].p, pieces[i].len);
		off += pieces[i].len;
	}
	list->atoms[list->n++] = (struct bag_bytes){ atom, len };
	return 0;
}

static int encode_level(const struct tpctl_bag *bag, struct prefix *pre, struct atom_list *list);

/* Emits the atoms of @node's value; @pre already ends with its key. */
static int encode_value(const struct bag_node *node, struct prefix *pre, struct atom_list *list)
{
	uint8_t kind = (uint8_t)node->entry.kind, num[8];
	struct piece p[4] = { { &kind, 1 } };
	int err = 0;

	switch (node->entry.kind) {
	case TPCTL_FIRST:
	case TPCTL_SET:
		for (size_t i = 0; i < node->nvalues && !err; i++) {
			p[1] = (struct piece){ node->bodies[i].data, node->bodies[i].len };
			err = emit(list, pre, p, 2);
		}
		return err;
	case TPCTL_COUNTER:
		for (size_t i = 0; i < node->ncomponents && !err; i++) {
			const struct bag_component *c = &node->components[i];

			bag_be64_put(num, c->value);
			p[1] = (struct piece){ &c->replica_len, 1 };
			p[2] = (struct piece){ c->replica, c->replica_len };
			p[3] = (struct piece){ num, sizeof(num) };
			err = emit(list, pre, p, 4);
		}
		return err;
	case TPCTL_TAINT:
		return emit(list, pre, p, 1);
	case TPCTL_BAG:
		pre->buf[pre->len++] = kind;
		err = encode_level(node->child, pre, list);
		pre->len--;
		return err;
	}
	return -EINVAL;
}

static int encode_node(const struct bag_node *node, struct prefix *pre, struct atom_list *list)
{
	static const uint8_t props_kind = BAG_K_PROPS;
	size_t saved = pre->len;
	int err;

	pre->len += tp_varint_put(pre->buf + pre->len, (u32)node->key_len);
	memcpy(pre->buf + pre->len, node->key, node->key_len);
	pre->len += node->key_len;
	err = encode_value(node, pre, list);
	if (!err && node->props) {
		struct piece p[2] = { { &props_kind, 1 }, { node->props, strlen(node->props) } };

		err = emit(list, pre, p, 2);
	}
	pre->len = saved;
	return err;
}

static int encode_level(const struct tpctl_bag *bag, struct prefix *pre, struct atom_list *list)
{
	int err = 0;

	for (size_t i = 0; i < bag->nnodes && !err; i++)
		err = encode_node(bag->nodes[i], pre, list);
	for (size_t i = 0; i < bag->nopaque && !err; i++) {
		struct piece p = { bag->opaque[i].data, bag->opaque[i].len };

		err = emit(list, pre, &p, 1);
	}
	return err;
}

static int atom_order(const void *a, const void *b)
{
	const struct bag_bytes *x = a, *y = b;

	return tp_atom_cmp(x->data, (u32)x->len, y->data, (u32)y->len);
}

/* Sorted atoms, each prefixed by its varint length: the kernel's format. */
static int serialize(struct atom_list *list, void **buf, size_t *len)
{
	size_t total = 0, off = 0;
	uint8_t *out;

	if (list->n)
		qsort(list->atoms, list->n, sizeof(*list->atoms), atom_order);
	for (size_t i = 0; i < list->n; i++) {
		if (list->atoms[i].len >= TP_BAG_MAX_BYTES)
			return -E2BIG;
		total += tp_varint_len((u32)list->atoms[i].len) + list->atoms[i].len;
	}
	if (total > TP_BAG_MAX_BYTES)
		return -E2BIG;
	out = total ? malloc(total) : NULL;
	if (total && !out)
		return -ENOMEM;
	for (size_t i = 0; i < list->n; i++) {
		off += tp_varint_put(out + off, (u32)list->atoms[i].len);
		memcpy(out + off, list->atoms[i].data, list->atoms[i].len);
		off += list->atoms[i].len;
	}
	*buf = out;
	*len = total;
	return 0;
}

int tpctl_bag_encode(const struct tpctl_bag *bag, void **buf, size_t *len)
{
	struct atom_list list = { 0 };
	struct prefix pre = { .len = 0 };
	int err = 0;

	if (!bag || !buf || !len)
		return -EINVAL;
	for (size_t i = 0; i < bag->nforeign && !err; i++) {
		struct piece p = { bag->foreign[i].data, bag->foreign[i].len };

		err = emit(&list, &pre, &p, 1);
	}
	pre.buf[pre.len++] = BAG_FORMAT_V1;
	if (!err)
		err = encode_level(bag, &pre, &list);
	if (!err)
		err = serialize(&list, buf, len);
	bag_bytes_free(list.atoms, list.n);
	return err;
}
